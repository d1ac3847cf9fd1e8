//! `on_failure: abort | continue | ask`, the operator's answers to `ask`, and a
//! checkpoint whose timeout passes without a default.

use serde_json::json;

use super::fakes::{Act, Harness, Reply, status, story};
use crate::journal::event::RunOutcome;
use crate::operator::FailureChoice;

/// `check` fails its only attempt under `policy` (its second attempt succeeds).
fn failing(policy: &str) -> Harness {
    let h = Harness::new(&format!(
        r#"  steps:
    - {{id: check, action: shell, on_failure: {policy}, with: {{run: check}}}}
    - {{id: after, action: shell, with: {{run: after}}}}
"#
    ));
    h.catalog
        .script("check", [Act::Fail("exit 1"), Act::Succeed(json!({}))]);
    h
}

fn after_ran(h: &Harness) -> bool {
    h.catalog.started_steps().contains(&"after".to_string())
}

#[tokio::test]
async fn on_failure_abort_stops_the_run() {
    let mut h = failing("abort");
    let (end, records) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, Some(RunOutcome::Failed));
    assert_eq!(
        end.reason.as_deref(),
        Some("step `check` failed: lost track of the command: exit 1")
    );
    assert_eq!(
        story(&records),
        ["started check 1", "finished check 1 failed"]
    );
}

#[tokio::test]
async fn on_failure_continue_goes_on_and_later_steps_see_the_failure() {
    let mut h = failing("continue");
    let (end, engine) = h.run_engine(Vec::new()).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert!(after_ran(&h));
    assert_eq!(status(&engine, "check"), "failed");
}

#[tokio::test]
async fn on_failure_ask_answered_retry_runs_the_step_again() {
    let mut h = failing("ask");
    h.answerer.decide([FailureChoice::Retry]);
    let (end, engine) = h.run_engine(Vec::new()).await;
    let records = &engine.recorder.records;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        story(records),
        [
            "started check 1",
            "finished check 1 failed",
            "decided check retry",
            "started check 2",
            "finished check 2 succeeded",
            "started after 1",
            "finished after 1 succeeded"
        ]
    );
    assert_eq!(status(&engine, "check"), "succeeded");
}

#[tokio::test]
async fn on_failure_ask_answered_continue_goes_on_without_the_step() {
    let mut h = failing("ask");
    h.answerer.decide([FailureChoice::Continue]);
    let (end, engine) = h.run_engine(Vec::new()).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert!(story(&engine.recorder.records).contains(&"decided check continue".to_string()));
    assert!(after_ran(&h));
    assert_eq!(status(&engine, "check"), "failed");
}

#[tokio::test]
async fn on_failure_ask_answered_abort_stops_the_run() {
    let mut h = failing("ask");
    h.answerer.decide([FailureChoice::Abort]);
    let (end, records) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, Some(RunOutcome::Failed));
    assert_eq!(
        story(&records),
        [
            "started check 1",
            "finished check 1 failed",
            "decided check abort"
        ]
    );
    assert!(!after_ran(&h));
}

#[tokio::test]
async fn on_failure_ask_without_anyone_to_ask_fails_the_run_clearly() {
    let mut h = failing("ask");
    let (end, _) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, Some(RunOutcome::Failed));
    let reason = end.reason.unwrap();
    assert!(
        reason.starts_with("step `check` failed: lost track of the command: exit 1; and the failure of step `check` needs an answer"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_checkpoint_timeout_without_a_default_fails_the_run() {
    let mut h = Harness::new(
        r#"  steps:
    - id: approve
      checkpoint: {prompt: "Go?", type: confirm, timeout: 1s}
    - {id: restore, action: shell, with: {run: restore}}
"#,
    );
    h.answerer.reply("approve", [Reply::NoAnswer]);
    let (end, records) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, Some(RunOutcome::Failed));
    assert_eq!(
        end.reason.as_deref(),
        Some(
            "checkpoint `approve`: no answer to checkpoint `approve` within 1s, and it has no default"
        )
    );
    assert_eq!(
        story(&records),
        ["started approve 1", "finished approve 1 failed"]
    );
    assert!(h.catalog.starts().is_empty());
}

/// Ctrl-C at the question after a failure is a pause: nothing was decided, and the
/// next session asks again.
#[tokio::test]
async fn ctrl_c_at_the_decision_pauses_and_the_next_session_asks_again() {
    let mut h = failing("ask");
    h.answerer.ctrl_c_at_the_decision();
    let (end, records) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, None, "paused");
    assert_eq!(end.reason.as_deref(), Some("interrupted (Ctrl-C)"));
    assert_eq!(
        story(&records),
        ["started check 1", "finished check 1 failed", "paused"]
    );
    h.answerer.decide([FailureChoice::Continue]);
    let (end, engine) = h.run_engine(super::journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(h.answerer.asked(), ["failure check", "failure check"]);
    assert_eq!(status(&engine, "check"), "failed");
}
