//! `etcd.snapshot.restore`: restores every member of a cluster from one snapshot.
//!
//! Re-running asks first. Until its very last phase the action changes no data
//! directory, so after a crash before that phase the data directories are still as they
//! were (empty ones still empty) and running it again is safe; answer so, or mark the
//! step `idempotent: true` if the runbook empties the directories itself. After the last
//! phase the directories hold the restored members, possibly already started, and a
//! second run would refuse them as not empty, or with `move_aside: true` move the
//! restored data aside and restore again, which throws away anything the restored
//! cluster has done since: only the operator knows which case it is.
//!
//! The order is what makes that so:
//!
//! 1. Check the member table (the same rules `drbook validate` applies), the flags the
//!    tool supports, and the data directories: each must be missing or empty, unless
//!    `move_aside: true`; none may be locked by a running etcd, and no staging directory
//!    of an earlier attempt may still be in use (see 3). Nothing is written.
//! 2. Prepare the snapshot: a `.db.gz` is gunzipped into a temporary file next to it.
//!    A missing, unreadable or undecompressable file is refused here, before anything
//!    is written.
//! 3. Restore every member at once, each into `<data_dir>.drbook-restoring/data` next to
//!    its data directory, with `--name`, `--initial-cluster`,
//!    `--initial-advertise-peer-urls`, `--initial-cluster-token` and `--data-dir`
//!    generated from the one member table, so they cannot disagree; and meanwhile verify
//!    the snapshot as `etcd.snapshot.verify` does (the SHA-256 of the file and its
//!    trailer, reading it once, and `snapshot status`). Verifying only reads the file,
//!    and the restores write nothing but their staging directories, so the two overlap
//!    instead of adding up; the verification runs at the lowest CPU priority, so that
//!    on busy cores it takes what the restores leave idle rather than slowing them.
//!    The tool restores with `--skip-hash-check`: its own check would hash every
//!    member's copy again, most of a restore's work, and drbook's check of the same
//!    trailer counts only because the file's identity is taken before the check or a
//!    restore reads it and must be unchanged once everything has ended
//!    (`file_identity`: not replaced, not written to), so the restores read the bytes
//!    the check found whole.
//!    Each `.drbook-restoring` directory is created and locked by
//!    drbook, and the tool holds the lock while it runs; one an earlier attempt left is
//!    removed first once its lock is free, and while a process still holds it the step
//!    refuses in phase 1 instead of racing it (see `restore_staging`). A snapshot that
//!    fails verification stops the restores still running (their process groups are
//!    killed); if any member fails, the others are stopped. Either way every
//!    `.drbook-restoring` directory, drbook's own, is removed, no data directory was
//!    touched, and a failed verification is the error reported, as it says more than
//!    the tool's. A snapshot that changed meanwhile is refused the same way.
//! 4. Only once the snapshot passed and every member is restored, per member: rename a
//!    non-empty data directory to `<data_dir>.drbook-<UTC timestamp>` (never deleted),
//!    rename the restored `data` directory into place, and remove the empty
//!    `.drbook-restoring` directory.
//!
//! `restored_point`, where RPO is measured from, is `snapshot_time` when given (e.g. the
//! backup's own timestamp from the store), else the snapshot file's modification time.
//!
//! The phases stay in one file so that their order can be read in one place; their
//! tests are in `snapshot_restore_tests.rs`.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use nix::fcntl::{Flock, FlockArg};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::{EtcdError, SnapshotProblem};
use super::file_identity::FileIdentity;
use super::member_table::{self, Member};
use super::params::optional_u64;
use super::restore_staging::{self, RESTORED, Staging};
use super::snapshot_save::{sync_dir, with_suffix};
use super::snapshot_verify::{ETCDCTL, Priority, check, prepare};
use super::tool::{self, Reporter, Tool};
use crate::actions::execute::optional_bool;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.snapshot.restore",
    by_hand: super::manual::snapshot_restore,
    outputs: Some(&[
        "restored_point",
        "members",
        "revision",
        "sha256",
        "initial_cluster",
        "token",
        "took_ms",
    ]),
    summary: "Restore every member of an etcd cluster from one verified snapshot, concurrently, with flags generated from one member table.",
    params: &[
        ParamSpec {
            name: "file",
            kind: ParamKind::String,
            required: true,
            doc: "The snapshot (`etcdctl snapshot save` file or `.db.gz`); verified before anything is changed.",
        },
        ParamSpec {
            name: "members",
            kind: ParamKind::MemberTable,
            required: true,
            doc: "Every member of the restored cluster: `- {name: cp-0, peer_url: https://10.0.0.1:2380, data_dir: /var/lib/etcd}`.",
        },
        ParamSpec {
            name: "token",
            kind: ParamKind::String,
            required: true,
            doc: "`--initial-cluster-token` of the new cluster; the members must be started with the same one.",
        },
        ETCDCTL,
        ParamSpec {
            name: "move_aside",
            kind: ParamKind::Bool,
            required: false,
            doc: "Rename a non-empty data directory to `<dir>.drbook-<UTC timestamp>` (never deleted) instead of refusing it (default false).",
        },
        ParamSpec {
            name: "bump_revision",
            kind: ParamKind::Integer,
            required: false,
            doc: "`--bump-revision` (with `mark_compacted: true`), e.g. 1000000000 for Kubernetes; needs etcdctl 3.4.27+ or etcdutl 3.5.10+.",
        },
        ParamSpec {
            name: "mark_compacted",
            kind: ParamKind::Bool,
            required: false,
            doc: "`--mark-compacted`, so watchers relist after the restore; goes with `bump_revision`.",
        },
        ParamSpec {
            name: "snapshot_time",
            kind: ParamKind::String,
            required: false,
            doc: "When the snapshot was taken (RFC 3339), for RPO; default: the file's modification time.",
        },
    ],
    rerun: Rerun::AskFirst(
        "data directories are changed only in its last phase: if they are still as they were (e.g. still empty), running it again is safe; if they hold the restored members, running it again would refuse or replace them",
    ),
    executor: &SnapshotRestoreAction,
};

/// The executor of `etcd.snapshot.restore`.
pub struct SnapshotRestoreAction;

impl Action for SnapshotRestoreAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// The state of one data directory before the restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DirState {
    Missing,
    Empty,
    NotEmpty,
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let started = Instant::now();
    let params = &request.params;
    let workdir = request.workdir.clone();
    let file = workdir.join(required_str(params, "file")?);
    let members = member_table::parse(params.get("members"), &workdir)?;
    let token = required_str(params, "token")?.trim().to_string();
    if token.is_empty() {
        return Err(EtcdError::BadParam {
            name: "token",
            problem: "is empty".into(),
        }
        .into());
    }
    let move_aside = optional_bool(params, "move_aside")?.unwrap_or(false);
    let bump = optional_u64(params, "bump_revision")?.filter(|b| *b > 0);
    let mark_compacted = optional_bool(params, "mark_compacted")?.unwrap_or(false);
    let snapshot_time = match optional_str(params, "snapshot_time")? {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| EtcdError::BadParam {
                    name: "snapshot_time",
                    problem: format!(
                        "is not an RFC 3339 time like `2026-03-01T02:00:00Z`: `{text}` ({e})"
                    ),
                })?,
        ),
    };
    match (bump, mark_compacted) {
        (Some(_), false) => {
            return Err(EtcdError::BadParam {
                name: "bump_revision",
                problem: "needs `mark_compacted: true` as well: etcd only bumps the revision of a restore that marks it compacted, so that watchers relist".into(),
            }
            .into());
        }
        (None, true) => {
            return Err(EtcdError::BadParam {
                name: "mark_compacted",
                problem: "needs `bump_revision` (e.g. 1000000000): etcd refuses `--mark-compacted` without a revision bump".into(),
            }
            .into());
        }
        _ => {}
    }
    let tool = Tool::resolve(optional_str(params, "etcdctl")?, &workdir)?;
    let reporter = Reporter {
        cancel: request.cancel.clone(),
        events: request.events.clone(),
        prefix: String::new(),
        hold: None,
    };
    if bump.is_some() && !tool::restore_supports_bump(&tool, &workdir, &reporter).await? {
        let version = tool::version(&tool, &workdir, &reporter).await;
        let flag = "bump-revision";
        return Err(EtcdError::Unsupported {
            tool: tool.name(),
            version,
            flag,
            param: "bump_revision",
        }
        .into());
    }

    // 1. The data directories, read only.
    let states = members
        .iter()
        .map(|m| dir_state(&m.data_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let occupied: Vec<PathBuf> = members
        .iter()
        .zip(&states)
        .filter(|(_, s)| **s == DirState::NotEmpty)
        .map(|(m, _)| m.data_dir.clone())
        .collect();
    for dir in &occupied {
        refuse_if_locked(dir)?;
    }
    if !occupied.is_empty() && !move_aside {
        return Err(EtcdError::DataDirsNotEmpty { dirs: occupied }.into());
    }
    let staging_dirs = restore_staging::dirs(&members);
    restore_staging::refuse_in_use(&staging_dirs)?;

    // 2. The uncompressed snapshot (a `.db.gz` is gunzipped next to it), and its
    // identity before the check or a restore reads it: the restores skip the tool's own
    // hash check, as drbook checks the same trailer once, so the file must stay the one
    // checked.
    let (db, compressed) = prepare(&file, &reporter).await?;
    let identity = FileIdentity::of(db.path()).map_err(|source| EtcdError::Snapshot {
        file: file.clone(),
        problem: SnapshotProblem::Unreadable(source),
    })?;

    // 3. Every member into its staging directory, at once, while the snapshot is
    // verified.
    let mut staging = Staging::create(staging_dirs, |text| {
        request.emit(ActionEvent::Progress(text));
    })?;
    request.emit(ActionEvent::Progress(format!(
        "restoring {} {} from {} with {} while the snapshot is verified",
        members.len(),
        if members.len() == 1 {
            "member"
        } else {
            "members"
        },
        file.display(),
        tool.name()
    )));
    let initial_cluster = member_table::initial_cluster(&members);
    let restore_cancel = request.cancel.child_token();
    let restoring = restore_members(Restores {
        members: &members,
        tool: &tool,
        db: db.path(),
        initial_cluster: &initial_cluster,
        token: &token,
        bump,
        staging: &staging,
        workdir: &workdir,
        cancel: &restore_cancel,
        events: &request.events,
    });
    let checking = async {
        let checked = check(
            &file,
            db.path(),
            compressed,
            &tool,
            &workdir,
            &reporter,
            Priority::Background,
        )
        .await;
        if checked.is_err() {
            // A snapshot that failed stops the restores already running from it.
            restore_cancel.cancel();
        }
        checked
    };
    // Both end before anything is decided: a failed check has stopped the restores, a
    // failed member the other members (the check runs on, as its message says more
    // about a bad snapshot than the tool's).
    let (checked, restored) = tokio::join!(checking, restoring);
    if request.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let checked = checked?;
    let took = restored?;
    if let Some(change) = identity.change_at(db.path()) {
        return Err(EtcdError::Snapshot {
            file,
            problem: SnapshotProblem::Changed(change),
        }
        .into());
    }
    let restored_point = match snapshot_time {
        Some(time) => time,
        None => modified(&file)?,
    };

    // 4. Into place.
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut rows = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let moved = place(&member.data_dir, &staging.dirs[i], &stamp, &request.cancel)?;
        staging.placed[i] = true;
        if let Some(aside) = &moved {
            request.emit(ActionEvent::Progress(format!(
                "moved the old data directory of {} aside to {}",
                member.name,
                aside.display()
            )));
        }
        rows.push(json!({
            "name": member.name,
            "peer_url": member.peer_url,
            "data_dir": member.data_dir.display().to_string(),
            "moved_aside": moved.map(|p| p.display().to_string()),
            "took_ms": took[i].map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        }));
    }

    let mut outputs = Outputs::new();
    outputs.insert(
        "restored_point".into(),
        Value::String(restored_point.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    outputs.insert("members".into(), Value::Array(rows));
    outputs.insert("revision".into(), Value::from(checked.status.revision));
    outputs.insert("sha256".into(), Value::String(checked.sha256));
    outputs.insert("initial_cluster".into(), Value::String(initial_cluster));
    outputs.insert("token".into(), Value::String(token));
    outputs.insert(
        "took_ms".into(),
        Value::from(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
    );
    Ok(outputs)
}

/// What `restore_members` restores, and from what.
struct Restores<'a> {
    members: &'a [Member],
    tool: &'a Tool,
    db: &'a Path,
    initial_cluster: &'a str,
    token: &'a str,
    bump: Option<u64>,
    staging: &'a Staging,
    workdir: &'a Path,
    /// Stops every restore: cancelled by a failed member, a failed check or the step.
    cancel: &'a CancellationToken,
    events: &'a UnboundedSender<ActionEvent>,
}

/// Restores every member into its staging directory at once; how long each took. The
/// first member that fails stops the others; returns only once every tool has ended.
async fn restore_members(r: Restores<'_>) -> Result<Vec<Option<Duration>>, ActionError> {
    let mut set = tokio::task::JoinSet::new();
    for (i, member) in r.members.iter().enumerate() {
        let args = restore_args(
            r.db,
            member,
            r.initial_cluster,
            r.token,
            &r.staging.dirs[i].join(RESTORED),
            r.bump,
        );
        let tool = r.tool.clone();
        let workdir = r.workdir.to_path_buf();
        let reporter = Reporter {
            cancel: r.cancel.clone(),
            events: r.events.clone(),
            prefix: format!("[{}] ", member.name),
            hold: Some(Arc::clone(&r.staging.locks[i])),
        };
        set.spawn(async move {
            let started = Instant::now();
            let result = tool::run(&tool, "snapshot restore", args, &workdir, &reporter).await;
            (i, result.map(|_| started.elapsed()))
        });
    }
    let mut took = vec![None; r.members.len()];
    let mut failure: Option<ActionError> = None;
    while let Some(joined) = set.join_next().await {
        let (i, result) = match joined {
            Ok(done) => done,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        match result {
            Ok(elapsed) => took[i] = Some(elapsed),
            // A member that was stopped because another failed says "cancelled".
            Err(ActionError::Cancelled) => {}
            Err(ActionError::Etcd(source)) => {
                r.cancel.cancel();
                failure.get_or_insert(
                    EtcdError::MemberRestore {
                        member: r.members[i].name.clone(),
                        source: Box::new(source),
                    }
                    .into(),
                );
            }
            Err(other) => {
                r.cancel.cancel();
                failure.get_or_insert(other);
            }
        }
    }
    match failure {
        Some(failure) => Err(failure),
        None if r.cancel.is_cancelled() => Err(ActionError::Cancelled),
        None => Ok(took),
    }
}

/// The `snapshot restore` arguments of one member, all from the one table.
fn restore_args(
    db: &Path,
    member: &Member,
    initial_cluster: &str,
    token: &str,
    target: &Path,
    bump: Option<u64>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "snapshot".into(),
        "restore".into(),
        db.as_os_str().to_owned(),
        "--name".into(),
        member.name.clone().into(),
        "--initial-cluster".into(),
        initial_cluster.into(),
        "--initial-advertise-peer-urls".into(),
        member.peer_url.clone().into(),
        "--initial-cluster-token".into(),
        token.into(),
        "--data-dir".into(),
        target.as_os_str().to_owned(),
        // drbook checks the snapshot's SHA-256 trailer once, beside the restores, and
        // that the file did not change meanwhile (`file_identity`); the tool's check
        // would hash each member's copy again, most of a restore's time.
        "--skip-hash-check".into(),
    ];
    if let Some(bump) = bump {
        args.push("--bump-revision".into());
        args.push(bump.to_string().into());
        args.push("--mark-compacted".into());
    }
    args
}

fn dir_state(dir: &Path) -> Result<DirState, EtcdError> {
    let io = |source| EtcdError::Io {
        what: "read the data directory",
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(if entries.next().is_some() {
            DirState::NotEmpty
        } else {
            DirState::Empty
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DirState::Missing),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Err(io(std::io::Error::new(
            e.kind(),
            "it is a file, not a directory",
        ))),
        Err(e) => Err(io(e)),
    }
}

/// Refuses a data directory whose database a running etcd holds (bolt locks it): moving
/// it aside under a live member would lose what that member writes next.
fn refuse_if_locked(dir: &Path) -> Result<(), EtcdError> {
    let db = dir.join("member/snap/db");
    let Ok(file) = File::open(&db) else {
        return Ok(());
    };
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_unlocked_on_drop) => Ok(()),
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(EtcdError::Io {
            what: "restore into",
            path: dir.to_path_buf(),
            source: std::io::Error::other(
                "an etcd process still has this data directory open (its database is locked); stop etcd on this member first",
            ),
        }),
        Err(_) => Ok(()),
    }
}

/// Moves a non-empty `data_dir` aside, then the restored directory in `staged` into its
/// place, and removes the then empty `staged`. Returns where the old directory went.
fn place(
    data_dir: &Path,
    staged: &Path,
    stamp: &str,
    cancel: &CancellationToken,
) -> Result<Option<PathBuf>, ActionError> {
    if cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| EtcdError::Io { what, path, source }
    };
    let mut moved = None;
    if dir_state(data_dir)? == DirState::NotEmpty {
        let mut aside = with_suffix(data_dir, &format!(".drbook-{stamp}"));
        let mut n = 1;
        while aside.exists() {
            n += 1;
            aside = with_suffix(data_dir, &format!(".drbook-{stamp}-{n}"));
        }
        std::fs::rename(data_dir, &aside).map_err(io("move aside", data_dir))?;
        moved = Some(aside);
    }
    // rename(2) replaces an empty directory, so an empty data dir needs no removal.
    std::fs::rename(staged.join(RESTORED), data_dir)
        .map_err(io("move the restored member into", data_dir))?;
    std::fs::remove_dir(staged).map_err(io("remove the empty staging directory", staged))?;
    if let Some(parent) = data_dir.parent() {
        sync_dir(parent)?;
    }
    Ok(moved)
}

/// The modification time of `file`.
fn modified(file: &Path) -> Result<DateTime<Utc>, EtcdError> {
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .map_err(|source| EtcdError::Io {
            what: "read the modification time of",
            path: file.to_path_buf(),
            source,
        })
}

#[cfg(test)]
#[path = "snapshot_restore_tests.rs"]
mod tests;
