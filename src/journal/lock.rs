//! One writer per run: an exclusive lock on `<run>/lock`, held while a drbook process
//! works on the run and released by the operating system when that process dies, so a
//! crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use super::error::JournalError;

/// Held for as long as this process may write the run.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    pub fn acquire(run_dir: &Path, run_id: &str) -> Result<RunLock, JournalError> {
        let path = run_dir.join("lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(JournalError::io("open lock file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(JournalError::Locked {
                    run_id: run_id.to_string(),
                    holder: if holder.is_empty() {
                        "process unknown".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(JournalError::io("lock", &path)(e));
            }
        }
        // Tell a second process who holds the run.
        let me = format!(
            "pid {} on {}",
            std::process::id(),
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "this host".into())
        );
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(me.as_bytes()))
            .map_err(JournalError::io("write lock file", &path))?;
        Ok(RunLock { _file: file })
    }
}
