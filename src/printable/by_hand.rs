//! The values a step's by-hand commands are printed with: each action parameter as the
//! runbook writes it, with `{{ target.* }}` filled in from the bound target (when
//! `render --target` gave one) and `{{ secrets.* }}` replaced by a reference to where the
//! secret comes from (`"$RESTIC_PASSWORD"`, `"$(cat /run/secrets/key)"`), never its
//! value. Every other template stays as written, for the operator to fill in from the
//! paper. Only these two whole-expression forms are replaced, so nothing is evaluated.

use serde_json::{Map, Value};

use crate::actions::Given;
use crate::runbook::Runbook;
use crate::runbook::model::{ActionCall, SecretSource};

/// What the paper may put in place of a template.
pub(crate) struct Fill<'a> {
    /// The bound target's facts, read as `target.*`.
    target: Option<&'a Value>,
    /// Secret name → how a shell reads it, e.g. `$RESTIC_PASSWORD`.
    secrets: Vec<(String, String)>,
}

impl<'a> Fill<'a> {
    pub(crate) fn new(runbook: &Runbook, target: Option<&'a Value>) -> Fill<'a> {
        let secrets = runbook
            .spec
            .secrets
            .iter()
            .map(|s| {
                let read = match &s.source {
                    SecretSource::Env(var) => format!("${}", var.value),
                    SecretSource::File(path) => format!("$(cat {})", path.value),
                };
                (s.name.value.clone(), read)
            })
            .collect();
        Fill { target, secrets }
    }

    /// The step's parameters with what can be filled in filled in.
    pub(crate) fn given(&self, call: &ActionCall) -> Given {
        let params: Map<String, Value> = call
            .with
            .iter()
            .map(|(key, node)| (key.value.clone(), self.value(node.to_json())))
            .collect();
        Given::new(params)
    }

    fn value(&self, value: Value) -> Value {
        match value {
            Value::String(text) => self.text(&text),
            Value::Array(items) => items.into_iter().map(|v| self.value(v)).collect(),
            Value::Object(entries) => entries
                .into_iter()
                .map(|(k, v)| (k, self.value(v)))
                .collect::<Map<_, _>>()
                .into(),
            other => other,
        }
    }

    /// A string: a whole `{{ target.x }}` becomes the target's value itself (a member
    /// table stays a table); inside other text, scalars are spliced in.
    fn text(&self, text: &str) -> Value {
        if let Some(path) = whole_expression(text) {
            if let Some(value) = self.lookup(path) {
                return value;
            }
            if let Some(read) = self.secret(path) {
                return Value::String(format!("\"{read}\""));
            }
            return Value::String(text.to_string());
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            let expression = &rest[start..start + len + 2];
            out.push_str(&rest[..start]);
            let path = whole_expression(expression).unwrap_or("");
            match (self.lookup(path), self.secret(path)) {
                (Some(Value::String(s)), _) => out.push_str(&s),
                (Some(v @ (Value::Number(_) | Value::Bool(_))), _) => out.push_str(&v.to_string()),
                (_, Some(read)) => out.push_str(&read),
                _ => out.push_str(expression),
            }
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        Value::String(out)
    }

    /// The bound target's value at `path` (`target.a.b`) as one line of text: a string as
    /// is, anything else as JSON. `None` without a target or when it has no such value.
    pub(crate) fn target_text(&self, path: &str) -> Option<String> {
        match self.lookup(path)? {
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }

    fn lookup(&self, path: &str) -> Option<Value> {
        // `target.members[0].name` reads as the keys target, members, 0, name.
        let path = path.replace('[', ".").replace(']', "");
        let mut keys = path.split('.');
        if keys.next() != Some("target") {
            return None;
        }
        let mut value = self.target?;
        for key in keys {
            value = match key.parse::<usize>() {
                Ok(index) => value.get(index)?,
                Err(_) => value.get(key)?,
            };
        }
        (!value.is_null()).then(|| value.clone())
    }

    fn secret(&self, path: &str) -> Option<String> {
        let name = path.strip_prefix("secrets.")?;
        self.secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, read)| read.clone())
    }
}

/// The dotted path of a text that is exactly one `{{ a.b.c }}`, without filters.
fn whole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let simple = !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-[]".contains(c));
    simple.then_some(inner)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fill(target: &Value) -> Fill<'_> {
        Fill {
            target: Some(target),
            secrets: vec![("pw".into(), "$RESTIC_PASSWORD".into())],
        }
    }

    #[test]
    fn target_values_are_filled_in_and_others_stay_as_written() {
        let target =
            json!({"etcd": {"members": [{"name": "m0"}], "host": "10.0.0.1", "port": 2379}});
        let f = fill(&target);
        assert_eq!(f.text("{{ target.etcd.members }}"), json!([{"name": "m0"}]));
        assert_eq!(
            f.text("http://{{ target.etcd.host }}:{{target.etcd.port}}/{{ inputs.x }}"),
            json!("http://10.0.0.1:2379/{{ inputs.x }}")
        );
        assert_eq!(
            f.text("{{ target.missing }}"),
            json!("{{ target.missing }}")
        );
        assert_eq!(f.text("{{ target.etcd.members[0].name }}"), json!("m0"));
    }

    #[test]
    fn secrets_become_references_never_values() {
        let target = json!({});
        let f = fill(&target);
        assert_eq!(f.text("{{ secrets.pw }}"), json!("\"$RESTIC_PASSWORD\""));
        assert_eq!(f.text("x:{{ secrets.pw }}"), json!("x:$RESTIC_PASSWORD"));
        assert_eq!(f.text("{{ secrets.other }}"), json!("{{ secrets.other }}"));
    }
}
