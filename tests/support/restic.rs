//! `restic` as a test runs it to make a repository the way the KubeOne `backups-restic`
//! addon does: against a repository in the test S3 server, with its keys.

use std::process::Command;

use super::s3::{ACCESS_KEY, SECRET_KEY, require_tool};

/// One `restic` run with only PATH, HOME and the repository's environment (this
/// machine may export AWS_CA_BUNDLE and other AWS variables). Panics with restic's
/// stderr when it fails.
pub fn restic(repository: &str, password: &str, args: &[&str]) {
    let mut command = Command::new(require_tool("restic"));
    command.env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let out = command
        .args(["--no-cache"])
        .args(args)
        .env("RESTIC_REPOSITORY", repository)
        .env("RESTIC_PASSWORD", password)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .output()
        .expect("restic runs");
    assert!(
        out.status.success(),
        "restic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
