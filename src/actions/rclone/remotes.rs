//! The two ends of an rclone action, from its parameters: a bucket on a remote whose
//! backend options the step gives, or a local directory.
//!
//! A remote is configured only through rclone's `RCLONE_CONFIG_<NAME>_<KEY>` variables
//! (as the KKP rclone syncer does), under names drbook owns (`DRBOOKSRC`, `DRBOOKDST`),
//! and rclone runs with `--config /dev/null`: no rclone.conf on the machine can define,
//! shadow or add options to them, and the keys never appear on a command line (where
//! `ps` shows them) or in a message.

use std::ffi::OsString;
use std::path::Path;

use serde_json::{Map, Value};

use super::error::{RcloneError, Side};
use crate::actions::execute::{ActionError, optional_string_map, required_str};

/// The remote names drbook configures; nothing else is defined.
const SOURCE_REMOTE: &str = "DRBOOKSRC";
const DESTINATION_REMOTE: &str = "DRBOOKDST";

/// One end of an action.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    pub side: Side,
    /// As the step wrote it: `bucket/path`, or a local path.
    pub path: String,
    /// The argument rclone gets: `DRBOOKSRC:bucket/path` or an absolute local path.
    pub arg: OsString,
    pub remote: Option<Remote>,
}

/// The backend options of one side.
#[derive(Debug, Clone)]
pub(crate) struct Remote {
    /// `type`, lower-cased: `s3`, `azureblob`, …
    pub backend: String,
    /// `endpoint`, without any `user:password@`, for messages.
    pub endpoint: Option<String>,
    /// `RCLONE_CONFIG_<NAME>_<KEY>=value` for every option.
    pub env: Vec<(String, String)>,
}

impl Location {
    /// The side's location from `source`/`destination` and `source_remote`/
    /// `destination_remote`; a local path is taken from `workdir`.
    pub(crate) fn from_params(
        params: &Map<String, Value>,
        side: Side,
        workdir: &Path,
    ) -> Result<Location, ActionError> {
        let path = required_str(params, side.location_param())?
            .trim()
            .to_string();
        let options = optional_string_map(params, side.remote_param())?;
        if options.is_empty() {
            if path.is_empty() {
                return Err(bad(
                    side.location_param(),
                    "is empty; name a local directory",
                ));
            }
            // Absolute, so that rclone never reads `name:rest` as a remote.
            let arg = workdir.join(&path).into_os_string();
            return Ok(Location {
                side,
                path,
                arg,
                remote: None,
            });
        }
        let name = match side {
            Side::Source => SOURCE_REMOTE,
            Side::Destination => DESTINATION_REMOTE,
        };
        let remote = Remote::from_options(side.remote_param(), name, &options)?;
        let bucket_path = path.trim_start_matches('/');
        if bucket_path.is_empty() {
            return Err(bad(
                side.location_param(),
                "is empty; name the bucket, or `bucket/path` (drbook never works on every bucket of a remote at once)",
            ));
        }
        let arg = OsString::from(format!("{name}:{bucket_path}"));
        Ok(Location {
            side,
            path: bucket_path.to_string(),
            arg,
            remote: Some(remote),
        })
    }

    /// The environment rclone needs for this side.
    pub(crate) fn env(&self) -> &[(String, String)] {
        self.remote.as_ref().map_or(&[], |r| r.env.as_slice())
    }

    /// Where the side points, for messages: ``bucket `b/p` (s3 at http://host:9000)``
    /// or ``local directory `/x` ``.
    pub(crate) fn describe(&self) -> String {
        match &self.remote {
            None => format!("local directory `{}`", self.arg.to_string_lossy()),
            Some(remote) => match &remote.endpoint {
                Some(endpoint) => {
                    format!("bucket `{}` ({} at {endpoint})", self.path, remote.backend)
                }
                None => format!("bucket `{}` ({})", self.path, remote.backend),
            },
        }
    }
}

impl Remote {
    fn from_options(
        param: &'static str,
        name: &str,
        options: &[(String, String)],
    ) -> Result<Remote, ActionError> {
        let mut backend = None;
        let mut endpoint = None;
        let mut env = Vec::with_capacity(options.len());
        for (key, value) in options {
            // An empty option is rclone's default anyway: leaving it out lets one
            // mapping describe several backends (`account: "{{ target.x | default('') }}"`).
            if value.is_empty() {
                continue;
            }
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad(
                    param,
                    format!(
                        "has the key `{key}`; rclone option names are letters, digits and `_` (e.g. `access_key_id`)"
                    ),
                ));
            }
            let upper = key.to_ascii_uppercase().replace('-', "_");
            match upper.as_str() {
                "TYPE" => backend = Some(value.trim().to_ascii_lowercase()),
                "ENDPOINT" => endpoint = Some(without_userinfo(value.trim())),
                _ => {}
            }
            env.push((format!("RCLONE_CONFIG_{name}_{upper}"), value.clone()));
        }
        let backend = backend
            .filter(|b| !b.is_empty())
            .ok_or(RcloneError::NoBackendType { param })?;
        Ok(Remote {
            backend,
            endpoint,
            env,
        })
    }
}

/// `https://user:pass@host/` → `https://host/`: an endpoint is shown in messages, a
/// password in it must not be.
fn without_userinfo(endpoint: &str) -> String {
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, endpoint),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{rest}"),
        None => rest.to_string(),
    }
}

fn bad(name: &'static str, problem: impl Into<String>) -> ActionError {
    RcloneError::BadParam {
        name,
        problem: problem.into(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn location(params: Value, side: Side) -> Result<Location, String> {
        Location::from_params(params.as_object().unwrap(), side, Path::new("/work"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn remote_options_become_environment_variables_of_drbooks_own_remote() {
        let loc = location(
            json!({"source": "backups/etcd", "source_remote": {
                "type": "S3", "provider": "Minio", "endpoint": "http://k:s3cret@minio:9000",
                "access_key_id": "AK", "secret_access_key": "SK"}}),
            Side::Source,
        )
        .unwrap();
        assert_eq!(loc.arg, "DRBOOKSRC:backups/etcd");
        let remote = loc.remote.as_ref().unwrap();
        assert_eq!(remote.backend, "s3");
        assert!(remote.env.contains(&(
            "RCLONE_CONFIG_DRBOOKSRC_SECRET_ACCESS_KEY".into(),
            "SK".into()
        )));
        assert!(
            remote
                .env
                .contains(&("RCLONE_CONFIG_DRBOOKSRC_TYPE".into(), "S3".into()))
        );
        assert_eq!(
            loc.describe(),
            "bucket `backups/etcd` (s3 at http://minio:9000)"
        );
    }

    #[test]
    fn an_empty_option_is_left_out_so_one_mapping_serves_several_backends() {
        let loc = location(
            json!({"destination": "kkpbackup", "destination_remote": {
                "type": "azureblob", "account": "kkpbackups", "key": "SK",
                "provider": "", "endpoint": "", "region": ""}}),
            Side::Destination,
        )
        .unwrap();
        let mut keys: Vec<&str> = loc.env().iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "RCLONE_CONFIG_DRBOOKDST_ACCOUNT",
                "RCLONE_CONFIG_DRBOOKDST_KEY",
                "RCLONE_CONFIG_DRBOOKDST_TYPE"
            ]
        );
        assert_eq!(loc.describe(), "bucket `kkpbackup` (azureblob)");
    }

    #[test]
    fn a_side_without_remote_is_a_local_directory_from_the_workdir() {
        let loc = location(json!({"destination": "restore/minio"}), Side::Destination).unwrap();
        assert_eq!(loc.arg, "/work/restore/minio");
        assert!(loc.remote.is_none());
        assert_eq!(loc.describe(), "local directory `/work/restore/minio`");
        // `a:b` would be a remote to rclone; as an absolute path it is not.
        let loc = location(json!({"destination": "snap:1"}), Side::Destination).unwrap();
        assert_eq!(loc.arg, "/work/snap:1");
    }

    #[test]
    fn bad_remote_options_are_refused_with_the_fix() {
        let err = location(
            json!({"destination": "b", "destination_remote": {"provider": "Minio"}}),
            Side::Destination,
        )
        .unwrap_err();
        assert!(
            err.starts_with("parameter `destination_remote` has no `type`; rclone needs"),
            "{err}"
        );
        let err = location(
            json!({"source": "b", "source_remote": {"type": "s3", "end point": "x"}}),
            Side::Source,
        )
        .unwrap_err();
        assert!(err.contains("has the key `end point`"), "{err}");
        let err = location(
            json!({"source": "/", "source_remote": {"type": "s3"}}),
            Side::Source,
        )
        .unwrap_err();
        assert!(err.contains("name the bucket"), "{err}");
    }

    #[test]
    fn user_info_is_stripped_from_endpoints() {
        assert_eq!(without_userinfo("http://a:b@h:1/p@q"), "http://h:1/p@q");
        assert_eq!(without_userinfo("h:1"), "h:1");
        assert_eq!(without_userinfo("https://h"), "https://h");
    }
}
