//! Runs the steps of one section (the drill's inject steps, or the recovery) in
//! dependency order, concurrently where `needs` and `foreach` allow.
//!
//! One loop owns all state and the journal. Step work (action attempts, questions to the
//! answerer, retry back-offs) runs in tasks that report back on a channel; the loop
//! records each report durably before it acts on it, so a "started" event is on disk
//! before the action begins and a "finished" event before any dependent step starts.
//! Every step and item moves only through the machines of `step_phase` and `step_state`.
//!
//! After a failure with `on_failure: abort` no new step starts; steps already running
//! finish (or time out). On Ctrl-C every running action is cancelled (its process group
//! killed), the cancellations are recorded and the run is paused for `drbook resume`.
//! A step's items and their attempts are in `items`, checkpoints in `checkpoint`, what
//! follows a failed attempt in `failure`.

use std::collections::VecDeque;

use serde_json::{Map, Value};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use super::replay::PriorStep;
use super::step_phase::{ItemEvent, ItemPhase, StepEvent, StepPhase};
use super::step_state::StepState;
use super::{Engine, EngineError};
use crate::actions::ActionEvent;
use crate::journal::event::{AnsweredBy, Event, Outcome};
use crate::operator::{FailureChoice, OperatorError};
use crate::runbook::graph::StepGraph;
use crate::runbook::model::{Foreach, Step, StepBody};
use crate::template::render;

/// Most output lines recorded per step instance; the rest is counted, not kept, so a
/// runaway command cannot fill the disk the record lives on.
pub const MAX_RECORDED_LINES: usize = 2000;

/// How a section ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SectionEnd {
    Completed,
    Failed(String),
    Paused(String),
    /// A confirm checkpoint was answered "no": the operator stopped the run there.
    Stopped {
        step: String,
        reason: String,
    },
}

/// Why a run paused on Ctrl-C, as printed and recorded in `run_paused`.
pub(crate) const PAUSED_BY_CTRL_C: &str = "interrupted (Ctrl-C)";

pub(super) struct ItemTrack {
    pub state: StepState,
    pub phase: ItemPhase,
    pub outputs: Option<Map<String, Value>>,
    /// Output lines this item printed so far, over all its attempts.
    pub lines: usize,
    /// Cancels the running attempt alone.
    pub cancel: Option<CancellationToken>,
    /// Its guidance was shown in this session (see `guidance`).
    pub guided: bool,
}

impl ItemTrack {
    pub(super) fn new() -> Self {
        ItemTrack {
            state: StepState::Pending,
            phase: ItemPhase::Ready,
            outputs: None,
            lines: 0,
            cancel: None,
            guided: false,
        }
    }
}

pub(super) struct Track {
    pub phase: StepPhase,
    pub skipped: bool,
    /// `None` for a step without `foreach`.
    pub items: Option<Vec<Value>>,
    pub instances: Vec<ItemTrack>,
    pub queued: VecDeque<usize>,
    pub running: usize,
    pub answer: Option<Value>,
    /// The description last shown for this step in this session.
    pub description_shown: Option<String>,
}

/// What step work reports to the loop.
pub(super) enum Msg {
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

/// Runs one section to its end, from the state `prior` replayed from the journal.
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
        let empty = PriorStep::default();
        let prior = prior.get(index).unwrap_or(&empty);
        run.tracks.push(restored(step, prior));
        match run.tracks[index].phase {
            StepPhase::Done | StepPhase::DoneFailed => run.publish(engine, index),
            StepPhase::Failed => run.stop_with(SectionEnd::Failed(format!(
                "step `{}` failed: {}",
                step.id.value,
                prior.error().unwrap_or_default()
            ))),
            StepPhase::Waiting | StepPhase::Active => {}
        }
    }
    let (tx, mut rx) = unbounded_channel();
    loop {
        // Ctrl-C may come while a report is handled, or just before the last task ends:
        // nothing new starts after it, and the section ends paused, not unfinished.
        if run.stop.is_none() && engine.interrupt.is_cancelled() {
            run.pause(PAUSED_BY_CTRL_C.into());
        }
        if run.stop.is_none() {
            run.start_ready(engine, &tx)?;
        }
        if run.in_flight == 0 {
            break;
        }
        tokio::select! {
            biased;
            () = engine.interrupt.cancelled(), if run.stop.is_none() => {
                run.pause(PAUSED_BY_CTRL_C.into());
            }
            Some(msg) = rx.recv() => run.handle(engine, msg, &tx)?,
        }
    }
    if let Some(end) = run.stop {
        return Ok(end);
    }
    match run.tracks.iter().position(|t| !t.phase.finished()) {
        None => Ok(SectionEnd::Completed),
        Some(i) => Ok(SectionEnd::Failed(format!(
            "step `{}` could not run",
            steps[i].id.value
        ))),
    }
}

/// A track as the journal left it (see `replay`).
fn restored(step: &Step, prior: &PriorStep) -> Track {
    Track {
        phase: prior.phase(step),
        skipped: prior.skipped.is_some(),
        items: None,
        instances: prior
            .items
            .iter()
            .map(|p| ItemTrack {
                state: p.state.clone(),
                phase: p.phase,
                outputs: p.outputs.clone(),
                ..ItemTrack::new()
            })
            .collect(),
        queued: VecDeque::new(),
        running: 0,
        answer: prior.answer.clone(),
        description_shown: None,
    }
}

pub(super) struct SectionRun<'s> {
    pub steps: &'s [Step],
    graph: &'s StepGraph,
    pub tracks: Vec<Track>,
    /// Tasks that will still send a message.
    pub in_flight: usize,
    pub stop: Option<SectionEnd>,
}

impl SectionRun<'_> {
    fn deps_done(&self, index: usize) -> bool {
        self.graph.deps[index]
            .iter()
            .all(|&d| self.tracks[d].phase.finished())
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
                if self.tracks[index].phase == StepPhase::Waiting && self.deps_done(index) {
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
            match render::condition(&engine.env, when, &engine.context.template(None)) {
                Ok(true) => {}
                Ok(false) => {
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
        if let StepBody::Checkpoint(checkpoint) = &step.body {
            return self.start_checkpoint(engine, index, checkpoint, tx);
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
        track.phase = track.phase.next(&id, StepEvent::Start)?;
        // Before a crash only some items may have started; more than there are now
        // means the list itself changed.
        if track.instances.len() > count {
            return Err(EngineError::Divergence(format!(
                "step `{id}` fanned out over {} items before and over {count} now; the inputs or earlier results changed",
                track.instances.len()
            )));
        }
        while track.instances.len() < count {
            track.instances.push(ItemTrack::new());
        }
        track.items = items;
        track.queued = (0..count)
            .filter(|&i| !track.instances[i].phase.settled())
            .collect();
        if track.queued.is_empty() {
            return self.maybe_complete(engine, index);
        }
        self.launch_queued(engine, index, tx)
    }

    fn handle(
        &mut self,
        engine: &mut Engine,
        msg: Msg,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        match msg {
            Msg::Action { step, item, event } => self.action_event(engine, step, item, event)?,
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
                self.item_event(step, item, ItemEvent::RetryDue)?;
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
                self.decided(engine, step, item, error, choice, tx)?;
            }
        }
        Ok(())
    }

    /// When every item of a step succeeded or was given up, the step is done and its
    /// outputs visible.
    pub(super) fn maybe_complete(
        &mut self,
        engine: &mut Engine,
        index: usize,
    ) -> Result<(), EngineError> {
        let track = &mut self.tracks[index];
        if track.running == 0
            && track.queued.is_empty()
            && track.instances.iter().all(|i| i.phase.settled())
        {
            let given_up = track
                .instances
                .iter()
                .any(|i| i.phase == ItemPhase::GivenUp);
            track.phase = track
                .phase
                .next(&self.steps[index].id.value, StepEvent::Settled { given_up })?;
            self.publish(engine, index);
        }
        Ok(())
    }

    /// Makes a finished step's results readable by later templates.
    pub(super) fn publish(&self, engine: &mut Engine, index: usize) {
        let step = &self.steps[index];
        let track = &self.tracks[index];
        if track.skipped {
            engine
                .context
                .set_step(&step.id.value, "skipped", None, None);
            return;
        }
        let outputs = |i: &ItemTrack| Value::Object(i.outputs.clone().unwrap_or_default());
        let value = if step.foreach.is_some() {
            Value::Array(track.instances.iter().map(outputs).collect())
        } else {
            track
                .instances
                .first()
                .map_or(Value::Object(Map::new()), outputs)
        };
        let status = if track.phase == StepPhase::DoneFailed {
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
        let track = &mut self.tracks[index];
        track.phase = track.phase.next(id, StepEvent::Skip)?;
        track.skipped = true;
        self.publish(engine, index);
        Ok(())
    }

    /// A step that fails before any attempt could start (its `when`, `foreach` or
    /// prompt cannot be rendered): recorded as a failed first attempt, and the section
    /// stops.
    pub(super) fn fail_unstarted(
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
            step: id.clone(),
            item: None,
            attempt: 1,
            outcome: Outcome::Failed {
                error: error.clone(),
            },
        })?;
        let track = &mut self.tracks[index];
        track.phase = track.phase.next(&id, StepEvent::Fail)?;
        self.stop_with(SectionEnd::Failed(error));
        Ok(())
    }

    /// The section stops: no new step or attempt starts; what runs finishes.
    pub(super) fn stop_with(&mut self, end: SectionEnd) {
        if self.stop.is_none() {
            self.stop = Some(end);
        }
    }

    /// The run pauses: like `stop_with`, and every running action is cancelled (its
    /// process group killed); the cancellations are recorded as they come back.
    pub(super) fn pause(&mut self, reason: String) {
        self.stop_with(SectionEnd::Paused(reason));
        for track in &self.tracks {
            for instance in &track.instances {
                if let Some(token) = &instance.cancel {
                    token.cancel();
                }
            }
        }
    }
}

/// The list a `foreach` fans out over.
fn expand(engine: &Engine, foreach: &Foreach) -> Result<Vec<Value>, String> {
    let context = engine.context.template(None);
    match foreach {
        Foreach::Template(text) => render::list(&engine.env, text, &context),
        Foreach::List(node) => render::as_list(render::node(&engine.env, node, &context)?),
    }
}
