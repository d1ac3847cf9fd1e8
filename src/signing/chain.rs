//! The hash chain checked line by line for an auditor: not only whether the journal is
//! intact (the journal reader already refuses a broken one) but exactly where and how it
//! broke — the line, its event type, and whether a line was edited, lines were lost or
//! events were re-ordered — and then the journal reader's own checks of every record.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::journal::event::GENESIS_HASH;
use crate::journal::{JournalError, reader};

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainCheck {
    /// Complete lines in the journal (a torn last line is not counted).
    pub lines: usize,
    /// The first place the chain breaks; `None` when it is intact.
    pub broken: Option<ChainBreak>,
    /// The journal ends in a line without its newline (a crash mid-write): not part of
    /// the record, and not signed.
    pub torn_last_line: bool,
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainBreak {
    /// 1-based line of the journal.
    pub line: usize,
    /// The event type written on that line, when it can be read.
    pub event: Option<String>,
    pub problem: ChainProblem,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainProblem {
    /// The line is not the JSON of a record.
    Unreadable { reason: String },
    /// The line's `prev` is not the hash of the line before: this line or the one
    /// before it was edited.
    Edited,
    /// The line holds event `seq`, which the journal has at a later place as well or
    /// which belongs elsewhere: events were moved.
    Reordered { seq: u64, expected: u64 },
    /// Sequence numbers jump: the events between were removed.
    Missing { seq: u64, expected: u64 },
    /// The record passes the chain but not the reader's checks (an unknown field, a
    /// second start, a newer format).
    Damaged { reason: String },
}

impl ChainBreak {
    /// One sentence for people: `line 3 (step_started): ...`.
    pub fn describe(&self) -> String {
        let at = match &self.event {
            Some(event) => format!("line {} ({event})", self.line),
            None => format!("line {}", self.line),
        };
        let what = match &self.problem {
            ChainProblem::Unreadable { reason } => format!("is not a journal record: {reason}"),
            ChainProblem::Edited => "does not follow from the line before it (its `prev` hash differs): this line or the one before it was edited".into(),
            ChainProblem::Reordered { seq, expected } => format!(
                "holds event {seq} where event {expected} belongs: events were re-ordered"
            ),
            ChainProblem::Missing { seq, expected } => format!(
                "holds event {seq} where event {expected} belongs: the events between were removed"
            ),
            ChainProblem::Damaged { reason } => format!("is damaged: {reason}"),
        };
        format!("{at} {what}")
    }
}

/// Checks the chain of the journal `bytes`; `path` is only used in messages.
pub fn check(path: &Path, bytes: &[u8]) -> ChainCheck {
    check_parsed(path, bytes, &parse_lines(bytes))
}

/// Each complete line of `bytes` as JSON (`None` where it is not JSON), in order.
pub(crate) fn parse_lines(bytes: &[u8]) -> Vec<Option<Value>> {
    complete_lines(bytes)
        .map(|line| serde_json::from_slice::<Value>(line).ok())
        .collect()
}

/// The lines that end in a newline, without it.
fn complete_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .filter_map(|chunk| chunk.strip_suffix(b"\n"))
}

/// `check` with the lines already parsed by `parse_lines`, so a caller that reads them
/// too parses the journal once.
pub(crate) fn check_parsed(path: &Path, bytes: &[u8], values: &[Option<Value>]) -> ChainCheck {
    let torn_last_line = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = complete_lines(bytes).collect();
    let seqs: Vec<Option<u64>> = values
        .iter()
        .map(|v| v.as_ref().and_then(|v| v["seq"].as_u64()))
        .collect();
    let mut prev = GENESIS_HASH.to_string();
    let mut broken = None;
    for (index, line) in lines.iter().enumerate() {
        let event = values[index]
            .as_ref()
            .and_then(|v| v["event"]["type"].as_str())
            .map(String::from);
        let at = |problem| {
            Some(ChainBreak {
                line: index + 1,
                event: event.clone(),
                problem,
            })
        };
        let Some(value) = &values[index] else {
            let reason = serde_json::from_slice::<Value>(line)
                .err()
                .map_or_else(String::new, |e| e.to_string());
            broken = at(ChainProblem::Unreadable { reason });
            break;
        };
        let expected = index as u64;
        match value["seq"].as_u64() {
            None => {
                broken = at(ChainProblem::Unreadable {
                    reason: "it has no sequence number".into(),
                });
                break;
            }
            Some(seq) if seq != expected => {
                // The missing event further down means it was moved, not removed.
                let moved = seq < expected || seqs[index + 1..].contains(&Some(expected));
                broken = at(if moved {
                    ChainProblem::Reordered { seq, expected }
                } else {
                    ChainProblem::Missing { seq, expected }
                });
                break;
            }
            Some(_) => {}
        }
        if value["prev"].as_str() != Some(prev.as_str()) {
            broken = at(ChainProblem::Edited);
            break;
        }
        prev = base16ct::lower::encode_string(&Sha256::digest(line));
    }
    if broken.is_none() {
        // The chain holds; the reader checks every record's shape and version too.
        broken = match reader::parse(path, bytes) {
            Ok(_) => None,
            Err(JournalError::Corrupt { line, reason, .. }) => Some(ChainBreak {
                line,
                event: values
                    .get(line.wrapping_sub(1))
                    .and_then(|v| v.as_ref())
                    .and_then(|v| v["event"]["type"].as_str())
                    .map(String::from),
                problem: ChainProblem::Damaged { reason },
            }),
            Err(other) => Some(ChainBreak {
                line: 1,
                event: None,
                problem: ChainProblem::Damaged {
                    reason: other.to_string(),
                },
            }),
        };
    }
    ChainCheck {
        lines: lines.len(),
        broken,
        torn_last_line,
    }
}
