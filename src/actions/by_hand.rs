//! What an operator types to do an action's work by hand, on the day drbook itself is
//! unavailable: every `ActionSpec` carries a `by_hand` function, so a new action cannot
//! be added without its paper equivalent, and `drbook render` prints it under the step.
//!
//! The function gets the step's parameters as the printout knows them: literal values,
//! `target.*` values when a target was bound, secrets as a reference to where they come
//! from (`"$RESTIC_PASSWORD"`), and any other template as written (`{{ steps.pick.outputs.id }}`),
//! which the operator fills in from the paper. It only formats text; it never resolves
//! anything, so it cannot print a secret.

use serde_json::{Map, Value};

/// Builds the by-hand command lines of one action from its parameters.
pub type ByHandFn = fn(&Given) -> Vec<String>;

/// One step's parameters as the printout shows them.
#[derive(Debug, Clone, Default)]
pub struct Given {
    params: Map<String, Value>,
}

impl Given {
    pub fn new(params: Map<String, Value>) -> Given {
        Given { params }
    }
}

/// The parameters of a test, written as a JSON object.
#[cfg(test)]
pub(crate) fn given(value: Value) -> Given {
    Given::new(value.as_object().cloned().unwrap_or_default())
}

impl Given {
    /// The parameter as text, when it is given and not null.
    pub fn opt(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// The parameter as text, or `<name>` for the operator to fill in.
    pub fn text(&self, name: &str) -> String {
        self.opt(name).unwrap_or_else(|| format!("<{name}>"))
    }

    /// The parameter as a shell word (quoted when needed), or `<name>`.
    pub fn word(&self, name: &str) -> String {
        self.opt(name)
            .map(|v| quote(&v))
            .unwrap_or_else(|| format!("<{name}>"))
    }

    /// True when the parameter is `true` (or the text `true`, as a template renders it).
    pub fn flag(&self, name: &str) -> bool {
        match self.params.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// A list parameter: its items, a comma-separated text split, or one template as is.
    pub fn list(&self, name: &str) -> Vec<String> {
        match self.params.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            Some(Value::String(s)) if s.contains("{{") => vec![s.clone()],
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            _ => vec![],
        }
    }

    /// A mapping parameter (`env`, rclone remotes), in the order written.
    pub fn map(&self, name: &str) -> Vec<(String, String)> {
        match self.params.get(name) {
            Some(Value::Object(entries)) => entries
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            _ => vec![],
        }
    }

    /// The raw value, for structured parameters (the etcd member table).
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }
}

/// `export NAME=value`, the value quoted for the shell unless it already is a reference
/// like `"$VAR"`.
pub fn export(name: &str, value: &str) -> String {
    format!("export {name}={}", quote(value))
}

/// `text` as one shell word: as is when it holds only safe characters or is already a
/// quoted variable reference (`"$RESTIC_PASSWORD"`, `"$(cat /run/secrets/x)"`), else in
/// single quotes.
pub fn quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.to_string();
    }
    if text.starts_with("\"$") && text.ends_with('"') && text.len() > 2 {
        return text.to_string();
    }
    // A placeholder such as `<token>` is for the operator to replace, quotes and all.
    let placeholder = text.starts_with('<')
        && text.ends_with('>')
        && !text.contains(|c: char| c.is_whitespace() || "'{}".contains(c));
    if placeholder {
        return text.to_string();
    }
    // A template reads better in double quotes, which keep its own `'` as written;
    // only when it holds nothing the shell would expand there.
    if text.contains("{{") && !text.contains(['"', '$', '`', '\\', '!']) {
        return format!("\"{text}\"");
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn given(value: Value) -> Given {
        Given::new(value.as_object().unwrap().clone())
    }

    #[test]
    fn words_are_quoted_only_when_they_need_it() {
        assert_eq!(quote("/var/lib/etcd"), "/var/lib/etcd");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("\"$RESTIC_PASSWORD\""), "\"$RESTIC_PASSWORD\"");
        assert_eq!(quote("{{ item.name }}"), "\"{{ item.name }}\"");
        assert_eq!(quote("{{ x | default('') }}"), "\"{{ x | default('') }}\"");
        assert_eq!(quote("{{ x }}$y"), "'{{ x }}$y'");
        assert_eq!(quote("<token>"), "<token>");
    }

    #[test]
    fn a_missing_required_value_is_a_placeholder() {
        let g = given(json!({"file": "/b/s.db"}));
        assert_eq!(g.word("file"), "/b/s.db");
        assert_eq!(g.word("token"), "<token>");
    }
}
