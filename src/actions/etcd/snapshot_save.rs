//! `etcd.snapshot.save`: streams a snapshot of one member to a file.
//!
//! Safe to re-run after a crash: it only ever writes `<file>.partial` (its own, so a
//! partial left by a crash is simply overwritten) and then renames it to `file`. It never
//! overwrites a different snapshot: when `file` already exists it succeeds only if the
//! new snapshot is byte-identical (a re-run against a cluster that has not changed), and
//! refuses otherwise, removing its partial. A re-run after the rename of a changing
//! cluster therefore fails with that message instead of replacing the file.
//!
//! The bytes come from the Maintenance.Snapshot stream (what `etcdctl snapshot save`
//! reads): the member's database followed by its SHA-256. The partial file is fsync'd,
//! checked like `etcd.snapshot.verify` checks (a stream cut short is caught here, not at
//! restore time), renamed, and the directory fsync'd. The snapshot's revision is read
//! from the file with `snapshot status`; the live key count at exactly that revision is
//! then asked of the member, so `etcd.verify` can later expect the same number.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use etcd_client::GetOptions;
use serde_json::Value;
use tokio::time::Instant;

use super::client::{Connection, TLS_PARAMS, unless_cancelled};
use super::error::{EtcdError, SnapshotProblem, describe_client_error};
use super::snapshot_file::{self, sha256_file};
use super::snapshot_verify::{ETCDCTL, blocking};
use super::tool::{self, Reporter, Tool};
use crate::actions::durable;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.snapshot.save",
    by_hand: super::manual::snapshot_save,
    outputs: Some(&[
        "file", "sha256", "size", "endpoint", "taken_at", "took_ms", "revision", "keys",
    ]),
    summary: "Stream a snapshot from one etcd member to a file (via `<file>.partial`, fsync'd); outputs its SHA-256, size and revision.",
    params: &[
        ParamSpec {
            name: "endpoint",
            kind: ParamKind::String,
            required: true,
            doc: "Client URL of the one member to take the snapshot from, e.g. `https://10.0.0.1:2379`.",
        },
        ParamSpec {
            name: "file",
            kind: ParamKind::String,
            required: true,
            doc: "Where to write the snapshot; a relative path is taken from the run's work directory. Never overwritten with a different snapshot.",
        },
        TLS_PARAMS[0],
        TLS_PARAMS[1],
        TLS_PARAMS[2],
        ParamSpec {
            name: "timeout",
            kind: ParamKind::Duration,
            required: false,
            doc: "How long connecting, and each wait for the next chunk of the stream, may take (default 5s); the whole stream may take longer.",
        },
        ETCDCTL,
    ],
    rerun: Rerun::Safe(
        "it writes only its own `<file>.partial` and never replaces a different snapshot",
    ),
    executor: &SnapshotSaveAction,
};

/// The executor of `etcd.snapshot.save`.
pub struct SnapshotSaveAction;

impl Action for SnapshotSaveAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// `<file>.partial`, removed when dropped unless it was renamed into place.
struct Partial {
    path: PathBuf,
    keep: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let endpoint = required_str(params, "endpoint")?.to_string();
    let file = request.workdir.join(required_str(params, "file")?);
    let connection = Connection::from_params(params, &request.workdir)?;
    // Only for the revision; without any tool the snapshot is still taken.
    let tool = match optional_str(params, "etcdctl")? {
        Some(given) => Some(Tool::resolve(Some(given), &request.workdir)?),
        None => Tool::resolve(None, &request.workdir).ok(),
    };
    let Some(dir) = file.parent().filter(|d| d.is_dir()) else {
        return Err(EtcdError::Io {
            what: "write the snapshot into the directory of",
            path: file.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        }
        .into());
    };
    let dir = dir.to_path_buf();
    let partial = Partial {
        path: with_suffix(&file, ".partial"),
        keep: false,
    };
    let started = Instant::now();
    // The member serves its database as of the moment the stream starts: that moment,
    // not the file's modification time at the end of the stream, is the snapshot's time.
    let taken_at = Utc::now();
    request.emit(ActionEvent::Progress(format!(
        "streaming a snapshot from {endpoint} to {}",
        partial.path.display()
    )));
    unless_cancelled(
        &request.cancel,
        stream_to(&connection, &endpoint, &partial.path),
    )
    .await?;

    // The stream may end early without an error (a member shutting down): check it.
    let checked_path = partial.path.clone();
    let (size, sha256) = blocking(&request.cancel, move || snapshot_file::check(&checked_path))
        .await?
        .map_err(|problem| match problem {
            SnapshotProblem::Truncated { .. }
            | SnapshotProblem::HashMismatch { .. }
            | SnapshotProblem::RawDbCopy => EtcdError::Stream {
                endpoint: endpoint.clone(),
                problem: format!("delivered a broken file: it {problem}"),
            },
            other => EtcdError::Snapshot {
                file: partial.path.clone(),
                problem: other,
            },
        })?;

    if file.exists() {
        let existing_path = file.clone();
        let existing = blocking(&request.cancel, move || sha256_file(&existing_path))
            .await?
            .map_err(|source| EtcdError::Io {
                what: "read the existing snapshot",
                path: file.clone(),
                source,
            })?;
        if existing != sha256 {
            return Err(EtcdError::SnapshotExists {
                file,
                existing,
                new: sha256,
            }
            .into());
        }
        request.emit(ActionEvent::Progress(format!(
            "{} already holds this very snapshot; kept it",
            file.display()
        )));
    } else {
        std::fs::rename(&partial.path, &file).map_err(|source| EtcdError::Io {
            what: "rename the partial snapshot to",
            path: file.clone(),
            source,
        })?;
        let mut partial = partial;
        partial.keep = true;
        sync_dir(&dir)?;
    }
    let took = started.elapsed();

    let mut outputs = Outputs::new();
    outputs.insert("file".into(), Value::String(file.display().to_string()));
    outputs.insert("sha256".into(), Value::String(sha256));
    outputs.insert("size".into(), Value::from(size));
    outputs.insert("endpoint".into(), Value::String(endpoint.clone()));
    outputs.insert(
        "taken_at".into(),
        Value::String(taken_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    outputs.insert(
        "took_ms".into(),
        Value::from(u64::try_from(took.as_millis()).unwrap_or(u64::MAX)),
    );
    if let Some(tool) = tool {
        let reporter = Reporter {
            cancel: request.cancel.clone(),
            events: request.events.clone(),
            prefix: String::new(),
            hold: None,
        };
        let status =
            tool::snapshot_status(&tool, &file, &request.workdir, &reporter, false).await?;
        outputs.insert("revision".into(), Value::from(status.revision));
        let keys = unless_cancelled(&request.cancel, async {
            Ok(keys_at(&connection, &endpoint, status.revision).await)
        })
        .await?;
        match keys {
            Ok(keys) => {
                outputs.insert("keys".into(), Value::from(keys));
            }
            Err(e) => request.emit(ActionEvent::Progress(format!(
                "the key count at revision {} is unknown: {e}",
                status.revision
            ))),
        }
    } else {
        request.emit(ActionEvent::Progress(
            "neither etcdutl nor etcdctl is on the PATH: the snapshot's revision is not reported"
                .into(),
        ));
    }
    Ok(outputs)
}

/// Streams the snapshot of `endpoint` into `path` (created or truncated) and fsyncs it.
async fn stream_to(
    connection: &Connection,
    endpoint: &str,
    path: &Path,
) -> Result<(), ActionError> {
    let mut client = connection.streaming_client(endpoint).await?;
    let api_error = |e: etcd_client::Error| EtcdError::Api {
        what: "stream a snapshot from",
        endpoint: endpoint.to_string(),
        detail: describe_client_error(&e),
    };
    let stalled = || EtcdError::Timeout {
        what: "the next chunk of the snapshot",
        endpoint: endpoint.to_string(),
        after: connection.timeout,
    };
    let mut stream = tokio::time::timeout(connection.timeout, client.snapshot())
        .await
        .map_err(|_| stalled())?
        .map_err(api_error)?;
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|source| EtcdError::Io {
            what: "create",
            path: path.to_path_buf(),
            source,
        })?;
    let write_error = |source| EtcdError::Io {
        what: "write",
        path: path.to_path_buf(),
        source,
    };
    loop {
        let message = tokio::time::timeout(connection.timeout, stream.message())
            .await
            .map_err(|_| stalled())?
            .map_err(api_error)?;
        let Some(message) = message else { break };
        out.write_all(message.blob()).map_err(write_error)?;
    }
    tokio::task::spawn_blocking(move || out.sync_all())
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        .map_err(write_error)?;
    Ok(())
}

/// How many keys the member held at `revision` (fails if compacted since).
async fn keys_at(connection: &Connection, endpoint: &str, revision: i64) -> Result<i64, EtcdError> {
    let mut client = connection.client(endpoint).await?;
    let options = GetOptions::new()
        .with_all_keys()
        .with_count_only()
        .with_revision(revision);
    Ok(connection
        .call(endpoint, "count the keys of", client.get("", Some(options)))
        .await?
        .count())
}

/// `path` with `suffix` added to its file name.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// fsyncs a directory, so a rename in it survives a power cut.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), EtcdError> {
    durable::sync_dir(dir).map_err(|source| EtcdError::Io {
        what: "sync the directory",
        path: dir.to_path_buf(),
        source,
    })
}
