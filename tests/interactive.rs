//! The operator's side of a run, through a real pseudo-terminal: the `drbook` executable
//! runs on a pty (expectrl), the test reads what it draws and types keys, as a person at
//! a terminal would. Checkpoints of every type (and a wrong number asked again), answers
//! steering a later `when`, missing inputs asked and checked, `on_failure: ask`, a
//! checkpoint's timeout, and Ctrl-C while a command runs: pause (then `drbook resume`),
//! abort, or carry on.
//!
//! Every wait for the screen is bounded (`EXPECT_TIMEOUT`): a prompt that never comes
//! fails the test instead of hanging it. Nothing waits by sleeping: the test waits for
//! the text that says the state it needs (a command prints `waiting` once its pid file
//! is written).

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::process::unix::WaitStatus;
use expectrl::{Expect, Session};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::{Value, json};

use crate::support::Drbook;

/// Longest wait for one expected text. Generous for a loaded 2-core CI machine, short
/// enough that a hang fails quickly.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);

const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";
const CTRL_C: &str = "\x03";

/// `drbook` on a pseudo-terminal.
pub(crate) struct Pty {
    session: expectrl::session::OsSession,
    /// Everything read so far, for failure messages.
    seen: String,
}

impl Pty {
    /// Starts `command` (the harness's, with its directory and environment) on a fresh
    /// 80x24 pty.
    pub(crate) fn spawn(command: Command) -> Pty {
        let session = Session::spawn(command).expect("drbook starts on a pty");
        Pty {
            session,
            seen: String::new(),
        }
    }

    /// Waits until `text` appears; returns what came before it (and it).
    pub(crate) fn expect(&mut self, text: &str) -> String {
        let start = Instant::now();
        loop {
            match self.session.check(text) {
                Ok(found) if !found.is_empty() => {
                    let before = String::from_utf8_lossy(found.before()).into_owned();
                    let matched = String::from_utf8_lossy(&found[0]).into_owned();
                    self.seen.push_str(&before);
                    self.seen.push_str(&matched);
                    return before + &matched;
                }
                Ok(_) => {}
                Err(e) => panic!(
                    "waiting for {text:?}: {e}; the terminal showed:\n{}",
                    self.screen()
                ),
            }
            let left = EXPECT_TIMEOUT.saturating_sub(start.elapsed());
            assert!(
                !left.is_zero(),
                "{text:?} did not appear within {EXPECT_TIMEOUT:?}; the terminal showed:\n{}",
                self.screen()
            );
            self.wait_readable(left);
        }
    }

    /// Blocks until the pty has output (or `limit` passes), instead of spinning.
    fn wait_readable(&self, limit: Duration) {
        let fd = self.session.get_stream().as_raw_fd();
        // SAFETY: the session owns the descriptor and outlives this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(limit).unwrap_or(PollTimeout::MAX);
        let _ = poll(&mut fds, timeout);
    }

    /// What the test saw, plus whatever is still unread.
    fn screen(&mut self) -> String {
        let mut rest = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.session.try_read(&mut buf) {
            if n == 0 {
                break;
            }
            rest.extend_from_slice(&buf[..n]);
        }
        format!("{}{}", self.seen, String::from_utf8_lossy(&rest))
    }

    pub(crate) fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("the pty takes keys");
    }

    /// Reads to the end of the output and returns the exit code.
    pub(crate) fn exit_code(mut self) -> i32 {
        let start = Instant::now();
        loop {
            match self.session.check(expectrl::Eof) {
                Ok(found) if !found.is_empty() => break,
                Ok(_) => {}
                Err(expectrl::Error::Eof) => break,
                Err(e) => panic!("reading to the end: {e}"),
            }
            let left = EXPECT_TIMEOUT.saturating_sub(start.elapsed());
            assert!(
                !left.is_zero(),
                "drbook did not exit within {EXPECT_TIMEOUT:?}; the terminal showed:\n{}",
                self.screen()
            );
            self.wait_readable(left);
        }
        match self.session.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("drbook ended with {other:?}"),
        }
    }
}

/// The events of run `id`'s journal.
fn journal(test: &Drbook, id: &str) -> Vec<Value> {
    test.journal(id)
        .into_iter()
        .map(|r| r["event"].clone())
        .collect()
}

fn events<'a>(journal: &'a [Value], kind: &str) -> Vec<&'a Value> {
    journal.iter().filter(|e| e["type"] == kind).collect()
}

fn answer_of<'a>(journal: &'a [Value], step: &str) -> &'a Value {
    journal
        .iter()
        .find(|e| e["type"] == "checkpoint_answered" && e["step"] == step)
        .unwrap_or_else(|| panic!("no answer to `{step}` in {journal:#?}"))
}

/// A test whose runbook names files in the test's own directory.
fn written(runbook: impl FnOnce(&Path) -> String) -> Drbook {
    let test = Drbook::new();
    let text = runbook(test.path());
    test.runbook(&text)
}

/// `drbook run runbook.yaml --run-id <id> --operator alice extra...` on a pty.
fn run(test: &Drbook, id: &str, extra: &[&str]) -> Pty {
    let command = test
        .clone()
        .env("TERM", "xterm")
        .env_remove("DRBOOK_OPERATOR")
        .args(["run", "runbook.yaml", "--run-id", id, "--operator", "alice"])
        .args(extra)
        .command();
    Pty::spawn(command)
}

const CHECKPOINTS: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: checkpoints, version: 1.0.0, title: Every checkpoint type}
spec:
  steps:
    - id: go
      checkpoint: {prompt: "Proceed with the restore?", type: confirm}
    - id: pick
      checkpoint: {prompt: "Which snapshot?", type: choice, choices: [latest, yesterday, last-week]}
    - id: ticket
      checkpoint: {prompt: "Incident ticket", type: text}
    - id: healthy
      checkpoint: {prompt: "How many members are healthy?", type: number}
    - id: restore_yesterday
      when: "{{ steps.pick.answer == 'yesterday' }}"
      action: shell
      with: {run: "echo restoring {{ steps.pick.answer }} for {{ steps.ticket.answer }} with {{ steps.healthy.answer }} healthy"}
    - id: restore_latest
      when: "{{ steps.pick.answer == 'latest' }}"
      action: shell
      with: {run: "echo restoring latest"}
"#;

#[test]
fn checkpoints_are_answered_at_the_terminal_and_steer_the_run() {
    let fixture = Drbook::new().runbook(CHECKPOINTS);
    let mut pty = run(&fixture, "cp", &[]);
    pty.expect("Proceed with the restore?");
    pty.send("y");
    pty.expect("Which snapshot?");
    pty.expect("last-week");
    pty.send(DOWN);
    pty.send(ENTER);
    pty.expect("Which snapshot? · yesterday");
    pty.expect("Incident ticket");
    pty.send("INC-42");
    pty.send(ENTER);
    pty.expect("How many members are healthy?");
    pty.send("two");
    pty.send(ENTER);
    pty.expect("`two` is not a number");
    pty.expect("How many members are healthy?");
    pty.send("2");
    pty.send(ENTER);
    pty.expect("restoring yesterday for INC-42 with 2 healthy");
    pty.expect("run succeeded");
    assert_eq!(pty.exit_code(), 0);

    let journal = journal(&fixture, "cp");
    let alice = json!({"kind": "operator", "name": "alice"});
    for (step, answer) in [
        ("go", json!(true)),
        ("pick", json!("yesterday")),
        ("ticket", json!("INC-42")),
        ("healthy", json!(2)),
    ] {
        let event = answer_of(&journal, step);
        assert_eq!(event["answer"], answer, "{step}");
        assert_eq!(event["by"], alice, "{step}");
    }
    let skipped = events(&journal, "step_skipped");
    assert_eq!(skipped.len(), 1, "{skipped:#?}");
    assert_eq!(skipped[0]["step"], "restore_latest");
}

#[test]
fn a_missing_input_is_asked_and_checked() {
    let fixture = Drbook::new().runbook(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: inputs, version: 1.0.0, title: Inputs}
spec:
  inputs:
    - {name: replicas, type: number, description: members to keep}
  steps:
    - id: scale
      action: shell
      with: {run: "echo scaling to {{ inputs.replicas }}"}
"#,
    );
    let mut pty = run(&fixture, "in", &[]);
    pty.expect("replicas (members to keep)");
    pty.send("three");
    pty.send(ENTER);
    pty.expect("is not one");
    pty.expect("replicas (members to keep)");
    pty.send("3");
    pty.send(ENTER);
    pty.expect("scaling to 3");
    pty.expect("run succeeded");
    assert_eq!(pty.exit_code(), 0);
    let journal = journal(&fixture, "in");
    assert_eq!(journal[0]["type"], "run_started");
    assert_eq!(journal[0]["inputs"], json!({"replicas": 3}));
}

const FAILING: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: failing, version: 1.0.0, title: A step that fails}
spec:
  steps:
    - id: flaky
      action: shell
      with: {run: "echo no quorum >&2; exit 3"}
      on_failure: ask
    - id: after
      action: shell
      with: {run: "echo after the failure"}
"#;

#[test]
fn on_failure_ask_continue_goes_on_without_the_step() {
    let fixture = Drbook::new().runbook(FAILING);
    let mut pty = run(&fixture, "fc", &[]);
    pty.expect("What now?");
    pty.expect("abort the run");
    pty.send(DOWN);
    pty.send(ENTER);
    pty.expect("continue without it");
    pty.expect("after the failure");
    let code = pty.exit_code();
    let journal = journal(&fixture, "fc");
    let started: Vec<&Value> = events(&journal, "step_started")
        .into_iter()
        .filter(|e| e["step"] == "after")
        .collect();
    assert_eq!(started.len(), 1, "`after` runs once: {journal:#?}");
    let finished = journal.last().unwrap();
    assert_eq!(finished["type"], "run_finished", "{journal:#?}");
    assert_eq!(
        code,
        if finished["outcome"] == "succeeded" {
            0
        } else {
            1
        }
    );
}

#[test]
fn on_failure_ask_abort_ends_the_run() {
    let fixture = Drbook::new().runbook(FAILING);
    let mut pty = run(&fixture, "fa", &[]);
    pty.expect("What now?");
    pty.expect("abort the run");
    pty.send(DOWN);
    pty.send(DOWN);
    pty.send(ENTER);
    pty.expect("run failed");
    assert_eq!(pty.exit_code(), 1);
    let journal = journal(&fixture, "fa");
    assert!(
        !journal.iter().any(|e| e["step"] == "after"),
        "`after` never starts: {journal:#?}"
    );
    let finished = journal.last().unwrap();
    assert_eq!(finished["type"], "run_finished");
    assert_eq!(finished["outcome"], "failed");
}

const TIMEOUTS: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: timeouts, version: 1.0.0, title: A checkpoint nobody answers}
spec:
  steps:
    # The answer only steers what the last step prints: "no" must not stop the run.
    - id: writes_stopped
      checkpoint: {prompt: "Has the DBA stopped writes?", type: confirm, default: false, timeout: 1s, on_no: continue}
    - id: ticket
      checkpoint: {prompt: "Incident ticket", type: text}
    - id: show
      action: shell
      with: {run: "echo ticket {{ steps.ticket.answer }}, writes stopped {{ steps.writes_stopped.answer }}"}
"#;

/// The timed-out question leaves the screen and the terminal: the next question gets
/// the keys (a prompt abandoned in a blocking read used to swallow them).
#[test]
fn a_checkpoint_nobody_answers_takes_its_default_and_the_next_prompt_works() {
    let fixture = Drbook::new().runbook(TIMEOUTS);
    let mut pty = run(&fixture, "to", &[]);
    pty.expect("Has the DBA stopped writes?");
    pty.expect("no (no answer in time)");
    pty.expect("Incident ticket");
    pty.send("INC-7");
    pty.send(ENTER);
    // A boolean prints as the format spells it.
    pty.expect("ticket INC-7, writes stopped false");
    pty.expect("run succeeded");
    assert_eq!(pty.exit_code(), 0);
    let journal = journal(&fixture, "to");
    let timed_out = answer_of(&journal, "writes_stopped");
    assert_eq!(timed_out["answer"], json!(false));
    assert_eq!(timed_out["by"], json!({"kind": "timeout_default"}));
    assert_eq!(
        answer_of(&journal, "ticket")["by"],
        json!({"kind": "operator", "name": "alice"})
    );
}

#[test]
fn a_checkpoint_without_default_stops_the_run_at_its_timeout() {
    let fixture = Drbook::new().runbook(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: timeouts, version: 1.0.0, title: No default}
spec:
  steps:
    - id: approve
      checkpoint: {prompt: "Approve the restore?", type: confirm, timeout: 1s}
    - id: restore
      action: shell
      with: {run: "echo restoring"}
"#,
    );
    let mut pty = run(&fixture, "nd", &[]);
    pty.expect("Approve the restore?");
    pty.expect("run failed");
    assert_eq!(pty.exit_code(), 1);
    let journal = journal(&fixture, "nd");
    assert!(!journal.iter().any(|e| e["step"] == "restore"));
    assert!(events(&journal, "checkpoint_answered").is_empty());
}

/// A command that writes its pid, says `waiting` and waits for the `go` file.
fn slow_runbook(dir: &Path) -> String {
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: interrupted, version: 1.0.0, title: Ctrl-C}}
spec:
  steps:
    - id: first
      action: shell
      with: {{run: "echo first >> {dir}/log"}}
    - id: slow
      action: shell
      idempotent: true
      with: {{run: "echo $$ > {dir}/pid; echo waiting; while [ ! -e {dir}/go ]; do sleep 0.05; done; echo slow >> {dir}/log"}}
    - id: last
      action: shell
      with: {{run: "echo last >> {dir}/log"}}
"#,
        dir = dir.display()
    )
}

/// Whether process `pid` still runs (a zombie has ended: only its exit status is left).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            // `pid (comm) S ...`: the state follows the last `)`.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with(['Z', 'X'])
        }
    }
}

fn interrupt_the_slow_step(fixture: &Drbook, id: &str) -> (Pty, i32) {
    let mut pty = run(fixture, id, &[]);
    pty.expect("waiting");
    let pid: i32 = std::fs::read_to_string(fixture.path().join("pid"))
        .expect("the step wrote its pid before saying `waiting`")
        .trim()
        .parse()
        .unwrap();
    assert!(running(pid));
    pty.send(CTRL_C);
    pty.expect("Ctrl-C: what now?");
    pty.expect("carry on");
    (pty, pid)
}

#[test]
fn ctrl_c_while_a_command_runs_pauses_the_run_and_resume_finishes_it() {
    let fixture = written(slow_runbook);
    let (mut pty, pid) = interrupt_the_slow_step(&fixture, "cc");
    pty.send(ENTER);
    pty.expect("paused");
    assert_eq!(pty.exit_code(), 3);
    assert!(!running(pid), "the step's process {pid} was stopped");

    let journal = journal(&fixture, "cc");
    assert_eq!(
        journal.last().unwrap()["type"],
        "run_paused",
        "{journal:#?}"
    );
    let slow = events(&journal, "step_finished")
        .into_iter()
        .find(|e| e["step"] == "slow")
        .expect("the interrupted step is recorded as finished");
    assert_eq!(slow["outcome"]["result"], "cancelled");

    std::fs::write(fixture.path().join("go"), "").unwrap();
    let resumed = fixture.run_with(&["resume", "cc"]);
    assert_eq!(resumed.code, 0, "{}{}", resumed.stdout, resumed.stderr);
    assert_eq!(
        std::fs::read_to_string(fixture.path().join("log")).unwrap(),
        "first\nslow\nlast\n"
    );
    let journal = self::journal(&fixture, "cc");
    let finished = journal.last().unwrap();
    assert_eq!(finished["type"], "run_finished");
    assert_eq!(finished["outcome"], "succeeded");
}

#[test]
fn ctrl_c_then_abort_ends_the_run_for_good() {
    let fixture = written(slow_runbook);
    let (mut pty, pid) = interrupt_the_slow_step(&fixture, "ca");
    pty.send(DOWN);
    pty.send(ENTER);
    pty.expect("aborted by the operator");
    assert_eq!(pty.exit_code(), 1);
    assert!(!running(pid), "the step's process {pid} was stopped");
    let journal = journal(&fixture, "ca");
    let finished = journal.last().unwrap();
    assert_eq!(finished["type"], "run_finished", "{journal:#?}");
    assert_eq!(finished["outcome"], "aborted");
    let resumed = fixture.run_with(&["resume", "ca"]);
    assert_ne!(resumed.code, 0, "an aborted run is not resumed");
}

#[test]
fn ctrl_c_then_carry_on_lets_the_run_finish() {
    let fixture = written(slow_runbook);
    let (mut pty, pid) = interrupt_the_slow_step(&fixture, "co");
    assert!(running(pid), "the question does not stop the step");
    pty.send(DOWN);
    pty.send(DOWN);
    pty.send(ENTER);
    pty.expect("what now? · carry on");
    std::fs::write(fixture.path().join("go"), "").unwrap();
    pty.expect("run succeeded");
    assert_eq!(pty.exit_code(), 0);
    assert_eq!(
        std::fs::read_to_string(fixture.path().join("log")).unwrap(),
        "first\nslow\nlast\n"
    );
}
