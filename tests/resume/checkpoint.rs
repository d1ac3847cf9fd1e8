//! A checkpoint nobody can answer never fails the run. `drbook resume` without a
//! terminal (from cron) of a run with a checkpoint ahead is refused up front (exit 4),
//! the journal untouched; Ctrl-C at the checkpoint's prompt pauses (exit 3). Either way a later resume at a terminal
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
    // A boolean prints as the format spells it.
    effects.push("restore true".into());
    assert_eq!(effects_of(f, case), effects);
    let records = verified(&journal_bytes(f, case, "r1"));
    let approve: Vec<(&Value, &Value)> = step_records(&records, "step_finished", "approve")
        .iter()
        .map(|r| (&r["event"]["attempt"], &r["event"]["outcome"]["result"]))
        .collect();
    // Every earlier attempt was cut short; the last one is answered.
    let (last, earlier) = approve.split_last().expect("the checkpoint was asked");
    for (i, attempt) in earlier.iter().enumerate() {
        assert_eq!(*attempt, (&Value::from(i + 1), &Value::from("cancelled")));
    }
    assert_eq!(
        *last,
        (&Value::from(approve.len()), &Value::from("succeeded"))
    );
    let answered = step_records(&records, "checkpoint_answered", "approve");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0]["event"]["answer"], true);
    let end = records.last().unwrap();
    assert_eq!(kind(end), "run_finished");
    assert_eq!(end["event"]["outcome"], "succeeded");
    records
}

#[test]
fn a_resume_without_a_terminal_is_refused_up_front_and_a_resume_at_one_asks_it() {
    let f = Drbook::new();
    f.write("approve.yaml", RUNBOOK);
    // Started at a terminal (so the checkpoint could be answered), killed at `prepare`.
    let command = in_case(&f, "cron")
        .env("TERM", "xterm")
        .env("CRASH_AT", "prepare")
        .args(["run", "approve.yaml", "--run-id", "r1"])
        .command();
    let mut session = Session::spawn(command).expect("drbook starts on a pty");
    session.set_expect_timeout(Some(LIMIT));
    let _ = session.expect(Eof);
    assert!(
        matches!(
            session.get_process().wait(),
            Ok(WaitStatus::Signaled(
                _,
                expectrl::process::unix::Signal::SIGKILL,
                _
            ))
        ),
        "the first run is killed at `prepare`"
    );
    let before = journal_bytes(&f, "cron", "r1");

    // From cron nobody can answer the checkpoint still ahead: known before the first
    // step, so the resume is refused (exit 4) and the journal is not touched, instead
    // of re-running `prepare` and stopping half-way.
    let refused = drbook(&f, "cron", &["resume", "r1"], &[]);
    refused.assert_code(4, "the resume without a terminal");
    assert!(
        refused.stderr.contains(
            "there is no terminal to ask on, but this run asks the operator at checkpoint `approve`"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(
        journal_bytes(&f, "cron", "r1"),
        before,
        "the journal is unchanged"
    );
    assert_eq!(effects_of(&f, "cron"), ["prepare"]);

    let records = resume_and_answer(&f, "cron", &["prepare", "prepare"]);
    assert_eq!(sessions(&records), [0, 1]);
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
