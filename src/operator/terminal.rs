//! Questions asked at the terminal with dialoguer, on stderr so stdout stays the run's
//! own output.

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input, Select};
use serde_json::Value;

use super::{FailureChoice, InterruptedChoice, OperatorError, Question};
use crate::runbook::model::CheckpointKind;

fn prompt_error(what: &str) -> impl FnOnce(dialoguer::Error) -> OperatorError + '_ {
    move |e| match e {
        dialoguer::Error::IO(source) if source.kind() == std::io::ErrorKind::Interrupted => {
            OperatorError::Interrupted {
                what: what.to_string(),
            }
        }
        dialoguer::Error::IO(source) => OperatorError::Prompt {
            what: what.to_string(),
            source,
        },
    }
}

pub fn ask(question: &Question) -> Result<Value, OperatorError> {
    let theme = ColorfulTheme::default();
    let what = format!("checkpoint `{}`", question.step);
    let error = || prompt_error(&what);
    Ok(match question.kind {
        CheckpointKind::Confirm => {
            let mut prompt = Confirm::with_theme(&theme).with_prompt(&question.prompt);
            if let Some(Value::Bool(d)) = question.default {
                prompt = prompt.default(d);
            }
            Value::Bool(prompt.interact().map_err(error())?)
        }
        CheckpointKind::Choice => {
            let default = question
                .default
                .as_ref()
                .and_then(Value::as_str)
                .and_then(|d| question.choices.iter().position(|c| c == d))
                .unwrap_or(0);
            let index = Select::with_theme(&theme)
                .with_prompt(&question.prompt)
                .items(&question.choices)
                .default(default)
                .interact()
                .map_err(error())?;
            Value::String(question.choices[index].clone())
        }
        CheckpointKind::Text => {
            let mut prompt = Input::<String>::with_theme(&theme).with_prompt(&question.prompt);
            if let Some(Value::String(d)) = &question.default {
                prompt = prompt.default(d.clone());
            }
            Value::String(prompt.interact_text().map_err(error())?)
        }
        CheckpointKind::Number => {
            let mut prompt = Input::<f64>::with_theme(&theme).with_prompt(&question.prompt);
            if let Some(d) = question.default.as_ref().and_then(Value::as_f64) {
                prompt = prompt.default(d);
            }
            let number = prompt.interact_text().map_err(error())?;
            serde_json::Number::from_f64(number).map_or(Value::Null, Value::Number)
        }
    })
}

pub fn after_failure(step: &str, error_text: &str) -> Result<FailureChoice, OperatorError> {
    let what = format!("the failure of step `{step}`");
    let choices = ["retry the step", "continue without it", "abort the run"];
    let index = Select::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("Step `{step}` failed: {error_text}. What now?"))
        .items(choices)
        .default(0)
        .interact()
        .map_err(prompt_error(&what))?;
    Ok([
        FailureChoice::Retry,
        FailureChoice::Continue,
        FailureChoice::Abort,
    ][index])
}

pub fn interrupted(step: &str) -> Result<InterruptedChoice, OperatorError> {
    let what = format!("interrupted step `{step}`");
    let choices = [
        "it finished: record it as done, do not run it again",
        "run it again",
        "abort the run",
    ];
    let index = Select::with_theme(&ColorfulTheme::default())
        .with_prompt(format!(
            "Step `{step}` was running when drbook stopped; check what it did. Did it finish?"
        ))
        .items(choices)
        .default(1)
        .interact()
        .map_err(prompt_error(&what))?;
    Ok([
        InterruptedChoice::Done,
        InterruptedChoice::Rerun,
        InterruptedChoice::Abort,
    ][index])
}
