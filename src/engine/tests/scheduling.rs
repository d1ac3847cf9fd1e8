//! Order by `needs`, the `foreach` concurrency bound, retries with their back-off and
//! timeouts.

use std::time::Duration;

use serde_json::json;

use super::fakes::{Act, Harness, story};
use crate::journal::event::{Event, Outcome, RunOutcome};

#[tokio::test]
async fn steps_start_when_their_needs_have_finished_and_not_before() {
    let mut h = Harness::new(
        r#"  steps:
    - {id: a, action: shell, with: {run: a}}
    - {id: b, action: shell, needs: [], with: {run: b}}
    - {id: c, action: shell, needs: [a, b], with: {run: c}}
"#,
    );
    h.catalog.script("a", [Act::Hold]);
    h.catalog.script("b", [Act::Hold]);
    let mut engine = h.engine(Vec::new());
    let catalog = h.catalog.clone();
    let end = h
        .drive(&mut engine, async {
            // `b` needs nothing: it runs while `a` still does.
            catalog.wait_started(2).await;
            assert_eq!(catalog.started_steps(), ["a", "b"]);
            catalog.release(2);
        })
        .await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    let story = story(&engine.recorder.records);
    let at = |line: &str| story.iter().position(|l| l == line).unwrap();
    assert!(
        at("started c 1") > at("finished a 1 succeeded"),
        "{story:?}"
    );
    assert!(
        at("started c 1") > at("finished b 1 succeeded"),
        "{story:?}"
    );
    assert_eq!(h.catalog.most_at_once(), 2);
}

#[tokio::test]
async fn a_foreach_runs_at_most_its_concurrency_at_once() {
    let mut h = Harness::new(
        r#"  steps:
    - id: fan
      action: shell
      foreach: [m0, m1, m2, m3, m4]
      concurrency: 2
      with: {run: "restore {{ item }}"}
"#,
    );
    h.catalog.script("fan", std::iter::repeat_n(Act::Hold, 5));
    let mut engine = h.engine(Vec::new());
    let catalog = h.catalog.clone();
    let end = h
        .drive(&mut engine, async {
            catalog.wait_started(2).await;
            catalog.release(5);
        })
        .await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(h.catalog.most_at_once(), 2, "never more than two at once");
    let runs: Vec<_> = h
        .catalog
        .starts()
        .iter()
        .map(|s| s.params["run"].clone())
        .collect();
    assert_eq!(
        runs,
        ["m0", "m1", "m2", "m3", "m4"].map(|m| json!(format!("restore {m}")))
    );
}

#[tokio::test]
async fn a_failed_attempt_is_retried_after_its_back_off() {
    let mut h = Harness::new(
        r#"  steps:
    - id: flaky
      action: shell
      retry: {attempts: 3, backoff: 5s}
      with: {run: flaky}
"#,
    );
    h.catalog.script(
        "flaky",
        [
            Act::Fail("no quorum"),
            Act::Fail("no quorum"),
            Act::Succeed(json!({})),
        ],
    );
    let mut engine = h.engine(Vec::new());
    let clock = h.clock.clone();
    let end = h
        .drive(&mut engine, async {
            assert_eq!(clock.advance_to_next_wait().await, Duration::from_secs(5));
            assert_eq!(clock.advance_to_next_wait().await, Duration::from_secs(5));
        })
        .await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    let at: Vec<u64> = h.catalog.starts().iter().map(|s| s.at.as_secs()).collect();
    assert_eq!(at, [0, 5, 10], "each retry waits out its back-off");
    assert_eq!(
        story(&engine.recorder.records),
        [
            "started flaky 1",
            "finished flaky 1 failed",
            "started flaky 2",
            "finished flaky 2 failed",
            "started flaky 3",
            "finished flaky 3 succeeded"
        ]
    );
}

#[tokio::test]
async fn an_attempt_past_its_timeout_is_stopped_and_fails_the_step() {
    let mut h = Harness::new(
        r#"  steps:
    - {id: slow, action: shell, timeout: 30s, with: {run: slow}}
    - {id: after, action: shell, with: {run: after}}
"#,
    );
    h.catalog.script("slow", [Act::Hang]);
    let mut engine = h.engine(Vec::new());
    let clock = h.clock.clone();
    let end = h
        .drive(&mut engine, async {
            assert_eq!(clock.advance_to_next_wait().await, Duration::from_secs(30));
        })
        .await;
    assert_eq!(end.outcome, Some(RunOutcome::Failed));
    assert_eq!(
        end.reason.as_deref(),
        Some("step `slow` failed: timed out after 30s")
    );
    let finished = engine.recorder.records.iter().find_map(|r| match &r.event {
        Event::StepFinished { outcome, .. } => Some(outcome.clone()),
        _ => None,
    });
    assert_eq!(finished, Some(Outcome::TimedOut { after_ms: 30_000 }));
    assert_eq!(h.catalog.started_steps(), ["slow"], "`after` never starts");
}
