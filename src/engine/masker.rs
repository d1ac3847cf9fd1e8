//! Replaces every secret value with `***` before text reaches the terminal, the journal
//! or an error message.

/// Knows the secret values of one run.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

pub const MASK: &str = "***";

impl Masker {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = values
            .into_iter()
            .flat_map(|v| {
                // A secret read from a file often ends with a newline; mask both forms.
                let trimmed = v.trim().to_string();
                [v, trimmed]
            })
            .filter(|v| !v.is_empty())
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Masker { secrets }
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Masks every string inside a JSON value (step outputs).
    pub fn mask_json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.mask(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.mask_json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.mask(k), self.mask_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_inside_longer_text_and_longest_first() {
        let masker = Masker::new(["hunter2".to_string(), "hunter2-extended\n".to_string()]);
        assert_eq!(masker.mask("pw=hunter2;"), "pw=***;");
        assert_eq!(masker.mask("x hunter2-extended y"), "x *** y");
        let json = serde_json::json!({"a": ["hunter2"]});
        assert_eq!(masker.mask_json(&json), serde_json::json!({"a": ["***"]}));
    }
}
