//! `drbook audit` of 10,000 records in a local store directory: the goal (issue 11) is
//! under 2 s. docs/performance.md records the figures.
//!
//! The history is the one tests/audit.rs checks (tests/audit/history.rs): 20 runbooks,
//! drills and incidents, each record a registration, a hash-chained journal of 7 to 8
//! lines, a signature file and a review, with the planted findings. It is written once,
//! then the release `drbook audit STORE --format json` is timed end to end as a user
//! runs it (process start, listing, reading and verifying every journal, the history,
//! the JSON), `RUNS` times (default 5), after one warm-up run that fills the page cache.
//!
//! Usage: cargo bench --bench audit_10000      (RECORDS=20000 for another size)

#[path = "../tests/audit/history.rs"]
#[allow(dead_code)]
mod history;

use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let records: usize = std::env::var("RECORDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let started = Instant::now();
    history::plant(&[store.as_path()], records, chrono::Utc::now());
    eprintln!(
        "audit_10000: wrote {records} records in {:.1?}",
        started.elapsed()
    );
    let audit = || {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_drbook"))
            .args(["audit", &store.display().to_string(), "--format", "json"])
            .output()
            .expect("drbook runs");
        let took = started.elapsed();
        // The planted truncated records fail verification: 6 is the expected status.
        assert_eq!(
            output.status.code(),
            Some(6),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("the audit is JSON");
        assert_eq!(json["records"].as_array().map(Vec::len), Some(records));
        took
    };
    audit();
    let mut times: Vec<Duration> = (0..runs).map(|_| audit()).collect();
    times.sort();
    println!(
        "audit of {records} records: median {:.0?}, min {:.0?}, max {:.0?} ({runs} runs)",
        times[runs / 2],
        times[0],
        times[runs - 1]
    );
}
