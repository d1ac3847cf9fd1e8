//! Questions to the answerer during a run: one at a time (the terminal has one cursor),
//! with the screen cleared for it (the live view's spinners would draw over it), on a
//! blocking thread (a person is typing), and what an unanswered question means for the
//! run.

use std::sync::{Arc, Mutex, MutexGuard};

use super::seams::Answerer;
use crate::operator::OperatorError;

/// Something drawing on the terminal that must step aside while a question is on it:
/// the live view stops its spinners and holds its lines until the question is closed.
pub trait QuestionScreen: Send + Sync {
    /// A question is about to be drawn; nothing may draw until `question_closed`.
    fn question_opened(&self);
    fn question_closed(&self);
}

/// Serialises questions: one on the terminal at a time (a checkpoint, a failure's
/// decision and the Ctrl-C question may all come at once), and while one is open the
/// screens are told to keep off the terminal.
#[derive(Clone, Default)]
pub struct PromptLock {
    lock: Arc<Mutex<()>>,
    screens: Arc<Vec<Arc<dyn QuestionScreen>>>,
}

/// Held while a question is on the terminal; closing it gives the screen back.
pub struct QuestionOpen<'a> {
    screens: &'a [Arc<dyn QuestionScreen>],
    _guard: MutexGuard<'a, ()>,
}

impl PromptLock {
    pub fn new(screens: Vec<Arc<dyn QuestionScreen>>) -> PromptLock {
        PromptLock {
            lock: Arc::default(),
            screens: Arc::new(screens),
        }
    }

    /// Waits for the terminal, then clears it for one question.
    pub fn open(&self) -> QuestionOpen<'_> {
        let guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        for screen in self.screens.iter() {
            screen.question_opened();
        }
        QuestionOpen {
            screens: &self.screens,
            _guard: guard,
        }
    }
}

impl Drop for QuestionOpen<'_> {
    /// The screens come back before the next question may take the terminal.
    fn drop(&mut self) {
        for screen in self.screens {
            screen.question_closed();
        }
    }
}

/// Asks one question on a blocking thread, holding the prompt lock; a question thread
/// that died is reported as a failed prompt.
pub(super) async fn ask<T: Send + 'static>(
    answerer: Arc<dyn Answerer>,
    lock: PromptLock,
    what: &'static str,
    question: impl FnOnce(&dyn Answerer) -> Result<T, OperatorError> + Send + 'static,
) -> Result<T, OperatorError> {
    tokio::task::spawn_blocking(move || {
        let _open = lock.open();
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
