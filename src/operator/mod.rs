//! The human side of a run: checkpoints, decisions after a failure or a crash, missing
//! inputs. Answers come from the operator at a terminal or, in drills only, from an
//! answers file; without either, a question is a clear error, never a hang.
//!
//! Every question at the terminal ends: with an answer, at its deadline (a checkpoint's
//! `timeout`), when woken, or with Ctrl-C. None is left waiting for a key after the run
//! has moved on (see `keys`).

pub mod answers;
mod input_prompt;
pub mod keys;
mod prompt;
pub mod terminal;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::journal::event::AnsweredBy;
use crate::runbook::model::CheckpointKind;

pub use answers::Answers;
pub use input_prompt::ask_input;
use keys::Until;
pub use keys::Wake;

/// A checkpoint question, rendered and ready to ask.
#[derive(Debug, Clone)]
pub struct Question {
    pub step: String,
    /// The step's rendered `title`.
    pub title: Option<String>,
    /// The step's rendered `description` (markdown), shown above the prompt.
    pub description: Option<String>,
    pub prompt: String,
    pub kind: CheckpointKind,
    pub choices: Vec<String>,
    pub default: Option<Value>,
}

/// What to do after a step failed and its runbook said `on_failure: ask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureChoice {
    Retry,
    Continue,
    Abort,
}

/// What to do after the operator pressed Ctrl-C during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtrlCChoice {
    /// Stop the running steps, record the pause; `drbook resume` continues.
    Pause,
    /// Stop the running steps and end the run as aborted.
    Abort,
    /// Nothing: the keypress was a slip.
    CarryOn,
}

/// A checkpoint's `timeout`, counted from when the step started (which may be before
/// its question reaches the screen: one question is shown at a time).
#[derive(Debug, Clone, Copy)]
pub struct Timeout {
    pub at: Instant,
    pub limit: Duration,
}

impl Timeout {
    pub fn starting_now(limit: Duration) -> Timeout {
        Timeout {
            at: Instant::now() + limit,
            limit,
        }
    }
}

/// What happened to a step that was running when drbook died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptedChoice {
    /// It finished; record it as done without running it again.
    Done,
    Rerun,
    Abort,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("{what} needs an answer, but there is no terminal to ask on{hint}")]
    NoTerminal { what: String, hint: String },
    #[error("the answer to step `{step}` in {path} does not fit: {reason}")]
    BadAnswer {
        step: String,
        path: String,
        reason: String,
    },
    #[error("the prompt for {what} failed: {source}")]
    Prompt {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the operator interrupted the prompt for {what}")]
    Interrupted { what: String },
    #[error("no answer to {what} within {after}, and it has no default")]
    NoAnswer { what: String, after: String },
}

/// Answers the questions of one run.
#[derive(Debug)]
pub struct Operator {
    /// Who is answering at the terminal (recorded with each answer).
    pub name: String,
    /// Drill mode only: answers taken from a file, recorded as the file's.
    pub answers: Option<Answers>,
    /// A person can be asked: stdin and stderr are terminals.
    pub interactive: bool,
}

impl Operator {
    /// Answers a checkpoint: from the answers file when it has one for the step,
    /// otherwise from the operator, who may take as long as they need.
    pub fn checkpoint(&self, question: &Question) -> Result<(Value, AnsweredBy), OperatorError> {
        self.checkpoint_within(question, None)
    }

    /// Answers a checkpoint with a `timeout`: when it passes without an answer, the
    /// question leaves the screen and the checkpoint's default is the answer (recorded
    /// as such); with no default it is an error. A timeout that passed while another
    /// question was on the screen takes the default without asking.
    pub fn checkpoint_within(
        &self,
        question: &Question,
        timeout: Option<Timeout>,
    ) -> Result<(Value, AnsweredBy), OperatorError> {
        if let Some(answers) = &self.answers
            && let Some(answer) = answers.answer(question)?
        {
            return Ok((
                answer,
                AnsweredBy::AnswersFile {
                    path: answers.path.display().to_string(),
                },
            ));
        }
        if let Some(timeout) = timeout
            && timeout.at <= Instant::now()
        {
            return self.no_answer(question, timeout);
        }
        self.require_terminal(
            &format!("checkpoint `{}`", question.step),
            self.answers_hint(),
        )?;
        let until = Until {
            deadline: timeout.map(|t| t.at),
            wake: None,
        };
        match terminal::ask(question, until)? {
            Some(answer) => Ok((
                answer,
                AnsweredBy::Operator {
                    name: self.name.clone(),
                },
            )),
            None => match timeout {
                Some(timeout) => self.no_answer(question, timeout),
                None => Err(OperatorError::Interrupted {
                    what: format!("checkpoint `{}`", question.step),
                }),
            },
        }
    }

    /// The timeout passed: the default is the answer, recorded as the timeout's.
    fn no_answer(
        &self,
        question: &Question,
        timeout: Timeout,
    ) -> Result<(Value, AnsweredBy), OperatorError> {
        match &question.default {
            Some(default) => Ok((default.clone(), AnsweredBy::TimeoutDefault)),
            None => Err(OperatorError::NoAnswer {
                what: format!("checkpoint `{}`", question.step),
                after: humantime::format_duration(timeout.limit).to_string(),
            }),
        }
    }

    pub fn after_failure(&self, step: &str, error: &str) -> Result<FailureChoice, OperatorError> {
        self.require_terminal(
            &format!("the failure of step `{step}` (on_failure: ask)"),
            String::new(),
        )?;
        terminal::after_failure(step, error)
    }

    pub fn interrupted(&self, step: &str) -> Result<InterruptedChoice, OperatorError> {
        self.require_terminal(
            &format!("step `{step}`, which was running when drbook stopped,"),
            "; run `drbook resume` at a terminal to say whether it finished, or mark the step `idempotent: true` if running it again is safe".into(),
        )?;
        terminal::interrupted(step)
    }

    /// Asks what to do after Ctrl-C; without a terminal, or without a `wake` to end the
    /// question when the run ends first, the answer is "pause". `None`: woken.
    pub fn after_ctrl_c(&self, wake: Option<&Wake>) -> Result<Option<CtrlCChoice>, OperatorError> {
        match wake {
            Some(wake) if self.interactive => terminal::after_ctrl_c(wake),
            _ => Ok(Some(CtrlCChoice::Pause)),
        }
    }

    fn answers_hint(&self) -> String {
        match &self.answers {
            Some(a) => format!("; add an answer for it to {}", a.path.display()),
            None => {
                "; run at a terminal (in a drill, `--answers FILE` can answer checkpoints)".into()
            }
        }
    }

    fn require_terminal(&self, what: &str, hint: String) -> Result<(), OperatorError> {
        if self.interactive {
            Ok(())
        } else {
            Err(OperatorError::NoTerminal {
                what: what.to_string(),
                hint,
            })
        }
    }
}

/// True when a person can be asked: stdin and stderr are both terminals.
pub fn terminal_available() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}
