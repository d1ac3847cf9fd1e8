//! Why a restic action did not succeed, and how a failed restic run is recognised.
//!
//! restic 0.17 and later exit with a documented code for the three failures an operator
//! can fix (10: no repository, 11: locked, 12: wrong password); restic 0.14 (Debian 12)
//! exits with 1 for all of them and only its message tells them apart. Both forms are
//! recognised here, in one place. Every message names the repository as `shown`
//! (credentials in a URL replaced) and says what to do; none is built from the
//! environment restic ran with, so the password and the keys cannot leak into one.

use std::path::PathBuf;
use std::process::ExitStatus;

use crate::actions::execute::{describe_status, stderr_note};
use crate::actions::program::Finished;

/// restic's exit code for "repository does not exist" (0.17 and later).
pub(crate) const EXIT_NO_REPOSITORY: i32 = 10;
/// restic's exit code for "failed to lock repository" (0.17 and later).
pub(crate) const EXIT_LOCKED: i32 = 11;
/// restic's exit code for "wrong password" (0.17 and later).
pub(crate) const EXIT_WRONG_PASSWORD: i32 = 12;

/// A failed restic action.
#[derive(Debug, thiserror::Error)]
pub enum ResticError {
    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error(
        "there is no restic repository at `{repository}`: check `repository`; the bucket or path may be wrong, or the store lost (scenario S8: restore the store from its off-site copy, or point `repository` at the copy)"
    )]
    NoRepository { repository: String },

    #[error(
        "the restic repository `{repository}` is locked ({holder}): wait for the running backup, prune or check to finish; if the process that holds the lock is gone, the lock is stale: remove it with `restic unlock`{hint}"
    )]
    Locked {
        repository: String,
        /// Who holds the lock, as restic says it ("locked exclusively by PID 8007 on cp-1 by root").
        holder: String,
        /// A further way out that only some actions have.
        hint: &'static str,
    },

    #[error(
        "cannot reach the store of the restic repository `{repository}` ({detail}): check the endpoint in `repository` and that it answers from where drbook runs (VPN, port-forward, firewall); for HTTPS with a private CA, give it as `cacert`"
    )]
    Unreachable { repository: String, detail: String },

    #[error(
        "the store of the restic repository `{repository}` refused the credentials ({detail}): check the access key and secret passed in `env` (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`) and that they may read the bucket"
    )]
    Denied { repository: String, detail: String },

    #[error(
        "the restic repository `{repository}` does not accept the password (wrong password or no key found): check the secret given as `password` against the one the backups were made with (KubeOne: key `password` of Secret `restic-config` in `kube-system`)"
    )]
    WrongPassword { repository: String },

    #[error("`restic {what}` on `{repository}` {}{}", describe_status(*status), stderr_note(stderr_tail))]
    Failed {
        repository: String,
        what: &'static str,
        status: ExitStatus,
        stderr_tail: Vec<String>,
    },

    #[error("`restic {what}` on `{repository}` printed something drbook cannot read ({reason})")]
    Output {
        repository: String,
        what: &'static str,
        reason: String,
    },

    #[error("no snapshot in the restic repository `{repository}` matches {wanted}; {found}")]
    NoSnapshot {
        repository: String,
        /// The filters, in words: "tag `etcd`, host `cp-1` and taken before …".
        wanted: String,
        /// What the repository does hold, and what to do.
        found: String,
    },

    #[error("snapshot `{id}` of the restic repository `{repository}` {problem}")]
    UnknownSnapshot {
        repository: String,
        id: String,
        problem: String,
    },

    #[error(
        "target `{}` {problem}; drbook never restores over existing files: choose a new `target`, or move this one away",
        target.display()
    )]
    TargetInUse { target: PathBuf, problem: String },

    #[error(
        "`{}`, left by an earlier attempt to restore into `{}`, is still in use: a process holds its lock (a restic started by an earlier drbook, or another drbook restoring to the same target); nothing was changed. Find it with `fuser -v {}`, stop it, then run the step again",
        staging.display(),
        target.display(),
        staging.display()
    )]
    StagingInUse { staging: PathBuf, target: PathBuf },

    #[error(
        "restoring snapshot {id} of the restic repository `{repository}` gave no files: {why}; nothing was written to `{}`",
        target.display()
    )]
    NothingRestored {
        repository: String,
        id: String,
        target: PathBuf,
        why: String,
    },

    #[error("could not {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a failed restic run means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    NoRepository,
    /// Who holds the lock, when restic said.
    Locked(String),
    WrongPassword,
    /// The store did not answer; restic's line saying why.
    Unreachable(String),
    /// The store refused the credentials; restic's line saying so.
    Denied(String),
    Other,
}

/// What restic (and the S3 client inside it) says when the store does not answer.
const UNREACHABLE: &[&str] = &[
    "connection refused",
    "no such host",
    "i/o timeout",
    "network is unreachable",
    "no route to host",
    "context deadline exceeded",
    "TLS handshake",
    "x509: ",
];

/// What S3 stores (MinIO, AWS) answer to keys they do not accept.
const DENIED: &[&str] = &[
    "Access Denied",
    "AccessDenied",
    "InvalidAccessKeyId",
    "does not exist in our records",
    "SignatureDoesNotMatch",
    "signature we calculated does not match",
];

/// Recognises a failed run by its exit code (restic 0.17 and later) or, for exit status
/// 1, by restic 0.14's messages.
pub(crate) fn classify(code: Option<i32>, stderr: &str) -> Failure {
    match code {
        Some(EXIT_NO_REPOSITORY) => return Failure::NoRepository,
        Some(EXIT_LOCKED) => return Failure::Locked(lock_holder(stderr)),
        Some(EXIT_WRONG_PASSWORD) => return Failure::WrongPassword,
        Some(1) => {}
        _ => return Failure::Other,
    }
    if stderr.contains("wrong password or no key found") {
        Failure::WrongPassword
    } else if stderr.contains("repository is already locked") {
        Failure::Locked(lock_holder(stderr))
    } else if let Some(line) = line_with(stderr, DENIED) {
        Failure::Denied(line)
    } else if let Some(line) = line_with(stderr, UNREACHABLE) {
        Failure::Unreachable(line)
    } else if stderr.contains("Is there a repository at the following location?")
        || stderr.contains("unable to open config file")
    {
        Failure::NoRepository
    } else {
        Failure::Other
    }
}

/// The first line of `stderr` that holds one of `needles`, without restic's `Fatal: `.
fn line_with(stderr: &str, needles: &[&str]) -> Option<String> {
    stderr
        .lines()
        .find(|line| needles.iter().any(|n| line.contains(n)))
        .map(|line| line.trim().trim_start_matches("Fatal: ").to_string())
}

/// "locked exclusively by PID 8007 on cp-1 by root (UID 0, GID 0), lock was created at
/// 2026-11-24 10:39:33 (602ms ago)" from restic's lock message; "no details" without one.
fn lock_holder(stderr: &str) -> String {
    let mut parts = Vec::new();
    for line in stderr.lines() {
        if let Some(at) = line.find("already locked") {
            parts.push(line[at + "already ".len()..].trim().to_string());
        } else if line.trim_start().starts_with("lock was created at") {
            parts.push(line.trim().to_string());
        }
    }
    if parts.is_empty() {
        "restic gave no details".to_string()
    } else {
        parts.join(", ")
    }
}

impl ResticError {
    /// The error for a run of `restic what` on `repository` that did not succeed.
    /// `lock_hint` follows the advice for a locked repository.
    pub(crate) fn from_run(
        repository: &str,
        what: &'static str,
        finished: &Finished,
        lock_hint: &'static str,
    ) -> ResticError {
        let repository = repository.to_string();
        match classify(finished.status.code(), &finished.stderr) {
            Failure::NoRepository => ResticError::NoRepository { repository },
            Failure::Locked(holder) => ResticError::Locked {
                repository,
                holder,
                hint: lock_hint,
            },
            Failure::WrongPassword => ResticError::WrongPassword { repository },
            Failure::Unreachable(detail) => ResticError::Unreachable { repository, detail },
            Failure::Denied(detail) => ResticError::Denied { repository, detail },
            Failure::Other => ResticError::Failed {
                repository,
                what,
                status: finished.status,
                stderr_tail: finished.stderr_tail.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    /// restic 0.14.0's stderr, as it prints it (exit status 1 for all of them).
    const WRONG_PASSWORD_0_14: &str = "Fatal: wrong password or no key found\n";
    const NO_CONFIG_0_14: &str = "Fatal: unable to open config file: Stat: The specified bucket does not exist\nIs there a repository at the following location?\ns3:http://127.0.0.1:9000/nobucket/repo\n";
    const NO_LOCAL_0_14: &str = "Fatal: unable to open config file: stat /srv/nope/config: no such file or directory\nIs there a repository at the following location?\n/srv/nope\n";
    const LOCKED_0_14: &str = "unable to create lock in backend: repository is already locked exclusively by PID 8007 on vm by root (UID 0, GID 0)\nlock was created at 2026-11-24 10:39:33 (602.540629ms ago)\nstorage ID dce117bc\nthe `unlock` command can be used to remove stale locks\n";

    fn finished(code: i32, stderr: &str) -> Finished {
        Finished {
            status: ExitStatus::from_raw(code << 8),
            stdout: String::new(),
            stderr_tail: stderr.lines().map(str::to_string).collect(),
            stderr: stderr.to_string(),
        }
    }

    #[test]
    fn restic_0_14_messages_with_exit_status_1_are_recognised() {
        assert_eq!(
            classify(Some(1), WRONG_PASSWORD_0_14),
            Failure::WrongPassword
        );
        assert_eq!(classify(Some(1), NO_CONFIG_0_14), Failure::NoRepository);
        assert_eq!(classify(Some(1), NO_LOCAL_0_14), Failure::NoRepository);
        assert_eq!(
            classify(Some(1), LOCKED_0_14),
            Failure::Locked(
                "locked exclusively by PID 8007 on vm by root (UID 0, GID 0), lock was created at 2026-11-24 10:39:33 (602.540629ms ago)".into()
            )
        );
        assert_eq!(
            classify(Some(1), "Fatal: unable to save snapshot: disk full\n"),
            Failure::Other
        );
    }

    #[test]
    fn an_unreachable_store_or_refused_keys_are_not_a_missing_repository() {
        // restic 0.14 against a port nothing listens on: it asks whether there is a
        // repository, but the store never answered.
        let refused = "Fatal: unable to open config file: Stat: Get \"http://127.0.0.1:1/bucket/?location=\": dial tcp 127.0.0.1:1: connect: connection refused\nIs there a repository at the following location?\ns3:http://127.0.0.1:1/bucket\n";
        assert_eq!(
            classify(Some(1), refused),
            Failure::Unreachable(
                "unable to open config file: Stat: Get \"http://127.0.0.1:1/bucket/?location=\": dial tcp 127.0.0.1:1: connect: connection refused".into()
            )
        );
        let denied = "Fatal: unable to open config file: Stat: The Access Key Id you provided does not exist in our records.\nIs there a repository at the following location?\ns3:https://minio/b\n";
        assert!(matches!(classify(Some(1), denied), Failure::Denied(_)));
        let err = ResticError::from_run(
            "s3:http://127.0.0.1:1/bucket",
            "snapshots",
            &finished(1, refused),
            "",
        );
        assert!(
            err.to_string().starts_with("cannot reach the store of the restic repository `s3:http://127.0.0.1:1/bucket` (unable to open config file: "),
            "{err}"
        );
    }

    #[test]
    fn restic_0_17_exit_codes_decide_whatever_the_message() {
        assert_eq!(
            classify(
                Some(10),
                "Fatal: repository does not exist: unable to open config file: stat /r/config: no such file or directory\n"
            ),
            Failure::NoRepository
        );
        assert_eq!(classify(Some(10), ""), Failure::NoRepository);
        assert_eq!(
            classify(
                Some(11),
                "Fatal: unable to create lock in backend: repository is already locked by PID 12 on cp-0 by root (UID 0, GID 0)\n"
            ),
            Failure::Locked("locked by PID 12 on cp-0 by root (UID 0, GID 0)".into())
        );
        assert_eq!(
            classify(Some(11), ""),
            Failure::Locked("restic gave no details".into())
        );
        assert_eq!(classify(Some(12), ""), Failure::WrongPassword);
        // Another code with a message that looks like one of them is not guessed at.
        assert_eq!(classify(Some(3), WRONG_PASSWORD_0_14), Failure::Other);
        assert_eq!(classify(None, LOCKED_0_14), Failure::Other);
    }

    #[test]
    fn each_message_names_the_repository_and_the_fix() {
        let repo = "s3:http://minio:9000/backups";
        let err = ResticError::from_run(repo, "snapshots", &finished(1, NO_CONFIG_0_14), "");
        assert_eq!(
            err.to_string(),
            "there is no restic repository at `s3:http://minio:9000/backups`: check `repository`; the bucket or path may be wrong, or the store lost (scenario S8: restore the store from its off-site copy, or point `repository` at the copy)"
        );
        let err = ResticError::from_run(
            repo,
            "snapshots",
            &finished(11, "repository is already locked by PID 1 on h by u\n"),
            "; for a read-only listing, set `no_lock: true`",
        );
        assert_eq!(
            err.to_string(),
            "the restic repository `s3:http://minio:9000/backups` is locked (locked by PID 1 on h by u): wait for the running backup, prune or check to finish; if the process that holds the lock is gone, the lock is stale: remove it with `restic unlock`; for a read-only listing, set `no_lock: true`"
        );
        let err = ResticError::from_run(repo, "restore", &finished(12, ""), "");
        assert!(
            err.to_string().starts_with(
                "the restic repository `s3:http://minio:9000/backups` does not accept the password"
            ),
            "{err}"
        );
        let err = ResticError::from_run(repo, "restore", &finished(1, "Fatal: boom\n"), "");
        assert_eq!(
            err.to_string(),
            "`restic restore` on `s3:http://minio:9000/backups` exited with status 1; last stderr: Fatal: boom"
        );
    }
}
