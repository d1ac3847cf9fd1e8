//! The runbook's guidance on screen, through the real executable: `spec.description`
//! when a run starts (shortened, with the command that prints it whole), each step's
//! title and description when it starts, a checkpoint's description above its prompt,
//! and the same as `{"type":"guidance"}` lines with `--output json`. And nothing draws
//! over a question: while a checkpoint or the Ctrl-C menu waits, the spinners stop.
//!
//! Terminals are real pseudo-terminals (expectrl). Every wait for the screen is bounded
//! (`EXPECT_TIMEOUT`). Checking that nothing is drawn needs time to pass: those tests
//! read whatever drbook draws for `QUIET` (a dozen spinner ticks) and check it.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::process::Termios as _;
use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use serde_json::Value;

use crate::support::Drbook;

const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test watches a question for anything drawn over it: the spinners tick
/// every 120 ms, so a dozen ticks would show.
const QUIET: Duration = Duration::from_millis(1500);
const ENTER: &str = "\r";
const CTRL_C: &str = "\x03";

/// A runbook with guidance everywhere: a description longer than the run's start shows
/// (its last paragraph is cut), titles, a `foreach` step whose title reads `item`, and a
/// checkpoint with a description.
const GUIDED: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: guided, version: 1.0.0, title: Restore etcd after quorum loss}
spec:
  description: |
    # Etcd lost quorum

    Two of three etcd members are gone. This runbook restores **every**
    member from the last snapshot.

    You need:

    - a shell on `cp-0`
    - the restic password

    LAST-PARAGRAPH line one
    line two
    line three
  objectives: {rto: 30m, rpo: 1h}
  steps:
    - id: stop
      title: Stop etcd on every member
      description: |
        Stops the static pods. **Do not wait** for the pods to go.
      action: shell
      with: {run: "echo stopping"}
    - id: restore
      title: "Restore {{ item }}"
      description: Restores each member from the snapshot.
      foreach: [m0, m1]
      concurrency: 1
      action: shell
      with: {run: "echo restoring {{ item }}"}
    - id: approve
      title: Approve the restart
      description: |
        Check that `etcdctl member list` shows three members.
      checkpoint: {prompt: "Restart etcd now?", type: confirm}
    - id: restart
      title: Restart etcd
      description: Starts the static pods again.
      idempotent: true
      action: shell
      # The first time, drbook dies here (as a laptop might), so the test can resume.
      with: {run: "if [ -n \"$DIE_AT_RESTART\" ] && [ ! -e ../../../restarted ]; then touch ../../../restarted; kill -9 $PPID; sleep 5; fi; echo restarted"}
  drill:
    description: Staging only. Stops one member.
    inject:
      - id: break_it
        action: shell
        with: {run: "echo broken"}
"#;

/// A staging target that allows drills, and answers for the checkpoint: without a
/// terminal only a drill with answers may reach a checkpoint.
const TARGETS: &str = "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging: {environment: staging, drill: allowed}\n";

/// The drill of `GUIDED` that drbook dies in at `restart`, without a terminal.
fn guided_drill(id: &str, extra: &[&str]) -> crate::support::Ran {
    Drbook::new()
        .runbook(GUIDED)
        .targets(TARGETS)
        .answers("approve: true\n")
        .env("DIE_AT_RESTART", "1")
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            id,
        ])
        .args(extra.iter().copied())
        .run()
}

/// The position of each of `texts` in `output`, which must be in that order.
fn assert_in_order(output: &str, texts: &[&str]) {
    let mut from = 0;
    for text in texts {
        match output[from..].find(text) {
            Some(at) => from += at + text.len(),
            None => panic!("{text:?} is missing or out of order in:\n{output}"),
        }
    }
}

#[test]
fn text_output_shows_the_description_titles_and_step_descriptions_in_order() {
    let ran = guided_drill("g1", &[]);
    // No terminal: the answers file answers the checkpoint, and its description is in
    // the log; drbook dies at `restart`.
    ran.assert_killed("a drill killed at `restart`");
    assert_in_order(
        &ran.stdout,
        &[
            "objectives: RTO 30m · RPO 1h\n\n  Etcd lost quorum\n",
            "  Two of three etcd members are gone. This runbook restores every\n  member from the last snapshot.\n",
            "  - a shell on `cp-0`\n  - the restic password\n",
            "  … (full text: drbook render runbook.yaml)\n\n",
            "▶ stop — Stop etcd on every member\n    Stops the static pods. Do not wait for the pods to go.\n",
            "stopping",
            "▶ restore [m0] — Restore m0\n    Restores each member from the snapshot.\n",
            "▶ restore [m1] — Restore m1\n",
            "▶ approve — Approve the restart\n    Check that `etcdctl member list` shows three members.\n",
            "▶ restart — Restart etcd\n    Starts the static pods again.\n",
        ],
    );
    assert!(ran.stdout.contains("This drill:"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains("LAST-PARAGRAPH"),
        "the description is shortened:\n{}",
        ran.stdout
    );
    assert_eq!(
        ran.stdout.matches("Restores each member").count(),
        1,
        "a foreach step's description is shown once:\n{}",
        ran.stdout
    );
    // Guidance is shown, not journaled.
    assert!(
        ran.events().iter().all(|e| e["type"] != "guidance"),
        "{:#?}",
        ran.events()
    );

    // Resumed: the title again, not the description; the re-run step's again.
    let resumed = ran.resume();
    resumed.assert_code(0, "the resumed drill");
    assert_in_order(
        &resumed.stdout,
        &[
            "run g1 (resumed)",
            "Restore etcd after quorum loss\n",
            "▶ restart (attempt 2) — Restart etcd\n    Starts the static pods again.\n",
        ],
    );
    assert!(
        !resumed.stdout.contains("Etcd lost quorum"),
        "{}",
        resumed.stdout
    );
}

#[test]
fn json_output_has_the_guidance_as_lines_after_the_records_they_belong_to() {
    let ran = guided_drill("g2", &["--output", "json"]);
    ran.assert_killed("a drill killed at `restart`");
    let lines: Vec<Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let guidance: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["type"] == "guidance")
        .collect();
    let about: Vec<(&str, Option<&str>, Option<u64>)> = guidance
        .iter()
        .map(|(_, g)| {
            (
                g["about"].as_str().unwrap(),
                g["step"].as_str(),
                g["item"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        about,
        [
            ("run", None, None),
            ("step", Some("stop"), None),
            ("step", Some("restore"), Some(0)),
            ("step", Some("restore"), Some(1)),
            ("step", Some("approve"), None),
            ("step", Some("restart"), None),
        ]
    );
    let run = guidance[0].1;
    assert_eq!(run["runbook"], "guided");
    assert_eq!(run["title"], "Restore etcd after quorum loss");
    // The whole description, as written: machines shorten it themselves.
    assert!(
        run["description"]
            .as_str()
            .unwrap()
            .contains("LAST-PARAGRAPH line one\nline two\nline three"),
        "{run}"
    );
    assert!(run.get("seq").is_none(), "guidance is not a record: {run}");
    assert_eq!(run["drill"], "Staging only. Stops one member.", "{run}");
    let step = |i: usize| guidance[i].1;
    assert_eq!(step(1)["title"], "Stop etcd on every member");
    assert_eq!(
        step(1)["description"],
        "Stops the static pods. **Do not wait** for the pods to go.\n"
    );
    assert_eq!(step(2)["title"], "Restore m0");
    assert_eq!(
        step(2)["description"],
        "Restores each member from the snapshot."
    );
    assert_eq!(step(3)["title"], "Restore m1");
    assert!(step(3).get("description").is_none(), "{}", step(3));
    assert_eq!(
        step(4)["description"],
        "Check that `etcdctl member list` shows three members.\n"
    );
    // Each line follows the record it is about.
    for (at, g) in &guidance {
        let before = &lines[at - 1]["event"];
        match g["about"].as_str() {
            Some("run") => assert_eq!(before["type"], "run_started"),
            _ => {
                assert_eq!(before["type"], "step_started", "{g}");
                assert_eq!(before["step"], g["step"]);
                assert_eq!(before["item"], g["item"]);
            }
        }
    }
}

/// `drbook` on a pseudo-terminal; everything read so far is kept for the checks.
struct Pty {
    session: expectrl::session::OsSession,
    seen: String,
}

impl Pty {
    fn spawn(command: Command) -> Pty {
        Pty {
            session: Session::spawn(command).expect("drbook starts on a pty"),
            seen: String::new(),
        }
    }

    /// Waits until `text` appears; returns what came since the last wait, with it.
    fn expect(&mut self, text: &str) -> String {
        let start = Instant::now();
        loop {
            match self.session.check(text) {
                Ok(found) if !found.is_empty() => {
                    let got = String::from_utf8_lossy(found.before()).into_owned()
                        + &String::from_utf8_lossy(&found[0]);
                    self.seen.push_str(&got);
                    return got;
                }
                Ok(_) => {}
                Err(e) => panic!(
                    "waiting for {text:?}: {e}; the terminal showed:\n{}",
                    self.seen
                ),
            }
            let left = EXPECT_TIMEOUT.saturating_sub(start.elapsed());
            assert!(
                !left.is_zero(),
                "{text:?} did not appear within {EXPECT_TIMEOUT:?}; the terminal showed:\n{}",
                self.seen
            );
            self.wait_readable(left);
        }
    }

    fn wait_readable(&self, limit: Duration) -> bool {
        let fd = self.session.get_stream().as_raw_fd();
        // SAFETY: the session owns the descriptor and outlives this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(limit).unwrap_or(PollTimeout::MAX);
        poll(&mut fds, timeout).is_ok_and(|n| n > 0)
    }

    /// Everything drawn during the next `time`.
    fn drawn_for(&mut self, time: Duration) -> String {
        let start = Instant::now();
        let mut drawn = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let left = time.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            if !self.wait_readable(left) {
                continue;
            }
            match self.session.try_read(&mut buf) {
                Ok(0) => break,
                Ok(n) => drawn.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        let drawn = String::from_utf8_lossy(&drawn).into_owned();
        self.seen.push_str(&drawn);
        drawn
    }

    fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("the pty takes keys");
    }

    /// Reads to the end; the exit code and everything the terminal showed.
    fn finish(mut self) -> (i32, String) {
        self.session.set_expect_timeout(Some(EXPECT_TIMEOUT));
        match self.session.expect(Eof) {
            Ok(rest) => self.seen.push_str(&String::from_utf8_lossy(rest.before())),
            Err(expectrl::Error::Eof) => {}
            Err(e) => panic!("waiting for drbook to end: {e}\n{}", self.seen),
        }
        match self.session.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => (code, self.seen),
            other => panic!("drbook ended with {other:?}\n{}", self.seen),
        }
    }
}

/// `drbook run runbook.yaml --run-id <id>` on a pty.
fn at_a_terminal(test: &Drbook, id: &str) -> Pty {
    Pty::spawn(
        test.clone()
            .env("TERM", "xterm")
            .args(["run", "runbook.yaml", "--run-id", id])
            .command(),
    )
}

/// A spinner frame (indicatif's default spinner is braille) or the live clock line.
fn has_spinner(drawn: &str) -> bool {
    drawn.contains(|c: char| ('\u{2801}'..='\u{28ff}').contains(&c)) || drawn.contains("RTO so far")
}

#[test]
fn a_checkpoints_description_is_shown_above_its_prompt() {
    let test = Drbook::new().runbook(GUIDED);
    let mut pty = at_a_terminal(&test, "g3");
    let shown = pty.expect("Restart etcd now?");
    assert_in_order(
        &shown,
        &[
            "▶ approve — Approve the restart",
            "Check that `etcdctl member list` shows three members.",
            "Restart etcd now?",
        ],
    );
    pty.send("y");
    pty.expect("run succeeded");
    let (code, seen) = pty.finish();
    assert_eq!(code, 0, "{seen}");
    // Shown once: by the question, not again by the view.
    assert_eq!(seen.matches("shows three members").count(), 1, "{seen}");
}

#[test]
fn a_checkpoint_answered_from_the_answers_file_at_a_terminal_still_shows_its_description() {
    let test = Drbook::new()
        .runbook(GUIDED)
        .targets("apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging: {environment: staging, drill: allowed}\n")
        .answers("approve: true\n");
    let mut pty = Pty::spawn(
        test.clone()
            .env("TERM", "xterm")
            .args(["drill", "runbook.yaml", "--target", "staging"])
            .args(["--answers", "answers.yaml", "--run-id", "g6"])
            .command(),
    );
    pty.expect("run succeeded");
    let (code, seen) = pty.finish();
    assert_eq!(code, 0, "{seen}");
    assert_in_order(
        &seen,
        &[
            "This drill:",
            "Staging only. Stops one member.",
            "▶ break_it",
            "▶ approve — Approve the restart",
            "Check that `etcdctl member list` shows three members.",
            "approve: true (from answers file",
        ],
    );
    assert_eq!(seen.matches("shows three members").count(), 1, "{seen}");
}

/// A step that says `waiting` and runs until the `go` file exists, with a checkpoint
/// beside it (`needs: []`) when `checkpoint` is set.
fn slow_runbook(dir: &Path, checkpoint: bool) -> String {
    let beside = if checkpoint {
        r#"
    - id: approve
      needs: []
      description: Nothing may be drawn over this question.
      checkpoint: {prompt: "Go on?", type: confirm}"#
    } else {
        ""
    };
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: slow, version: 1.0.0, title: Slow}}
spec:
  steps:
    - id: slow
      foreach: [a, b]
      idempotent: true
      action: shell
      with: {{run: "echo waiting; while [ ! -e {dir}/go ]; do sleep 0.05; done; echo done {{{{ item }}}}"}}{beside}
"#,
        dir = dir.display()
    )
}

#[test]
fn the_ctrl_c_menu_is_not_drawn_over_by_the_spinners() {
    let test = Drbook::new();
    let test = test.clone().runbook(&slow_runbook(test.path(), false));
    let mut pty = at_a_terminal(&test, "g4");
    // As a person's terminal does (the pty starts without): keys typed are echoed.
    pty.session
        .set_echo(true)
        .expect("the pty takes its settings");
    let before = pty.expect("waiting");
    pty.expect("waiting");
    // The spinners run (so the check below could fail).
    let spinning = before + &pty.drawn_for(Duration::from_millis(400));
    assert!(
        has_spinner(&spinning),
        "no spinner before Ctrl-C:\n{spinning}"
    );
    pty.send(CTRL_C);
    let to_the_menu = pty.expect("Ctrl-C: what now?");
    // An echoed `^C` would move the cursor off the spinners, and one would stay behind.
    assert!(!to_the_menu.contains("^C"), "{to_the_menu:?}");
    pty.expect("carry on: Ctrl-C was a slip");
    let over_the_menu = pty.drawn_for(QUIET);
    assert!(
        !has_spinner(&over_the_menu),
        "drawn while the menu waited: {over_the_menu:?}"
    );
    pty.send(ENTER);
    pty.expect("paused");
    let (code, seen) = pty.finish();
    assert_eq!(code, 3, "{seen}");
}

#[test]
fn a_checkpoint_is_not_drawn_over_while_other_steps_run() {
    let test = Drbook::new();
    let test = test.clone().runbook(&slow_runbook(test.path(), true));
    let mut pty = at_a_terminal(&test, "g5");
    let shown = pty.expect("Go on?");
    assert!(
        shown.contains("Nothing may be drawn over this question."),
        "{shown}"
    );
    let over_the_prompt = pty.drawn_for(QUIET);
    assert!(
        !has_spinner(&over_the_prompt),
        "drawn while the checkpoint waited: {over_the_prompt:?}"
    );
    pty.send("y");
    std::fs::write(test.path().join("go"), "").unwrap();
    pty.expect("run succeeded");
    let (code, seen) = pty.finish();
    assert_eq!(code, 0, "{seen}");
}
