//! `restic.restore`: restores one snapshot (an id, or `latest` of the filters) into a new
//! directory, verified by restic, never over existing files.
//!
//! Re-running is safe, because of the order:
//!
//! 1. `target` must be missing or an empty directory; anything else is refused before
//!    restic runs. `latest`, a short id, or an id with filters is resolved to its full
//!    id through the same listing and choice as `restic.snapshots`, so `latest` means
//!    the same in both. A full id without filters is not listed: restic restores
//!    exactly that snapshot or fails, and its time is the given `snapshot_time` (the
//!    `time` output of the `restic.snapshots` step that chose it), else the one restic
//!    names as it starts restoring (`announced`); a given time that restic contradicts
//!    is refused in 3. Each restic run opens the repository (scrypt, on purpose slow),
//!    so skipping the listing is most of what drbook costs over `restic restore`.
//! 2. restic restores into `<target>.drbook-partial-<pid>` next to the target (same file
//!    system, so the final rename is atomic) with `--verify`, restic's own check that
//!    every restored file has the snapshot's content. drbook creates and locks that
//!    directory, and restic holds the lock while it runs. A staging directory left by an
//!    earlier attempt is removed first once its lock is free (a crash leaves only that:
//!    restic dies with drbook); one whose lock a live process still holds is refused,
//!    changing nothing, rather than raced (see `staging`).
//! 3. The restored tree must hold at least one file (an `include` that matched nothing
//!    makes restic succeed with nothing restored), and a given `snapshot_time` must be
//!    the time of the snapshot restic restored.
//! 4. A record of what was restored (`RECORD`: snapshot id and time, includes, counts)
//!    is written into the staging directory, then the staging directory is renamed to
//!    `target` and the parent directory synced. The kernel refuses the rename if `target` gained files
//!    meanwhile.
//!
//! A run that finds `target` already holding the record of the same snapshot and
//! includes (drbook died between the rename and journalling the step's end) reports that
//! restore as its own instead of refusing the non-empty target; any other content of
//! `target` is refused, never written over.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::error::ResticError;
use super::repository::{CACERT, ENV, HOST, PASSWORD, PATH, REPOSITORY, RESTIC, Repository, TAG};
use super::restore_snapshot::{
    RESTORE_LOCK_HINT, earlier_snapshot, given_time, is_full_id, resolve, restored_snapshot,
};
use super::snapshot::{Filters, Snapshot, quoted};
use super::staging::Staging;
use crate::actions::durable;
use crate::actions::execute::{
    Action, ActionError, ActionFuture, ActionRequest, OneString, Outputs, optional_bool,
    optional_list, required_str,
};
use crate::actions::program::Reporter;
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "restic.restore",
    by_hand: super::manual::restore,
    outputs: Some(&["target", "id", "time", "restored_point", "files", "bytes"]),
    summary: "Restore one restic snapshot (an id, or `latest` of tag, host and path) into a new directory, verified, never over existing files.",
    params: &[
        REPOSITORY,
        PASSWORD,
        ENV,
        CACERT,
        RESTIC,
        ParamSpec {
            name: "snapshot",
            kind: ParamKind::String,
            required: true,
            doc: "The snapshot id (full or short, e.g. `{{ steps.pick.outputs.id }}`), or `latest`: the newest matching `tag`, `host` and `path`.",
        },
        TAG,
        HOST,
        PATH,
        ParamSpec {
            name: "include",
            kind: ParamKind::StringList,
            required: false,
            doc: "Restore only these paths inside the snapshot (`--include`), e.g. `[/backup/pki]`; default everything.",
        },
        ParamSpec {
            name: "target",
            kind: ParamKind::String,
            required: true,
            doc: "The directory to restore into; it must not exist or be empty. Relative to the run's work directory.",
        },
        ParamSpec {
            name: "snapshot_time",
            kind: ParamKind::String,
            required: false,
            doc: "The snapshot's time as `restic.snapshots` output it (`{{ steps.pick.outputs.time }}`), with its full `id` in `snapshot`: the repository is then not listed again. Without `tag`, `host` and `path`.",
        },
        ParamSpec {
            name: "no_lock",
            kind: ParamKind::Bool,
            required: false,
            doc: "Restore without taking restic's lock (`--no-lock`): needed with read-only credentials (an off-site copy), and lets a restore read a repository a stale or exclusive lock holds (default false).",
        },
    ],
    rerun: Rerun::Safe(
        "it restores into `<target>.drbook-partial-<pid>` and renames that into place only when complete, so after a crash the target is untouched and the next attempt removes the partial directory; once renamed, a second run recognises its own finished restore by the record it left there, and refuses any other content instead of writing over it",
    ),
    executor: &RestoreAction,
};

/// The file in a restored target that says what was restored into it, so that a re-run
/// after a crash recognises its own finished work.
const RECORD: &str = ".drbook-restic-restore.json";

/// The executor of `restic.restore`.
pub struct RestoreAction;

impl Action for RestoreAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let repo = Repository::from_params(params, &request.workdir)?;
    let wanted_id = required_str(params, "snapshot")?.trim().to_string();
    if wanted_id.is_empty() {
        return Err(ResticError::BadParam {
            name: "snapshot",
            problem: "is empty; give a snapshot id (e.g. from `restic.snapshots`) or `latest`"
                .into(),
        }
        .into());
    }
    let filters = Filters::from_params(params)?;
    let given = given_time(params, &wanted_id, &filters)?;
    // A full id without filters needs no listing: restic restores exactly that
    // snapshot and names its time (see `announced`), unless the runbook gave it.
    let direct = is_full_id(&wanted_id) && filters.is_empty();
    let no_lock = optional_bool(params, "no_lock")?.unwrap_or(false);
    let includes = optional_list(params, "include", OneString::OneItem)?;
    let target_given = required_str(params, "target")?;
    if target_given.trim().is_empty() {
        return Err(ResticError::BadParam {
            name: "target",
            problem: "is empty; name a new directory to restore into".into(),
        }
        .into());
    }
    let target = request.workdir.join(target_given);
    let (parent, name) = match (target.parent(), target.file_name()) {
        (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_os_string()),
        _ => {
            return Err(ResticError::BadParam {
                name: "target",
                problem: format!(
                    "`{}` is not a directory drbook can create next to others; name a new directory",
                    target.display()
                ),
            }
            .into());
        }
    };

    // 1. The target, read only; then the snapshot.
    let earlier = match refuse_occupied(&target) {
        Ok(()) => None,
        Err(refusal) => Some(read_record(&target).ok_or(refusal)?),
    };
    let reporter = Reporter {
        cancel: request.cancel.clone(),
        events: request.events.clone(),
        prefix: String::new(),
        hold: None,
    };
    let listed = if direct {
        None
    } else {
        Some(resolve(&repo, &wanted_id, &filters, no_lock, &reporter).await?)
    };
    let id = listed
        .as_ref()
        .map_or_else(|| wanted_id.to_ascii_lowercase(), |s| s.id.clone());
    if let Some(earlier) = earlier {
        if earlier["id"] == id.as_str() && earlier["include"] == serde_json::json!(includes) {
            let chosen = match listed {
                Some(listed) => listed,
                None => earlier_snapshot(&repo, &id, given, &earlier, no_lock, &reporter).await?,
            };
            reporter.progress(format!(
                "{} already holds snapshot {} restored by an earlier attempt of this step; nothing to do",
                target.display(),
                chosen.describe()
            ));
            return Ok(outputs(
                &target,
                &chosen,
                &earlier["files"],
                &earlier["bytes"],
            ));
        }
        return Err(ResticError::TargetInUse {
            target,
            problem: format!(
                "holds an earlier restore of snapshot {} (includes {}), not of {} (includes {})",
                earlier["id"].as_str().unwrap_or("?"),
                earlier["include"],
                id,
                serde_json::json!(includes)
            ),
        }
        .into());
    }
    reporter.progress(format!(
        "restoring snapshot {} of {} to {}",
        listed
            .as_ref()
            .map_or_else(|| id.clone(), Snapshot::describe),
        repo.shown,
        target.display()
    ));

    // 2. Into a staging directory next to the target.
    std::fs::create_dir_all(&parent).map_err(|source| ResticError::Io {
        what: "create the directory for",
        path: target.clone(),
        source,
    })?;
    let mut staging = Staging::begin(&parent, &name, &target, &reporter)?;
    let restoring = Reporter {
        hold: Some(Arc::clone(&staging.lock)),
        ..reporter.clone()
    };
    let mut args: Vec<OsString> = vec![
        "restore".into(),
        id.clone().into(),
        "--target".into(),
        staging.dir.clone().into(),
        "--verify".into(),
    ];
    for include in &includes {
        args.push("--include".into());
        args.push(include.into());
    }
    args.extend(lock_args(no_lock));
    let finished = match repo
        .run("restore", args, &restoring, true, RESTORE_LOCK_HINT)
        .await
    {
        Ok(finished) => finished,
        Err(ActionError::Cancelled) => return Err(ActionError::Cancelled),
        Err(failed) if direct => {
            // Unlisted, an id that is not there fails here: say what the repository
            // holds, as a listed one would have.
            resolve(&repo, &id, &Filters::default(), no_lock, &reporter).await?;
            return Err(failed);
        }
        Err(failed) => return Err(failed),
    };
    let chosen = match listed {
        Some(listed) => listed,
        None => restored_snapshot(&repo, &id, given, &finished.stdout, no_lock, &reporter).await?,
    };

    // 3. Something was restored.
    let (files, bytes) = tally(&staging.dir)?;
    if files == 0 {
        // The message names the snapshot's paths, which only a listing has.
        let chosen = if chosen.paths.is_empty() {
            resolve(&repo, &id, &Filters::default(), no_lock, &reporter).await?
        } else {
            chosen.clone()
        };
        let why = if includes.is_empty() {
            format!(
                "the snapshot holds no files (its paths: {})",
                quoted(&chosen.paths)
            )
        } else {
            format!(
                "`include` {} matched nothing in the snapshot, whose paths are {}; an include is a path inside the snapshot as restic stored it (list them with `restic ls {}`), e.g. `/backup/pki` for KubeOne's backups",
                quoted(&includes),
                quoted(&chosen.paths),
                chosen.short_id
            )
        };
        return Err(ResticError::NothingRestored {
            repository: repo.shown.clone(),
            id: chosen.short_id.clone(),
            target: target.clone(),
            why,
        }
        .into());
    }

    // 4. Into place, with the record of what it is.
    if request.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let record = serde_json::json!({
        "id": chosen.id,
        "time": chosen.time,
        "include": includes,
        "files": files,
        "bytes": bytes,
    });
    write_synced(&staging.dir.join(RECORD), record.to_string().as_bytes()).map_err(|source| {
        ResticError::Io {
            what: "write the restore record into",
            path: staging.dir.clone(),
            source,
        }
    })?;
    refuse_occupied(&target)?;
    // rename(2) replaces an empty directory and refuses a non-empty one.
    std::fs::rename(&staging.dir, &target).map_err(|source| ResticError::Io {
        what: "move the restored files into",
        path: target.clone(),
        source,
    })?;
    staging.placed = true;
    durable::sync_dir(&parent).map_err(|source| ResticError::Io {
        what: "sync the directory",
        path: parent.clone(),
        source,
    })?;
    reporter.progress(format!(
        "restored {files} files ({bytes} bytes) to {}",
        target.display()
    ));

    Ok(outputs(
        &target,
        &chosen,
        &Value::from(files),
        &Value::from(bytes),
    ))
}

/// The step's outputs for `chosen` restored into `target`.
fn outputs(target: &Path, chosen: &Snapshot, files: &Value, bytes: &Value) -> Outputs {
    let mut outputs = Outputs::new();
    outputs.insert("target".into(), Value::String(target.display().to_string()));
    outputs.insert("id".into(), Value::String(chosen.id.clone()));
    outputs.insert("time".into(), Value::String(chosen.time.clone()));
    outputs.insert(
        "restored_point".into(),
        Value::String(chosen.restored_point()),
    );
    outputs.insert("files".into(), files.clone());
    outputs.insert("bytes".into(), bytes.clone());
    outputs
}

/// The record an earlier restore left in `target`, if it holds one drbook can read.
fn read_record(target: &Path) -> Option<Value> {
    let text = std::fs::read(target.join(RECORD)).ok()?;
    let record: Value = serde_json::from_slice(&text).ok()?;
    record["id"].is_string().then_some(record)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// restic's arguments for `no_lock`.
fn lock_args(no_lock: bool) -> Vec<OsString> {
    if no_lock {
        vec!["--no-lock".into()]
    } else {
        Vec::new()
    }
}

/// Refuses a target that exists and is not an empty directory.
fn refuse_occupied(target: &Path) -> Result<(), ResticError> {
    let problem = match std::fs::read_dir(target) {
        Ok(mut entries) => match entries.next() {
            None => return Ok(()),
            Some(_) => "is not empty".to_string(),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            "exists and is a file, not a directory".to_string()
        }
        Err(source) => {
            return Err(ResticError::Io {
                what: "read the target directory",
                path: target.to_path_buf(),
                source,
            });
        }
    };
    Err(ResticError::TargetInUse {
        target: target.to_path_buf(),
        problem,
    })
}

/// The regular files under `root` and their total size; a missing `root` holds none.
/// Symbolic links are counted as neither and not followed.
fn tally(root: &Path) -> Result<(u64, u64), ResticError> {
    let (mut files, mut bytes) = (0, 0);
    if !root.exists() {
        return Ok((0, 0));
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let io = |source| ResticError::Io {
            what: "read the restored directory",
            path: dir.clone(),
            source,
        };
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let meta = entry.metadata().map_err(io)?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    Ok((files, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_or_empty_target_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        assert!(refuse_occupied(&dir.path().join("new")).is_ok());
        assert!(refuse_occupied(dir.path()).is_ok());
        std::fs::write(dir.path().join("f"), "x").unwrap();
        let err = refuse_occupied(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("is not empty; drbook never restores over existing files: choose a new `target`, or move this one away"), "{err}");
        let err = refuse_occupied(&dir.path().join("f"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("exists and is a file"), "{err}");
    }

    #[test]
    fn the_tally_counts_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(tally(&dir.path().join("missing")).unwrap(), (0, 0));
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), "12345").unwrap();
        std::fs::write(dir.path().join("g"), "12").unwrap();
        std::os::unix::fs::symlink("g", dir.path().join("link")).unwrap();
        assert_eq!(tally(dir.path()).unwrap(), (2, 7));
    }
}
