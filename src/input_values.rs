//! Input values given on the command line (`-i name=value`), typed by the runbook's
//! declaration. `plan` uses them now; `run` and `drill` will too.

use serde_json::{Map, Value};

use crate::runbook::model::{Input, InputKind, Runbook};
use crate::source::decode::closest;

/// Parses every `-i name=value` against the runbook's inputs. Errors name the input and
/// say what to write instead.
pub fn parse_args(runbook: &Runbook, args: &[String]) -> Result<Map<String, Value>, String> {
    let mut values = Map::new();
    for arg in args {
        let Some((name, text)) = arg.split_once('=') else {
            return Err(format!(
                "`-i {arg}` is not `name=value`; write for example `-i {arg}=...`"
            ));
        };
        let name = name.trim();
        let Some(input) = runbook.spec.inputs.iter().find(|i| i.name.value == name) else {
            let names: Vec<&str> = runbook
                .spec
                .inputs
                .iter()
                .map(|i| i.name.value.as_str())
                .collect();
            let hint = match closest(name, &names) {
                Some(best) => format!("did you mean `{best}`?"),
                None if names.is_empty() => "this runbook declares no inputs".to_string(),
                None => format!("its inputs are: {}", names.join(", ")),
            };
            return Err(format!(
                "runbook `{}` has no input `{name}`; {hint}",
                runbook.metadata.name.value
            ));
        };
        if values.contains_key(name) {
            return Err(format!(
                "input `{name}` is given twice; keep one `-i {name}=...`"
            ));
        }
        values.insert(name.to_string(), typed(input, text)?);
    }
    Ok(values)
}

/// Converts the text of one value to the input's declared type.
pub fn typed(input: &Input, text: &str) -> Result<Value, String> {
    let name = &input.name.value;
    let value = match input.kind {
        InputKind::String => Value::String(text.to_string()),
        InputKind::Number => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or(())
            })
            .map_err(|()| format!("input `{name}` is a number; `{text}` is not one"))?,
        InputKind::Bool => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("input `{name}` is `true` or `false`, not `{text}`")),
        },
        InputKind::List => {
            if text.trim_start().starts_with('[') {
                match serde_json::from_str::<Value>(text) {
                    Ok(list @ Value::Array(_)) => list,
                    _ => {
                        return Err(format!(
                            "input `{name}` is a list; `{text}` is not a JSON list (or write `a,b,c`)"
                        ));
                    }
                }
            } else {
                Value::Array(
                    text.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                )
            }
        }
    };
    if let Value::String(s) = &value
        && !input.choices.is_empty()
        && !input.choices.iter().any(|c| &c.value == s)
    {
        let choices: Vec<&str> = input.choices.iter().map(|c| c.value.as_str()).collect();
        return Err(format!(
            "input `{name}` must be one of: {}; `{s}` is not",
            choices.join(", ")
        ));
    }
    Ok(value)
}
