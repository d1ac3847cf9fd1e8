//! The parameters every restic action shares (`repository`, `password`, `env`,
//! `cacert`, `restic`) and running restic against that repository.
//!
//! The password and the repository reach restic only through its environment
//! (`RESTIC_PASSWORD`, `RESTIC_REPOSITORY`), never its command line, where `ps` would
//! show them; the environment is the one `program` builds, so nothing of drbook's own
//! (`AWS_*`, `RESTIC_*`) reaches restic by accident. Messages name the repository as
//! `shown`, with any credentials of a URL replaced by `***`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::error::ResticError;
use super::snapshot::{self, Filters, Snapshot};
use crate::actions::execute::{ActionError, optional_str, optional_string_map, required_str};
use crate::actions::program::{self, Finished, Program, Reporter};
use crate::actions::{ParamKind, ParamSpec};

/// How to get restic, for the error when it is missing.
const INSTALL: &str =
    "Debian/Ubuntu: `apt-get install restic`; others: https://github.com/restic/restic/releases";

/// restic's backends that are not a local path (`local:` is one, spelled out).
const REMOTE_BACKENDS: &[&str] = &[
    "s3:", "b2:", "azure:", "gs:", "swift:", "rest:", "sftp:", "rclone:",
];

/// Variables that would compete with `repository` and `password`.
const RESERVED_ENV: &[&str] = &[
    "RESTIC_REPOSITORY",
    "RESTIC_REPOSITORY_FILE",
    "RESTIC_PASSWORD",
    "RESTIC_PASSWORD_FILE",
    "RESTIC_PASSWORD_COMMAND",
];

pub(crate) const REPOSITORY: ParamSpec = ParamSpec {
    name: "repository",
    kind: ParamKind::String,
    required: true,
    doc: "The restic repository: `s3:http://host:9000/bucket/path`, `s3:https://…`, or a local path (relative to the run's work directory).",
};
pub(crate) const PASSWORD: ParamSpec = ParamSpec {
    name: "password",
    kind: ParamKind::String,
    required: true,
    doc: "The repository password, e.g. `{{ secrets.restic_password }}`; given to restic as `RESTIC_PASSWORD`, never on its command line.",
};
pub(crate) const ENV: ParamSpec = ParamSpec {
    name: "env",
    kind: ParamKind::StringMap,
    required: false,
    doc: "Environment for restic, e.g. `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`; drbook's own environment is not passed on.",
};
pub(crate) const CACERT: ParamSpec = ParamSpec {
    name: "cacert",
    kind: ParamKind::String,
    required: false,
    doc: "CA certificate (PEM) of an `s3:https://` endpoint with a private CA (`--cacert`).",
};
pub(crate) const RESTIC: ParamSpec = ParamSpec {
    name: "restic",
    kind: ParamKind::String,
    required: false,
    doc: "The restic binary: a path (relative to the work directory) or a name on the PATH; default `restic`.",
};
pub(crate) const TAG: ParamSpec = ParamSpec {
    name: "tag",
    kind: ParamKind::String,
    required: false,
    doc: "Only snapshots with this tag (`--tag`; `a,b` means both), e.g. `etcd` for KubeOne's backups.",
};
pub(crate) const HOST: ParamSpec = ParamSpec {
    name: "host",
    kind: ParamKind::String,
    required: false,
    doc: "Only snapshots taken on this host (`--host`).",
};
pub(crate) const PATH: ParamSpec = ParamSpec {
    name: "path",
    kind: ParamKind::String,
    required: false,
    doc: "Only snapshots of this path (`--path`), e.g. `/backup`.",
};

/// A repository and how to reach it. Not `Debug`: it holds the password.
pub(crate) struct Repository {
    /// What restic gets as `RESTIC_REPOSITORY` (a relative local path made absolute).
    location: String,
    /// `location` for messages, with a URL's credentials replaced.
    pub shown: String,
    password: String,
    env: Vec<(String, String)>,
    cacert: Option<PathBuf>,
    program: Program,
    workdir: PathBuf,
}

impl Repository {
    /// Reads the common parameters. Nothing is run.
    pub(crate) fn from_params(
        params: &Map<String, Value>,
        workdir: &Path,
    ) -> Result<Repository, ActionError> {
        let given = required_str(params, "repository")?.trim();
        if given.is_empty() {
            return Err(ResticError::BadParam {
                name: "repository",
                problem: "is empty; name the repository, e.g. `s3:http://minio.minio.svc:9000/kubermatic-master-backups`".into(),
            }
            .into());
        }
        let location = resolve(given, workdir);
        let password = required_str(params, "password")?.to_string();
        if password.is_empty() {
            return Err(ResticError::BadParam {
                name: "password",
                problem:
                    "is empty; pass the repository's password, e.g. `{{ secrets.restic_password }}`"
                        .into(),
            }
            .into());
        }
        let env = optional_string_map(params, "env")?;
        if let Some((name, _)) = env.iter().find(|(k, _)| RESERVED_ENV.contains(&k.as_str())) {
            return Err(ResticError::BadParam {
                name: "env",
                problem: format!(
                    "sets `{name}`, which competes with the step's own parameters; give the repository as `repository` and the password as `password`"
                ),
            }
            .into());
        }
        let cacert = cacert_param(params, workdir)?;
        let program = Program::locate("restic", optional_str(params, "restic")?, workdir, INSTALL)?;
        Ok(Repository {
            shown: redact(&location),
            location,
            password,
            env,
            cacert,
            program,
            workdir: workdir.to_path_buf(),
        })
    }

    /// Runs `restic <args…>` against the repository. A run that fails becomes the
    /// `ResticError` its exit code or message says; `lock_hint` completes the advice
    /// for a locked repository.
    pub(crate) async fn run(
        &self,
        what: &'static str,
        args: Vec<OsString>,
        reporter: &Reporter,
        log_stdout: bool,
        lock_hint: &'static str,
    ) -> Result<Finished, ActionError> {
        let mut env = self.env.clone();
        env.push(("RESTIC_REPOSITORY".into(), self.location.clone()));
        env.push(("RESTIC_PASSWORD".into(), self.password.clone()));
        let mut all_args = args;
        if let Some(cacert) = &self.cacert {
            all_args.push("--cacert".into());
            all_args.push(cacert.into());
        }
        let finished = program::run(
            &self.program,
            all_args,
            &env,
            &self.workdir,
            reporter,
            log_stdout,
        )
        .await?;
        if !finished.success() {
            return Err(ResticError::from_run(&self.shown, what, &finished, lock_hint).into());
        }
        Ok(finished)
    }

    /// The snapshots matching `filters`, as restic lists them.
    pub(crate) async fn snapshots(
        &self,
        filters: &Filters,
        no_lock: bool,
        reporter: &Reporter,
        lock_hint: &'static str,
    ) -> Result<Vec<Snapshot>, ActionError> {
        let mut args: Vec<OsString> = vec!["snapshots".into(), "--json".into()];
        if no_lock {
            args.push("--no-lock".into());
        }
        args.extend(filters.args());
        let finished = self
            .run("snapshots", args, reporter, false, lock_hint)
            .await?;
        snapshot::parse_listing(&finished.stdout).map_err(|reason| {
            ResticError::Output {
                repository: self.shown.clone(),
                what: "snapshots --json",
                reason,
            }
            .into()
        })
    }
}

/// The `cacert` parameter: a PEM file, relative to the work directory. Empty (a
/// template such as `"{{ inputs.cacert }}"` left at its default) means none, so that a
/// runbook can offer the CA as an optional input.
fn cacert_param(
    params: &Map<String, Value>,
    workdir: &Path,
) -> Result<Option<PathBuf>, ActionError> {
    match optional_str(params, "cacert")? {
        None => Ok(None),
        Some(path) if path.trim().is_empty() => Ok(None),
        Some(path) => {
            let path = workdir.join(path);
            if !path.is_file() {
                return Err(ResticError::BadParam {
                    name: "cacert",
                    problem: format!(
                        "names `{}`, which is not a file; give the CA certificate (PEM) of the S3 endpoint",
                        path.display()
                    ),
                }
                .into());
            }
            Ok(Some(path))
        }
    }
}

/// The repository as restic gets it: a local path (bare or `local:`) taken from
/// `workdir` when relative, anything else as given.
fn resolve(given: &str, workdir: &Path) -> String {
    if REMOTE_BACKENDS.iter().any(|b| given.starts_with(b)) {
        return given.to_string();
    }
    let (prefix, path) = match given.strip_prefix("local:") {
        Some(path) => ("local:", path),
        None => ("", given),
    };
    format!("{prefix}{}", workdir.join(path).display())
}

/// `location` with the user and password of a URL (`rest:https://u:p@host/`) replaced
/// by `***`.
pub(crate) fn redact(location: &str) -> String {
    let Some(scheme_end) = location.find("://") else {
        return location.to_string();
    };
    let authority_start = scheme_end + 3;
    let rest = &location[authority_start..];
    let authority_len = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &location[..authority_start],
            &location[authority_start + at..]
        ),
        None => location.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn local_paths_are_taken_from_the_workdir_and_urls_as_given() {
        let w = Path::new("/run/w");
        assert_eq!(resolve("repo", w), "/run/w/repo");
        assert_eq!(resolve("/srv/repo", w), "/srv/repo");
        assert_eq!(resolve("local:repo", w), "local:/run/w/repo");
        assert_eq!(
            resolve("s3:http://minio:9000/b/p", w),
            "s3:http://minio:9000/b/p"
        );
        assert_eq!(
            resolve("rest:https://u:p@h:8000/", w),
            "rest:https://u:p@h:8000/"
        );
    }

    #[test]
    fn an_empty_cacert_means_none_and_a_missing_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let params = |cacert: &str| json!({"cacert": cacert}).as_object().unwrap().clone();
        assert_eq!(cacert_param(&params(""), dir.path()).unwrap(), None);
        assert_eq!(cacert_param(&params("  "), dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("ca.pem"), "pem").unwrap();
        assert_eq!(
            cacert_param(&params("ca.pem"), dir.path()).unwrap(),
            Some(dir.path().join("ca.pem"))
        );
        let err = cacert_param(&params("nope.pem"), dir.path()).unwrap_err();
        assert!(err.to_string().contains("nope.pem"), "{err}");
    }

    #[test]
    fn credentials_in_a_url_are_not_shown() {
        assert_eq!(
            redact("rest:https://user:hunter2@backup.example:8000/repo"),
            "rest:https://***@backup.example:8000/repo"
        );
        assert_eq!(
            redact("s3:http://minio:9000/b/p"),
            "s3:http://minio:9000/b/p"
        );
        assert_eq!(redact("/srv/re@po"), "/srv/re@po");
        assert_eq!(redact("s3:http://h/b/a@b"), "s3:http://h/b/a@b");
    }

    #[test]
    fn the_step_cannot_set_the_password_through_env() {
        let params = json!({
            "repository": "repo",
            "password": "pw",
            "env": {"RESTIC_PASSWORD": "other-secret"},
        });
        let err = Repository::from_params(params.as_object().unwrap(), Path::new("/"))
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "parameter `env` sets `RESTIC_PASSWORD`, which competes with the step's own parameters; give the repository as `repository` and the password as `password`"
        );
        assert!(!err.contains("other-secret"));
    }
}
