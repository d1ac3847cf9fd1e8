//! What can go wrong in the Velero actions. Each message names the Velero object, what
//! its state is and what to do about it; none carries a credential (the storage
//! location's S3 keys are read from its Secret and handed to the S3 client only).

/// Why a Velero action did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum VeleroError {
    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error("cannot {verb} {object}: {reason}")]
    Api {
        verb: &'static str,
        object: String,
        reason: String,
    },

    #[error(
        "Backup `{namespace}/{name}` does not exist; check the name (`kubectl -n {namespace} get backups.velero.io`). On a rebuilt cluster Velero lists a bucket's backups only after its storage location is Available and synced (every minute)"
    )]
    NoBackup { namespace: String, name: String },

    #[error(
        "Backup `{namespace}/{name}` is {phase}, not Completed; restore from a Completed backup (`velero.backup.latest` finds the newest one){}",
        if *partial { ", or pass `allow_partial: true` to accept a PartiallyFailed one" } else { "" }
    )]
    BackupNotCompleted {
        namespace: String,
        name: String,
        phase: String,
        partial: bool,
    },

    #[error("{0}")]
    NoRestorableBackup(String),

    #[error(
        "BackupStorageLocation `{namespace}/{name}` is {phase}, not Available{}; Velero cannot read the backup from it. Check its bucket, credentials Secret and `velero backup-location get`, then run the step again",
        if message.is_empty() { String::new() } else { format!(" ({message})") }
    )]
    BslUnavailable {
        namespace: String,
        name: String,
        phase: String,
        message: String,
    },

    #[error("{what} within {waited}: {state}; {advice}")]
    WaitedTooLong {
        what: String,
        waited: String,
        state: String,
        advice: &'static str,
    },

    #[error(
        "Restore `{namespace}/{blocker}` is still {phase}, and Velero runs one restore at a time: a new Restore would wait behind it. Wait until it ends (`velero restore get {blocker}`), then run the step again; never delete it (deleting does not stop it, and its finalizer removes its logs)"
    )]
    Blocked {
        namespace: String,
        blocker: String,
        phase: String,
    },

    #[error(
        "namespace `{namespace}` is Terminating, so Velero would stall on every item restored into it; wait until it is gone (`kubectl get namespace {namespace}`), or map the restore to another namespace with `namespace_mapping`"
    )]
    Terminating { namespace: String },

    #[error("Restore `{namespace}/{name}` failed validation: {}; {advice}", errors.join("; "))]
    FailedValidation {
        namespace: String,
        name: String,
        errors: Vec<String>,
        advice: &'static str,
    },

    #[error(
        "Restore `{namespace}/{name}` failed: {reason}; read its log with `velero restore logs {name} -n {namespace}`"
    )]
    Failed {
        namespace: String,
        name: String,
        reason: String,
    },

    #[error(
        "Restore `{namespace}/{name}` ended PartiallyFailed with {errors} error(s) and {warnings} warning(s){texts}; review them before going on (they are also in the step's output)"
    )]
    PartiallyFailed {
        namespace: String,
        name: String,
        errors: u64,
        warnings: u64,
        /// The texts, or why they could not be read.
        texts: String,
    },
}
