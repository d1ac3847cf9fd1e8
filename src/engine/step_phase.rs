//! What the scheduler does next with a step, as two explicit state machines on top of
//! `step_state` (which only knows what the journal recorded): the phase of one item
//! (a step, or one `foreach` item of it) under the step's `retry` and `on_failure`
//! policy, and the phase of the whole step in its section.
//!
//! The live scheduler and the replay of a journal drive the same machines, so a resumed
//! run is in exactly the phase the crashed one was in; an event that does not fit is a
//! `PhaseError`, never a silent no-op.
//!
//! An item:
//!
//! ```text
//!            ┌────────────── retry due ───────────────┐
//!            ▼                                         │
//!  Ready ──start──▶ Running ──failed, attempts left──▶ BackingOff
//!    ▲                │ │ │
//!    │                │ │ └──succeeded / marked done──▶ Succeeded
//!    │                │ └──cancelled (pause)──▶ Paused ──session ends──▶ Ready
//!    │                └──failed for good──┬─ on_failure: abort ──▶ Aborted
//!    │                                    ├─ on_failure: continue ─▶ GivenUp
//!    │                                    └─ on_failure: ask ──▶ Deciding
//!    └──────────── decided: retry ────────────────────────────────┘ │
//!                                 decided: continue ▶ GivenUp ◀─────┤
//!                                 decided: abort ───▶ Aborted ◀─────┘
//! ```
//!
//! `Running` and `BackingOff` become `Ready` when the session that ran them ends (the
//! attempt is re-run, or the retry is due at once); `Deciding` stays: the operator is
//! asked again. `Ready` also takes `MarkedDone` (resume: the operator said an
//! interrupted attempt finished).
//!
//! A step:
//!
//! ```text
//!  Waiting ──start──▶ Active ──settled, none given up──▶ Done
//!     │                 │    ──settled, one given up───▶ DoneFailed
//!     ├──skip──▶ Done ◀─┘(skip: empty `foreach`)
//!     ├──settled (restored from the journal)──▶ Done / DoneFailed
//!     └──fail──▶ Failed ◀──fail── Active
//! ```

use crate::journal::event::FailureDecision;
use crate::runbook::model::OnFailure;

/// Where one item is in its life under the step's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemPhase {
    /// Needs an attempt: new, its retry is due, or its last attempt was cut short.
    Ready,
    Running,
    /// An attempt failed and another is due after the back-off.
    BackingOff,
    /// Failed for good under `on_failure: ask`: the operator decides what now.
    Deciding,
    Succeeded,
    /// Failed for good, and the run goes on without it.
    GivenUp,
    /// Failed for good, and the run stops.
    Aborted,
    /// Cancelled when the run paused; nothing more happens to it in this session.
    Paused,
}

/// What can happen to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEvent {
    Start,
    Succeeded,
    /// An attempt failed (or timed out); `retry` when the step has attempts left.
    Failed {
        retry: bool,
        on_failure: OnFailure,
    },
    /// The attempt was cut short from outside: Ctrl-C, or a question nobody could answer.
    Cancelled,
    RetryDue,
    Decided(FailureDecision),
    /// After a crash the operator said the interrupted attempt had finished.
    MarkedDone,
    /// The process that ran the item is gone (replay: a new session started).
    SessionEnded,
}

/// The phase of a whole step in its section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepPhase {
    /// Its dependencies have not all finished, or it has not been looked at yet.
    Waiting,
    Active,
    /// Finished (succeeded, or skipped): dependents may start.
    Done,
    /// Failed, and the run goes on without it (`on_failure: continue`, or the operator).
    DoneFailed,
    /// Failed, and the section stops.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEvent {
    Start,
    Skip,
    /// Every item succeeded or was given up; `given_up` when one was.
    Settled {
        given_up: bool,
    },
    Fail,
}

/// An event that does not fit the phase it reached: the scheduler's own bookkeeping (or
/// a journal replayed into it) is wrong, and the run stops instead of guessing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("step `{step}`{} cannot go from {from} by {event}", item.map(|i| format!(" item {i}")).unwrap_or_default())]
pub struct PhaseError {
    pub step: String,
    pub item: Option<usize>,
    pub from: String,
    pub event: String,
}

impl ItemPhase {
    /// Nothing more will happen to this item in this run.
    pub fn settled(self) -> bool {
        matches!(self, ItemPhase::Succeeded | ItemPhase::GivenUp)
    }

    pub fn next(
        self,
        step: &str,
        item: Option<usize>,
        event: ItemEvent,
    ) -> Result<Self, PhaseError> {
        use ItemEvent as E;
        use ItemPhase::*;
        let next = match (self, event) {
            (Ready, E::Start) => Running,
            (Ready, E::MarkedDone) => Succeeded,
            (Running, E::Succeeded) => Succeeded,
            (Running, E::Failed { retry: true, .. }) => BackingOff,
            (Running, E::Failed { on_failure, .. }) => match on_failure {
                OnFailure::Abort => Aborted,
                OnFailure::Continue => GivenUp,
                OnFailure::Ask => Deciding,
            },
            (Running, E::Cancelled) => Paused,
            (BackingOff, E::RetryDue) => Ready,
            (Deciding, E::Decided(decision)) => match decision {
                FailureDecision::Retry => Ready,
                FailureDecision::Continue => GivenUp,
                FailureDecision::Abort => Aborted,
            },
            (Running | BackingOff | Paused, E::SessionEnded) => Ready,
            (Ready | Deciding | Succeeded | GivenUp | Aborted, E::SessionEnded) => self,
            (from, event) => {
                return Err(PhaseError {
                    step: step.to_string(),
                    item,
                    from: format!("{from:?}"),
                    event: format!("{event:?}"),
                });
            }
        };
        Ok(next)
    }
}

impl StepPhase {
    /// Finished, for its dependents: they may start.
    pub fn finished(self) -> bool {
        matches!(self, StepPhase::Done | StepPhase::DoneFailed)
    }

    pub fn next(self, step: &str, event: StepEvent) -> Result<Self, PhaseError> {
        use StepPhase::*;
        let next = match (self, event) {
            (Waiting, StepEvent::Start) => Active,
            (Waiting | Active, StepEvent::Skip) => Done,
            (Waiting | Active, StepEvent::Settled { given_up: false }) => Done,
            (Waiting | Active, StepEvent::Settled { given_up: true }) => DoneFailed,
            (Waiting | Active, StepEvent::Fail) => Failed,
            (from, event) => {
                return Err(PhaseError {
                    step: step.to_string(),
                    item: None,
                    from: format!("{from:?}"),
                    event: format!("{event:?}"),
                });
            }
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(retry: bool, on_failure: OnFailure) -> ItemEvent {
        ItemEvent::Failed { retry, on_failure }
    }

    #[test]
    fn a_failure_with_attempts_left_backs_off_then_runs_again() {
        let p = ItemPhase::Ready.next("a", None, ItemEvent::Start).unwrap();
        let p = p.next("a", None, failed(true, OnFailure::Abort)).unwrap();
        assert_eq!(p, ItemPhase::BackingOff);
        let p = p.next("a", None, ItemEvent::RetryDue).unwrap();
        assert_eq!(p, ItemPhase::Ready);
    }

    #[test]
    fn the_last_failure_follows_on_failure() {
        let running = ItemPhase::Running;
        let go = |f| running.next("a", None, failed(false, f)).unwrap();
        assert_eq!(go(OnFailure::Abort), ItemPhase::Aborted);
        assert_eq!(go(OnFailure::Continue), ItemPhase::GivenUp);
        assert_eq!(go(OnFailure::Ask), ItemPhase::Deciding);
        let decide = |d| {
            ItemPhase::Deciding
                .next("a", None, ItemEvent::Decided(d))
                .unwrap()
        };
        assert_eq!(decide(FailureDecision::Retry), ItemPhase::Ready);
        assert_eq!(decide(FailureDecision::Continue), ItemPhase::GivenUp);
        assert_eq!(decide(FailureDecision::Abort), ItemPhase::Aborted);
    }

    #[test]
    fn a_new_session_reruns_what_was_cut_short_and_asks_again_what_was_undecided() {
        for phase in [ItemPhase::Running, ItemPhase::Paused, ItemPhase::BackingOff] {
            assert_eq!(
                phase.next("a", None, ItemEvent::SessionEnded).unwrap(),
                ItemPhase::Ready
            );
        }
        assert_eq!(
            ItemPhase::Deciding
                .next("a", None, ItemEvent::SessionEnded)
                .unwrap(),
            ItemPhase::Deciding
        );
    }

    #[test]
    fn events_that_do_not_fit_are_errors() {
        let error = ItemPhase::Succeeded
            .next("a", Some(2), ItemEvent::Start)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "step `a` item 2 cannot go from Succeeded by Start"
        );
        assert!(
            ItemPhase::Ready
                .next("a", None, ItemEvent::Decided(FailureDecision::Retry))
                .is_err()
        );
        assert!(
            ItemPhase::Deciding
                .next("a", None, ItemEvent::RetryDue)
                .is_err()
        );
        assert!(StepPhase::Done.next("a", StepEvent::Start).is_err());
        assert!(StepPhase::Failed.next("a", StepEvent::Skip).is_err());
    }

    #[test]
    fn a_step_is_done_or_done_failed_once_its_items_settle() {
        let s = StepPhase::Waiting.next("a", StepEvent::Start).unwrap();
        assert_eq!(
            s.next("a", StepEvent::Settled { given_up: true }).unwrap(),
            StepPhase::DoneFailed
        );
        assert!(StepPhase::DoneFailed.finished());
        assert!(!StepPhase::Failed.finished());
    }
}
