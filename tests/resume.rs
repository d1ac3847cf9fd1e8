//! `drbook resume` through the real executable: a run killed with SIGKILL at every step
//! boundary and in the middle of every step of a 20-step runbook is continued under the
//! same run id, and every step's effect happens exactly once, or exactly as its re-run
//! policy says. Refusals (changed runbook, finished or unknown run, newer journal format)
//! change nothing.
//!
//! Crashes are deterministic, never timed: in the middle of a step, the step's own
//! command kills drbook (`kill -9 $PPID`: the parent of `/bin/sh -c` is drbook) after its
//! effect and only when `$CRASH_AT` names it, which only the first process is given; at a
//! boundary, the journal of a complete run is cut right after one of its records (or in
//! the middle of the next line, as a crash during a write leaves it) and the effects file
//! is rebuilt to what had happened by then. Every step appends its id to the file in
//! `$FX`, so that file is the history of effects.

mod asked;
mod boundaries;
mod checkpoint;
mod mid_step;
mod pause;
mod refusals;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{self, Drbook, Ran};

/// The longest any one drbook invocation may take before the test kills it.
const LIMIT: Duration = Duration::from_secs(30);

/// Steps in the runbook every crash test runs.
const STEPS: usize = 20;

/// What running a step again after a crash does, by the step's own declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// `shell` with `idempotent: true`: re-run without asking.
    Idempotent,
    /// `wait`, an action that only observes: re-run without asking.
    Wait,
    /// Plain `shell`: the operator must say what happened, so without a terminal resume
    /// refuses.
    AskFirst,
}

impl Policy {
    fn rerun_safe(self) -> bool {
        self != Policy::AskFirst
    }
}

/// Step `k` (1-based) cycles through the three policies, so crashing at every step
/// exercises each of them six or seven times.
fn policy(k: usize) -> Policy {
    match k % 3 {
        1 => Policy::Idempotent,
        2 => Policy::Wait,
        _ => Policy::AskFirst,
    }
}

fn step_id(k: usize) -> String {
    format!("s{k:02}")
}

/// The 20 steps. Each appends its id to `$FX`, then kills drbook if `$CRASH_AT` names it.
fn twenty_steps() -> String {
    let mut text = String::from(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {name: twenty, version: 1.0.0}\nspec:\n  steps:\n",
    );
    for k in 1..=STEPS {
        let id = step_id(k);
        let command = format!(
            r#"echo {id} >> "$FX"; if [ "$CRASH_AT" = {id} ]; then kill -9 $PPID; sleep 5; fi"#
        );
        let body = match policy(k) {
            Policy::Idempotent => {
                format!(
                    "      action: shell\n      idempotent: true\n      with: {{run: '{command}'}}\n"
                )
            }
            Policy::Wait => format!(
                "      action: wait\n      with: {{probe: '{command}', timeout: 10s, interval: 10ms}}\n"
            ),
            Policy::AskFirst => format!("      action: shell\n      with: {{run: '{command}'}}\n"),
        };
        text.push_str(&format!("    - id: {id}\n{body}"));
    }
    text
}

/// Case `name` of a test directory: its own state directory `name/` and effects file
/// `name.effects` (in `$FX`), operator `tester`, and no crash unless `CRASH_AT` is set.
fn in_case(f: &Drbook, name: &str) -> Drbook {
    f.clone()
        .state_dir(name)
        .env("FX", effects_path(f, name))
        .env("DRBOOK_OPERATOR", "tester")
        .env("CRASH_AT", "")
        .limit(LIMIT)
}

/// Runs `drbook args...` in case `case` without a terminal, with `env` added, and waits
/// for it (at most `LIMIT`).
fn drbook(f: &Drbook, case: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    in_case(f, case).args(args).envs(env).run()
}

/// The state directory of case `name`.
fn state(f: &Drbook, name: &str) -> PathBuf {
    f.path().join(name)
}

fn run_dir(f: &Drbook, state: &str, id: &str) -> PathBuf {
    self::state(f, state).join("runs").join(id)
}

fn journal_path(f: &Drbook, state: &str, id: &str) -> PathBuf {
    run_dir(f, state, id).join("journal.jsonl")
}

fn journal_bytes(f: &Drbook, state: &str, id: &str) -> Vec<u8> {
    std::fs::read(journal_path(f, state, id)).unwrap()
}

/// The effects file a case's steps append to.
fn effects_path(f: &Drbook, name: &str) -> PathBuf {
    f.path().join(format!("{name}.effects"))
}

/// The step ids in the effects file, in the order they were written.
fn effects(f: &Drbook, name: &str) -> Vec<String> {
    match std::fs::read_to_string(effects_path(f, name)) {
        Ok(text) => text.lines().map(String::from).collect(),
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a journal the way an auditor would, without drbook's reader: every line is
/// complete JSON, sequence numbers count from 0 without gaps, each `prev` is the SHA-256
/// of the line before (64 zeros for the first), and sessions start at 0 and each later
/// one opens with `session_started`, numbered one more than the session before.
fn verified(bytes: &[u8]) -> Vec<Value> {
    assert!(
        bytes.ends_with(b"\n"),
        "the journal does not end with a complete line"
    );
    let mut prev = "0".repeat(64);
    let mut records = Vec::new();
    let mut session = 0;
    for (index, line) in bytes[..bytes.len() - 1].split(|&b| b == b'\n').enumerate() {
        let record: Value = serde_json::from_slice(line)
            .unwrap_or_else(|e| panic!("line {} is not JSON: {e}", index + 1));
        assert_eq!(
            record["seq"],
            index as u64,
            "sequence number of line {}",
            index + 1
        );
        assert_eq!(
            record["prev"],
            prev.as_str(),
            "hash chain at line {}",
            index + 1
        );
        let this = record["session"].as_u64().unwrap();
        if this != session {
            assert_eq!(this, session + 1, "session number at line {}", index + 1);
            assert_eq!(kind(&record), "session_started", "line {}", index + 1);
            session = this;
        } else {
            assert!(
                kind(&record) != "session_started",
                "a session_started that does not open a session, line {}",
                index + 1
            );
        }
        prev = hex(&Sha256::digest(line));
        records.push(record);
    }
    assert_eq!(kind(&records[0]), "run_started");
    assert_eq!(records[0]["session"], 0);
    records
}

fn kind(record: &Value) -> &str {
    record["event"]["type"].as_str().unwrap()
}

/// The records of type `ty` for step `step`.
fn step_records<'a>(records: &'a [Value], ty: &str, step: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| kind(r) == ty && r["event"]["step"] == step)
        .collect()
}

/// The session numbers of a journal, in order, each once: `[0, 1]` after one resume.
fn sessions(records: &[Value]) -> Vec<u64> {
    let mut sessions: Vec<u64> = records
        .iter()
        .map(|r| r["session"].as_u64().unwrap())
        .collect();
    sessions.dedup();
    sessions
}

/// Same run id, one record: the state directory holds exactly this run, and the run
/// directory exactly the files a run has, however many sessions wrote it.
fn assert_one_record(f: &Drbook, state: &str, id: &str) {
    let runs: Vec<String> = std::fs::read_dir(self::state(f, state).join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs, [id], "one run directory");
    let mut files: Vec<String> = std::fs::read_dir(run_dir(f, state, id))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "journal.jsonl",
            "lock",
            "runbook.sha256",
            "runbook.yaml",
            "work"
        ],
        "the run directory"
    );
}

/// The effects of a run in which every step ran once, except `twice`, whose effect
/// happened again right after the first time (re-run after a crash in its middle).
fn each_once_except(twice: Option<usize>) -> Vec<String> {
    let mut effects = Vec::new();
    for k in 1..=STEPS {
        effects.push(step_id(k));
        if twice == Some(k) {
            effects.push(step_id(k));
        }
    }
    effects
}

/// Runs `work(i)` for every `i` in `0..count` on a few threads: each case waits mostly
/// for fsync and child processes, so overlapping them shortens the test.
fn in_parallel(count: usize, work: impl Fn(usize) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= count {
                        break;
                    }
                    work(i);
                }
            });
        }
    });
}
