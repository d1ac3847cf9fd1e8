//! The staging directory of `restic.restore`: `<target>.drbook-partial-<pid>` next to
//! the target (same file system, so the final rename is atomic), created and locked by
//! drbook (`staging_lock`). restic inherits the lock and holds it while it runs.
//!
//! A staging directory an earlier attempt left is removed once its lock is free and its
//! drbook is gone: a crash leaves only that, as restic dies with drbook (see
//! `lifeline`). One whose lock a process still holds (a restic that somehow outlived
//! its drbook, or another drbook restoring to the same target) is refused, rather than
//! raced; an unlocked one whose drbook still runs is left alone.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::ResticError;
use crate::actions::program::Reporter;
use crate::actions::staging_lock::StagingLock;

/// What a staging directory's name has after the target's name.
const STAGING_MARK: &str = ".drbook-partial-";

/// This attempt's staging directory; removed on drop unless renamed into place, so a
/// failed or cancelled restore leaves nothing behind. Its lock is released after the
/// removal.
pub(super) struct Staging {
    pub dir: PathBuf,
    /// Set once the directory has been renamed to the target.
    pub placed: bool,
    /// What restic inherits (`Reporter::hold`).
    pub lock: Arc<StagingLock>,
}

impl Staging {
    /// Removes what crashed attempts left next to `target` (`name` in `parent`), then
    /// creates and locks this attempt's staging directory.
    pub(super) fn begin(
        parent: &Path,
        name: &OsStr,
        target: &Path,
        reporter: &Reporter,
    ) -> Result<Staging, ResticError> {
        remove_stale_staging(parent, &name.to_string_lossy(), target, reporter)?;
        let mut staging_name = name.to_os_string();
        staging_name.push(format!("{STAGING_MARK}{}", std::process::id()));
        let dir = parent.join(staging_name);
        let io = |what| {
            let path = dir.clone();
            move |source| ResticError::Io { what, path, source }
        };
        std::fs::create_dir(&dir).map_err(io("create the staging directory"))?;
        // Only another drbook that found this directory just now can hold its lock.
        let lock = StagingLock::try_lock(&dir)
            .map_err(io("lock the staging directory"))?
            .ok_or_else(|| ResticError::StagingInUse {
                staging: dir.clone(),
                target: target.to_path_buf(),
            })?;
        Ok(Staging {
            dir,
            placed: false,
            lock: Arc::new(lock),
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes `<name>.drbook-partial-<pid>` directories in `parent` that an attempt left
/// when it crashed: their lock is free and their process is gone (or is this one).
/// Refuses, removing nothing more, when a process still holds one's lock.
fn remove_stale_staging(
    parent: &Path,
    name: &str,
    target: &Path,
    reporter: &Reporter,
) -> Result<(), ResticError> {
    let prefix = format!("{name}{STAGING_MARK}");
    let entries = std::fs::read_dir(parent).map_err(|source| ResticError::Io {
        what: "read the directory",
        path: parent.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let entry_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = entry_name
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        // Held while the directory is removed, so nothing can start writing there.
        let _lock = match StagingLock::try_lock(&path) {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                return Err(ResticError::StagingInUse {
                    staging: path,
                    target: target.to_path_buf(),
                });
            }
            // Removed meanwhile, or a file of that name: not a staging directory.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                continue;
            }
            Err(source) => {
                return Err(ResticError::Io {
                    what: "lock the unfinished restore",
                    path,
                    source,
                });
            }
        };
        // Unlocked, yet its drbook runs: it has created the directory and not locked it
        // yet (or the pid was reused). Left alone, as it does no harm here.
        if pid != std::process::id() && process_alive(pid) {
            reporter.progress(format!(
                "leaving {} alone: process {pid}, which is restoring into it, is still running",
                path.display()
            ));
            continue;
        }
        reporter.progress(format!(
            "removing {}, left by an earlier restore that did not finish",
            path.display()
        ));
        std::fs::remove_dir_all(&path).map_err(|source| ResticError::Io {
            what: "remove the unfinished restore",
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// True when a process with this pid exists (signal 0 reaches it, or it is another
/// user's).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;
    use tokio_util::sync::CancellationToken;

    #[test]
    fn staging_left_by_a_dead_process_is_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join("out.drbook-partial-999999999");
        let live = dir
            .path()
            .join(format!("out.drbook-partial-{}", std::process::id()));
        let parent_pid = std::os::unix::process::parent_id();
        let other_live = dir.path().join(format!("out.drbook-partial-{parent_pid}"));
        let unrelated = dir.path().join("outer.drbook-partial-1");
        for d in [&dead, &live, &other_live, &unrelated] {
            std::fs::create_dir_all(d.join("backup")).unwrap();
        }
        let reporter = Reporter {
            cancel: CancellationToken::new(),
            events: unbounded_channel().0,
            prefix: String::new(),
            hold: None,
        };
        let target = dir.path().join("out");
        remove_stale_staging(dir.path(), "out", &target, &reporter).unwrap();
        assert!(!dead.exists());
        assert!(!live.exists(), "this process's own is stale by definition");
        assert!(other_live.exists(), "a running process's is kept");
        assert!(unrelated.exists(), "another target's is not touched");
    }

    #[test]
    fn staging_whose_lock_is_held_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let survivor = dir.path().join("out.drbook-partial-999999999");
        std::fs::create_dir_all(survivor.join("backup")).unwrap();
        // What a restic that outlived its drbook would hold.
        let held = StagingLock::try_lock(&survivor).unwrap().unwrap();
        let reporter = Reporter {
            cancel: CancellationToken::new(),
            events: unbounded_channel().0,
            prefix: String::new(),
            hold: None,
        };
        let target = dir.path().join("out");
        let err = remove_stale_staging(dir.path(), "out", &target, &reporter)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "`{0}`, left by an earlier attempt to restore into `{1}`, is still in use: a process holds its lock (a restic started by an earlier drbook, or another drbook restoring to the same target); nothing was changed. Find it with `fuser -v {0}`, stop it, then run the step again",
                survivor.display(),
                target.display()
            )
        );
        assert!(survivor.join("backup").is_dir());
        drop(held);
        remove_stale_staging(dir.path(), "out", &target, &reporter).unwrap();
        assert!(!survivor.exists(), "removed once its lock is free");
    }
}
