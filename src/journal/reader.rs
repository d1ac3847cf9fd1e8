//! Reads `journal.jsonl` back and verifies it: format version, sequence numbers and the
//! hash chain. Reports and resume trust only what passed these checks.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::error::JournalError;
use super::event::{Event, FORMAT_MAJOR, FORMAT_MINOR, GENESIS_HASH, Record};
use super::writer::hex;

/// A verified journal.
#[derive(Debug, Clone)]
pub struct Journal {
    pub records: Vec<Record>,
    /// SHA-256 of the last intact line: the `prev` of the next record.
    pub last_hash: String,
    /// Byte length of the intact part when the last line was torn by a crash.
    pub torn_tail_at: Option<u64>,
}

/// Reads and verifies a journal file.
pub fn read(path: &Path) -> Result<Journal, JournalError> {
    let bytes = std::fs::read(path).map_err(JournalError::io("read journal", path))?;
    parse(path, &bytes)
}

/// Verifies journal bytes; `path` is only used in messages.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Journal, JournalError> {
    let corrupt = |line: usize, reason: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut records: Vec<Record> = Vec::new();
    let mut last_hash = GENESIS_HASH.to_string();
    let mut offset = 0usize;
    let mut torn_tail_at = None;
    for (index, chunk) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let line_number = index + 1;
        // A last line without its newline was cut short by a crash: `append` had not
        // returned, so the effect it announced never began. It is not part of the record.
        let Some(line) = chunk.strip_suffix(b"\n") else {
            torn_tail_at = Some(offset as u64);
            break;
        };
        let parsed = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Record>(text).map_err(|e| e.to_string()));
        let record = parsed.map_err(|reason| corrupt(line_number, reason))?;
        if record.seq != records.len() as u64 {
            return Err(corrupt(
                line_number,
                format!(
                    "sequence number {} where {} was expected",
                    record.seq,
                    records.len()
                ),
            ));
        }
        if record.prev != last_hash {
            return Err(corrupt(
                line_number,
                "its `prev` hash does not match the line before it (the journal was edited or lines were lost)".into(),
            ));
        }
        if records.is_empty() {
            check_format(path, &record)?;
        } else if matches!(record.event, Event::RunStarted { .. }) {
            return Err(corrupt(line_number, "a second `run_started` event".into()));
        }
        last_hash = hex(&Sha256::digest(line));
        offset += chunk.len();
        records.push(record);
    }
    if records.is_empty() && torn_tail_at.is_none() {
        return Err(corrupt(1, "the journal is empty".into()));
    }
    Ok(Journal {
        records,
        last_hash,
        torn_tail_at,
    })
}

fn check_format(path: &Path, first: &Record) -> Result<(), JournalError> {
    let Event::RunStarted { format, .. } = &first.event else {
        return Err(JournalError::Corrupt {
            path: path.to_path_buf(),
            line: 1,
            reason: "the first event is not `run_started`".into(),
        });
    };
    let major = format
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| JournalError::Corrupt {
            path: path.to_path_buf(),
            line: 1,
            reason: format!("format `{format}` is not MAJOR.MINOR"),
        })?;
    if major > FORMAT_MAJOR {
        return Err(JournalError::NewerFormat {
            path: path.to_path_buf(),
            found: format.clone(),
            supported: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
        });
    }
    Ok(())
}
