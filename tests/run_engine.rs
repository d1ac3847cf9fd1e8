//! The run engine through the real executable: `drbook run` and `drbook drill` with a
//! state directory of their own, stdin closed (no terminal), and the journal read back to
//! prove what happened and in which order.
//!
//! Concurrency is proved by the journal's sequence numbers and timestamps, never by
//! measuring how long a run took: steps that must overlap wait for each other through
//! files, so the test can only pass when they really run at the same time. Every wait
//! inside a step is bounded (the shell gives up after a few seconds), and every drbook
//! process is killed if it outlives the harness's `LIMIT`, so a broken engine fails a test instead of
//! hanging it.

mod durability;
mod failures;
mod record;
mod scheduling;
mod secret_encodings;
mod secrets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::support::{Drbook, Output};

/// Shell functions the runbooks source with `. "$LIB"`. Each wait gives up after ~5 s
/// (exit 9), so a step that waits for something that never comes fails instead of
/// hanging. Steps run in `<run>/work`, so the journal is `../journal.jsonl`.
const LIB: &str = r#"
# Waits until file $1 exists. (Counters are prefixed: sh has no local variables, and a
# step's own `i` must survive a call.)
w() {
  _w=0
  while [ ! -e "$1" ]; do
    _w=$((_w + 1))
    if [ "$_w" -gt 500 ]; then echo "gave up waiting for $1" >&2; exit 9; fi
    sleep 0.01
  done
}
# Waits until the journal records that step $1 (foreach item $2, if given) finished.
wj() {
  _pat="\"type\":\"step_finished\",\"step\":\"$1\""
  if [ -n "$2" ]; then _pat="$_pat,\"item\":$2,"; fi
  _w=0
  until grep -q "$_pat" ../journal.jsonl; do
    _w=$((_w + 1))
    if [ "$_w" -gt 500 ]; then echo "gave up waiting for $1 $2 to finish" >&2; exit 9; fi
    sleep 0.01
  done
}
"#;

/// A test directory holding the shell library, with `$LIB` pointing at it.
fn test() -> Drbook {
    let test = Drbook::new().file("lib.sh", LIB);
    let lib = test.path().join("lib.sh");
    test.env("LIB", lib)
}

/// Writes a runbook named `name` with these `spec:` lines (indented by two spaces).
fn write_runbook(test: &Drbook, name: &str, spec: &str) -> PathBuf {
    let text = format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: {}, version: 1.0.0}}\nspec:\n{spec}",
        name.trim_end_matches(".yaml")
    );
    test.write(name, &text)
}

/// Polls for `path` to exist, within a bounded deadline.
fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear within 10 s",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn event(record: &Value) -> &Value {
    &record["event"]
}

fn kind(record: &Value) -> &str {
    event(record)["type"].as_str().unwrap()
}

fn seq(record: &Value) -> u64 {
    record["seq"].as_u64().unwrap()
}

/// A record's wall time in milliseconds since the epoch.
fn time_ms(record: &Value) -> i64 {
    parse_ms(record["time"].as_str().unwrap())
}

fn parse_ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

/// The records of type `ty` for step `step` (any item, any attempt).
fn step_records<'a>(journal: &'a [Value], ty: &str, step: &str) -> Vec<&'a Value> {
    journal
        .iter()
        .filter(|r| kind(r) == ty && event(r)["step"] == step)
        .collect()
}

/// The single record of type `ty` for `step`.
fn one<'a>(journal: &'a [Value], ty: &str, step: &str) -> &'a Value {
    let records = step_records(journal, ty, step);
    assert_eq!(records.len(), 1, "{ty} of {step}: {records:#?}");
    records[0]
}

fn run_finished(journal: &[Value]) -> &Value {
    let last = journal.last().unwrap();
    assert_eq!(kind(last), "run_finished", "{last}");
    event(last)
}

/// The most step instances (of `step`, or of any step) running at the same time.
fn max_running(journal: &[Value], step: Option<&str>) -> usize {
    let (mut running, mut max) = (0usize, 0usize);
    for record in journal {
        if step.is_some_and(|s| event(record)["step"] != s) {
            continue;
        }
        match kind(record) {
            "step_started" => {
                running += 1;
                max = max.max(running);
            }
            "step_finished" => running -= 1,
            _ => {}
        }
    }
    max
}

/// How the terminal view prints a duration (`view::terminal::format_ms`).
fn format_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
    }
}

/// True while `pid` is a live process (a zombie is dead: it only waits to be reaped).
fn is_running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim().chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        }
        Err(_) => false,
    }
}

fn assert_ok(out: &Output) {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}
