//! The journal is on disk before every effect: drbook runs under `strace -f`, and the
//! order of its system calls proves that each step's `step_started` line was written to
//! the journal and a `fdatasync` of the journal had returned before the step's command
//! was executed, and that nothing written to the journal was still unsynced at that
//! moment (so the previous step's `step_finished` was durable too).
//!
//! A crash test (`resume::mid_step`) shows the `step_started` line is in the file when
//! drbook is killed inside a step; only the system calls show it was fsync'd, since a
//! file's unsynced lines survive a SIGKILL in the page cache but not a power cut.

use std::collections::HashSet;
use std::process::Command;

use super::*;

/// Where each step's command can be recognised in an `execve` (its argument list).
const STEPS: &[(&str, &str)] = &[
    // Run directly (no shell syntax: the shell-free path).
    ("direct", "/bin/echo effect-direct"),
    // Run with `/bin/sh -c`.
    ("shelled", "echo effect-shelled > shelled.txt"),
    ("again", "/bin/echo effect-again"),
];

#[test]
fn every_step_started_is_fsynced_before_its_command_is_executed() {
    let f = test();
    let steps: String = STEPS
        .iter()
        .map(|(id, run)| format!("    - {{id: {id}, action: shell, with: {{run: \"{run}\"}}}}\n"))
        .collect();
    write_runbook(&f, "r.yaml", &format!("  steps:\n{steps}"));
    let trace = f.path().join("strace.txt");
    let drbook = f
        .clone()
        .args(["run", "r.yaml", "--run-id", "r1"])
        .command();
    let mut strace = Command::new("strace");
    strace
        .args(["-f", "-qq", "-s", "65536", "-e"])
        .arg("trace=openat,write,fdatasync,fsync,execve")
        .arg("-o")
        .arg(&trace)
        .arg(drbook.get_program())
        .args(drbook.get_args())
        .current_dir(drbook.get_current_dir().unwrap());
    for (key, value) in drbook.get_envs() {
        match value {
            Some(value) => strace.env(key, value),
            None => strace.env_remove(key),
        };
    }
    let out = strace
        .output()
        .expect("strace runs (scripts/ensure-tools installs it)");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let journal = f.journal("r1");
    assert_eq!(run_finished(&journal)["outcome"], "succeeded");

    let trace = std::fs::read_to_string(&trace).unwrap();
    let executed = check_order(&trace);
    let ids: Vec<&str> = STEPS.iter().map(|(id, _)| *id).collect();
    assert_eq!(executed, ids, "every step's command ran once, in order");
}

/// Walks the trace in order and fails at the first command executed while its
/// `step_started` was not yet written, or while a journal write was not yet synced.
/// Returns the steps whose commands were executed, in order.
fn check_order(trace: &str) -> Vec<&'static str> {
    let mut journal_fd: Option<String> = None;
    // Steps whose `step_started` line was written, and those of them fsync'd since.
    let mut started: HashSet<String> = HashSet::new();
    let mut durable: HashSet<String> = HashSet::new();
    let mut unsynced = false;
    // Threads in a `fdatasync` of the journal that has not returned yet.
    let mut syncing: HashSet<&str> = HashSet::new();
    let mut executed = Vec::new();
    for line in trace.lines() {
        let Some((pid, call)) = line.split_once(' ') else {
            continue;
        };
        let call = call.trim_start();
        if call.starts_with("openat(")
            && call.contains("journal.jsonl\"")
            && call.contains("O_EXCL")
        {
            let fd = call.rsplit("= ").next().unwrap().trim().to_string();
            journal_fd = Some(fd);
            continue;
        }
        let Some(fd) = journal_fd.as_deref() else {
            continue;
        };
        if call.starts_with(&format!("write({fd}, ")) {
            unsynced = true;
            if let Some(step) = started_step(call) {
                started.insert(step);
            }
        } else if call.starts_with(&format!("fdatasync({fd}"))
            || call.starts_with(&format!("fsync({fd}"))
        {
            if call.contains("<unfinished ...>") {
                syncing.insert(pid);
            } else if call.ends_with("= 0") {
                durable.extend(started.iter().cloned());
                unsynced = false;
            }
        } else if (call.starts_with("<... fdatasync resumed>")
            || call.starts_with("<... fsync resumed>"))
            && syncing.remove(pid)
            && call.ends_with("= 0")
        {
            durable.extend(started.iter().cloned());
            unsynced = false;
        } else if call.starts_with("execve(")
            && let Some((id, _)) = STEPS.iter().find(|(_, run)| execs(call, run))
        {
            assert!(
                started.contains(*id),
                "step `{id}`'s command was executed before its step_started was written:\n{line}"
            );
            assert!(
                durable.contains(*id),
                "step `{id}`'s command was executed before its step_started was fsync'd:\n{line}"
            );
            assert!(
                !unsynced,
                "step `{id}`'s command was executed while a journal line was not yet fsync'd:\n{line}"
            );
            executed.push(*id);
        }
    }
    assert!(
        journal_fd.is_some(),
        "the trace shows no journal being created"
    );
    executed
}

/// The step a journal `write` starts, if the line is a `step_started` record.
fn started_step(call: &str) -> Option<String> {
    const MARK: &str = r#"\"type\":\"step_started\",\"step\":\""#;
    let rest = &call[call.find(MARK)? + MARK.len()..];
    Some(rest[..rest.find('\\')?].to_string())
}

/// Whether an `execve` line runs `run`: directly (its words are the arguments) or as
/// `/bin/sh -c run`.
fn execs(call: &str, run: &str) -> bool {
    let words: Vec<String> = run.split(' ').map(|w| format!("\"{w}\"")).collect();
    call.contains(&format!("[{}]", words.join(", ")))
        || call.contains(&format!("[\"/bin/sh\", \"-c\", \"{run}\"]"))
}
