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
            Event::FailureDecided { step, item, .. } => (step, *item),
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
                // A new attempt answers whatever was decided about the last one.
                entry.decisions.remove(&slot);
            }
            Event::FailureDecided { decision, .. } => {
                entry.decisions.insert(slot, *decision);
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

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::journal::event::FailureDecision;

    fn record(seq: u64, event: Event) -> Record {
        Record {
            seq,
            session: 0,
            time: Utc::now(),
            mono_ms: 0,
            prev: String::new(),
            event,
        }
    }

    /// The operator's decision after a failure is part of the replayed state, and a new
    /// attempt supersedes it.
    #[test]
    fn a_recorded_failure_decision_survives_replay_until_the_next_attempt() {
        let valid = crate::runbook::load(
            "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {name: r, version: 1.0.0}\nspec:\n  steps:\n    - {id: a, action: shell, on_failure: ask, with: {run: 'false'}}\n",
        )
        .unwrap();
        let started = |attempt| Event::StepStarted {
            step: "a".into(),
            item: None,
            attempt,
            label: None,
        };
        let failed = |attempt| Event::StepFinished {
            step: "a".into(),
            item: None,
            attempt,
            outcome: Outcome::Failed {
                error: "exit 1".into(),
            },
        };
        let decided = |decision| Event::FailureDecided {
            step: "a".into(),
            item: None,
            decision,
            by: "alice".into(),
        };
        let mut records = vec![
            record(0, started(1)),
            record(1, failed(1)),
            record(2, decided(FailureDecision::Retry)),
            record(3, started(2)),
            record(4, failed(2)),
        ];
        let prior = replay(&valid.runbook, &records).unwrap();
        assert!(
            prior.recovery[0].decisions.is_empty(),
            "the retry was used up"
        );
        records.push(record(5, decided(FailureDecision::Continue)));
        let prior = replay(&valid.runbook, &records).unwrap();
        assert_eq!(
            prior.recovery[0].decisions.get(&0),
            Some(&FailureDecision::Continue)
        );
    }
}
