//! Why an rclone action did not succeed. Each message names the side (source or
//! destination), where it points (bucket and endpoint, never a key) and what to do,
//! because an operator reads it in the middle of restoring a backup store.

use std::fmt;
use std::process::ExitStatus;

use crate::actions::execute::{describe_status, stderr_note};

/// Which end of a transfer or check something is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

impl Side {
    /// The step parameter that names the location on this side.
    pub(crate) fn location_param(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Destination => "destination",
        }
    }

    /// The step parameter that holds this side's backend options.
    pub(crate) fn remote_param(self) -> &'static str {
        match self {
            Side::Source => "source_remote",
            Side::Destination => "destination_remote",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Destination => "destination",
        })
    }
}

/// A failed rclone action.
#[derive(Debug, thiserror::Error)]
pub enum RcloneError {
    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error(
        "parameter `{param}` has no `type`; rclone needs the backend, e.g. `type: s3` with `provider: Minio` for MinIO (`rclone help backends` lists them)"
    )]
    NoBackendType { param: &'static str },

    #[error("flag `{flag}` in `flags` is refused: {reason}")]
    FlagRefused { flag: String, reason: &'static str },

    #[error(
        "the {side} names backend type `{backend}`, which this rclone does not know; fix `type` in `{}` (e.g. `s3` for MinIO, Ceph and AWS, `azureblob`, `gcs`, `swift`; `rclone help backends` lists them)",
        side.remote_param()
    )]
    UnknownBackend { side: Side, backend: String },

    #[error(
        "{where_} does not exist ({side}); check `{}`{}",
        side.location_param(),
        not_found_hint(*side, *remote)
    )]
    NotFound {
        side: Side,
        /// `bucket `b` at http://…` or `local directory `/x``.
        where_: String,
        /// Whether the side is a remote (a bucket) rather than a local directory.
        remote: bool,
    },

    #[error(
        "the {side} refused rclone's credentials for {where_}: {detail}; check `access_key_id` and `secret_access_key` in `{}` (the secret may be wrong, expired or for another server) and that the key may use this bucket",
        side.remote_param()
    )]
    AccessDenied {
        side: Side,
        where_: String,
        detail: String,
    },

    #[error(
        "rclone could not authenticate to {where_}: {detail}; check `access_key_id` and `secret_access_key` in `source_remote` and `destination_remote`, and that the keys may use these buckets"
    )]
    AccessDeniedEither { where_: String, detail: String },

    #[error(
        "cannot reach the {side} at {endpoint}: {detail}; check `endpoint` in `{}`, that the server runs and that this host can reach it (DNS, firewall, port)",
        side.remote_param()
    )]
    Unreachable {
        side: Side,
        endpoint: String,
        detail: String,
    },

    #[error(
        "cannot reach {endpoints}: {detail}; check `endpoint` in `source_remote` and `destination_remote`, that the servers run and that this host can reach them"
    )]
    UnreachableEither { endpoints: String, detail: String },

    #[error(
        "the source changed while the sync ran: rclone stopped at the `--max-delete {limit}` the deletion guard set, so some destination files may be updated but no more than {limit} were deleted. Run the step again: the guard lists both sides afresh"
    )]
    MaxDeleteReached { limit: u64 },

    #[error("`rclone {what}` {}{}", describe_status(*status), stderr_note(stderr_tail))]
    Failed {
        what: &'static str,
        status: ExitStatus,
        stderr_tail: Vec<String>,
    },

    #[error("`rclone {what}` printed something drbook cannot read ({reason})")]
    Output { what: &'static str, reason: String },

    #[error("{0}")]
    DeletionGuard(Box<GuardRefusal>),

    #[error(
        "the source and the destination differ: {differences} differing, {missing_on_destination} missing on the destination, {missing_on_source} missing on the source, {errors} not comparable{}; find out why before relying on the destination, or set `allow_differences: true` if differences are expected here",
        examples_note(examples)
    )]
    Differences {
        differences: u64,
        missing_on_destination: u64,
        missing_on_source: u64,
        errors: u64,
        /// A few of the files, each with its mark (`* a/b`).
        examples: Vec<String>,
    },
}

/// Why a sync was refused before anything changed.
#[derive(Debug)]
pub struct GuardRefusal {
    pub would_delete: u64,
    pub destination_files: u64,
    pub source_files: u64,
    /// The limit as the step wrote it (`10%`, `25`) and as a count.
    pub max_delete: String,
    pub allowed: u64,
    /// A few of the files that would be deleted.
    pub examples: Vec<String>,
    pub source: String,
    pub destination: String,
}

impl fmt::Display for GuardRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self
            .examples
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let more = if self.would_delete > self.examples.len() as u64 {
            ", …"
        } else {
            ""
        };
        if self.source_files == 0 {
            write!(
                f,
                "refusing to sync: the source {} is empty, so the sync would delete all {} files of the destination {} (e.g. {names}{more}); nothing was changed. An empty source is what a lost or wiped MinIO looks like, and mirroring it would destroy the off-site copy. Check the source; to restore the other way, run `rclone.copy` from the off-site copy to the source. drbook never syncs an empty source, whatever `max_delete` says",
                self.source, self.destination_files, self.destination
            )
        } else {
            write!(
                f,
                "refusing to sync: it would delete {} of the {} files of the destination {} (e.g. {names}{more}), more than `max_delete: {}` allows ({}); nothing was changed. A source that lost files (a damaged or half-restored MinIO) mirrored over the off-site copy destroys the copy. Check the source; to restore the other way, use `rclone.copy`; if these deletions are intended, raise `max_delete` for this run (e.g. `max_delete: \"{}\"`)",
                self.would_delete,
                self.destination_files,
                self.destination,
                self.max_delete,
                self.allowed,
                self.would_delete
            )
        }
    }
}

fn not_found_hint(side: Side, remote: bool) -> &'static str {
    match (side, remote) {
        (Side::Source, true) => {
            " and the endpoint, or create the bucket. A source bucket that vanished may mean the store was lost: do not sync over the off-site copy, restore it with `rclone.copy` from there"
        }
        (Side::Destination, true) => " and the endpoint, or create the bucket",
        (_, false) => " (a relative path is taken from the run's work directory)",
    }
}

fn examples_note(examples: &[String]) -> String {
    if examples.is_empty() {
        String::new()
    } else {
        format!(" (e.g. {})", examples.join(", "))
    }
}
