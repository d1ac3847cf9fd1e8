//! Asks the operator for a runbook input that has neither a `-i` value nor a default,
//! until the answer fits the input's type.

use serde_json::Value;

use super::OperatorError;
use crate::input_values;
use crate::runbook::model::{Input, InputKind};

/// Asks for `input` at the terminal; the caller has checked that there is one.
pub fn ask_input(input: &Input) -> Result<Value, OperatorError> {
    let prompt = match &input.description {
        Some(d) => format!("{} ({})", input.name.value, d.value),
        None => input.name.value.clone(),
    };
    let hint = match input.kind {
        InputKind::List => " [comma-separated]",
        InputKind::Bool => " [true/false]",
        _ => "",
    };
    loop {
        let text: String =
            dialoguer::Input::with_theme(&dialoguer::theme::ColorfulTheme::default())
                .with_prompt(format!("{prompt}{hint}"))
                .interact_text()
                .map_err(|e| OperatorError::Prompt {
                    what: format!("input `{}`", input.name.value),
                    source: std::io::Error::other(e.to_string()),
                })?;
        match input_values::typed(input, &text) {
            Ok(value) => return Ok(value),
            // The operator is at the terminal and retyping: say why, then ask again.
            Err(message) => eprintln!("{message}"),
        }
    }
}
