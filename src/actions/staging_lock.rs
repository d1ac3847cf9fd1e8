//! A lock on a staging directory, held by drbook and by every tool it starts to write
//! there, so that a later attempt can tell a staging directory still in use from one a
//! crash left behind.
//!
//! The lock is `flock(2)` on the directory itself. It belongs to the open file
//! description, and the tool writing into the directory inherits that descriptor (see
//! `Reporter::hold`), so the lock stays held for as long as any process writing there
//! runs, drbook or a tool of a crashed drbook that somehow survived it. An attempt that
//! finds a staging directory removes it only once it holds the lock itself; otherwise it
//! refuses rather than race the process still writing there.

use std::fs::{File, TryLockError};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

/// An exclusive lock on a staging directory, released when dropped and every tool that
/// inherited it has ended.
///
/// std's `File::try_lock` rather than nix's `Flock`: dropping a `Flock` unlocks
/// explicitly (`LOCK_UN`), which releases the lock for every holder of the descriptor,
/// the tool still writing included; dropping the `File` only closes drbook's copy.
#[derive(Debug)]
pub(crate) struct StagingLock(File);

impl StagingLock {
    /// Locks the existing directory `dir`; `Ok(None)` when another process holds it.
    pub(crate) fn try_lock(dir: &Path) -> io::Result<Option<StagingLock>> {
        let file = File::open(dir)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(StagingLock(file))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// The descriptor a tool inherits to hold the lock while it runs.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_directory_cannot_be_locked_again_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let held = StagingLock::try_lock(dir.path()).unwrap().expect("free");
        assert!(StagingLock::try_lock(dir.path()).unwrap().is_none());
        drop(held);
        assert!(StagingLock::try_lock(dir.path()).unwrap().is_some());
    }

    #[tokio::test]
    async fn a_tool_that_inherited_the_lock_holds_it_after_drbook_let_go() {
        use crate::actions::process::GroupChild;
        use crate::actions::process::tests::wait_for_pids;

        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir(&staging).unwrap();
        let pids = dir.path().join("pids");
        let lock = StagingLock::try_lock(&staging).unwrap().expect("free");
        let script = format!("echo $$ > '{}'; exec sleep 30", pids.display());
        let args = ["-c".into(), script.into()];
        let (mut child, _pipes) = GroupChild::spawn_program(
            Path::new("/bin/sh"),
            &args,
            dir.path(),
            &[],
            Some(lock.fd()),
        )
        .unwrap();
        wait_for_pids(&pids, 1).await;
        drop(lock);
        assert!(
            StagingLock::try_lock(&staging).unwrap().is_none(),
            "the running tool holds the lock"
        );
        child.terminate(std::time::Duration::from_millis(100)).await;
        assert!(StagingLock::try_lock(&staging).unwrap().is_some());
    }

    #[tokio::test]
    async fn a_tool_started_without_the_lock_does_not_hold_it() {
        use crate::actions::process::GroupChild;
        use crate::actions::process::tests::wait_for_pids;

        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let lock = StagingLock::try_lock(dir.path()).unwrap().expect("free");
        let script = format!("echo $$ > '{}'; exec sleep 30", pids.display());
        let args = ["-c".into(), script.into()];
        let (mut child, _pipes) =
            GroupChild::spawn_program(Path::new("/bin/sh"), &args, dir.path(), &[], None).unwrap();
        wait_for_pids(&pids, 1).await;
        drop(lock);
        assert!(StagingLock::try_lock(dir.path()).unwrap().is_some());
        child.terminate(std::time::Duration::from_millis(100)).await;
    }
}
