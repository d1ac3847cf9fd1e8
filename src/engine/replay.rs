//! Resume is replay: the journal's events are fed through the same step state machine the
//! live run uses, giving each step's state, outputs and answers as they were. An event
//! that does not fit is an error, never skipped.

use std::collections::HashMap;

use serde_json::Map;

use super::EngineError;
use super::scheduler::PriorStep;
use super::step_state::{StepState, Transition};
use crate::journal::event::{Event, Outcome, Record, RunOutcome};
use crate::runbook::Runbook;

/// The state of every step before this session, by section and step position.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    pub inject: Vec<PriorStep>,
    pub recovery: Vec<PriorStep>,
    /// Set when the run already finished.
    pub finished: Option<RunOutcome>,
}

/// Replays `records` against `runbook`. Steps still running at the end of the record are
/// `Interrupted`: the process that ran them is gone.
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
        let (step, item) = match &record.event {
            Event::StepStarted { step, item, .. } | Event::StepFinished { step, item, .. } => {
                (step, *item)
            }
            Event::StepSkipped { step, .. } | Event::CheckpointAnswered { step, .. } => {
                (step, None)
            }
            Event::SessionStarted { .. } => {
                for p in prior.inject.iter_mut().chain(prior.recovery.iter_mut()) {
                    end_session(p);
                }
                continue;
            }
            Event::RunFinished { outcome, .. } => {
                prior.finished = Some(*outcome);
                continue;
            }
            _ => continue,
        };
        let Some(&(is_inject, position)) = index.get(step.as_str()) else {
            return Err(EngineError::Divergence(format!(
                "record #{} names step `{step}`, which the runbook does not have",
                record.seq
            )));
        };
        let entry = if is_inject {
            &mut prior.inject[position]
        } else {
            &mut prior.recovery[position]
        };
        let slot = item.unwrap_or(0);
        if entry.items.len() <= slot {
            entry.items.resize(slot + 1, (StepState::Pending, None));
        }
        let (state, outputs) = &mut entry.items[slot];
        match &record.event {
            Event::StepStarted { attempt, .. } => {
                *state = state.next(step, &Transition::Start { attempt: *attempt })?;
            }
            Event::StepFinished {
                attempt, outcome, ..
            } => {
                *state = state.next(
                    step,
                    &Transition::Finish {
                        attempt: *attempt,
                        outcome,
                    },
                )?;
                if let Outcome::Succeeded { outputs: o } = outcome {
                    *outputs = Some(o.clone());
                } else if let Outcome::MarkedDone { .. } = outcome {
                    *outputs = Some(Map::new());
                }
            }
            Event::StepSkipped { reason, .. } => {
                *state = state.next(step, &Transition::Skip { reason })?;
                entry.skipped = Some(reason.clone());
            }
            Event::CheckpointAnswered { answer, .. } => entry.answer = Some(answer.clone()),
            _ => {}
        }
    }
    for p in prior.inject.iter_mut().chain(prior.recovery.iter_mut()) {
        end_session(p);
    }
    Ok(prior)
}

fn end_session(prior: &mut PriorStep) {
    for (state, _) in &mut prior.items {
        if let Ok(next) = state.next("", &Transition::SessionEnded) {
            *state = next;
        }
    }
}
