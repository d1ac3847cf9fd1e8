//! Reading the restic actions' filter parameters as the engine hands them over: a
//! template that rendered to nothing is a mistake, not "no filter".

use serde_json::{Map, Value};

use super::error::ResticError;
use crate::actions::execute::optional_str;

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
    fn a_blank_filter_is_refused() {
        let p = params(json!({"e": "  "}));
        assert_eq!(
            optional_text(&p, "e").unwrap_err().to_string(),
            "parameter `e` is empty; leave it out, or check the template that produced it"
        );
        assert_eq!(optional_text(&p, "none").unwrap(), None);
    }
}
