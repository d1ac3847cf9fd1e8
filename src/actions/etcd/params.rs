//! Reading the etcd actions' parameters as the engine hands them over.
//!
//! A parameter written as a template arrives rendered, and a rendered scalar is text
//! (`"3"`), so numbers are also accepted as their text (booleans: `execute::optional_bool`).
//! A list of endpoints may also arrive as one comma-separated string, the way etcdctl
//! takes it.

use crate::actions::execute::{ActionError, OneString, describe_value, optional_list};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::error::EtcdError;

/// An optional whole number that is not negative: a number, or its text.
pub(crate) fn optional_u64(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, EtcdError> {
    let bad = |value: &Value| EtcdError::BadParam {
        name,
        problem: format!(
            "must be a whole number, 0 or more, but is {}",
            describe_value(value)
        ),
    };
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| bad(value)),
        Some(value @ Value::String(s)) => s.trim().parse::<u64>().map(Some).map_err(|_| bad(value)),
        Some(other) => Err(bad(other)),
    }
}

/// A required, non-empty list of strings.
pub(crate) fn required_list(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<String>, ActionError> {
    let items = optional_list(params, name, OneString::SplitAtCommas)?;
    if items.is_empty() {
        return Err(EtcdError::BadParam {
            name,
            problem: "is missing or empty".into(),
        }
        .into());
    }
    Ok(items)
}

/// A path parameter, taken from the run's work directory when relative.
pub(crate) fn path_in(workdir: &Path, path: &str) -> PathBuf {
    workdir.join(path)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn rendered_text_counts_as_a_number() {
        let p = params(json!({"n": "12", "m": 3, "neg": -1}));
        assert_eq!(optional_u64(&p, "n").unwrap(), Some(12));
        assert_eq!(optional_u64(&p, "m").unwrap(), Some(3));
        assert!(optional_u64(&p, "neg").is_err());
    }

    #[test]
    fn lists_may_be_comma_separated_text() {
        let p = params(json!({"e": "http://a:1, http://b:2,", "l": ["x", " y "], "bad": [1]}));
        assert_eq!(
            required_list(&p, "e").unwrap(),
            vec!["http://a:1", "http://b:2"]
        );
        assert_eq!(required_list(&p, "l").unwrap(), vec!["x", "y"]);
        assert!(required_list(&p, "bad").is_err());
        assert_eq!(
            required_list(&p, "none").unwrap_err().to_string(),
            "parameter `none` is missing or empty"
        );
    }
}
