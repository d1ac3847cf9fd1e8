//! The staging directories of `etcd.snapshot.restore`: `<data_dir>.drbook-restoring`
//! next to each member's data directory, created and locked by drbook (`staging_lock`)
//! and holding the tool's restored `data` until it is renamed into place.
//!
//! The tool (etcdctl, etcdutl) inherits the lock and holds it while it runs, and refuses
//! an existing `--data-dir`, so it restores into `data` inside the locked directory. A
//! staging directory an earlier attempt left is drbook's own: it is removed once its
//! lock is free (a crash leaves only that, as the tools die with drbook, see
//! `lifeline`); while a process still holds it, the restore refuses instead of racing
//! that process.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::EtcdError;
use super::member_table::Member;
use super::snapshot_save::with_suffix;
use crate::actions::staging_lock::StagingLock;

/// What a staging directory's name has after its data directory's.
const RESTORING_SUFFIX: &str = ".drbook-restoring";

/// The restored data directory inside a staging directory, renamed into place at the
/// end.
pub(super) const RESTORED: &str = "data";

/// The staging directory of each member, in the member table's order.
pub(super) fn dirs(members: &[Member]) -> Vec<PathBuf> {
    members
        .iter()
        .map(|m| with_suffix(&m.data_dir, RESTORING_SUFFIX))
        .collect()
}

/// Refuses if a process still holds the staging directory of any member. Writes
/// nothing.
pub(super) fn refuse_in_use(dirs: &[PathBuf]) -> Result<(), EtcdError> {
    for dir in dirs {
        claim_leftover(dir)?;
    }
    Ok(())
}

/// The staging directories of a restore and their locks; removed on drop unless renamed
/// into place (a failed or cancelled restore leaves nothing behind), then unlocked.
pub(super) struct Staging {
    pub dirs: Vec<PathBuf>,
    /// Whether each member's `data` has been renamed into place.
    pub placed: Vec<bool>,
    /// What each member's tool inherits (`Reporter::hold`).
    pub locks: Vec<Arc<StagingLock>>,
}

impl Staging {
    /// Removes what earlier attempts left in `dirs` (telling `report`), then creates and
    /// locks each anew.
    pub(super) fn create(
        dirs: Vec<PathBuf>,
        report: impl Fn(String),
    ) -> Result<Staging, EtcdError> {
        let mut staging = Staging {
            dirs: Vec::new(),
            placed: Vec::new(),
            locks: Vec::new(),
        };
        for dir in dirs {
            if let Some(_held) = claim_leftover(&dir)? {
                report(format!(
                    "removing {}, left by an earlier restore that did not finish",
                    dir.display()
                ));
                std::fs::remove_dir_all(&dir).map_err(|source| EtcdError::Io {
                    what: "remove the unfinished restore",
                    path: dir.clone(),
                    source,
                })?;
            }
            let lock = create_locked(&dir)?;
            staging.dirs.push(dir);
            staging.placed.push(false);
            staging.locks.push(Arc::new(lock));
        }
        Ok(staging)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        for (dir, placed) in self.dirs.iter().zip(&self.placed) {
            if !placed {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Locks the staging directory `dir` an earlier attempt left, if there is one, so it
/// can be removed; refuses one that a live process still holds (a tool that outlived
/// its drbook, or another drbook restoring the same member).
fn claim_leftover(dir: &Path) -> Result<Option<StagingLock>, EtcdError> {
    match StagingLock::try_lock(dir) {
        Ok(Some(lock)) => Ok(Some(lock)),
        Ok(None) => Err(EtcdError::StagingInUse {
            staging: dir.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EtcdError::Io {
            what: "lock the unfinished restore",
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Creates the staging directory `dir` (and its parents, as the tool would create a
/// data directory's) and locks it.
fn create_locked(dir: &Path) -> Result<StagingLock, EtcdError> {
    let io = |what| {
        let path = dir.to_path_buf();
        move |source| EtcdError::Io { what, path, source }
    };
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(io("create the directory for"))?;
    }
    std::fs::create_dir(dir).map_err(io("create the staging directory"))?;
    StagingLock::try_lock(dir)
        .map_err(io("lock the staging directory"))?
        .ok_or_else(|| EtcdError::StagingInUse {
            staging: dir.to_path_buf(),
        })
}
