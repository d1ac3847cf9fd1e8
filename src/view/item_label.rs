//! What the terminal view calls one `foreach` item. The journal keeps the whole item (as
//! `step_started`'s `label`, secrets masked), which for a list of members is a long JSON
//! object; a person following a run needs only which one it is: `restore [m0]`.

use serde_json::Value;

/// Scalars longer than this are not a label but data; the item's index names it instead.
const MAX_CHARS: usize = 40;

/// The short name of a `foreach` item, from the recorded `label` and the item's index
/// (as the journal's `item` counts, from 0): its `name`, else its `id`, else the item
/// itself when it is a short scalar, else `#index`.
pub(crate) fn short(label: Option<&str>, item: Option<usize>) -> Option<String> {
    let label = label?;
    let Some(index) = item else {
        return Some(label.to_string());
    };
    let by_index = || format!("#{index}");
    // A string item is recorded as its text, anything else as JSON.
    let short = match serde_json::from_str::<Value>(label) {
        Ok(Value::Object(fields)) => ["name", "id"]
            .iter()
            .find_map(|key| fields.get(*key).and_then(scalar))
            .unwrap_or_else(by_index),
        Ok(Value::Array(_)) => by_index(),
        Ok(value) => scalar(&value).unwrap_or_else(by_index),
        Err(_) => scalar(&Value::String(label.to_string())).unwrap_or_else(by_index),
    };
    Some(short)
}

/// A value as a label, when it is a short one-line scalar.
fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    let fits = !text.trim().is_empty()
        && !text.contains(['\n', '\r'])
        && text.chars().count() <= MAX_CHARS;
    fits.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(recorded: &str, item: usize) -> String {
        short(Some(recorded), Some(item)).unwrap()
    }

    #[test]
    fn a_mapping_is_named_by_its_name_then_its_id_then_its_index() {
        let member =
            r#"{"client_url":"http://127.0.0.1:2379","data_dir":"/var/lib/etcd","name":"m0"}"#;
        assert_eq!(label(member, 0), "m0");
        assert_eq!(label(r#"{"id":"cp-1","zone":"a"}"#, 1), "cp-1");
        assert_eq!(label(r#"{"id":7,"name":{"first":"x"}}"#, 1), "7");
        assert_eq!(label(r#"{"zone":"a","url":"http://x"}"#, 2), "#2");
    }

    #[test]
    fn a_short_scalar_is_its_own_name_and_anything_else_its_index() {
        assert_eq!(label("cp-0", 0), "cp-0");
        assert_eq!(label("3", 3), "3");
        assert_eq!(label("[1,2]", 4), "#4");
        assert_eq!(label(&"x".repeat(MAX_CHARS + 1), 5), "#5");
        assert_eq!(label("two\nlines", 6), "#6");
        assert_eq!(label(r#"{"name":""}"#, 7), "#7");
    }

    #[test]
    fn a_step_without_foreach_has_no_label() {
        assert_eq!(short(None, None), None);
    }
}
