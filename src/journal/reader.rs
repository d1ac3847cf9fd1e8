//! Reads `journal.jsonl` back and verifies it: format version, sequence numbers and the
//! hash chain. Reports and resume trust only what passed these checks.
//!
//! The version in the first line decides how strict the rest is read: a newer major is
//! refused before anything else; a newer minor may carry optional fields this build
//! does not know, which are ignored (the hash chain still covers them), and event types
//! it does not know, which are refused as newer than this build reads; in a journal of
//! a minor this build knows, a field it does not know is damage and refused.

use std::path::Path;

use serde::Deserialize as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::JournalError;
use super::event::{Event, FORMAT_MAJOR, FORMAT_MINOR, GENESIS_HASH, Record};

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
    // Set by the first line: a journal of a newer minor may carry fields this build
    // does not know yet.
    let mut newer_minor = false;
    for (index, chunk) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let line_number = index + 1;
        // A last line without its newline was cut short by a crash: `append` had not
        // returned, so the effect it announced never began. It is not part of the record.
        let Some(line) = chunk.strip_suffix(b"\n") else {
            torn_tail_at = Some(offset as u64);
            break;
        };
        let value: Value =
            serde_json::from_slice(line).map_err(|e| corrupt(line_number, e.to_string()))?;
        // The version is read before anything else, so a newer major is refused as such
        // however different its records look.
        if records.is_empty() {
            newer_minor = check_format(path, &value)?;
        }
        let record = match Record::deserialize(&value) {
            Ok(record) => record,
            // A newer minor may add an event type that only informs: this build cannot
            // read it, which is not damage.
            Err(_) if newer_minor => {
                return Err(JournalError::NewerFormat {
                    path: path.to_path_buf(),
                    found: records
                        .first()
                        .and_then(|r: &Record| match &r.event {
                            Event::RunStarted { format, .. } => Some(format.clone()),
                            _ => None,
                        })
                        .unwrap_or_default(),
                    supported: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
                });
            }
            Err(e) => return Err(corrupt(line_number, e.to_string())),
        };
        if !newer_minor {
            let known =
                serde_json::to_value(&record).map_err(|e| corrupt(line_number, e.to_string()))?;
            if let Some(field) = unknown_field(&value, &known) {
                return Err(corrupt(
                    line_number,
                    format!(
                        "unknown field `{field}` (this journal's format version does not have it)"
                    ),
                ));
            }
        }
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
        if !records.is_empty() && matches!(record.event, Event::RunStarted { .. }) {
            return Err(corrupt(line_number, "a second `run_started` event".into()));
        }
        last_hash = base16ct::lower::encode_string(&Sha256::digest(line));
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

/// Checks the format version in the first line; true when it is a newer minor of the
/// major this build reads.
fn check_format(path: &Path, first: &Value) -> Result<bool, JournalError> {
    let corrupt = |reason: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line: 1,
        reason,
    };
    let event = &first["event"];
    if event["type"] != "run_started" {
        return Err(corrupt("the first event is not `run_started`".into()));
    }
    let Some(format) = event["format"].as_str() else {
        return Err(corrupt("`run_started` has no `format` version".into()));
    };
    let version = format
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    let Some((major, minor)) = version else {
        return Err(corrupt(format!("format `{format}` is not MAJOR.MINOR")));
    };
    if major > FORMAT_MAJOR {
        return Err(JournalError::NewerFormat {
            path: path.to_path_buf(),
            found: format.to_string(),
            supported: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
        });
    }
    if major < FORMAT_MAJOR {
        return Err(corrupt(format!(
            "format `{format}` is older than any this drbook reads ({FORMAT_MAJOR}.x)"
        )));
    }
    Ok(minor > FORMAT_MINOR)
}

/// The first field of `original` (a line as written) that reading it into a `Record`
/// dropped, as a dotted path. An explicit `null` counts as absent.
fn unknown_field(original: &Value, known: &Value) -> Option<String> {
    match (original, known) {
        (Value::Object(original), Value::Object(known)) => {
            original
                .iter()
                .find_map(|(key, value)| match known.get(key) {
                    None if value.is_null() => None,
                    None => Some(key.clone()),
                    Some(inner) => unknown_field(value, inner).map(|path| format!("{key}.{path}")),
                })
        }
        (Value::Array(original), Value::Array(known)) => original
            .iter()
            .zip(known)
            .enumerate()
            .find_map(|(i, (o, k))| unknown_field(o, k).map(|path| format!("{i}.{path}"))),
        _ => None,
    }
}
