//! Recognising why rclone failed from what it wrote to stderr (rclone has one exit
//! status for most failures): unknown backend, missing bucket or directory, refused
//! credentials, unreachable endpoint. Each becomes an error that names the side and
//! the fix; anything else is reported with rclone's last lines.
//!
//! The side is known when one side was being listed. For a transfer or a check,
//! rclone says "source root directory" or "destination root directory" when it cannot
//! list one, and otherwise the endpoint in a failed request says which side it was.

use super::error::{RcloneError, Side};
use super::remotes::Location;
use crate::actions::shell::shorten;

/// The texts by which S3-compatible servers and rclone refuse credentials.
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "status code: 403",
    "status code: 401",
];

/// The texts of a connection that was never made.
const UNREACHABLE: &[&str] = &[
    "connection refused",
    "no such host",
    "i/o timeout",
    "network is unreachable",
    "no route to host",
    "connection reset by peer",
    "certificate signed by unknown authority",
    "server gave HTTP response to HTTPS client",
    "tls: ",
];

/// The error `stderr` shows, if it is one drbook knows. `sides` are the locations the
/// command used; `listed` is the one side being listed, when that is what ran.
pub(crate) fn classify(
    stderr: &str,
    sides: &[&Location],
    listed: Option<Side>,
) -> Option<RcloneError> {
    if let Some(rest) = stderr.split("didn't find backend called \"").nth(1) {
        let backend = rest.split('"').next().unwrap_or_default().to_string();
        let side = listed
            .or_else(|| {
                sides
                    .iter()
                    .find(|l| l.remote.as_ref().is_some_and(|r| r.backend == backend))
                    .map(|l| l.side)
            })
            .unwrap_or(Side::Source);
        return Some(RcloneError::UnknownBackend { side, backend });
    }
    if stderr.contains("max-delete threshold reached") {
        return None;
    }
    let side_of = |line: &str| -> Option<Side> {
        listed
            .or_else(|| root_side(line))
            .or_else(|| side_by_endpoint(line, sides))
    };
    let location = |side: Side| sides.iter().find(|l| l.side == side);

    if let Some(line) = first_line_with(stderr, ACCESS_DENIED) {
        let detail = detail(line);
        return Some(match side_of(line).and_then(location) {
            Some(loc) => RcloneError::AccessDenied {
                side: loc.side,
                where_: loc.describe(),
                detail,
            },
            None => RcloneError::AccessDeniedEither {
                where_: describe_all(sides),
                detail,
            },
        });
    }
    if let Some(line) = first_line_with(stderr, UNREACHABLE) {
        let detail = detail(line);
        let remote = side_of(line).and_then(location).and_then(|l| {
            let endpoint = l.remote.as_ref()?.endpoint.clone()?;
            Some((l.side, endpoint))
        });
        return Some(match remote {
            Some((side, endpoint)) => RcloneError::Unreachable {
                side,
                endpoint,
                detail,
            },
            None => RcloneError::UnreachableEither {
                endpoints: describe_all(sides),
                detail,
            },
        });
    }
    if let Some(line) = first_line_with(stderr, &["directory not found", "NoSuchBucket"]) {
        // A missing destination is created by a transfer; only a listing or a check
        // reports it, and then the side is known.
        let side = side_of(line).or_else(|| {
            sides
                .iter()
                .find(|l| l.side == Side::Source)
                .map(|l| l.side)
        })?;
        let loc = location(side)?;
        return Some(RcloneError::NotFound {
            side,
            where_: loc.describe(),
            remote: loc.remote.is_some(),
        });
    }
    None
}

/// The first line of `text` containing any of `needles`.
fn first_line_with<'a>(text: &'a str, needles: &[&str]) -> Option<&'a str> {
    text.lines()
        .find(|line| needles.iter().any(|n| line.contains(n)))
}

/// "error reading source root directory: …" names its side.
fn root_side(line: &str) -> Option<Side> {
    if line.contains("source root directory") && !line.contains("destination root directory") {
        Some(Side::Source)
    } else if line.contains("destination root directory") {
        Some(Side::Destination)
    } else {
        None
    }
}

/// The one side whose endpoint's host (and port) the line mentions.
fn side_by_endpoint(line: &str, sides: &[&Location]) -> Option<Side> {
    let matching: Vec<Side> = sides
        .iter()
        .filter(|l| {
            l.remote
                .as_ref()
                .and_then(|r| r.endpoint.as_deref())
                .map(host_of)
                .is_some_and(|host| !host.is_empty() && line.contains(host))
        })
        .map(|l| l.side)
        .collect();
    match matching.as_slice() {
        [one] => Some(*one),
        _ => {
            // With one remote side only, a network or credential error is that side's.
            let remotes: Vec<Side> = sides
                .iter()
                .filter(|l| l.remote.is_some())
                .map(|l| l.side)
                .collect();
            match remotes.as_slice() {
                [one] => Some(*one),
                _ => None,
            }
        }
    }
}

/// `http://host:9000/x` → `host:9000`.
fn host_of(endpoint: &str) -> &str {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// The message of a log line, without rclone's timestamp, JSON wrapping and the
/// request ids of a refused request; the lines of a wrapped error (`caused by: …`)
/// joined into one.
fn detail(line: &str) -> String {
    let text = match serde_json::from_str::<serde_json::Value>(line) {
        Ok(value) => value["msg"].as_str().unwrap_or(line).to_string(),
        Err(_) => line.to_string(),
    };
    // "2026/11/24 10:43:19 Failed to lsjson: error in ListJSON: …"
    let text = match text.get(..20) {
        Some(stamp) if stamp.as_bytes().get(4) == Some(&b'/') => text[20..].trim_start(),
        _ => text.as_str(),
    };
    let joined = text
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("caused by: ")
                .trim_end_matches('.')
        })
        .filter(|l| !l.is_empty() && !l.starts_with("status code:"))
        .collect::<Vec<_>>()
        .join(": ");
    shorten(&joined)
}

fn describe_all(sides: &[&Location]) -> String {
    sides
        .iter()
        .map(|l| format!("the {} {}", l.side, l.describe()))
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn sides() -> (Location, Location) {
        let params = json!({
            "source": "minio-b", "source_remote": {"type": "s3", "endpoint": "http://127.0.0.1:9000"},
            "destination": "offsite-b", "destination_remote": {"type": "s3", "endpoint": "https://s3.example.com"},
        });
        let params = params.as_object().unwrap();
        (
            Location::from_params(params, Side::Source, Path::new("/w")).unwrap(),
            Location::from_params(params, Side::Destination, Path::new("/w")).unwrap(),
        )
    }

    #[test]
    fn the_side_comes_from_the_root_directory_or_the_endpoint() {
        let (src, dst) = sides();
        let stderr = r#"{"level":"error","msg":"error reading destination root directory: InvalidAccessKeyId: The Access Key Id you provided does not exist in our records.\n\tstatus code: 403, request id: , host id: ","object":"S3 bucket offsite-b"}"#;
        let err = classify(stderr, &[&src, &dst], None).unwrap().to_string();
        assert_eq!(
            err,
            "the destination refused rclone's credentials for bucket `offsite-b` (s3 at https://s3.example.com): error reading destination root directory: InvalidAccessKeyId: The Access Key Id you provided does not exist in our records; check `access_key_id` and `secret_access_key` in `destination_remote` (the secret may be wrong, expired or for another server) and that the key may use this bucket"
        );
        let stderr = "2026/11/24 10:42:57 Failed to copy: RequestError: send request failed\ncaused by: Get \"http://127.0.0.1:9000/minio-b?delimiter=\": dial tcp 127.0.0.1:9000: connect: connection refused\n";
        let err = classify(stderr, &[&src, &dst], None).unwrap().to_string();
        assert!(
            err.starts_with("cannot reach the source at http://127.0.0.1:9000: Get \"http://127.0.0.1:9000/minio-b"),
            "{err}"
        );
        assert!(err.contains("check `endpoint` in `source_remote`"), "{err}");
    }

    #[test]
    fn unknown_backends_and_missing_buckets_name_the_side() {
        let (src, dst) = sides();
        let stderr = "2026/11/24 10:42:57 Failed to create file system for \"DRBOOKDST:x\": didn't find backend called \"s4\"\n";
        let err = classify(stderr, &[&src, &dst], Some(Side::Destination))
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("the destination names backend type `s4`, which this rclone does not know; fix `type` in `destination_remote`"),
            "{err}"
        );
        let stderr =
            "2026/11/24 10:43:04 Failed to lsjson: error in ListJSON: directory not found\n";
        let err = classify(stderr, &[&src], Some(Side::Source))
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("bucket `minio-b` (s3 at http://127.0.0.1:9000) does not exist (source); check `source` and the endpoint, or create the bucket. A source bucket that vanished"),
            "{err}"
        );
        assert!(classify("some other failure\n", &[&src, &dst], None).is_none());
    }
}
