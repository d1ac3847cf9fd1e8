//! What the engine reaches outside itself, behind three seams it receives when it is
//! built: the action catalogue (what runs a step), the answerer (who answers questions)
//! and the clock (what time it is, how long to wait). A run gets the real ones
//! (`Seams::real`); the engine's own tests get scripted actions, a scripted answerer and a
//! clock they advance by hand, so scheduling, retries, timeouts and pauses are tested
//! in-process without sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::actions::{self, ActionFuture, ActionRequest};
use crate::journal::event::AnsweredBy;
use crate::operator::{
    CtrlCChoice, FailureChoice, InterruptedChoice, Operator, OperatorError, Question, Timeout, Wake,
};

/// The actions a run can start.
pub trait Catalog: Send + Sync {
    /// Starts one attempt of action `name`; `None` when no action has that name.
    fn start(&self, name: &str, request: ActionRequest) -> Option<ActionFuture>;
}

/// The real catalogue: `crate::actions::CATALOG`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Registry;

impl Catalog for Registry {
    fn start(&self, name: &str, request: ActionRequest) -> Option<ActionFuture> {
        actions::lookup(name).map(|spec| spec.execute(request))
    }
}

/// Who answers the questions of a run. Every method may block (a person is typing): the
/// engine calls them on a blocking thread, one at a time.
pub trait Answerer: Send + Sync {
    /// Recorded as who decided after a failure.
    fn name(&self) -> &str;
    /// A checkpoint, with its `timeout` if it has one.
    fn checkpoint(
        &self,
        question: &Question,
        timeout: Option<Timeout>,
    ) -> Result<(Value, AnsweredBy), OperatorError>;
    /// What to do after a step failed for good under `on_failure: ask`.
    fn after_failure(&self, step: &str, error: &str) -> Result<FailureChoice, OperatorError>;
    /// Whether a step that was running when drbook died finished (resume).
    fn interrupted(&self, step: &str) -> Result<InterruptedChoice, OperatorError>;
    /// What to do after Ctrl-C during a run; `None`: woken, the run ended first.
    fn after_ctrl_c(&self, wake: Option<&Wake>) -> Result<Option<CtrlCChoice>, OperatorError>;
}

impl Answerer for Operator {
    fn name(&self) -> &str {
        &self.name
    }

    fn checkpoint(
        &self,
        question: &Question,
        timeout: Option<Timeout>,
    ) -> Result<(Value, AnsweredBy), OperatorError> {
        self.checkpoint_within(question, timeout)
    }

    fn after_failure(&self, step: &str, error: &str) -> Result<FailureChoice, OperatorError> {
        Operator::after_failure(self, step, error)
    }

    fn interrupted(&self, step: &str) -> Result<InterruptedChoice, OperatorError> {
        Operator::interrupted(self, step)
    }

    fn after_ctrl_c(&self, wake: Option<&Wake>) -> Result<Option<CtrlCChoice>, OperatorError> {
        Operator::after_ctrl_c(self, wake)
    }
}

/// A wait the clock hands out: resolves once its time has passed.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Time as the engine sees it.
pub trait Clock: Send + Sync {
    /// Wall-clock time (the declared time of a drill's incident).
    fn now(&self) -> DateTime<Utc>;
    /// Time since the clock was made, never going back: how long an attempt took.
    fn monotonic(&self) -> Duration;
    /// A wait of `duration` (a retry's back-off, a step's timeout).
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The system's clocks and tokio's timers.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The three seams of one engine.
#[derive(Clone)]
pub struct Seams {
    pub catalog: Arc<dyn Catalog>,
    pub answerer: Arc<dyn Answerer>,
    pub clock: Arc<dyn Clock>,
}

impl Seams {
    /// What a real run uses: the action registry, the operator, the system clock.
    pub fn real(operator: Operator) -> Seams {
        Seams {
            catalog: Arc::new(Registry),
            answerer: Arc::new(operator),
            clock: Arc::new(SystemClock::default()),
        }
    }
}
