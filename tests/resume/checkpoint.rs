//! A checkpoint nobody can answer pauses the run instead of failing it. `drbook resume`
//! without a terminal (from cron) stops at the checkpoint with exit 3 and `run_paused`;
//! Ctrl-C at the checkpoint's prompt pauses too. Either way a later resume at a terminal
//! asks the checkpoint again (its next attempt) and finishes the run. Terminals are real
//! pseudo-terminals (expectrl); every wait for the screen is bounded by `LIMIT`.

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

use super::effects as effects_of;
use super::*;

const CTRL_C: &str = "\x03";

/// A step that kills drbook when `$CRASH_AT` names it (safe to re-run), a checkpoint,
/// and a step that writes the answer.
const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: approve, version: 1.0.0}
spec:
  steps:
    - id: prepare
      action: shell
      idempotent: true
      with: {run: 'echo prepare >> "$FX"; if [ "$CRASH_AT" = prepare ]; then kill -9 $PPID; sleep 5; fi'}
    - id: approve
      checkpoint: {prompt: "Restore now?", type: confirm}
    - id: restore
      action: shell
      with: {run: 'echo "restore {{ steps.approve.answer }}" >> "$FX"'}
"#;

/// `drbook args... --state-dir <case>` on a fresh pty, as operator carol.
fn at_a_terminal(f: &Drbook, case: &str, args: &[&str]) -> OsSession {
    let command = in_case(f, case)
        .env("TERM", "xterm")
        .env("DRBOOK_OPERATOR", "carol")
        .args(args)
        .command();
    let mut session = Session::spawn(command).expect("drbook starts on a pty");
    session.set_expect_timeout(Some(LIMIT));
    session
}

/// Waits for `text` on the screen, adding what came before it to `shown`.
fn expect(session: &mut OsSession, text: &str, shown: &mut String) {
    let found = session
        .expect(text)
        .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\n{shown}"));
    shown.push_str(&String::from_utf8_lossy(found.before()));
    shown.push_str(text);
}

/// Reads to the end of the output; the exit code.
fn exit_code(mut session: OsSession, shown: &mut String) -> i32 {
    let rest = session
        .expect(Eof)
        .unwrap_or_else(|e| panic!("waiting for drbook to end: {e}\n{shown}"));
    shown.push_str(&String::from_utf8_lossy(rest.before()));
    if !rest.is_empty() {
        shown.push_str(&String::from_utf8_lossy(&rest[0]));
    }
    match session.get_process().wait() {
        Ok(WaitStatus::Exited(_, code)) => code,
        other => panic!("drbook ended with {other:?}\n{shown}"),
    }
}

/// Resumes `r1` at a terminal, answers the checkpoint "yes", and checks the run finished
/// with that answer from the checkpoint's next attempt.
fn resume_and_answer(f: &Drbook, case: &str, effects_before: &[&str]) -> Vec<Value> {
    let mut shown = String::new();
    let mut session = at_a_terminal(f, case, &["resume", "r1"]);
    expect(&mut session, "Restore now?", &mut shown);
    session.send("y").unwrap();
    assert_eq!(exit_code(session, &mut shown), 0, "{shown}");
    let mut effects: Vec<String> = effects_before.iter().map(|s| s.to_string()).collect();
    // minijinja prints a boolean as Python does.
    effects.push("restore True".into());
    assert_eq!(effects_of(f, case), effects);
    let records = verified(&journal_bytes(f, case, "r1"));
    let approve: Vec<(&Value, &Value)> = step_records(&records, "step_finished", "approve")
        .iter()
        .map(|r| (&r["event"]["attempt"], &r["event"]["outcome"]["result"]))
        .collect();
    assert_eq!(approve.len(), 2, "{approve:?}");
    assert_eq!(approve[0], (&Value::from(1), &Value::from("cancelled")));
    assert_eq!(approve[1], (&Value::from(2), &Value::from("succeeded")));
    let answered = step_records(&records, "checkpoint_answered", "approve");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0]["event"]["answer"], true);
    let end = records.last().unwrap();
    assert_eq!(kind(end), "run_finished");
    assert_eq!(end["event"]["outcome"], "succeeded");
    records
}

#[test]
fn a_resume_without_a_terminal_pauses_at_the_checkpoint_and_a_resume_at_one_asks_it() {
    let f = Drbook::new();
    f.write("approve.yaml", RUNBOOK);
    drbook(
        &f,
        "cron",
        &["run", "approve.yaml", "--run-id", "r1"],
        &[("CRASH_AT", "prepare")],
    )
    .assert_killed("the first run");

    let paused = drbook(&f, "cron", &["resume", "r1"], &[]);
    paused.assert_code(3, "the resume without a terminal");
    assert!(
        paused.stderr.contains(
            "run r1 paused: checkpoint `approve` needs an answer, but there is no terminal to ask on"
        ),
        "{}",
        paused.stderr
    );
    let records = verified(&journal_bytes(&f, "cron", "r1"));
    assert_eq!(kind(records.last().unwrap()), "run_paused");
    assert!(!records.iter().any(|r| kind(r) == "run_finished"));
    assert!(step_records(&records, "step_started", "restore").is_empty());
    assert_eq!(effects_of(&f, "cron"), ["prepare", "prepare"]);
    let shown = drbook(&f, "cron", &["runs", "show", "r1"], &[]);
    assert!(shown.stdout.contains("status: paused"), "{}", shown.stdout);

    let records = resume_and_answer(&f, "cron", &["prepare", "prepare"]);
    assert_eq!(sessions(&records), [0, 1, 2]);
}

#[test]
fn ctrl_c_at_a_checkpoint_pauses_the_run_and_resume_asks_it_again() {
    let f = Drbook::new();
    f.write("approve.yaml", RUNBOOK);
    let mut shown = String::new();
    let mut session = at_a_terminal(&f, "ctrl-c", &["run", "approve.yaml", "--run-id", "r1"]);
    expect(&mut session, "Restore now?", &mut shown);
    session.send(CTRL_C).unwrap();
    expect(&mut session, "paused", &mut shown);
    assert_eq!(exit_code(session, &mut shown), 3, "{shown}");
    assert!(
        shown.contains("run r1 paused: interrupted (Ctrl-C); its state is recorded"),
        "{shown}"
    );
    // The prompt's last line says it was interrupted, without the ✔ of an answer.
    let line = shown
        .lines()
        .rev()
        .find(|l| l.contains("(interrupted)"))
        .unwrap_or_else(|| panic!("no interrupted prompt line:\n{shown}"));
    assert!(!line.contains('✔'), "{line}");
    assert!(line.contains('✘'), "{line}");
    let records = verified(&journal_bytes(&f, "ctrl-c", "r1"));
    assert_eq!(kind(records.last().unwrap()), "run_paused");
    assert_eq!(effects_of(&f, "ctrl-c"), ["prepare"]);

    let records = resume_and_answer(&f, "ctrl-c", &["prepare"]);
    assert_eq!(sessions(&records), [0, 1]);
}
