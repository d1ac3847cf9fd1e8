//! The human side of a run: checkpoints, decisions after a failure or a crash, missing
//! inputs. Answers come from the operator at a terminal or, in drills only, from an
//! answers file; without either, a question is a clear error, never a hang.

pub mod answers;
pub mod terminal;

use serde_json::Value;

use crate::journal::event::AnsweredBy;
use crate::runbook::model::CheckpointKind;

pub use answers::Answers;

/// A checkpoint question, rendered and ready to ask.
#[derive(Debug, Clone)]
pub struct Question {
    pub step: String,
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
    /// otherwise from the operator.
    pub fn checkpoint(&self, question: &Question) -> Result<(Value, AnsweredBy), OperatorError> {
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
        self.require_terminal(
            &format!("checkpoint `{}`", question.step),
            self.answers_hint(),
        )?;
        let answer = terminal::ask(question)?;
        Ok((
            answer,
            AnsweredBy::Operator {
                name: self.name.clone(),
            },
        ))
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
            &format!("step `{step}`, which was running when drbook stopped"),
            "; run `drbook resume` at a terminal to say whether it finished, or mark the step `idempotent: true` if running it again is safe".into(),
        )?;
        terminal::interrupted(step)
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
