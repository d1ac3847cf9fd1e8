//! At a terminal, resume asks what happened to a step that was interrupted and is not
//! safe to re-run: it finished (recorded as `marked_done`, not run again), run it again,
//! or abort (nothing written). drbook runs on a real pseudo-terminal (expectrl); every
//! wait for the screen is bounded by `LIMIT`.

use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};

use super::*;

const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";

/// A run killed in the middle of s03 (a plain `shell` step) in state directory `case`.
fn crashed_in_s03(f: &Drbook, case: &str) -> Vec<u8> {
    drbook(
        f,
        case,
        &["run", "twenty.yaml", "--run-id", "r1"],
        &[("CRASH_AT", "s03")],
    )
    .assert_killed(case);
    journal_bytes(f, case, "r1")
}

/// `drbook resume r1` on a pty; answers the question about s03 with `keys` and returns
/// the exit code and everything the terminal showed.
fn resume_at_a_terminal(f: &Drbook, case: &str, keys: &str) -> (i32, String) {
    let command = in_case(f, case)
        .env("TERM", "xterm")
        .env("DRBOOK_OPERATOR", "carol")
        .args(["resume", "r1"])
        .command();
    let mut session = Session::spawn(command).expect("drbook starts on a pty");
    session.set_expect_timeout(Some(LIMIT));
    let mut shown = String::new();
    for text in [
        "Step `s03` was running when drbook stopped; check what it did. Did it finish?",
        // The last choice: the whole question is on the screen.
        "abort the run",
    ] {
        let found = session
            .expect(text)
            .unwrap_or_else(|e| panic!("{case}: waiting for {text:?}: {e}\n{shown}"));
        shown.push_str(&String::from_utf8_lossy(found.before()));
        shown.push_str(text);
    }
    session.send(keys).unwrap();
    let rest = session
        .expect(Eof)
        .unwrap_or_else(|e| panic!("{case}: waiting for drbook to end: {e}\n{shown}"));
    shown.push_str(&String::from_utf8_lossy(rest.before()));
    if !rest.is_empty() {
        shown.push_str(&String::from_utf8_lossy(&rest[0]));
    }
    let code = match session.get_process().wait() {
        Ok(WaitStatus::Exited(_, code)) => code,
        other => panic!("{case}: drbook ended with {other:?}\n{shown}"),
    };
    (code, shown)
}

#[test]
fn the_operator_says_an_interrupted_step_finished_and_it_is_not_run_again() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    let before = crashed_in_s03(&f, "done");
    let (code, shown) = resume_at_a_terminal(&f, "done", &format!("{UP}{ENTER}"));
    assert_eq!(code, 0, "{shown}");
    assert_eq!(effects(&f, "done"), each_once_except(None));
    let after = journal_bytes(&f, "done", "r1");
    assert!(after.starts_with(&before), "resume rewrote history");
    let records = verified(&after);
    assert_eq!(sessions(&records), [0, 1]);
    let finished = step_records(&records, "step_finished", "s03");
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["session"], 1);
    assert_eq!(finished[0]["event"]["attempt"], 1);
    assert_eq!(
        finished[0]["event"]["outcome"],
        serde_json::json!({"result": "marked_done", "by": "carol"})
    );
    assert_eq!(step_records(&records, "step_started", "s03").len(), 1);
    assert_eq!(kind(records.last().unwrap()), "run_finished");
}

#[test]
fn the_operator_has_an_interrupted_step_run_again() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    crashed_in_s03(&f, "again");
    // "run it again" is the default.
    let (code, shown) = resume_at_a_terminal(&f, "again", ENTER);
    assert_eq!(code, 0, "{shown}");
    assert_eq!(effects(&f, "again"), each_once_except(Some(3)));
    let records = verified(&journal_bytes(&f, "again", "r1"));
    let attempts: Vec<&Value> = step_records(&records, "step_started", "s03")
        .iter()
        .map(|r| &r["event"]["attempt"])
        .collect();
    assert_eq!(attempts, [1, 2]);
}

#[test]
fn the_operator_aborts_the_resume_and_nothing_is_written() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    let before = crashed_in_s03(&f, "abort");
    let (code, shown) = resume_at_a_terminal(&f, "abort", &format!("{DOWN}{ENTER}"));
    assert_eq!(code, 4, "{shown}");
    assert!(
        shown.contains(
            "resume of run `r1` aborted at the operator's word: step `s03` needs attention first; nothing was changed"
        ),
        "{shown}"
    );
    assert_eq!(journal_bytes(&f, "abort", "r1"), before, "journal changed");
    assert_eq!(effects(&f, "abort"), ["s01", "s02", "s03"]);
}
