//! Questions to the answerer during a run: one at a time (the terminal has one cursor),
//! on a blocking thread (a person is typing), and what an unanswered question means for
//! the run.

use std::sync::{Arc, Mutex};

use super::seams::Answerer;
use crate::operator::OperatorError;

/// Serialises questions: one on the terminal at a time (a checkpoint, a failure's
/// decision and the Ctrl-C question may all come at once).
pub type PromptLock = Arc<Mutex<()>>;

/// Asks one question on a blocking thread, holding the prompt lock; a question thread
/// that died is reported as a failed prompt.
pub(super) async fn ask<T: Send + 'static>(
    answerer: Arc<dyn Answerer>,
    lock: PromptLock,
    what: &'static str,
    question: impl FnOnce(&dyn Answerer) -> Result<T, OperatorError> + Send + 'static,
) -> Result<T, OperatorError> {
    tokio::task::spawn_blocking(move || {
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        question(answerer.as_ref())
    })
    .await
    .unwrap_or_else(|e| {
        Err(OperatorError::Prompt {
            what: what.into(),
            source: std::io::Error::other(e.to_string()),
        })
    })
}

/// What a checkpoint without an answer does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unanswered {
    /// Nobody could answer: no terminal (e.g. `drbook resume` from cron) or the terminal
    /// failed. Nothing was decided, so the run pauses and `drbook resume` asks again.
    Pause,
    /// The operator pressed Ctrl-C at the prompt: a pause, like Ctrl-C during an action,
    /// which also stops whatever else is running.
    CtrlC,
    /// An answer that cannot be used (an answers file's wrong type) or a timeout with
    /// no default: the runbook says the run cannot go on.
    Fail,
}

impl Unanswered {
    pub(super) fn of(error: &OperatorError) -> Unanswered {
        match error {
            OperatorError::NoTerminal { .. } | OperatorError::Prompt { .. } => Unanswered::Pause,
            OperatorError::Interrupted { .. } => Unanswered::CtrlC,
            OperatorError::BadAnswer { .. } | OperatorError::NoAnswer { .. } => Unanswered::Fail,
        }
    }
}
