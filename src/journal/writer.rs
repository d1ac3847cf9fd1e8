//! Appends events to `journal.jsonl`: one line each, hash-chained.
//!
//! `append` writes the line (one `write`, so a crash leaves at most a torn last line);
//! `sync` makes everything written so far durable with one fsync. The engine syncs right
//! before any effect begins (an action, a question to the operator) and when a run ends
//! or pauses, so an event is always durable before the effect it announces, while events
//! that happen together (a step's end and the next step's start) share one fsync.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::error::JournalError;
use super::event::{Event, GENESIS_HASH, Record};
use super::reader::Journal;

/// The only way events get into a journal.
#[derive(Debug)]
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    next_seq: u64,
    prev: String,
    session: u32,
    session_start: Instant,
    /// Lines written since the last fsync.
    unsynced: bool,
}

impl JournalWriter {
    /// Starts a new journal; refuses to touch an existing file.
    pub fn create(path: &Path) -> Result<Self, JournalError> {
        // The record is its owner's alone: step output can be sensitive.
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(JournalError::io("create journal", path))?;
        sync_parent(path)?;
        Ok(JournalWriter {
            file,
            path: path.to_path_buf(),
            next_seq: 0,
            prev: GENESIS_HASH.to_string(),
            session: 0,
            session_start: Instant::now(),
            unsynced: false,
        })
    }

    /// Continues a journal that was read (and verified) into `journal`, as a new
    /// session. A torn last line — a write cut short by a crash — is cut off first: its
    /// event was never durable, so the effect it announced never started.
    pub fn resume(path: &Path, journal: &Journal) -> Result<Self, JournalError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(JournalError::io("open journal", path))?;
        if let Some(valid_len) = journal.torn_tail_at {
            file.set_len(valid_len)
                .map_err(JournalError::io("cut the torn last line of", path))?;
        }
        let last = journal.records.last();
        Ok(JournalWriter {
            file,
            path: path.to_path_buf(),
            next_seq: last.map_or(0, |r| r.seq + 1),
            prev: journal.last_hash.clone(),
            session: last.map_or(0, |r| r.session + 1),
            session_start: Instant::now(),
            unsynced: false,
        })
    }

    /// Writes one event. It is durable after the next `sync`.
    pub fn append(&mut self, event: Event) -> Result<Record, JournalError> {
        let record = Record {
            seq: self.next_seq,
            session: self.session,
            time: Utc::now(),
            mono_ms: self.session_start.elapsed().as_millis() as u64,
            prev: self.prev.clone(),
            event,
        };
        let line = serde_json::to_string(&record).map_err(|e| JournalError::Corrupt {
            path: self.path.clone(),
            line: self.next_seq as usize + 1,
            reason: format!("event cannot be encoded: {e}"),
        })?;
        let mut bytes = line.into_bytes();
        let hash = base16ct::lower::encode_string(&Sha256::digest(&bytes));
        bytes.push(b'\n');
        // One write of the whole line: a crash leaves at most a torn last line.
        self.file
            .write_all(&bytes)
            .map_err(JournalError::io("append to journal", &self.path))?;
        self.unsynced = true;
        self.prev = hash;
        self.next_seq += 1;
        Ok(record)
    }

    /// Makes every line written so far durable (one fsync; nothing to do when none is
    /// pending).
    pub fn sync(&mut self) -> Result<(), JournalError> {
        if self.unsynced {
            self.file
                .sync_data()
                .map_err(JournalError::io("sync journal", &self.path))?;
            self.unsynced = false;
        }
        Ok(())
    }

    pub fn session(&self) -> u32 {
        self.session
    }
}

/// A new file's directory entry must be durable too, or a crash can lose the file.
fn sync_parent(path: &Path) -> Result<(), JournalError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(JournalError::io("sync directory", parent))
}

impl Drop for JournalWriter {
    /// A writer dropped on an error path still leaves what it wrote on disk.
    fn drop(&mut self) {
        let _ = self.sync();
    }
}
