//! What follows a failed attempt, by the item's phase after it (see `step_phase`): a
//! retry after the back-off, the run going on without the item, the run stopping, or
//! the operator asked (`on_failure: ask`), whose decision is recorded before it is acted
//! on.

use tokio::sync::mpsc::UnboundedSender;

use super::attempt;
use super::questions::{self, Unanswered};
use super::scheduler::{Msg, PAUSED_BY_CTRL_C, SectionEnd, SectionRun};
use super::step_phase::{ItemEvent, ItemPhase, StepEvent, StepPhase};
use super::{Engine, EngineError};
use crate::journal::event::{Event, FailureDecision};
use crate::operator::{FailureChoice, OperatorError};

impl SectionRun<'_> {
    /// Acts on an attempt that failed (or timed out); `record_finish` has already moved
    /// the item to its next phase. Once the section stops, nothing more is started.
    pub(super) fn failed_attempt(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        attempt: u32,
        error: String,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        if self.stop.is_some() {
            return Ok(());
        }
        let step = &self.steps[index];
        let which = self.tracks[index].items.as_ref().map(|_| item);
        match self.tracks[index].instances[item].phase {
            ItemPhase::BackingOff => {
                let retry = step.retry.as_ref();
                let attempts = retry.map_or(1, |r| r.attempts.value);
                let backoff = retry
                    .and_then(|r| r.backoff.as_ref())
                    .map_or(std::time::Duration::ZERO, |b| b.value);
                engine.recorder.progress(
                    &step.id.value,
                    which,
                    &format!(
                        "attempt {attempt} of {attempts} failed; retrying in {}",
                        humantime::format_duration(backoff)
                    ),
                );
                self.in_flight += 1;
                let (clock, interrupt) = (engine.clock.clone(), engine.interrupt.clone());
                attempt::back_off(clock, interrupt, backoff, index, item, tx);
            }
            ItemPhase::Aborted => {
                let error = format!("step `{}` failed: {error}", step.id.value);
                self.step_failed(index, error)?;
            }
            ItemPhase::GivenUp => self.item_given_up(engine, index, tx)?,
            ItemPhase::Deciding => {
                let error = format!("step `{}` failed: {error}", step.id.value);
                self.ask_after_failure(engine, index, item, error, tx)?;
            }
            other => {
                return Err(EngineError::Divergence(format!(
                    "step `{}` failed an attempt but is {other:?}",
                    step.id.value
                )));
            }
        }
        Ok(())
    }

    /// Asks what to do about an item that failed for good; the answer comes back as
    /// `Msg::Decided`.
    pub(super) fn ask_after_failure(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        error: String,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let (answerer, lock, tx) = (
            engine.answerer.clone(),
            engine.prompt_lock.clone(),
            tx.clone(),
        );
        let id = self.steps[index].id.value.clone();
        engine.recorder.sync()?;
        self.in_flight += 1;
        tokio::spawn(async move {
            let message = error.clone();
            let choice = questions::ask(answerer, lock, "a failed step", move |answerer| {
                answerer.after_failure(&id, &message)
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

    /// Records the operator's decision, then follows it.
    pub(super) fn decided(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        error: String,
        choice: Result<FailureChoice, OperatorError>,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        let choice = match choice {
            Ok(choice) => choice,
            // Ctrl-C at the question is a pause, as everywhere: nothing was decided, so
            // the item is still deciding on replay and `drbook resume` asks again.
            Err(e) if Unanswered::of(&e) == Unanswered::CtrlC => {
                engine.interrupt.cancel();
                self.pause(PAUSED_BY_CTRL_C.into());
                return Ok(());
            }
            Err(e) => {
                self.stop_with(SectionEnd::Failed(format!("{error}; and {e}")));
                return Ok(());
            }
        };
        let decision = match choice {
            FailureChoice::Retry => FailureDecision::Retry,
            FailureChoice::Continue => FailureDecision::Continue,
            FailureChoice::Abort => FailureDecision::Abort,
        };
        engine.recorder.record(Event::FailureDecided {
            step: self.steps[index].id.value.clone(),
            item: self.tracks[index].items.as_ref().map(|_| item),
            decision,
            by: engine.answerer.name().to_string(),
        })?;
        match self.item_event(index, item, ItemEvent::Decided(decision))? {
            ItemPhase::Ready => {
                if self.stop.is_none() {
                    self.tracks[index].queued.push_back(item);
                    self.launch_queued(engine, index, tx)?;
                }
            }
            ItemPhase::GivenUp => self.item_given_up(engine, index, tx)?,
            _ => self.step_failed(index, error)?,
        }
        Ok(())
    }

    /// An item failed for good and the run goes on: the step's other items still run,
    /// and once all are settled the step counts as done (failed).
    fn item_given_up(
        &mut self,
        engine: &mut Engine,
        index: usize,
        tx: &UnboundedSender<Msg>,
    ) -> Result<(), EngineError> {
        if self.stop.is_none() {
            self.launch_queued(engine, index, tx)?;
        }
        self.maybe_complete(engine, index)
    }

    /// An item failed for good and the run stops. Another item of the same step may
    /// have failed it already (its decision came back later): the step stays failed.
    fn step_failed(&mut self, index: usize, error: String) -> Result<(), EngineError> {
        let track = &mut self.tracks[index];
        if track.phase != StepPhase::Failed {
            track.phase = track
                .phase
                .next(&self.steps[index].id.value, StepEvent::Fail)?;
        }
        self.stop_with(SectionEnd::Failed(error));
        Ok(())
    }
}
