//! Reading the restic actions' own parameter types as the engine hands them over.
//!
//! A parameter written as a template arrives rendered, so a list of paths may arrive
//! as one string, which is one path (paths may contain commas).

use serde_json::{Map, Value};

use super::error::ResticError;
use crate::actions::execute::{describe_value, optional_str};

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
    fn one_string_is_one_path() {
        let p = params(json!({"l": "/backup/pki,x", "m": ["/a", " "], "n": [1], "e": "  "}));
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
