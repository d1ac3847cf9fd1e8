//! A step's items in the scheduler: the queue of items that still need an attempt,
//! started up to the step's `concurrency`; each attempt recorded as started before it
//! begins (see `attempt`); its output recorded as it comes (at most
//! `MAX_RECORDED_LINES`, secrets masked); and its end moving the item through
//! `step_state` and `step_phase` before `failure` decides what follows a failed one.

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::attempt::{self, Attempt};
use super::replay::item_event;
use super::scheduler::{MAX_RECORDED_LINES, Msg, SectionRun};
use super::step_phase::{ItemEvent, ItemPhase};
use super::step_state::{StepState, Transition};
use super::{Engine, EngineError};
use crate::actions::ActionEvent;
use crate::journal::event::{Event, Outcome};
use crate::runbook::graph::DEFAULT_FOREACH_CONCURRENCY;
use crate::runbook::model::StepBody;
use crate::template::render;

impl SectionRun<'_> {
    /// Starts queued items of a step up to its concurrency; an item whose failure is
    /// still undecided (drbook stopped while the operator was asked) is asked again.
    pub(super) fn launch_queued(
        &mut self,
        engine: &mut Engine,
        index: usize,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let step = &self.steps[index];
        let limit = step
            .concurrency
            .as_ref()
            .map_or(DEFAULT_FOREACH_CONCURRENCY, |c| c.value) as usize;
        while self.stop.is_none() && self.tracks[index].running < limit {
            let Some(item) = self.tracks[index].queued.pop_front() else {
                break;
            };
            let instance = &self.tracks[index].instances[item];
            if instance.phase == ItemPhase::Deciding {
                let error = match &instance.state {
                    StepState::Failed { error, .. } => error.clone(),
                    _ => "its last attempt failed".into(),
                };
                let error = format!("step `{}` failed: {error}", step.id.value);
                self.ask_after_failure(engine, index, item, error, tx)?;
                continue;
            }
            let attempt = match &instance.state {
                StepState::Pending => 1,
                StepState::Failed { attempt, .. } | StepState::Interrupted { attempt } => {
                    attempt + 1
                }
                other => {
                    return Err(EngineError::Divergence(format!(
                        "step `{}` item {item} cannot start from {other:?}",
                        step.id.value
                    )));
                }
            };
            self.launch(engine, index, item, attempt, tx)?;
        }
        Ok(())
    }

    /// Records the start of one attempt, then starts it.
    fn launch(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        attempt: u32,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let step = &self.steps[index];
        let StepBody::Action(call) = &step.body else {
            return Err(EngineError::Divergence(format!(
                "step `{}` is not an action",
                step.id.value
            )));
        };
        let item_value = self.tracks[index]
            .items
            .as_ref()
            .map(|items| items[item].clone());
        let label = item_value.as_ref().map(|v| engine.masker.mask(&show(v)));
        let item_index = item_value.as_ref().map(|_| item);
        self.item_start(index, item, attempt)?;
        self.guide(engine, index, item, item_value.as_ref());
        engine.recorder.record(Event::StepStarted {
            step: step.id.value.clone(),
            item: item_index,
            attempt,
            label,
        })?;
        self.tracks[index].running += 1;
        self.in_flight += 1;
        let context = engine.context.template(item_value.as_ref());
        let params = match render::params(&engine.env, &call.with, &context) {
            Ok(params) => params,
            Err(e) => {
                let error = engine.masker.mask(&format!(
                    "parameters of step `{}` cannot be rendered: {e}",
                    step.id.value
                ));
                let _ = tx.send(Msg::Finished {
                    step: index,
                    item,
                    attempt,
                    outcome: Outcome::Failed { error },
                });
                return Ok(());
            }
        };
        // The step's start (and whatever was recorded before it) is durable before the
        // action can begin.
        engine.recorder.sync()?;
        let attempt = Attempt {
            step: index,
            item,
            attempt,
            timeout: step.timeout.as_ref().map(|t| t.value),
        };
        let cancel = attempt::start(
            engine,
            &step.id.value,
            &call.name.value,
            params,
            attempt,
            tx,
        )?;
        self.tracks[index].instances[item].cancel = Some(cancel);
        Ok(())
    }

    /// Moves an item into its next attempt, through both machines.
    pub(super) fn item_start(
        &mut self,
        index: usize,
        item: usize,
        attempt: u32,
    ) -> Result<(), EngineError> {
        let id = &self.steps[index].id.value;
        let which = self.tracks[index].items.as_ref().map(|_| item);
        let instance = &mut self.tracks[index].instances[item];
        instance.state = instance.state.next(id, &Transition::Start { attempt })?;
        instance.phase = instance.phase.next(id, which, ItemEvent::Start)?;
        Ok(())
    }

    pub(super) fn action_event(
        &mut self,
        engine: &mut Engine,
        step: usize,
        item: usize,
        event: ActionEvent,
    ) -> Result<(), EngineError> {
        let id = self.steps[step].id.value.clone();
        let item_index = self.tracks[step].items.as_ref().map(|_| item);
        match event {
            ActionEvent::Output { stream, line } => {
                let instance = &mut self.tracks[step].instances[item];
                instance.lines += 1;
                if instance.lines <= MAX_RECORDED_LINES {
                    engine.recorder.record(Event::StepOutput {
                        step: id,
                        item: item_index,
                        stream,
                        line: engine.masker.mask(&line),
                    })?;
                }
            }
            ActionEvent::Progress(message) => {
                engine
                    .recorder
                    .progress(&id, item_index, &engine.masker.mask(&message));
            }
            // The first time the run reaches a cluster it is recorded; after that it is
            // only news.
            ActionEvent::ClusterReached(cluster) if !engine.recorder.reached(&cluster.uid) => {
                engine.recorder.record(Event::ClusterReached {
                    server: engine.masker.mask(&cluster.server),
                    uid: cluster.uid,
                    context: cluster.context.map(|c| engine.masker.mask(&c)),
                    via: id,
                })?;
            }
            ActionEvent::ClusterReached(cluster) => engine.recorder.progress(
                &id,
                item_index,
                &engine.masker.mask(&format!(
                    "reached cluster {} (kube-system UID {})",
                    cluster.server, cluster.uid
                )),
            ),
        }
        Ok(())
    }

    pub(super) fn finished(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        attempt: u32,
        outcome: Outcome,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let outcome = mask_outcome(engine, outcome);
        self.tracks[index].instances[item].cancel = None;
        self.record_finish(engine, index, item, attempt, &outcome)?;
        match outcome {
            Outcome::Succeeded { outputs } => {
                self.tracks[index].instances[item].outputs = Some(outputs);
                self.maybe_complete(engine, index)?;
                if self.stop.is_none() {
                    self.launch_queued(engine, index, tx)?;
                }
            }
            Outcome::Cancelled { .. } | Outcome::MarkedDone { .. } => {}
            Outcome::Failed { error } => {
                self.failed_attempt(engine, index, item, attempt, error, tx)?;
            }
            Outcome::TimedOut { after_ms } => {
                // `failed_attempt` names the step.
                let error = format!(
                    "timed out after {}",
                    humantime::format_duration(std::time::Duration::from_millis(after_ms))
                );
                self.failed_attempt(engine, index, item, attempt, error, tx)?;
            }
        }
        Ok(())
    }

    /// Moves an item by the end of an attempt and records it: the one way an attempt
    /// ends, for actions and checkpoints alike.
    pub(super) fn record_finish(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        attempt: u32,
        outcome: &Outcome,
    ) -> Result<(), EngineError> {
        let step = &self.steps[index];
        let id = &step.id.value;
        let which = self.tracks[index].items.as_ref().map(|_| item);
        let instance = &mut self.tracks[index].instances[item];
        instance.state = instance
            .state
            .next(id, &Transition::Finish { attempt, outcome })?;
        instance.phase = instance
            .phase
            .next(id, which, item_event(step, attempt, outcome))?;
        engine.recorder.record(Event::StepFinished {
            step: id.clone(),
            item: which,
            attempt,
            outcome: outcome.clone(),
        })?;
        Ok(())
    }

    /// Moves an item's phase by an event that is not recorded (a retry came due).
    pub(super) fn item_event(
        &mut self,
        index: usize,
        item: usize,
        event: ItemEvent,
    ) -> Result<ItemPhase, EngineError> {
        let id = &self.steps[index].id.value;
        let which = self.tracks[index].items.as_ref().map(|_| item);
        let instance = &mut self.tracks[index].instances[item];
        instance.phase = instance.phase.next(id, which, event)?;
        Ok(instance.phase)
    }
}

fn mask_outcome(engine: &Engine, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Succeeded { outputs } => Outcome::Succeeded {
            outputs: match engine.masker.mask_json(&Value::Object(outputs)) {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        },
        Outcome::Failed { error } => Outcome::Failed {
            error: engine.masker.mask(&error),
        },
        other => other,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
