//! Resume is replay: the journal's events are fed through the same machines the live run
//! drives — `step_state` (what was recorded) and `step_phase` (what that means under the
//! step's `retry` and `on_failure`) — giving each step's state, phase, outputs and answer
//! as they were. This is the one place recorded history becomes prior state; the
//! scheduler starts from what it returns. An event that does not fit is an error, never
//! skipped.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::EngineError;
use super::step_phase::{ItemEvent, ItemPhase, StepPhase};
use super::step_state::{StepState, Transition};
use crate::journal::event::{Event, Outcome, Record, RunOutcome};
use crate::runbook::Runbook;
use crate::runbook::model::{OnFailure, Step, StepBody};

/// The state of every step before this session, by section and step position.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    pub inject: Vec<PriorStep>,
    pub recovery: Vec<PriorStep>,
    /// Set when the run already finished.
    pub finished: Option<RunOutcome>,
}

/// What the journal says about one step before this session (empty for a new run).
#[derive(Debug, Clone, Default)]
pub struct PriorStep {
    /// Per item (one entry without `foreach`), in item order.
    pub items: Vec<PriorItem>,
    pub answer: Option<Value>,
    pub skipped: Option<String>,
}

/// One item as the journal left it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorItem {
    pub state: StepState,
    pub phase: ItemPhase,
    pub outputs: Option<Map<String, Value>>,
}

impl PriorItem {
    fn new() -> PriorItem {
        PriorItem {
            state: StepState::Pending,
            phase: ItemPhase::Ready,
            outputs: None,
        }
    }
}

impl PriorStep {
    /// The step's phase as the journal left it: finished steps stay finished (and feed
    /// the template context); a step with an item aborted had failed the run, it only
    /// had not recorded its end; anything else is continued by the scheduler, which
    /// re-expands a `foreach` and checks the items still match the record.
    pub fn phase(&self, step: &Step) -> StepPhase {
        if self.skipped.is_some() {
            return StepPhase::Done;
        }
        if self.items.iter().any(|i| i.phase == ItemPhase::Aborted) {
            return StepPhase::Failed;
        }
        if !self.items.is_empty()
            && step.foreach.is_none()
            && self.items.iter().all(|i| i.phase.settled())
        {
            if self.items.iter().any(|i| i.phase == ItemPhase::GivenUp) {
                return StepPhase::DoneFailed;
            }
            return StepPhase::Done;
        }
        StepPhase::Waiting
    }

    /// Why the step failed, when it did.
    pub fn error(&self) -> Option<&str> {
        self.items.iter().find_map(|i| match &i.state {
            StepState::Failed { error, .. } => Some(error.as_str()),
            _ => None,
        })
    }
}

/// How many attempts a step has and what its last failure does. A checkpoint is asked
/// once and its failure (a timeout without default, an unusable answer) stops the run.
pub(crate) fn policy(step: &Step) -> (u32, OnFailure) {
    match step.body {
        StepBody::Checkpoint(_) => (1, OnFailure::Abort),
        StepBody::Action(_) => (
            step.retry.as_ref().map_or(1, |r| r.attempts.value),
            step.on_failure
                .as_ref()
                .map_or(OnFailure::Abort, |o| o.value),
        ),
    }
}

/// The event an attempt's end is for the item's phase.
pub(crate) fn item_event(step: &Step, attempt: u32, outcome: &Outcome) -> ItemEvent {
    let (attempts, on_failure) = policy(step);
    match outcome {
        Outcome::Succeeded { .. } => ItemEvent::Succeeded,
        Outcome::Failed { .. } | Outcome::TimedOut { .. } => ItemEvent::Failed {
            retry: attempt < attempts,
            on_failure,
        },
        Outcome::Cancelled { .. } => ItemEvent::Cancelled,
        Outcome::MarkedDone { .. } => ItemEvent::MarkedDone,
    }
}

/// Replays `records` against `runbook`. Items still running at the end of the record
/// are `Interrupted` and `Ready` again: the process that ran them is gone.
pub fn replay(runbook: &Runbook, records: &[Record]) -> Result<Prior, EngineError> {
    let inject = runbook
        .spec
        .drill
        .as_ref()
        .map_or(&[][..], |d| &d.inject[..]);
    let mut prior = Prior {
        inject: vec![PriorStep::default(); inject.len()],
        recovery: vec![PriorStep::default(); runbook.spec.steps.len()],
        finished: None,
    };
    let mut index: HashMap<&str, (bool, usize)> = HashMap::new();
    for (i, step) in inject.iter().enumerate() {
        index.insert(step.id.value.as_str(), (true, i));
    }
    for (i, step) in runbook.spec.steps.iter().enumerate() {
        index.insert(step.id.value.as_str(), (false, i));
    }
    for record in records {
        let (id, item) = match &record.event {
            Event::StepStarted { step, item, .. }
            | Event::StepFinished { step, item, .. }
            | Event::FailureDecided { step, item, .. } => (step, *item),
            Event::StepSkipped { step, .. } | Event::CheckpointAnswered { step, .. } => {
                (step, None)
            }
            Event::SessionStarted { .. } => {
                end_session(&mut prior, inject, &runbook.spec.steps)?;
                continue;
            }
            Event::RunFinished { outcome, .. } => {
                prior.finished = Some(*outcome);
                continue;
            }
            _ => continue,
        };
        let Some(&(is_inject, position)) = index.get(id.as_str()) else {
            return Err(EngineError::Divergence(format!(
                "record #{} names step `{id}`, which the runbook does not have",
                record.seq
            )));
        };
        let (entry, step) = if is_inject {
            (&mut prior.inject[position], &inject[position])
        } else {
            (&mut prior.recovery[position], &runbook.spec.steps[position])
        };
        apply(entry, step, item, &record.event)?;
    }
    end_session(&mut prior, inject, &runbook.spec.steps)?;
    Ok(prior)
}

/// One recorded event of one step, through both machines.
fn apply(
    entry: &mut PriorStep,
    step: &Step,
    item: Option<usize>,
    event: &Event,
) -> Result<(), EngineError> {
    let id = step.id.value.as_str();
    let slot = item.unwrap_or(0);
    if entry.items.len() <= slot {
        entry.items.resize(slot + 1, PriorItem::new());
    }
    let prior = &mut entry.items[slot];
    match event {
        Event::StepStarted { attempt, .. } => {
            prior.state = prior
                .state
                .next(id, &Transition::Start { attempt: *attempt })?;
            // A retry after its back-off is not recorded as such: starting is its proof.
            if prior.phase == ItemPhase::BackingOff {
                prior.phase = prior.phase.next(id, item, ItemEvent::RetryDue)?;
            }
            prior.phase = prior.phase.next(id, item, ItemEvent::Start)?;
        }
        Event::StepFinished {
            attempt, outcome, ..
        } => {
            prior.state = prior.state.next(
                id,
                &Transition::Finish {
                    attempt: *attempt,
                    outcome,
                },
            )?;
            prior.phase = prior
                .phase
                .next(id, item, item_event(step, *attempt, outcome))?;
            match outcome {
                Outcome::Succeeded { outputs } => prior.outputs = Some(outputs.clone()),
                Outcome::MarkedDone { .. } => prior.outputs = Some(Map::new()),
                _ => {}
            }
        }
        Event::FailureDecided { decision, .. } => {
            prior.phase = prior.phase.next(id, item, ItemEvent::Decided(*decision))?;
        }
        Event::StepSkipped { reason, .. } => {
            prior.state = prior.state.next(id, &Transition::Skip { reason })?;
            entry.skipped = Some(reason.clone());
        }
        Event::CheckpointAnswered { answer, .. } => entry.answer = Some(answer.clone()),
        _ => {}
    }
    Ok(())
}

/// A session ended: what it was running was cut short.
fn end_session(prior: &mut Prior, inject: &[Step], recovery: &[Step]) -> Result<(), EngineError> {
    let sections = [(&mut prior.inject, inject), (&mut prior.recovery, recovery)];
    for (entries, steps) in sections {
        for (entry, step) in entries.iter_mut().zip(steps) {
            let foreach = step.foreach.is_some();
            for (index, item) in entry.items.iter_mut().enumerate() {
                let id = step.id.value.as_str();
                item.state = item.state.next(id, &Transition::SessionEnded)?;
                item.phase =
                    item.phase
                        .next(id, foreach.then_some(index), ItemEvent::SessionEnded)?;
            }
        }
    }
    Ok(())
}
