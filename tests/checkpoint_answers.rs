//! Checkpoint answers with meaning, through the real executable.
//!
//! A confirm answered "no" — by a person at a real pseudo-terminal, or by a drill's
//! answers file — stops the run "by the operator" (exit 5, `runs show` says stopped):
//! the step after it never runs, and `resume` asks the checkpoint again, so a "yes"
//! finishes the run. `on_no: continue` lets the run go on. `validate` refuses answers
//! compared as the wrong type. An unattended drill is checked before its first step: a
//! missing answer refuses it (exit 4) naming the checkpoint, a wrong answer type is an
//! invalid answers file (exit 2) at its line, and the inject step's marker file stays
//! absent either way.

use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};
use serde_json::Value;

use crate::support::harness::LIMIT;
use crate::support::{Drbook, Ran};

/// A drill: an inject step, a confirm, and the restore it guards; each action leaves a
/// marker file in the run's working directory.
const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: approve, version: 1.0.0}
spec:
  steps:
    - id: approve
      checkpoint: {prompt: "Restore now?", type: confirm}
    - id: restore
      action: shell
      with: {run: "touch restored"}
  drill:
    inject:
      - id: break
        action: shell
        with: {run: "touch injected"}
"#;

const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  staging:
    environment: staging
    drill: allowed
";

fn drill(answers: &str) -> Drbook {
    Drbook::new()
        .runbook(RUNBOOK)
        .targets(TARGETS)
        .answers(answers)
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "d1",
        ])
}

fn kinds(ran: &Ran) -> Vec<String> {
    ran.events()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn last_of<'a>(ran: &'a Ran, kind: &str) -> &'a Value {
    ran.events()
        .into_iter()
        .rev()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no `{kind}` in {:?}", kinds(ran)))
}

#[test]
fn no_from_an_answers_file_stops_the_drill_and_resume_with_yes_finishes_it() {
    let f = drill("approve: false\n");
    let ran = f.clone().run();
    ran.assert_code(5, "a drill answered no");
    assert!(
        ran.stderr
            .contains("run d1 stopped by the operator: checkpoint `approve` was answered no"),
        "{}",
        ran.stderr
    );
    let work = f.work("d1");
    assert!(work.join("injected").exists(), "the inject step ran");
    assert!(
        !work.join("restored").exists(),
        "the step after `no` never ran"
    );
    let answered = last_of(&ran, "checkpoint_answered");
    assert_eq!(answered["answer"], false);
    assert_eq!(answered["by"]["kind"], "answers_file");
    let paused = last_of(&ran, "run_paused");
    assert_eq!(paused["stopped_at"], "approve");
    assert!(!kinds(&ran).contains(&"run_finished".to_string()));
    let shown = ran.then().args(["runs", "show", "d1"]).run();
    assert!(shown.stdout.contains("status: stopped"), "{}", shown.stdout);
    assert!(
        shown
            .stdout
            .contains("stopped by the operator at `approve`"),
        "{}",
        shown.stdout
    );

    // The operator changes their mind: the file now says yes, and resume asks again.
    f.write("answers.yaml", "approve: true\n");
    let resumed = ran.resume();
    resumed.assert_code(0, "the resumed drill");
    assert!(work.join("restored").exists());
    assert_eq!(last_of(&resumed, "checkpoint_answered")["answer"], true);
    assert_eq!(last_of(&resumed, "run_finished")["outcome"], "succeeded");
}

#[test]
fn on_no_continue_lets_the_run_go_on() {
    let runbook = RUNBOOK.replace(
        r#"{prompt: "Restore now?", type: confirm}"#,
        r#"{prompt: "Restore now?", type: confirm, on_no: continue}"#,
    );
    let f = drill("approve: false\n").runbook(&runbook);
    let ran = f.clone().run();
    ran.assert_code(0, "a drill whose no only steers");
    assert!(f.work("d1").join("restored").exists());
    assert_eq!(last_of(&ran, "run_finished")["outcome"], "succeeded");
}

#[test]
fn no_from_a_person_stops_the_run_and_resume_asks_again() {
    let f = Drbook::new().runbook(RUNBOOK);
    let at_a_terminal = |args: &[&str]| {
        let command = f
            .clone()
            .env("TERM", "xterm")
            .env("DRBOOK_OPERATOR", "carol")
            .args(args)
            .command();
        let mut session = Session::spawn(command).expect("drbook starts on a pty");
        session.set_expect_timeout(Some(LIMIT));
        session
    };
    let finish = |mut session: expectrl::session::OsSession| -> (i32, String) {
        let rest = session.expect(Eof).expect("drbook ends");
        let mut shown = String::from_utf8_lossy(rest.before()).into_owned();
        if !rest.is_empty() {
            shown.push_str(&String::from_utf8_lossy(&rest[0]));
        }
        match session.get_process().wait() {
            Ok(WaitStatus::Exited(_, code)) => (code, shown),
            other => panic!("drbook ended with {other:?}\n{shown}"),
        }
    };

    let mut session = at_a_terminal(&["run", "runbook.yaml", "--run-id", "p1"]);
    session.expect("Restore now?").expect("the question");
    session.send("n").unwrap();
    let (code, shown) = finish(session);
    assert_eq!(code, 5, "{shown}");
    assert!(shown.contains("run stopped by the operator"), "{shown}");
    assert!(!f.work("p1").join("restored").exists());
    let journal: Vec<Value> = f
        .journal("p1")
        .into_iter()
        .map(|r| r["event"].clone())
        .collect();
    let answered = journal
        .iter()
        .find(|e| e["type"] == "checkpoint_answered")
        .expect("the answer is recorded");
    assert_eq!(answered["answer"], false);
    assert_eq!(answered["by"]["name"], "carol");
    assert_eq!(journal.last().unwrap()["stopped_at"], "approve");

    let mut session = at_a_terminal(&["resume", "p1"]);
    session.expect("Restore now?").expect("asked again");
    session.send("y").unwrap();
    let (code, shown) = finish(session);
    assert_eq!(code, 0, "{shown}");
    assert!(f.work("p1").join("restored").exists());
}

#[test]
fn a_drill_missing_an_answer_is_refused_before_anything_runs() {
    let runbook = RUNBOOK.replace(
        "    - id: restore\n",
        "    - id: size\n      when: \"{{ steps.approve.answer }}\"\n      checkpoint: {prompt: \"How many?\", type: number}\n    - id: restore\n",
    );
    let f = drill("approve: true\n").runbook(&runbook);
    let ran = f.clone().run();
    ran.assert_code(4, "a drill without every answer");
    assert!(
        ran.stderr.contains("the answers file `")
            && ran.stderr.contains("has no answer for checkpoint `size`"),
        "{}",
        ran.stderr
    );
    assert!(!f.work("d1").join("injected").exists(), "nothing ran");
    assert!(!f.run_dir("d1").exists(), "no run was recorded");
}

#[test]
fn a_drill_without_a_terminal_or_answers_is_refused_before_anything_runs() {
    let f = Drbook::new().runbook(RUNBOOK).targets(TARGETS);
    let ran = f.run_with(&[
        "drill",
        "runbook.yaml",
        "--target",
        "staging",
        "--run-id",
        "d1",
    ]);
    ran.assert_code(4, "an unattended drill without answers");
    assert!(
        ran.stderr.contains("pass `--answers FILE`") && ran.stderr.contains("`approve`"),
        "{}",
        ran.stderr
    );
    assert!(!f.work("d1").join("injected").exists());
}

#[test]
fn a_wrong_answer_type_is_an_invalid_answers_file_at_its_line() {
    let f = drill("# drill answers\napprove: \"yes\"\n");
    let ran = f.clone().run();
    ran.assert_code(2, "a quoted yes");
    assert!(
        ran.stderr.contains("answers.yaml:2:10"),
        "the place in the answers file: {}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains(
            "the answer to checkpoint `approve` does not fit it: a `confirm` checkpoint cannot take \"yes\""
        ),
        "{}",
        ran.stderr
    );
    assert!(!f.work("d1").join("injected").exists());
}

#[test]
fn validate_refuses_answers_compared_as_the_wrong_type() {
    let runbook = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: compare, version: 1.0.0}
spec:
  steps:
    - id: approve
      checkpoint: {prompt: "Restore now?", type: confirm}
    - id: how
      checkpoint: {prompt: "How?", type: choice, choices: [snapshot, replay]}
    - id: restore
      when: "{{ steps.approve.answer == 'yes' }}"
      action: shell
      with: {run: "true"}
    - id: replay
      when: "{{ steps.how.answer == 'snapshots' }}"
      action: shell
      with: {run: "true"}
"#;
    let f = Drbook::new().runbook(runbook);
    let ran = f.run_with(&["validate", "runbook.yaml"]);
    ran.assert_code(2, "answers compared as the wrong type");
    assert!(
        ran.stderr.contains("runbook.yaml:11:")
            && ran.stderr.contains("a confirm's answer is true or false")
            && ran.stderr.contains("write `{{ steps.approve.answer }}`"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("runbook.yaml:15:")
            && ran
                .stderr
                .contains("`snapshots` is not one of the choices of checkpoint `how`")
            && ran.stderr.contains("did you mean `snapshot`?"),
        "{}",
        ran.stderr
    );
}
