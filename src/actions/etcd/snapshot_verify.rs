//! `etcd.snapshot.verify`: is this file a whole, unaltered etcd snapshot, and what is in it?
//!
//! Safe to re-run after a crash: it only reads the snapshot. The one thing it writes, the
//! decompressed copy of a `.db.gz` next to it, is a temporary file it removes again (and
//! a crash leaves at most a `.…drbook-gunzip-…` file, never touches the snapshot).
//!
//! The integrity checks are drbook's own (`snapshot_file`): the SHA-256 trailer, with a
//! message for each way a file can be wrong. Then `snapshot status -w json` reads the
//! database itself for its revision and key count; it runs while the hash is computed,
//! since both only read. `etcd.snapshot.restore` runs the same verification while it
//! restores into its staging directories, and renames nothing into place before it passed.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::error::{EtcdError, SnapshotProblem};
use super::snapshot_file::{self, SnapshotDb};
use super::tool::{self, Reporter, SnapshotStatus, Tool};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.snapshot.verify",
    by_hand: super::manual::snapshot_verify,
    outputs: Some(&[
        "file",
        "revision",
        "total_keys",
        "total_size",
        "size",
        "sha256",
        "hash",
        "compressed",
    ]),
    summary: "Check an etcd snapshot (SHA-256 trailer; `.db.gz` is gunzipped first) and read its revision and key count.",
    params: &[
        ParamSpec {
            name: "file",
            kind: ParamKind::String,
            required: true,
            doc: "The snapshot: an `etcdctl snapshot save` file, or its gzip (`.db.gz`, as KKP stores them).",
        },
        ETCDCTL,
    ],
    rerun: Rerun::Safe("it only reads the snapshot"),
    executor: &SnapshotVerifyAction,
};

/// The `etcdctl` parameter of the snapshot actions.
pub(crate) const ETCDCTL: ParamSpec = ParamSpec {
    name: "etcdctl",
    kind: ParamKind::String,
    required: false,
    doc: "The etcd tool to run `snapshot status`/`restore` with (default: `etcdutl`, else `etcdctl`, from the PATH); use the etcd version of the snapshot's cluster.",
};

/// The executor of `etcd.snapshot.verify`.
pub struct SnapshotVerifyAction;

impl Action for SnapshotVerifyAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// A snapshot that passed verification.
#[derive(Debug)]
pub(crate) struct Verified {
    pub file: PathBuf,
    pub compressed: bool,
    pub size: u64,
    pub sha256: String,
    pub status: SnapshotStatus,
}

impl Verified {
    /// The verification's outputs.
    pub(crate) fn outputs(&self) -> Outputs {
        let mut outputs = Outputs::new();
        outputs.insert(
            "file".into(),
            Value::String(self.file.display().to_string()),
        );
        outputs.insert("revision".into(), Value::from(self.status.revision));
        outputs.insert("total_keys".into(), Value::from(self.status.total_key));
        outputs.insert("total_size".into(), Value::from(self.status.total_size));
        outputs.insert("size".into(), Value::from(self.size));
        outputs.insert("sha256".into(), Value::String(self.sha256.clone()));
        outputs.insert("hash".into(), Value::from(self.status.hash));
        outputs.insert("compressed".into(), Value::Bool(self.compressed));
        outputs
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let file = request.workdir.join(required_str(&request.params, "file")?);
    let tool = Tool::resolve(optional_str(&request.params, "etcdctl")?, &request.workdir)?;
    let reporter = Reporter {
        cancel: request.cancel.clone(),
        events: request.events.clone(),
        prefix: String::new(),
        hold: None,
    };
    let verified = verify(&file, &tool, &request.workdir, &reporter).await?;
    Ok(verified.outputs())
}

/// Verifies `file`: decompresses it if it is gzip, checks the trailer and runs
/// `snapshot status` (the two at once). Refuses with the first problem found.
pub(crate) async fn verify(
    file: &Path,
    tool: &Tool,
    workdir: &Path,
    reporter: &Reporter,
) -> Result<Verified, ActionError> {
    let (db, compressed) = prepare(file, reporter).await?;
    // The temporary copy of a `.db.gz` is removed when `db` is dropped, after the check.
    let checked = check(
        file,
        db.path(),
        compressed,
        tool,
        workdir,
        reporter,
        Priority::Normal,
    )
    .await?;
    Ok(Verified {
        file: file.to_path_buf(),
        compressed,
        size: checked.size,
        sha256: checked.sha256,
        status: checked.status,
    })
}

/// What `check` found in a snapshot that passed.
#[derive(Debug)]
pub(crate) struct Checked {
    pub size: u64,
    pub sha256: String,
    pub status: SnapshotStatus,
}

/// The first half of `verify`: the uncompressed snapshot of `file` (the file itself, or
/// a gunzipped temporary copy of a `.db.gz`) and whether it was compressed. Only a
/// missing or unreadable file, or a gzip that cannot be decompressed, is refused here;
/// `check` judges the content.
pub(crate) async fn prepare(
    file: &Path,
    reporter: &Reporter,
) -> Result<(SnapshotDb, bool), ActionError> {
    if reporter.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    progress(
        &reporter.events,
        format!("verifying snapshot {}", file.display()),
    );
    let owned = file.to_path_buf();
    blocking(&reporter.cancel, move || snapshot_file::prepare(&owned))
        .await?
        .map_err(|problem| snapshot_error(file, problem))
}

/// How hard `check` competes for the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// As anything else drbook does: `etcd.snapshot.verify` on its own.
    Normal,
    /// The lowest (nice 19): beside the restores of `etcd.snapshot.restore`, which it
    /// must not slow down. On a machine whose cores the restores keep busy it then runs
    /// in what they leave idle (while they wait for the disk), and it still finishes,
    /// at full speed, once they end.
    Background,
}

/// The second half of `verify`: checks the uncompressed snapshot `db` of `file` (the
/// trailer, reading the file once) while `snapshot status` reads it. Only reads, so it
/// may run while the tool restores from the same file.
pub(crate) async fn check(
    file: &Path,
    db: &Path,
    compressed: bool,
    tool: &Tool,
    workdir: &Path,
    reporter: &Reporter,
    priority: Priority,
) -> Result<Checked, ActionError> {
    let check = {
        let db = db.to_path_buf();
        let work = move || snapshot_file::check_db(&db, compressed);
        async move {
            match priority {
                Priority::Normal => blocking(&reporter.cancel, work).await,
                Priority::Background => in_background(&reporter.cancel, work).await,
            }
        }
    };
    let status = tool::snapshot_status(
        tool,
        db,
        workdir,
        reporter,
        priority == Priority::Background,
    );
    tokio::pin!(check, status);
    // A failed check decides at once (dropping `status` stops the tool); a passed one
    // waits for the status.
    let (checked, status) = tokio::select! {
        checked = &mut check => {
            let checked = checked?.map_err(|p| snapshot_error(file, p))?;
            (checked, status.await)
        }
        status_result = &mut status => {
            let checked = check.await?.map_err(|p| snapshot_error(file, p))?;
            (checked, status_result)
        }
    };
    let status = status.map_err(|e| match e {
        ActionError::Etcd(EtcdError::ToolFailed {
            tool, stderr_tail, ..
        }) => snapshot_error(
            file,
            SnapshotProblem::Status {
                tool,
                detail: stderr_tail.join(" | "),
            },
        ),
        other => other,
    })?;
    let (size, sha256) = checked;
    progress(
        &reporter.events,
        format!(
            "snapshot verified: revision {}, sha256 {sha256}{}",
            status.revision,
            if compressed {
                " (of the gunzipped file)"
            } else {
                ""
            }
        ),
    );
    Ok(Checked {
        size,
        sha256,
        status,
    })
}

fn snapshot_error(file: &Path, problem: SnapshotProblem) -> ActionError {
    EtcdError::Snapshot {
        file: file.to_path_buf(),
        problem,
    }
    .into()
}

/// Runs blocking file work off the async threads; gives up waiting on cancellation (the
/// work itself only reads and finishes on its own).
pub(crate) async fn blocking<T: Send + 'static>(
    cancel: &tokio_util::sync::CancellationToken,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ActionError> {
    let task = tokio::task::spawn_blocking(work);
    tokio::select! {
        () = cancel.cancelled() => Err(ActionError::Cancelled),
        joined = task => match joined {
            Ok(value) => Ok(value),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        },
    }
}

/// `blocking`, on a thread of its own at the lowest CPU priority (nice 19). Its own
/// thread: a thread's nice value cannot be raised again without privileges, so a thread
/// of tokio's blocking pool, which serves everything else afterwards, must not be used.
async fn in_background<T: Send + 'static>(
    cancel: &tokio_util::sync::CancellationToken,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ActionError> {
    let (done, result) = tokio::sync::oneshot::channel();
    // A system that cannot start one more thread fails tokio's own blocking pool too.
    std::thread::Builder::new()
        .name("drbook-verify".into())
        .spawn(move || {
            // On Linux the nice value is per thread, and `who == 0` names the calling
            // one. Best effort: a failure leaves the normal priority.
            // SAFETY: setpriority(2) only changes the calling thread's nice value.
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, 0, 19);
            }
            let _ = done.send(work());
        })
        .expect("a thread for the snapshot verification");
    tokio::select! {
        () = cancel.cancelled() => Err(ActionError::Cancelled),
        // An error here is the work's panic, which ended the thread: pass it on.
        value = result => Ok(value.expect("the verification finished without panicking")),
    }
}

fn progress(events: &UnboundedSender<ActionEvent>, text: String) {
    let _ = events.send(ActionEvent::Progress(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nice value of the calling thread, from /proc.
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let (_, rest) = stat.rsplit_once(')').unwrap();
        // Field 19 of stat(5); `rest` starts at field 3.
        rest.split_whitespace().nth(16).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn background_work_runs_at_the_lowest_priority_and_leaves_the_pool_alone() {
        let cancel = tokio_util::sync::CancellationToken::new();
        let pooled_before = blocking(&cancel, own_nice).await.unwrap();
        assert_eq!(in_background(&cancel, own_nice).await.unwrap(), 19);
        // Its own thread: whichever pool thread runs next kept its priority.
        assert_eq!(blocking(&cancel, own_nice).await.unwrap(), pooled_before);
    }
}
