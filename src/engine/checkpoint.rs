//! A checkpoint in the scheduler: its prompt rendered, the question handed to the
//! answerer, and what the answer (or its absence) does to the run.
//!
//! A checkpoint nobody could answer — no terminal (`drbook resume` from cron), a
//! terminal that failed, or Ctrl-C at the prompt — pauses the run instead of failing it:
//! the attempt is recorded as cancelled, so the checkpoint is `Interrupted` on replay and
//! `drbook resume` asks it again. Ctrl-C also stops whatever else runs, as Ctrl-C during
//! an action does. Only an answer that cannot be used or a timeout without a default
//! fails the run.
//!
//! A confirm answered "no" — by a person or by an answers file — stops the run "by the
//! operator" unless the checkpoint says `on_no: continue`: the answer is recorded, the
//! attempt is recorded as cancelled (so, as after a pause, `drbook resume` asks it again
//! if the operator changes their mind), and no later step starts.

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::attempt::CANCELLED_BY_CTRL_C;
use super::guidance;
use super::questions::{self, Unanswered};
use super::scheduler::{ItemTrack, Msg, PAUSED_BY_CTRL_C, SectionEnd, SectionRun};
use super::step_phase::StepEvent;
use super::step_state::StepState;
use super::{Engine, EngineError};
use crate::journal::event::{AnsweredBy, Event, Outcome};
use crate::operator::{OperatorError, Question, Timeout};
use crate::runbook::model::{Checkpoint, StepBody};
use crate::source::yaml_tree::Node;
use crate::template::render;

/// Why a confirm's attempt was cut short when it was answered "no", as recorded.
pub(crate) const STOPPED_BY_THE_OPERATOR: &str = "stopped by the operator (answered no)";

impl SectionRun<'_> {
    /// The step at `index` is a checkpoint whose "no" stops the run.
    fn stops_on_no(&self, index: usize) -> bool {
        matches!(&self.steps[index].body, StepBody::Checkpoint(c) if c.stops_on_no())
    }

    /// Records the checkpoint's attempt and asks it; the answer comes back as
    /// `Msg::Answered`.
    pub(super) fn start_checkpoint(
        &mut self,
        engine: &mut Engine,
        index: usize,
        checkpoint: &Checkpoint,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let id = self.steps[index].id.value.clone();
        let prompt = match render::text(
            &engine.env,
            &checkpoint.prompt,
            &engine.context.template(None),
        ) {
            Ok(p) => p,
            Err(e) => {
                return self.fail_unstarted(
                    engine,
                    index,
                    format!("the prompt of step `{id}` cannot be rendered: {e}"),
                );
            }
        };
        let track = &mut self.tracks[index];
        track.phase = track.phase.next(&id, StepEvent::Start)?;
        if track.instances.is_empty() {
            track.instances.push(ItemTrack::new());
        }
        // Asked again after a pause or a crash: the next attempt.
        let attempt = match &track.instances[0].state {
            StepState::Pending => 1,
            StepState::Interrupted { attempt } | StepState::Failed { attempt, .. } => attempt + 1,
            other => {
                return Err(EngineError::Divergence(format!(
                    "checkpoint `{id}` cannot be asked from {other:?}"
                )));
            }
        };
        self.item_start(index, 0, attempt)?;
        self.guide(engine, index, 0, None);
        engine.recorder.record(Event::StepStarted {
            step: id.clone(),
            item: None,
            attempt,
            label: None,
        })?;
        // The question carries the step's guidance whole: it is what the operator reads
        // before answering, on every attempt.
        let (title, description) = guidance::rendered(engine, &self.steps[index], None);
        let question = Question {
            step: id,
            title,
            description,
            prompt,
            kind: checkpoint.kind,
            choices: checkpoint.choices.iter().map(|c| c.value.clone()).collect(),
            default: checkpoint.default.as_ref().map(Node::to_json),
        };
        // Counted from now; the answerer ends the question at the timeout and takes the
        // default itself (a question abandoned here would keep reading keys).
        let timeout = checkpoint
            .timeout
            .as_ref()
            .map(|t| Timeout::starting_now(t.value));
        let (answerer, lock, tx) = (
            engine.answerer.clone(),
            engine.prompt_lock.clone(),
            tx.clone(),
        );
        // Everything recorded so far is on disk before the operator is asked.
        engine.recorder.sync()?;
        self.in_flight += 1;
        tokio::spawn(async move {
            let result = questions::ask(answerer, lock, "a checkpoint", move |answerer| {
                answerer.checkpoint(&question, timeout)
            })
            .await;
            let _ = tx.send(Msg::Answered {
                step: index,
                result,
            });
        });
        Ok(())
    }

    /// Records the answer and finishes the checkpoint, or pauses or fails the run when
    /// there is none.
    pub(super) fn answered(
        &mut self,
        engine: &mut Engine,
        index: usize,
        result: Result<(Value, AnsweredBy), OperatorError>,
    ) -> Result<(), EngineError> {
        let id = self.steps[index].id.value.clone();
        let StepState::Running { attempt } = self.tracks[index].instances[0].state else {
            return Err(EngineError::Divergence(format!(
                "checkpoint `{id}` was answered but is not being asked"
            )));
        };
        let error = match result {
            Ok((answer, by)) => {
                engine.recorder.record(Event::CheckpointAnswered {
                    step: id.clone(),
                    answer: engine.masker.mask_json(&answer),
                    by,
                })?;
                if answer == Value::Bool(false) && self.stops_on_no(index) {
                    let reason = format!("checkpoint `{id}` was answered no");
                    let stopped = Outcome::Cancelled {
                        reason: STOPPED_BY_THE_OPERATOR.into(),
                    };
                    self.record_finish(engine, index, 0, attempt, &stopped)?;
                    self.stop_with(SectionEnd::Stopped { step: id, reason });
                    return Ok(());
                }
                self.tracks[index].answer = Some(answer);
                let done = Outcome::Succeeded {
                    outputs: Map::new(),
                };
                self.record_finish(engine, index, 0, attempt, &done)?;
                return self.maybe_complete(engine, index);
            }
            Err(error) => error,
        };
        let message = engine.masker.mask(&error.to_string());
        match Unanswered::of(&error) {
            Unanswered::Fail => {
                let failed = Outcome::Failed {
                    error: message.clone(),
                };
                self.record_finish(engine, index, 0, attempt, &failed)?;
                let track = &mut self.tracks[index];
                track.phase = track.phase.next(&id, StepEvent::Fail)?;
                self.stop_with(SectionEnd::Failed(format!("checkpoint `{id}`: {message}")));
            }
            Unanswered::Pause => {
                let cancelled = Outcome::Cancelled {
                    reason: message.clone(),
                };
                self.record_finish(engine, index, 0, attempt, &cancelled)?;
                self.stop_with(SectionEnd::Paused(message));
            }
            Unanswered::CtrlC => {
                let cancelled = Outcome::Cancelled {
                    reason: CANCELLED_BY_CTRL_C.into(),
                };
                self.record_finish(engine, index, 0, attempt, &cancelled)?;
                engine.interrupt.cancel();
                self.pause(PAUSED_BY_CTRL_C.into());
            }
        }
        Ok(())
    }
}
