//! Why an etcd action did not succeed: each message says what is wrong and what to do,
//! because an operator reads it in the middle of a restore.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use crate::actions::execute::{describe_status, stderr_note};

/// A failed etcd action.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error(
        "neither `etcdutl` nor `etcdctl` is on the PATH; install them (Debian: `apt-get install etcd-client`) or name the binary with `etcdctl:`"
    )]
    NoTool,

    #[error("`{}` (from `etcdctl:`) {problem}", path.display())]
    BadTool { path: PathBuf, problem: String },

    #[error("could not start `{tool}`: {source}")]
    ToolStart {
        tool: String,
        #[source]
        source: std::io::Error,
    },

    #[error("`{tool} {what}` {}{}", describe_status(*status), stderr_note(stderr_tail))]
    ToolFailed {
        tool: String,
        what: &'static str,
        status: ExitStatus,
        stderr_tail: Vec<String>,
    },

    #[error("`{tool} {what}` printed something drbook cannot read ({reason}): {output}")]
    ToolOutput {
        tool: String,
        what: &'static str,
        reason: String,
        output: String,
    },

    #[error(
        "{tool} {version} does not support `--{flag}` (etcdctl 3.4.27 and etcdutl 3.5.10 added it); restore without `{param}`, or pass a newer binary with `etcdctl:`"
    )]
    Unsupported {
        tool: String,
        version: String,
        flag: &'static str,
        param: &'static str,
    },

    #[error("snapshot `{}` {problem}", file.display())]
    Snapshot {
        file: PathBuf,
        problem: SnapshotProblem,
    },

    #[error(
        "snapshot file `{}` already exists and holds a different snapshot (SHA-256 {existing}, the new one is {new}); drbook never overwrites a snapshot: choose another `file`, e.g. with `{{{{ run.id }}}}` in its name, or move the old one away",
        file.display()
    )]
    SnapshotExists {
        file: PathBuf,
        existing: String,
        new: String,
    },

    #[error(
        "{} not empty: {}; nothing was changed. Set `move_aside: true` to have drbook rename {} to `<dir>.drbook-<timestamp>` (never deleted), or empty {} yourself",
        if dirs.len() == 1 { "a data directory is" } else { "data directories are" },
        dirs.iter().map(|d| format!("`{}`", d.display())).collect::<Vec<_>>().join(", "),
        if dirs.len() == 1 { "it" } else { "each" },
        if dirs.len() == 1 { "it" } else { "them" },
    )]
    DataDirsNotEmpty { dirs: Vec<PathBuf> },

    #[error(
        "`{}`, left by an earlier restore of this data directory, is still in use: a process holds its lock (an etcdctl or etcdutl started by an earlier drbook); no data directory was changed. Find it with `fuser -v {}`, stop it, then run the step again",
        staging.display(),
        staging.display()
    )]
    StagingInUse { staging: PathBuf },

    #[error("restoring member `{member}` failed: {source}; no data directory was changed")]
    MemberRestore {
        member: String,
        #[source]
        source: Box<EtcdError>,
    },

    #[error("could not {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not {what} {endpoint}: {detail}")]
    Api {
        what: &'static str,
        endpoint: String,
        /// The client error with its causes, which its own message leaves out.
        detail: String,
    },

    #[error("{endpoint} did not answer {what} within {}", humantime::format_duration(*after))]
    Timeout {
        what: &'static str,
        endpoint: String,
        after: Duration,
    },

    #[error("the snapshot stream from {endpoint} {problem}; the partial file was removed")]
    Stream { endpoint: String, problem: String },

    #[error("{0}")]
    Unhealthy(String),

    #[error(
        "the endpoints belong to more than one etcd cluster: {0}. At least one endpoint is not a member of the cluster this step means (a wrong address, or its port taken by another etcd); check the endpoints against the members' --advertise-client-urls"
    )]
    SplitClusters(String),

    #[error("the cluster does not pass verification: {}", problems.join("; "))]
    VerifyFailed { problems: Vec<String> },
}

/// What is wrong with a snapshot file. Each reads after "snapshot `<file>` ".
#[derive(Debug, thiserror::Error)]
pub enum SnapshotProblem {
    #[error(
        "does not exist; check the path (a relative path is taken from the run's work directory)"
    )]
    Missing,

    #[error("cannot be read: {0}")]
    Unreadable(#[source] std::io::Error),

    #[error(
        "is empty (0 bytes): the save or the download did not finish; take or fetch the snapshot again"
    )]
    Empty,

    #[error(
        "is not an etcd snapshot: it does not start like a bolt database (etcd's storage file); check that the path names the snapshot and not another file"
    )]
    NotBolt,

    #[error(
        "is a copy of member/snap/db, not an `etcdctl snapshot save` file; its integrity cannot be checked (it has no SHA-256 trailer) and it may lack writes that were only in the WAL. Use a snapshot taken with `etcdctl snapshot save` or `etcd.snapshot.save`; restore this copy by hand with `--skip-hash-check` only if nothing better exists"
    )]
    RawDbCopy,

    #[error(
        "is truncated: {size} bytes is not a whole number of 512-byte pages plus the 32-byte SHA-256 trailer every `etcdctl snapshot save` file ends with; the save, upload or download was cut short. Fetch it again and compare its size with the source"
    )]
    Truncated { size: u64 },

    #[error(
        "is corrupt: its SHA-256 trailer says {expected} but its content hashes to {actual}, so bytes changed in storage or transfer. Fetch it again (compare size and checksum with the source); never restore it with `--skip-hash-check`"
    )]
    HashMismatch { expected: String, actual: String },

    #[error(
        "looks gzip-compressed but cannot be decompressed ({0}); the file is damaged or cut short. Fetch it again"
    )]
    GzipBroken(String),

    #[error("is gzip-compressed, but the file inside {0}")]
    GzipContent(Box<SnapshotProblem>),

    #[error("was refused by `{tool} snapshot status`: {detail}")]
    Status { tool: String, detail: String },

    #[error(
        "changed while it was being restored ({0}): something is still writing or replacing it, so the restored copies cannot be trusted. Wait until whatever writes it has finished, compare its size and checksum with the source, and run the step again"
    )]
    Changed(&'static str),
}

/// An etcd client error in words: the gRPC status message or the transport error, with
/// their causes ("Connection refused" is a few levels down under "tcp connect error").
pub(crate) fn describe_client_error(error: &etcd_client::Error) -> String {
    let (mut text, mut cause): (String, Option<&(dyn std::error::Error + 'static)>) = match error {
        etcd_client::Error::GRpcStatus(status) if !status.message().is_empty() => (
            status.message().to_string(),
            std::error::Error::source(status),
        ),
        etcd_client::Error::TransportError(e) => (e.to_string(), std::error::Error::source(e)),
        other => (other.to_string(), None),
    };
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        // hyper's "transport error" between "tcp connect error" and its cause says nothing.
        if inner_text != "transport error" && !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}
