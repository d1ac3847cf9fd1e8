//! Input values given on the command line (`-i name=value`), typed by the runbook's
//! declaration, for `plan`, `run` and `drill`. A secret is never one of them: command
//! lines end up in shell history and in `ps`, so `-i` refuses a secret's name.

use serde_json::{Map, Value};

use crate::runbook::model::{Input, InputKind, Runbook, SecretDecl, SecretSource};
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
        if let Some(secret) = runbook.spec.secrets.iter().find(|s| s.name.value == name) {
            return Err(secret_given(secret));
        }
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

/// Why `-i <secret>=...` is refused, and where the secret is read from instead. The
/// value given is not repeated.
fn secret_given(secret: &SecretDecl) -> String {
    let name = &secret.name.value;
    let (source, instead) = match &secret.source {
        SecretSource::Env(var) => (
            format!("environment variable `{}`", var.value),
            "set that instead",
        ),
        SecretSource::File(path) => (format!("file `{}`", path.value), "write it there instead"),
    };
    format!(
        "`-i {name}=...` is refused: `{name}` is a secret, and a command line ends up in shell history and in `ps`; the runbook reads it from {source}: {instead}"
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn runbook() -> Runbook {
        let source = r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: r, version: 1.0.0}
spec:
  inputs:
    - {name: members, type: list}
  secrets:
    - {name: token, env: API_TOKEN}
    - {name: key, file: /run/secrets/key}
  steps:
    - id: go
      action: shell
      with: {run: "true"}
      marks: recovered
"#;
        crate::runbook::parse::parse(source).unwrap()
    }

    #[test]
    fn a_secret_is_refused_with_where_it_is_read_from() {
        let runbook = runbook();
        let error = parse_args(&runbook, &["token=hunter2-canary".to_string()]).unwrap_err();
        assert_eq!(
            error,
            "`-i token=...` is refused: `token` is a secret, and a command line ends up in shell history and in `ps`; the runbook reads it from environment variable `API_TOKEN`: set that instead"
        );
        let error = parse_args(&runbook, &[" key =x".to_string()]).unwrap_err();
        assert!(
            error.ends_with("reads it from file `/run/secrets/key`: write it there instead"),
            "{error}"
        );
        // Inputs are still given as before.
        let values = parse_args(&runbook, &["members=a,b".to_string()]).unwrap();
        assert_eq!(values["members"], serde_json::json!(["a", "b"]));
    }
}
