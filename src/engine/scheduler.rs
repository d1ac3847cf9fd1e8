//! Runs the steps of one section (the drill's inject steps, or the recovery) in
//! dependency order, concurrently where `needs` and `foreach` allow.
//!
//! One loop owns all state and the journal. Step work (actions, operator questions,
//! retry back-offs) runs in tasks that report back on a channel; the loop records each
//! report durably before it acts on it, so a "started" event is on disk before the
//! action begins and a "finished" event before any dependent step starts.
//!
//! After a failure with `on_failure: abort` no new step starts; steps already running
//! finish (or time out). On Ctrl-C every running action is cancelled (its process group
//! killed), the cancellations are recorded and the run is paused for `drbook resume`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use super::step_state::{StepState, Transition};
use super::{Engine, EngineError};
use crate::actions::{self, ActionEvent, ActionRequest};
use crate::journal::event::{AnsweredBy, Event, FailureDecision, Outcome};
use crate::operator::{FailureChoice, Operator, OperatorError, Question, Timeout};
use crate::plan::{DEFAULT_FOREACH_CONCURRENCY, StepGraph};
use crate::runbook::model::{Foreach, OnFailure, Step, StepBody};
use crate::runbook::yaml_tree::{Node, Value as Yaml};
use crate::template;

/// Most output lines recorded per step instance; the rest is counted, not kept, so a
/// runaway command cannot fill the disk the record lives on.
pub const MAX_RECORDED_LINES: usize = 2000;

/// How a section ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionEnd {
    Completed,
    Failed(String),
    Paused(String),
}

/// What the journal says about a step before this session (empty for a new run).
#[derive(Debug, Clone, Default)]
pub struct PriorStep {
    /// Per item (one entry without `foreach`): its state and outputs.
    pub items: Vec<(StepState, Option<Map<String, Value>>)>,
    pub answer: Option<Value>,
    pub skipped: Option<String>,
    /// The operator's decision about an item whose last attempt failed, when one was
    /// recorded after that failure (by item index).
    pub decisions: std::collections::HashMap<usize, FailureDecision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Active,
    Done,
    /// Failed, and the run goes on without it (`on_failure: continue`).
    DoneFailed,
    Failed,
}

struct ItemTrack {
    state: StepState,
    outputs: Option<Map<String, Value>>,
    lines: usize,
    cancel: Option<CancellationToken>,
    /// Failed for good and the run goes on without it (`on_failure: continue`). A
    /// `Failed` state alone may still be waiting for a retry or the operator's decision.
    given_up: bool,
    /// The operator was being asked about this failed item when drbook stopped; the
    /// question is asked again before anything else happens to it.
    ask_again: bool,
}

impl ItemTrack {
    fn new(state: StepState, outputs: Option<Map<String, Value>>) -> Self {
        ItemTrack {
            state,
            outputs,
            lines: 0,
            cancel: None,
            given_up: false,
            ask_again: false,
        }
    }

    /// Nothing more will happen to this item in this run.
    fn settled(&self) -> bool {
        self.state == StepState::Succeeded || self.given_up
    }
}

struct Track {
    phase: Phase,
    /// `None` for a step without `foreach`.
    items: Option<Vec<Value>>,
    instances: Vec<ItemTrack>,
    queued: VecDeque<usize>,
    running: usize,
    answer: Option<Value>,
}

enum Msg {
    Action {
        step: usize,
        item: usize,
        event: ActionEvent,
    },
    Finished {
        step: usize,
        item: usize,
        attempt: u32,
        outcome: Outcome,
    },
    Answered {
        step: usize,
        result: Result<(Value, AnsweredBy), OperatorError>,
    },
    RetryDue {
        step: usize,
        item: usize,
    },
    Decided {
        step: usize,
        item: usize,
        error: String,
        choice: Result<FailureChoice, OperatorError>,
    },
}

/// Runs one section to its end.
pub async fn run_section(
    engine: &mut Engine,
    steps: &[Step],
    graph: &StepGraph,
    prior: &[PriorStep],
) -> Result<SectionEnd, EngineError> {
    let mut run = SectionRun {
        steps,
        graph,
        tracks: Vec::with_capacity(steps.len()),
        in_flight: 0,
        stop: None,
    };
    for (index, step) in steps.iter().enumerate() {
        let track = run.restore(engine, step, prior.get(index))?;
        if track.phase == Phase::Failed {
            let error = track.instances.iter().find_map(|i| match &i.state {
                StepState::Failed { error, .. } => Some(error.clone()),
                _ => None,
            });
            run.stop_with(SectionEnd::Failed(format!(
                "step `{}` failed: {}",
                step.id.value,
                error.unwrap_or_default()
            )));
        }
        run.tracks.push(track);
    }
    let (tx, mut rx) = unbounded_channel();
    loop {
        if run.stop.is_none() {
            run.start_ready(engine, &tx)?;
        }
        if run.in_flight == 0 {
            break;
        }
        tokio::select! {
            Some(msg) = rx.recv() => run.handle(engine, msg, &tx)?,
            () = engine.interrupt.cancelled(), if run.stop.is_none() => {
                run.stop = Some(SectionEnd::Paused("interrupted (Ctrl-C)".into()));
                for track in &run.tracks {
                    for instance in &track.instances {
                        if let Some(token) = &instance.cancel {
                            token.cancel();
                        }
                    }
                }
            }
        }
    }
    if let Some(end) = run.stop {
        return Ok(end);
    }
    match run
        .tracks
        .iter()
        .position(|t| !matches!(t.phase, Phase::Done | Phase::DoneFailed))
    {
        None => Ok(SectionEnd::Completed),
        Some(i) => Ok(SectionEnd::Failed(format!(
            "step `{}` could not run",
            steps[i].id.value
        ))),
    }
}

struct SectionRun<'s> {
    steps: &'s [Step],
    graph: &'s StepGraph,
    tracks: Vec<Track>,
    /// Tasks that will still send a message.
    in_flight: usize,
    stop: Option<SectionEnd>,
}

impl SectionRun<'_> {
    /// A track as the journal left it: finished steps stay finished (and feed the
    /// template context), partly done `foreach` steps continue with their open items.
    fn restore(
        &self,
        engine: &mut Engine,
        step: &Step,
        prior: Option<&PriorStep>,
    ) -> Result<Track, EngineError> {
        let mut track = Track {
            phase: Phase::Waiting,
            items: None,
            instances: Vec::new(),
            queued: VecDeque::new(),
            running: 0,
            answer: None,
        };
        let Some(prior) = prior else { return Ok(track) };
        if prior.skipped.is_some() {
            engine
                .context
                .set_step(&step.id.value, "skipped", None, None);
            track.phase = Phase::Done;
            return Ok(track);
        }
        if prior.items.is_empty() {
            return Ok(track);
        }
        track.answer = prior.answer.clone();
        let attempts = step.retry.as_ref().map_or(1, |r| r.attempts.value);
        let on_failure = step
            .on_failure
            .as_ref()
            .map_or(OnFailure::Abort, |o| o.value);
        let mut aborted = false;
        track.instances = prior
            .items
            .iter()
            .enumerate()
            .map(|(index, (state, outputs))| {
                let mut instance = ItemTrack::new(state.clone(), outputs.clone());
                let exhausted =
                    matches!(state, StepState::Failed { attempt, .. } if *attempt >= attempts);
                let decision = prior.decisions.get(&index).copied();
                // The last attempt failed and the step (or the operator) said to go on:
                // it was given up before, and is not run again.
                instance.given_up = exhausted
                    && (on_failure == OnFailure::Continue
                        || decision == Some(FailureDecision::Continue));
                // ... or to stop: the run had failed before the crash, it had only not
                // recorded its end yet.
                aborted |= exhausted
                    && (on_failure == OnFailure::Abort || decision == Some(FailureDecision::Abort));
                // ... or drbook stopped while the operator was being asked: ask again.
                instance.ask_again =
                    exhausted && on_failure == OnFailure::Ask && decision.is_none();
                instance
            })
            .collect();
        if aborted {
            track.phase = Phase::Failed;
            return Ok(track);
        }
        if track.instances.iter().all(ItemTrack::settled) && step.foreach.is_none() {
            track.phase = settled_phase(&track);
            self.publish(engine, step, &track);
        }
        // Anything else is continued by `start`, which re-expands `foreach` and checks
        // the items still match what the journal recorded.
        Ok(track)
    }

    fn deps_done(&self, index: usize) -> bool {
        self.graph.deps[index]
            .iter()
            .all(|&d| matches!(self.tracks[d].phase, Phase::Done | Phase::DoneFailed))
    }

    fn start_ready(
        &mut self,
        engine: &mut Engine,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        // A start can finish a step at once (skipped), which can make others ready.
        loop {
            let mut progressed = false;
            for &index in &self.graph.order {
                if self.stop.is_some() {
                    return Ok(());
                }
                if self.tracks[index].phase == Phase::Waiting && self.deps_done(index) {
                    self.start(engine, index, tx)?;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    fn start(
        &mut self,
        engine: &mut Engine,
        index: usize,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let step = &self.steps[index];
        let id = step.id.value.clone();
        if let Some(when) = &step.when {
            match eval(
                engine,
                template::single_expression(when).unwrap_or(when),
                None,
            ) {
                Ok(v) if v.is_true() => {}
                Ok(_) => {
                    return self.skip(engine, index, format!("`when: {}` was false", when.value));
                }
                Err(e) => {
                    return self.fail_unstarted(
                        engine,
                        index,
                        format!("`when` of step `{id}` cannot be evaluated: {e}"),
                    );
                }
            }
        }
        self.tracks[index].phase = Phase::Active;
        if let StepBody::Checkpoint(checkpoint) = &step.body {
            if self.tracks[index]
                .instances
                .first()
                .is_some_and(|i| i.state == StepState::Succeeded)
            {
                self.tracks[index].phase = Phase::Done;
                let track = &self.tracks[index];
                self.publish(engine, step, track);
                return Ok(());
            }
            let prompt = match render_text(engine, &checkpoint.prompt, None) {
                Ok(p) => p,
                Err(e) => {
                    return self.fail_unstarted(
                        engine,
                        index,
                        format!("the prompt of step `{id}` cannot be rendered: {e}"),
                    );
                }
            };
            let attempt = match self.tracks[index].instances.first().map(|i| &i.state) {
                Some(StepState::Interrupted { attempt })
                | Some(StepState::Failed { attempt, .. }) => attempt + 1,
                _ => 1,
            };
            engine.recorder.record(Event::StepStarted {
                step: id.clone(),
                item: None,
                attempt,
                label: None,
            })?;
            self.tracks[index].instances =
                vec![ItemTrack::new(StepState::Running { attempt }, None)];
            let question = Question {
                step: id,
                prompt,
                kind: checkpoint.kind,
                choices: checkpoint.choices.iter().map(|c| c.value.clone()).collect(),
                default: checkpoint.default.as_ref().map(Node::to_json),
            };
            let operator = engine.operator.clone();
            let lock = engine.prompt_lock.clone();
            // Counted from now; the operator ends the question at the timeout and takes
            // the default itself (a question abandoned here would keep reading keys).
            let timeout = checkpoint
                .timeout
                .as_ref()
                .map(|t| Timeout::starting_now(t.value));
            let tx = tx.clone();
            // Everything recorded so far is on disk before the operator is asked.
            engine.recorder.sync()?;
            self.in_flight += 1;
            tokio::spawn(async move {
                let result = ask(operator, lock, "a checkpoint", move |operator| {
                    operator.checkpoint_within(&question, timeout)
                })
                .await;
                let _ = tx.send(Msg::Answered {
                    step: index,
                    result,
                });
            });
            return Ok(());
        }
        // An action: expand `foreach` and queue the items that still need to run.
        let items = match &step.foreach {
            None => None,
            Some(foreach) => match expand(engine, foreach) {
                Ok(items) => Some(items),
                Err(e) => {
                    return self.fail_unstarted(
                        engine,
                        index,
                        format!("`foreach` of step `{id}` cannot be evaluated: {e}"),
                    );
                }
            },
        };
        let count = items.as_ref().map_or(1, Vec::len);
        if count == 0 {
            return self.skip(engine, index, "its `foreach` list is empty".into());
        }
        let track = &mut self.tracks[index];
        // Before a crash only some items may have started; more than there are now
        // means the list itself changed.
        if track.instances.len() > count {
            return Err(EngineError::Divergence(format!(
                "step `{id}` fanned out over {} items before and over {count} now; the inputs or earlier results changed",
                track.instances.len()
            )));
        }
        while track.instances.len() < count {
            track
                .instances
                .push(ItemTrack::new(StepState::Pending, None));
        }
        track.items = items;
        track.queued = (0..count)
            .filter(|&i| !track.instances[i].settled())
            .collect();
        if track.queued.is_empty() {
            self.maybe_complete(engine, index);
            return Ok(());
        }
        self.launch_queued(engine, index, tx)
    }

    /// Starts queued items of a step up to its concurrency.
    fn launch_queued(
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
            if std::mem::take(&mut self.tracks[index].instances[item].ask_again) {
                let error = match &self.tracks[index].instances[item].state {
                    StepState::Failed { error, .. } => error.clone(),
                    _ => "its last attempt failed".into(),
                };
                let error = format!("step `{}` failed: {error}", step.id.value);
                self.ask_after_failure(engine, index, item, error, tx)?;
                continue;
            }
            let attempt = match &self.tracks[index].instances[item].state {
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

    /// Records the start of one attempt, then spawns it.
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
        let spec = actions::lookup(&call.name).ok_or_else(|| {
            EngineError::Divergence(format!("unknown action `{}`", call.name.value))
        })?;
        let item_value = self.tracks[index]
            .items
            .as_ref()
            .map(|items| items[item].clone());
        let label = item_value.as_ref().map(|v| engine.masker.mask(&show(v)));
        let item_index = item_value.as_ref().map(|_| item);
        let transition = Transition::Start { attempt };
        let instance = &mut self.tracks[index].instances[item];
        instance.state = instance.state.next(&step.id.value, &transition)?;
        engine.recorder.record(Event::StepStarted {
            step: step.id.value.clone(),
            item: item_index,
            attempt,
            label,
        })?;
        self.tracks[index].running += 1;
        self.in_flight += 1;
        let params = match render_params(engine, &call.with, item_value.as_ref()) {
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
        let cancel = engine.interrupt.child_token();
        self.tracks[index].instances[item].cancel = Some(cancel.clone());
        let (events_tx, mut events_rx) = unbounded_channel();
        let request = ActionRequest {
            step: step.id.value.clone(),
            params,
            workdir: engine.workdir.clone(),
            cancel: cancel.clone(),
            events: events_tx,
        };
        // The step's start (and whatever was recorded before it) is durable before the
        // action can begin.
        engine.recorder.sync()?;
        let future = spec.executor.execute(request);
        let timeout = step.timeout.as_ref().map(|t| t.value);
        let interrupt = engine.interrupt.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let forward = {
                let tx = tx.clone();
                async move {
                    while let Some(event) = events_rx.recv().await {
                        let _ = tx.send(Msg::Action {
                            step: index,
                            item,
                            event,
                        });
                    }
                }
            };
            let forwarder = tokio::spawn(forward);
            let mut future = future;
            let result = match timeout {
                None => Some(future.as_mut().await),
                Some(limit) => tokio::select! {
                    r = future.as_mut() => Some(r),
                    () = tokio::time::sleep(limit) => None,
                },
            };
            let outcome = match result {
                Some(Ok(outputs)) => Outcome::Succeeded { outputs },
                Some(Err(_)) if interrupt.is_cancelled() => Outcome::Cancelled {
                    reason: "the run was interrupted (Ctrl-C)".into(),
                },
                Some(Err(e)) => Outcome::Failed {
                    error: e.to_string(),
                },
                None => {
                    // Out of time: stop the action and wait until it has cleaned up.
                    cancel.cancel();
                    let _ = future.await;
                    Outcome::TimedOut {
                        after_ms: started.elapsed().as_millis() as u64,
                    }
                }
            };
            let _ = forwarder.await;
            let _ = tx.send(Msg::Finished {
                step: index,
                item,
                attempt,
                outcome,
            });
        });
        Ok(())
    }

    fn handle(
        &mut self,
        engine: &mut Engine,
        msg: Msg,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        match msg {
            Msg::Action { step, item, event } => {
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
                }
            }
            Msg::Finished {
                step,
                item,
                attempt,
                outcome,
            } => {
                self.in_flight -= 1;
                self.tracks[step].running -= 1;
                self.finished(engine, step, item, attempt, outcome, tx)?;
            }
            Msg::RetryDue { step, item } => {
                self.in_flight -= 1;
                if self.stop.is_none() {
                    self.tracks[step].queued.push_back(item);
                    self.launch_queued(engine, step, tx)?;
                }
            }
            Msg::Answered { step, result } => {
                self.in_flight -= 1;
                self.answered(engine, step, result)?;
            }
            Msg::Decided {
                step,
                item,
                error,
                choice,
            } => {
                self.in_flight -= 1;
                if let Ok(choice) = &choice {
                    let decision = match choice {
                        FailureChoice::Retry => FailureDecision::Retry,
                        FailureChoice::Continue => FailureDecision::Continue,
                        FailureChoice::Abort => FailureDecision::Abort,
                    };
                    engine.recorder.record(Event::FailureDecided {
                        step: self.steps[step].id.value.clone(),
                        item: self.tracks[step].items.as_ref().map(|_| item),
                        decision,
                        by: engine.operator.name.clone(),
                    })?;
                }
                match choice {
                    Ok(FailureChoice::Retry) if self.stop.is_none() => {
                        self.tracks[step].queued.push_back(item);
                        self.launch_queued(engine, step, tx)?;
                    }
                    Ok(FailureChoice::Continue) => self.item_given_up(engine, step, item, tx)?,
                    Ok(_) => self.stop_with(SectionEnd::Failed(error)),
                    Err(e) => self.stop_with(SectionEnd::Failed(format!("{error}; and {e}"))),
                }
            }
        }
        Ok(())
    }

    fn finished(
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
                self.maybe_complete(engine, index);
                if self.stop.is_none() {
                    self.launch_queued(engine, index, tx)?;
                }
            }
            Outcome::Cancelled { .. } => {}
            Outcome::MarkedDone { .. } => self.maybe_complete(engine, index),
            Outcome::Failed { error } => {
                self.failed_attempt(engine, index, item, attempt, error, tx)?;
            }
            Outcome::TimedOut { after_ms } => {
                // `failed_attempt` names the step.
                let error = format!(
                    "timed out after {}",
                    humantime::format_duration(Duration::from_millis(after_ms))
                );
                self.failed_attempt(engine, index, item, attempt, error, tx)?;
            }
        }
        Ok(())
    }

    fn failed_attempt(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        attempt: u32,
        error: String,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let step = &self.steps[index];
        let attempts = step.retry.as_ref().map_or(1, |r| r.attempts.value);
        if self.stop.is_some() {
            return Ok(());
        }
        if attempt < attempts {
            let backoff = step
                .retry
                .as_ref()
                .and_then(|r| r.backoff.as_ref())
                .map_or(Duration::ZERO, |b| b.value);
            engine.recorder.progress(
                &step.id.value,
                self.tracks[index].items.as_ref().map(|_| item),
                &format!(
                    "attempt {attempt} of {attempts} failed; retrying in {}",
                    humantime::format_duration(backoff)
                ),
            );
            self.in_flight += 1;
            let tx = tx.clone();
            let interrupt = engine.interrupt.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = interrupt.cancelled() => {}
                }
                let _ = tx.send(Msg::RetryDue { step: index, item });
            });
            return Ok(());
        }
        let error = format!("step `{}` failed: {error}", step.id.value);
        match step
            .on_failure
            .as_ref()
            .map_or(OnFailure::Abort, |o| o.value)
        {
            OnFailure::Abort => self.stop_with(SectionEnd::Failed(error)),
            OnFailure::Continue => self.item_given_up(engine, index, item, tx)?,
            OnFailure::Ask => self.ask_after_failure(engine, index, item, error, tx)?,
        }
        Ok(())
    }

    /// Moves an item's state machine by the end of an attempt and records it: the one
    /// way an attempt ends, for actions and checkpoints alike.
    fn record_finish(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        attempt: u32,
        outcome: &Outcome,
    ) -> Result<(), EngineError> {
        let id = &self.steps[index].id.value;
        let instance = &mut self.tracks[index].instances[item];
        instance.state = instance
            .state
            .next(id, &Transition::Finish { attempt, outcome })?;
        engine.recorder.record(Event::StepFinished {
            step: id.clone(),
            item: self.tracks[index].items.as_ref().map(|_| item),
            attempt,
            outcome: outcome.clone(),
        })?;
        Ok(())
    }

    /// Asks the operator what to do about an item that failed for good; the answer comes
    /// back as `Msg::Decided`, and is recorded before it is acted on.
    fn ask_after_failure(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        error: String,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let operator = engine.operator.clone();
        let lock = engine.prompt_lock.clone();
        let id = self.steps[index].id.value.clone();
        let tx = tx.clone();
        engine.recorder.sync()?;
        self.in_flight += 1;
        tokio::spawn(async move {
            let message = error.clone();
            let choice = ask(operator, lock, "a failed step", move |operator| {
                operator.after_failure(&id, &message)
            })
            .await;
            let _ = tx.send(Msg::Decided {
                step: index,
                item,
                error,
                choice,
            });
        });
        Ok(())
    }

    /// An item failed for good and the run goes on (`on_failure: continue`): the step's
    /// other items still run, and once all are settled the step counts as done.
    fn item_given_up(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        self.tracks[index].instances[item].given_up = true;
        if self.stop.is_none() {
            self.launch_queued(engine, index, tx)?;
        }
        self.maybe_complete(engine, index);
        Ok(())
    }

    fn answered(
        &mut self,
        engine: &mut Engine,
        index: usize,
        result: Result<(Value, AnsweredBy), OperatorError>,
    ) -> Result<(), EngineError> {
        let id = self.steps[index].id.value.clone();
        let attempt = match self.tracks[index].instances[0].state {
            StepState::Running { attempt } => attempt,
            _ => 1,
        };
        let outcome = match result {
            Ok((answer, by)) => {
                engine.recorder.record(Event::CheckpointAnswered {
                    step: id.clone(),
                    answer: engine.masker.mask_json(&answer),
                    by,
                })?;
                self.tracks[index].answer = Some(answer);
                Outcome::Succeeded {
                    outputs: Map::new(),
                }
            }
            Err(e) => Outcome::Failed {
                error: e.to_string(),
            },
        };
        self.record_finish(engine, index, 0, attempt, &outcome)?;
        match outcome {
            Outcome::Failed { error } => {
                self.stop_with(SectionEnd::Failed(format!("checkpoint `{id}`: {error}")))
            }
            _ => {
                self.tracks[index].phase = Phase::Done;
                let step = &self.steps[index];
                let track = &self.tracks[index];
                self.publish(engine, step, track);
            }
        }
        Ok(())
    }

    /// When every item of a step succeeded or was given up, the step is done and its
    /// outputs visible.
    fn maybe_complete(&mut self, engine: &mut Engine, index: usize) {
        let track = &mut self.tracks[index];
        if track.running == 0
            && track.queued.is_empty()
            && track.instances.iter().all(ItemTrack::settled)
        {
            track.phase = settled_phase(track);
            let step = &self.steps[index];
            let track = &self.tracks[index];
            self.publish(engine, step, track);
        }
    }

    /// Makes a finished step's results readable by later templates.
    fn publish(&self, engine: &mut Engine, step: &Step, track: &Track) {
        let outputs = |i: &ItemTrack| Value::Object(i.outputs.clone().unwrap_or_default());
        let value = match (&track.items, step.foreach.is_some()) {
            (_, true) => Value::Array(track.instances.iter().map(outputs).collect()),
            _ => track
                .instances
                .first()
                .map_or(Value::Object(Map::new()), outputs),
        };
        let status = if track.phase == Phase::DoneFailed {
            "failed"
        } else {
            "succeeded"
        };
        engine
            .context
            .set_step(&step.id.value, status, Some(value), track.answer.clone());
    }

    fn skip(
        &mut self,
        engine: &mut Engine,
        index: usize,
        reason: String,
    ) -> Result<(), EngineError> {
        let id = &self.steps[index].id.value;
        engine.recorder.record(Event::StepSkipped {
            step: id.clone(),
            reason,
        })?;
        engine.context.set_step(id, "skipped", None, None);
        self.tracks[index].phase = Phase::Done;
        Ok(())
    }

    /// A step that fails before any attempt could start (its `when` or `foreach` cannot
    /// be evaluated): recorded as a failed first attempt, and the section stops.
    fn fail_unstarted(
        &mut self,
        engine: &mut Engine,
        index: usize,
        error: String,
    ) -> Result<(), EngineError> {
        let id = self.steps[index].id.value.clone();
        let error = engine.masker.mask(&error);
        engine.recorder.record(Event::StepStarted {
            step: id.clone(),
            item: None,
            attempt: 1,
            label: None,
        })?;
        engine.recorder.record(Event::StepFinished {
            step: id,
            item: None,
            attempt: 1,
            outcome: Outcome::Failed {
                error: error.clone(),
            },
        })?;
        self.tracks[index].phase = Phase::Failed;
        self.stop_with(SectionEnd::Failed(error));
        Ok(())
    }

    fn stop_with(&mut self, end: SectionEnd) {
        if self.stop.is_none() {
            self.stop = Some(end);
        }
    }
}

/// The phase of a step whose items are all settled: failed-but-continued if any was
/// given up.
fn settled_phase(track: &Track) -> Phase {
    if track.instances.iter().any(|i| i.given_up) {
        Phase::DoneFailed
    } else {
        Phase::Done
    }
}

/// Asks the operator one question on a blocking thread, one question on the terminal at
/// a time; a question thread that died is reported as a failed prompt.
async fn ask<T: Send + 'static>(
    operator: Arc<Operator>,
    lock: PromptLock,
    what: &'static str,
    question: impl FnOnce(&Operator) -> Result<T, OperatorError> + Send + 'static,
) -> Result<T, OperatorError> {
    tokio::task::spawn_blocking(move || {
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        question(&operator)
    })
    .await
    .unwrap_or_else(|e| {
        Err(OperatorError::Prompt {
            what: what.into(),
            source: std::io::Error::other(e.to_string()),
        })
    })
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

/// The list a `foreach` fans out over.
fn expand(engine: &Engine, foreach: &Foreach) -> Result<Vec<Value>, String> {
    let value = match foreach {
        Foreach::Template(text) => {
            let expression = template::single_expression(text).unwrap_or(text);
            let value = eval(engine, expression, None).map_err(|e| e.to_string())?;
            serde_json::to_value(&value).map_err(|e| e.to_string())?
        }
        Foreach::List(node) => render_node(engine, node, None)?,
    };
    match value {
        Value::Array(items) => Ok(items),
        other => Err(format!("it gave {other}, not a list")),
    }
}

/// Renders the `with:` parameters of one attempt. A string that is exactly one
/// `{{ expression }}` keeps the expression's type (a list stays a list).
fn render_params(
    engine: &Engine,
    with: &[(crate::span::Spanned<String>, Node)],
    item: Option<&Value>,
) -> Result<Map<String, Value>, String> {
    with.iter()
        .map(|(name, node)| {
            Ok((
                name.value.clone(),
                render_node(engine, node, item).map_err(|e| format!("`{}`: {e}", name.value))?,
            ))
        })
        .collect()
}

fn render_node(engine: &Engine, node: &Node, item: Option<&Value>) -> Result<Value, String> {
    Ok(match &node.value {
        Yaml::String(text) if template::is_template(text) => {
            if let Some(expression) = template::single_expression(text) {
                let value = eval(engine, expression, item).map_err(|e| e.to_string())?;
                let json = serde_json::to_value(&value).map_err(|e| e.to_string())?;
                // Lists and maps keep their shape; scalars become text, as `{{ x }}`
                // would print them (actions parse numbers and durations from text).
                match json {
                    Value::Array(_) | Value::Object(_) => json,
                    _ => Value::String(value.to_string()),
                }
            } else {
                Value::String(render_text(engine, text, item)?)
            }
        }
        Yaml::Seq(items) => Value::Array(
            items
                .iter()
                .map(|n| render_node(engine, n, item))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| Ok((k.scalar_text(), render_node(engine, v, item)?)))
                .collect::<Result<_, String>>()?,
        ),
        _ => node.to_json(),
    })
}

/// Evaluates an expression (`when`, `foreach`, a one-expression parameter) against the
/// run's context so far; `item` is bound inside a `foreach` step.
fn eval(
    engine: &Engine,
    expression: &str,
    item: Option<&Value>,
) -> Result<minijinja::Value, minijinja::Error> {
    engine
        .env
        .compile_expression(expression)
        .and_then(|e| e.eval(engine.context.value(item)))
}

fn render_text(engine: &Engine, text: &str, item: Option<&Value>) -> Result<String, String> {
    if !template::is_template(text) {
        return Ok(text.to_string());
    }
    engine
        .env
        .render_str(text, engine.context.value(item))
        .map_err(|e| e.to_string())
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Serialises operator prompts: one question on the terminal at a time.
pub type PromptLock = Arc<Mutex<()>>;
