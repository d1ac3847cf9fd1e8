//! Pauses: Ctrl-C during an action, a checkpoint nobody can answer (no terminal, or
//! Ctrl-C at its prompt), and a confirm answered "no" (stopped by the operator). A
//! paused run records the cancelled attempts and `run_paused`, and the next session,
//! replayed from that journal, asks or runs them again.

use serde_json::json;

use super::fakes::{Act, Harness, Reply, story};
use crate::journal::Event;
use crate::journal::event::{Outcome, RunOutcome};

/// A checkpoint, and beside it (`needs: []`) an action that runs while it is asked.
const CHECKPOINT_BESIDE_AN_ACTION: &str = r#"  steps:
    - id: approve
      checkpoint: {prompt: "Go?", type: confirm}
    - {id: copy, action: shell, needs: [], with: {run: copy}}
    - {id: restore, action: shell, needs: [approve, copy], with: {run: "restore {{ steps.approve.answer }}"}}
"#;

fn paused_reason(records: &[crate::journal::Record]) -> Option<String> {
    records.iter().rev().find_map(|r| match &r.event {
        Event::RunPaused { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

fn outcome_of(records: &[crate::journal::Record], step: &str) -> Vec<Outcome> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::StepFinished {
                step: s, outcome, ..
            } if s == step => Some(outcome.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn ctrl_c_cancels_the_running_action_and_pauses_and_the_next_session_reruns_it() {
    let mut h = Harness::new(
        r#"  steps:
    - {id: hold, action: shell, idempotent: true, with: {run: hold}}
    - {id: after, action: shell, with: {run: after}}
"#,
    );
    h.catalog
        .script("hold", [Act::Hang, Act::Succeed(json!({}))]);
    let mut engine = h.engine(Vec::new());
    let (catalog, interrupt) = (h.catalog.clone(), engine.interrupt.clone());
    let end = h
        .drive(&mut engine, async {
            catalog.wait_started(1).await;
            interrupt.cancel();
        })
        .await;
    assert_eq!(end.outcome, None, "paused");
    assert_eq!(end.reason.as_deref(), Some("interrupted (Ctrl-C)"));
    let records = engine.recorder.records;
    assert_eq!(
        story(&records),
        ["started hold 1", "finished hold 1 cancelled", "paused"]
    );

    let (end, records) = h.run(super::journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        story(&records)[4..],
        [
            "started hold 2",
            "finished hold 2 succeeded",
            "started after 1",
            "finished after 1 succeeded"
        ]
    );
}

#[tokio::test]
async fn a_checkpoint_without_a_terminal_pauses_lets_running_work_finish_and_is_asked_again() {
    let mut h = Harness::new(CHECKPOINT_BESIDE_AN_ACTION);
    h.answerer.reply("approve", [Reply::NoTerminal]);
    let (end, records) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, None, "paused, not failed");
    let reason = end.reason.unwrap();
    assert!(
        reason.starts_with("checkpoint `approve` needs an answer, but there is no terminal"),
        "{reason}"
    );
    assert_eq!(paused_reason(&records), Some(reason));
    assert!(matches!(
        outcome_of(&records, "approve")[..],
        [Outcome::Cancelled { .. }]
    ));
    // The copy beside it was not stopped: nothing was wrong with it.
    assert!(matches!(
        outcome_of(&records, "copy")[..],
        [Outcome::Succeeded { .. }]
    ));
    assert_eq!(h.catalog.started_steps(), ["copy"]);

    // At a terminal again: the same checkpoint is asked (attempt 2), `copy` is not re-run.
    h.answerer.reply("approve", [Reply::Answer(json!(true))]);
    let (end, records) = h.run(super::journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        h.answerer.asked(),
        ["checkpoint approve", "checkpoint approve"]
    );
    assert_eq!(h.catalog.started_steps(), ["copy", "restore"]);
    assert_eq!(h.catalog.starts()[1].params["run"], json!("restore true"));
    assert!(story(&records).contains(&"started approve 2".to_string()));
}

#[tokio::test]
async fn ctrl_c_at_a_checkpoint_pauses_and_stops_what_runs_beside_it() {
    let mut h = Harness::new(CHECKPOINT_BESIDE_AN_ACTION);
    h.catalog.script("copy", [Act::Hang]);
    h.answerer.reply("approve", [Reply::CtrlC]);
    let mut engine = h.engine(Vec::new());
    let catalog = h.catalog.clone();
    // The answer comes back once `copy` runs, so there is something to stop.
    let end = h
        .drive(&mut engine, async {
            catalog.wait_started(1).await;
        })
        .await;
    assert_eq!(end.outcome, None, "paused, not failed");
    assert_eq!(end.reason.as_deref(), Some("interrupted (Ctrl-C)"));
    let records = &engine.recorder.records;
    assert_eq!(
        outcome_of(records, "approve"),
        [Outcome::Cancelled {
            reason: "the run was interrupted (Ctrl-C)".into()
        }]
    );
    assert!(matches!(
        outcome_of(records, "copy")[..],
        [Outcome::Cancelled { .. }]
    ));
    assert_eq!(
        paused_reason(records).as_deref(),
        Some("interrupted (Ctrl-C)")
    );
}

/// A confirm, the step it guards, and a second confirm that only steers.
const GUARDED: &str = r#"  steps:
    - {id: approve, checkpoint: {prompt: "Go?", type: confirm}}
    - {id: restore, action: shell, with: {run: restore}}
    - {id: fresh, checkpoint: {prompt: "Backup?", type: confirm, on_no: continue}}
    - {id: backup, action: shell, when: "{{ steps.fresh.answer }}", with: {run: backup}}
"#;

#[tokio::test]
async fn a_confirm_answered_no_stops_the_run_and_the_next_session_asks_it_again() {
    let mut h = Harness::new(GUARDED);
    h.answerer.reply("approve", [Reply::Answer(json!(false))]);
    let (end, records) = h.run(Vec::new()).await;
    assert_eq!(end.outcome, None, "resumable, not finished");
    assert_eq!(end.stopped_at.as_deref(), Some("approve"));
    assert!(
        h.catalog.started_steps().is_empty(),
        "nothing after the no ran"
    );
    assert!(records.iter().any(|r| matches!(
        &r.event,
        Event::CheckpointAnswered { answer, .. } if *answer == json!(false)
    )));
    assert!(matches!(
        records.last().map(|r| &r.event),
        Some(Event::RunPaused { stopped_at: Some(step), .. }) if step == "approve"
    ));

    // The operator changed their mind; `fresh` is answered no, which only steers.
    h.answerer.reply("approve", [Reply::Answer(json!(true))]);
    h.answerer.reply("fresh", [Reply::Answer(json!(false))]);
    let (end, records) = h.run(super::journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(end.stopped_at, None);
    assert_eq!(h.catalog.started_steps(), ["restore"]);
    assert!(story(&records).contains(&"started approve 2".to_string()));
}
