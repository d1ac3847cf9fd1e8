//! The named canned journals of `journals`, replayed: each gives the prior state a
//! resume starts from, and a session driven from it does exactly what is left. A journal
//! that does not fit the runbook is refused with the typed error.

use serde_json::json;

use super::fakes::{Harness, Reply, status, story};
use super::journals::{self, RECOVERY};
use crate::engine::EngineError;
use crate::engine::replay::{Prior, replay};
use crate::engine::step_phase::{ItemPhase, StepPhase};
use crate::engine::step_state::StepState;
use crate::journal::event::RunOutcome;
use crate::operator::FailureChoice;

fn replayed(h: &Harness, records: &[crate::journal::Record]) -> Prior {
    replay(&h.valid.runbook, records).expect("the canned journal replays")
}

/// Each step's phase after replay, in runbook order.
fn phases(h: &Harness, prior: &Prior) -> Vec<StepPhase> {
    h.valid
        .runbook
        .spec
        .steps
        .iter()
        .zip(&prior.recovery)
        .map(|(step, p)| p.phase(step))
        .collect()
}

/// The `run` parameter each started step was given, in order.
fn commands(h: &Harness) -> Vec<String> {
    h.catalog
        .starts()
        .iter()
        .map(|s| s.params["run"].as_str().unwrap().to_string())
        .collect()
}

use StepPhase::{Done, DoneFailed, Waiting};

#[tokio::test]
async fn crashed_during_second_step_reruns_it_with_the_first_steps_output() {
    let mut h = Harness::new(RECOVERY);
    let records = journals::crashed_during_second_step();
    let prior = replayed(&h, &records);
    assert_eq!(
        phases(&h, &prior),
        [Done, Waiting, Waiting, Waiting, Waiting]
    );
    let restore = &prior.recovery[1].items[0];
    assert_eq!(restore.state, StepState::Interrupted { attempt: 1 });
    assert_eq!(restore.phase, ItemPhase::Ready);

    h.answerer
        .reply("approve", [Reply::Answer(json!("latest"))]);
    let (end, records) = h.run(journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(commands(&h), ["restore s-0300", "verify latest", "report"]);
    assert!(story(&records).contains(&"started restore 2".to_string()));
}

#[tokio::test]
async fn paused_at_checkpoint_asks_it_again() {
    let mut h = Harness::new(RECOVERY);
    let records = journals::paused_at_checkpoint();
    let prior = replayed(&h, &records);
    assert_eq!(phases(&h, &prior), [Done, Done, Waiting, Waiting, Waiting]);
    let approve = &prior.recovery[2].items[0];
    assert_eq!(approve.state, StepState::Interrupted { attempt: 1 });
    assert_eq!(approve.phase, ItemPhase::Ready);

    h.answerer
        .reply("approve", [Reply::Answer(json!("yesterday"))]);
    let (end, records) = h.run(journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(h.answerer.asked(), ["checkpoint approve"]);
    assert!(story(&records).contains(&"started approve 2".to_string()));
    assert_eq!(commands(&h), ["verify yesterday", "report"]);
}

#[tokio::test]
async fn answered_checkpoint_before_crash_keeps_its_answer_and_is_not_asked_again() {
    let mut h = Harness::new(RECOVERY);
    let records = journals::answered_checkpoint_before_crash();
    let prior = replayed(&h, &records);
    assert_eq!(phases(&h, &prior), [Done, Done, Done, Waiting, Waiting]);
    assert_eq!(prior.recovery[2].answer, Some(json!("yesterday")));

    let (end, _) = h.run(journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert!(h.answerer.asked().is_empty(), "{:?}", h.answerer.asked());
    assert_eq!(commands(&h), ["verify yesterday", "report"]);
}

#[tokio::test]
async fn failed_then_decided_continue_goes_past_the_failed_step() {
    let mut h = Harness::new(RECOVERY);
    let records = journals::failed_then_decided_continue();
    let prior = replayed(&h, &records);
    assert_eq!(phases(&h, &prior), [Done, Done, Done, DoneFailed, Waiting]);
    assert_eq!(prior.recovery[3].items[0].phase, ItemPhase::GivenUp);

    let (end, engine) = h.run_engine(journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert!(h.answerer.asked().is_empty());
    assert_eq!(commands(&h), ["report"]);
    assert_eq!(status(&engine, "verify"), "failed");
}

#[tokio::test]
async fn failed_before_the_decision_asks_the_operator_again() {
    let mut h = Harness::new(RECOVERY);
    let records = journals::failed_before_the_decision();
    let prior = replayed(&h, &records);
    assert_eq!(prior.recovery[3].items[0].phase, ItemPhase::Deciding);
    assert_eq!(phases(&h, &prior)[3], Waiting);

    h.answerer.decide([FailureChoice::Retry]);
    let (end, records) = h.run(journals::resumed(records)).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(h.answerer.asked(), ["failure verify"]);
    let story = story(&records);
    let tail = &story[story.len() - 5..];
    assert_eq!(
        tail,
        [
            "decided verify retry",
            "started verify 2",
            "finished verify 2 succeeded",
            "started report 1",
            "finished report 1 succeeded"
        ]
    );
}

#[test]
fn a_journal_that_diverges_from_the_runbook_is_refused_with_the_typed_error() {
    let h = Harness::new(RECOVERY);
    let runbook = &h.valid.runbook;
    match replay(runbook, &journals::of_another_runbook()) {
        Err(EngineError::Divergence(message)) => assert_eq!(
            message,
            "record #3 names step `drain`, which the runbook does not have"
        ),
        other => panic!("{other:?}"),
    }
    match replay(runbook, &journals::finished_without_starting()) {
        Err(EngineError::Transition(e)) => {
            assert_eq!((e.step.as_str(), e.from.as_str()), ("restore", "Pending"))
        }
        other => panic!("{other:?}"),
    }
    match replay(runbook, &journals::decided_without_a_failure()) {
        Err(EngineError::Phase(e)) => {
            assert_eq!(
                e.to_string(),
                "step `restore` cannot go from Succeeded by Decided(Retry)"
            )
        }
        other => panic!("{other:?}"),
    }
}
