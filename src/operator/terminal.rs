//! The questions drbook asks at the terminal, on stderr so stdout stays the run's own
//! output. Each one can end at a deadline (a checkpoint's `timeout`) or be woken (the
//! run ended while the Ctrl-C question was open), and Ctrl-C inside a question ends it
//! as interrupted.

use std::time::Duration;

use console::Term;
use serde_json::Value;

use super::keys::{Until, Wake};
use super::prompt::{self, Stopped};
use super::{CtrlCChoice, FailureChoice, InterruptedChoice, OperatorError, Question};
use crate::runbook::model::CheckpointKind;
use crate::view::plain_text;

/// A question that ended without an answer, as an error; `GaveUp` only happens to
/// questions with a deadline or a wake-up, which handle it themselves.
fn unanswered(what: &str, stopped: Stopped) -> OperatorError {
    match stopped {
        Stopped::Io(source) => OperatorError::Prompt {
            what: what.to_string(),
            source,
        },
        Stopped::CtrlC | Stopped::GaveUp => OperatorError::Interrupted {
            what: what.to_string(),
        },
    }
}

/// Asks a checkpoint, its step's description above the prompt (the instructions to
/// read before answering). `None`: the deadline passed first.
pub fn ask(question: &Question, until: Until<'_>) -> Result<Option<Value>, OperatorError> {
    let what = format!("checkpoint `{}`", question.step);
    if let Some(description) = &question.description {
        show_description(description).map_err(|source| OperatorError::Prompt {
            what: what.clone(),
            source,
        })?;
    }
    let prompt = match until.deadline {
        Some(deadline) => {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let then = match (&question.default, question.kind) {
                (Some(Value::Bool(b)), CheckpointKind::Confirm) => {
                    format!("takes {}", if *b { "yes" } else { "no" })
                }
                (Some(d), _) => format!("takes {}", show(d)),
                (None, _) => "the run stops".into(),
            };
            format!(
                "{} (no answer in {}: {then})",
                question.prompt,
                humantime::format_duration(Duration::from_secs(left.as_secs_f64().round() as u64))
            )
        }
        None => question.prompt.clone(),
    };
    let answer = match question.kind {
        CheckpointKind::Confirm => {
            let default = question.default.as_ref().and_then(Value::as_bool);
            prompt::confirm(&prompt, default, until).map(Value::Bool)
        }
        CheckpointKind::Choice => {
            let default = question
                .default
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|d| question.choices.iter().position(|c| c == d))
                .unwrap_or(0);
            prompt::select(&prompt, &question.choices, default, until)
                .map(|i| Value::String(question.choices[i].clone()))
        }
        CheckpointKind::Text => {
            let default = question.default.as_ref().and_then(Value::as_str);
            prompt::text(
                &prompt,
                default,
                |t| Ok(Value::String(t.to_string())),
                until,
            )
        }
        CheckpointKind::Number => {
            let default = question.default.as_ref().map(show);
            prompt::text(&prompt, default.as_deref(), parse_number, until)
        }
    };
    match answer {
        Ok(answer) => Ok(Some(answer)),
        Err(Stopped::GaveUp) => Ok(None),
        Err(stopped) => Err(unanswered(&what, stopped)),
    }
}

/// The description as plain text, indented, on the prompt's terminal (stderr); it stays
/// there after the answer.
fn show_description(markdown: &str) -> std::io::Result<()> {
    let term = Term::stderr();
    for line in plain_text::lines(markdown) {
        if line.is_empty() {
            term.write_line("")?;
        } else {
            term.write_line(&format!("    {line}"))?;
        }
    }
    term.flush()
}

/// A number as typed: an integer stays an integer (`3`, not `3.0`).
pub fn parse_number(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Value::from(n));
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("`{text}` is not a number"))
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn choose(
    what: &str,
    prompt: &str,
    items: &[&str],
    default: usize,
) -> Result<usize, OperatorError> {
    let items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    prompt::select(prompt, &items, default, Until::NEVER).map_err(|s| unanswered(what, s))
}

pub fn after_failure(step: &str, error_text: &str) -> Result<FailureChoice, OperatorError> {
    let index = choose(
        &format!("the failure of step `{step}`"),
        &format!("Step `{step}` failed: {error_text}. What now?"),
        &["retry the step", "continue without it", "abort the run"],
        0,
    )?;
    Ok([
        FailureChoice::Retry,
        FailureChoice::Continue,
        FailureChoice::Abort,
    ][index])
}

pub fn interrupted(step: &str) -> Result<InterruptedChoice, OperatorError> {
    let index = choose(
        &format!("interrupted step `{step}`"),
        &format!(
            "Step `{step}` was running when drbook stopped; check what it did. Did it finish?"
        ),
        &[
            "it finished: record it as done, do not run it again",
            "run it again",
            "abort the run",
        ],
        1,
    )?;
    Ok([
        InterruptedChoice::Done,
        InterruptedChoice::Rerun,
        InterruptedChoice::Abort,
    ][index])
}

/// The question after Ctrl-C. `None`: woken, the run ended meanwhile. A second Ctrl-C
/// answers "pause".
pub fn after_ctrl_c(wake: &Wake) -> Result<Option<CtrlCChoice>, OperatorError> {
    let items: Vec<String> = [
        "pause here: stop the running steps; `drbook resume` continues the run",
        "abort the run: stop the running steps and end the run as aborted",
        "carry on: Ctrl-C was a slip",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let until = Until {
        deadline: None,
        wake: Some(wake),
    };
    match prompt::select("Ctrl-C: what now?", &items, 0, until) {
        Ok(i) => Ok(Some(
            [CtrlCChoice::Pause, CtrlCChoice::Abort, CtrlCChoice::CarryOn][i],
        )),
        Err(Stopped::CtrlC) => Ok(Some(CtrlCChoice::Pause)),
        Err(Stopped::GaveUp) => Ok(None),
        Err(stopped) => Err(unanswered("the Ctrl-C question", stopped)),
    }
}
