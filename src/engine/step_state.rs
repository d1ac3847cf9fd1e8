//! The life of one step instance (a step, or one `foreach` item of it) as an explicit
//! state machine. The live scheduler and the replay of a journal drive the same machine,
//! so a journal that does not fit it is refused instead of being half-understood.
//!
//! ```text
//! Pending ──start(1)──▶ Running(a) ──finish ok──▶ Succeeded
//!    │                     │  ▲
//!    skip                  │  └──start(a+1)── Failed(a)      (retry)
//!    ▼                     └──finish failed──▶ Failed(a)
//! Skipped           Running(a) ──session ends──▶ Interrupted(a) ──start(a+1)──▶ Running
//!                   Running(a) ──cancelled────▶ Interrupted(a) ──marked done──▶ Succeeded
//! ```
//!
//! A cancelled attempt (Ctrl-C paused the run and drbook stopped the action) is
//! interrupted, not failed: it was cut short from outside, so on resume it gets the same
//! treatment as a step that was running when drbook died (re-run when that is safe,
//! otherwise the operator says what happened), and neither its retry budget nor
//! `on_failure` applies to it.

use crate::journal::event::Outcome;

#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    Pending,
    Running {
        attempt: u32,
    },
    Succeeded,
    Failed {
        attempt: u32,
        error: String,
    },
    Skipped {
        reason: String,
    },
    /// Was running when its drbook process died, or was cancelled when the run paused;
    /// how far it got is unknown.
    Interrupted {
        attempt: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition<'a> {
    Start {
        attempt: u32,
    },
    Finish {
        attempt: u32,
        outcome: &'a Outcome,
    },
    Skip {
        reason: &'a str,
    },
    /// The process that ran the step is gone (a new session started).
    SessionEnded,
}

/// An event that does not fit the step's state: the journal and the code disagree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("step `{step}` cannot go from {from} by {transition}")]
pub struct TransitionError {
    pub step: String,
    pub from: String,
    pub transition: String,
}

impl StepState {
    /// Finished for good: dependents may start (a failure only when the step's
    /// `on_failure` lets the run continue, which the scheduler decides).
    pub fn is_done(&self) -> bool {
        matches!(self, StepState::Succeeded | StepState::Skipped { .. })
    }

    pub fn next(&self, step: &str, transition: &Transition) -> Result<StepState, TransitionError> {
        use StepState::*;
        let next = match (self, transition) {
            (Pending, Transition::Start { attempt: 1 }) => Running { attempt: 1 },
            (Pending, Transition::Skip { reason }) => Skipped {
                reason: reason.to_string(),
            },
            (
                Running { attempt },
                Transition::Finish {
                    attempt: a,
                    outcome,
                },
            ) if a == attempt => match outcome {
                Outcome::Succeeded { .. } => Succeeded,
                Outcome::Failed { error } => Failed {
                    attempt: *attempt,
                    error: error.clone(),
                },
                Outcome::TimedOut { after_ms } => Failed {
                    attempt: *attempt,
                    error: format!(
                        "timed out after {}",
                        humantime::format_duration(std::time::Duration::from_millis(*after_ms))
                    ),
                },
                Outcome::Cancelled { .. } => Interrupted { attempt: *attempt },
                Outcome::MarkedDone { .. } => Succeeded,
            },
            (Failed { attempt, .. }, Transition::Start { attempt: a })
            | (Interrupted { attempt }, Transition::Start { attempt: a })
                if *a == attempt + 1 =>
            {
                Running { attempt: *a }
            }
            (
                Interrupted { attempt },
                Transition::Finish {
                    attempt: a,
                    outcome: Outcome::MarkedDone { .. },
                },
            ) if a == attempt => Succeeded,
            (Running { attempt }, Transition::SessionEnded) => Interrupted { attempt: *attempt },
            (state, Transition::SessionEnded) => state.clone(),
            (from, transition) => {
                return Err(TransitionError {
                    step: step.to_string(),
                    from: format!("{from:?}"),
                    transition: format!("{transition:?}"),
                });
            }
        };
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_then_succeeds() {
        let ok = Outcome::Succeeded {
            outputs: Default::default(),
        };
        let failed = Outcome::Failed {
            error: "exit 1".into(),
        };
        let s = StepState::Pending;
        let s = s.next("a", &Transition::Start { attempt: 1 }).unwrap();
        let s = s
            .next(
                "a",
                &Transition::Finish {
                    attempt: 1,
                    outcome: &failed,
                },
            )
            .unwrap();
        let s = s.next("a", &Transition::Start { attempt: 2 }).unwrap();
        let s = s
            .next(
                "a",
                &Transition::Finish {
                    attempt: 2,
                    outcome: &ok,
                },
            )
            .unwrap();
        assert_eq!(s, StepState::Succeeded);
    }

    #[test]
    fn refuses_events_that_do_not_fit() {
        let ok = Outcome::Succeeded {
            outputs: Default::default(),
        };
        let error = StepState::Pending
            .next(
                "a",
                &Transition::Finish {
                    attempt: 1,
                    outcome: &ok,
                },
            )
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("step `a` cannot go from Pending")
        );
        let running = StepState::Running { attempt: 2 };
        assert!(
            running
                .next("a", &Transition::Start { attempt: 1 })
                .is_err()
        );
        assert!(
            StepState::Succeeded
                .next("a", &Transition::Start { attempt: 2 })
                .is_err()
        );
    }

    #[test]
    fn a_cancelled_attempt_is_interrupted_not_failed() {
        let cancelled = Outcome::Cancelled {
            reason: "the run was interrupted (Ctrl-C)".into(),
        };
        let s = StepState::Running { attempt: 1 }
            .next(
                "a",
                &Transition::Finish {
                    attempt: 1,
                    outcome: &cancelled,
                },
            )
            .unwrap();
        assert_eq!(s, StepState::Interrupted { attempt: 1 });
        assert_eq!(s.next("a", &Transition::SessionEnded).unwrap(), s);
    }

    #[test]
    fn an_interrupted_step_is_rerun_or_marked_done() {
        let s = StepState::Running { attempt: 1 }
            .next("a", &Transition::SessionEnded)
            .unwrap();
        assert_eq!(s, StepState::Interrupted { attempt: 1 });
        assert_eq!(
            s.next("a", &Transition::Start { attempt: 2 }).unwrap(),
            StepState::Running { attempt: 2 }
        );
        let done = Outcome::MarkedDone { by: "alice".into() };
        assert_eq!(
            s.next(
                "a",
                &Transition::Finish {
                    attempt: 1,
                    outcome: &done
                }
            )
            .unwrap(),
            StepState::Succeeded
        );
    }
}
