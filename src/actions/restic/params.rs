//! Reading the restic actions' own parameter types as the engine hands them over.
//!
//! A parameter written as a template arrives rendered, and a rendered boolean is text
//! (`"true"`, or `"True"` as minijinja prints it), so both are read; a list of paths may
//! arrive as one string, which is one path (paths may contain commas).

use serde_json::{Map, Value};

use super::error::ResticError;
use crate::actions::execute::{describe_value, optional_str};

/// An optional boolean: `true`/`false`, or their text.
pub(crate) fn optional_bool(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<bool>, ResticError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if matches!(s.trim(), "true" | "True") => Ok(Some(true)),
        Some(Value::String(s)) if matches!(s.trim(), "false" | "False") => Ok(Some(false)),
        Some(other) => Err(ResticError::BadParam {
            name,
            problem: format!("must be true or false, but is {}", describe_value(other)),
        }),
    }
}

/// An optional list of strings; one string is a list of one. Empty items are dropped.
pub(crate) fn optional_list(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<String>, ResticError> {
    let bad = |value: &Value| ResticError::BadParam {
        name,
        problem: format!(
            "must be a list of strings, but is {}",
            describe_value(value)
        ),
    };
    let items: Vec<String> = match params.get(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(bad(other)),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(bad(other)),
    };
    Ok(items.into_iter().filter(|i| !i.is_empty()).collect())
}

/// An optional string that, when given, is not blank (a template that rendered to
/// nothing is a mistake, not "no filter"). Trimmed.
pub(crate) fn optional_text(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, crate::actions::ActionError> {
    match optional_str(params, name)? {
        None => Ok(None),
        Some(text) if text.trim().is_empty() => Err(ResticError::BadParam {
            name,
            problem: "is empty; leave it out, or check the template that produced it".into(),
        }
        .into()),
        Some(text) => Ok(Some(text.trim().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn rendered_text_counts_as_bool_and_one_string_as_one_path() {
        let p = params(
            json!({"a": "True", "b": false, "x": "yes", "l": "/backup/pki,x", "m": ["/a", " "], "n": [1], "e": "  "}),
        );
        assert_eq!(optional_bool(&p, "a").unwrap(), Some(true));
        assert_eq!(optional_bool(&p, "b").unwrap(), Some(false));
        assert_eq!(optional_bool(&p, "none").unwrap(), None);
        assert_eq!(
            optional_bool(&p, "x").unwrap_err().to_string(),
            "parameter `x` must be true or false, but is the string `yes`"
        );
        assert_eq!(optional_list(&p, "l").unwrap(), ["/backup/pki,x"]);
        assert_eq!(optional_list(&p, "m").unwrap(), ["/a"]);
        assert!(optional_list(&p, "n").is_err());
        assert_eq!(
            optional_text(&p, "e").unwrap_err().to_string(),
            "parameter `e` is empty; leave it out, or check the template that produced it"
        );
        assert_eq!(optional_text(&p, "none").unwrap(), None);
    }
}
