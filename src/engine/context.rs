//! What templates can read during a run: inputs, secrets, step results, the target and
//! facts about the run. Step results are added as steps finish, so a template sees
//! exactly what has happened before it.

use serde_json::{Map, Value, json};

/// The growing template context of one run.
#[derive(Debug, Clone)]
pub struct RunContext {
    inputs: Map<String, Value>,
    secrets: Map<String, Value>,
    target: Value,
    run: Value,
    steps: Map<String, Value>,
}

impl RunContext {
    pub fn new(
        inputs: Map<String, Value>,
        secrets: Map<String, Value>,
        target: Value,
        run: Value,
    ) -> Self {
        RunContext {
            inputs,
            secrets,
            target,
            run,
            steps: Map::new(),
        }
    }

    /// Records what a finished step produced: `outputs` (a map, or a list per `foreach`
    /// item) or a checkpoint's `answer`.
    pub fn set_step(
        &mut self,
        id: &str,
        status: &str,
        outputs: Option<Value>,
        answer: Option<Value>,
    ) {
        let mut entry = Map::new();
        entry.insert("status".into(), json!(status));
        entry.insert("outputs".into(), outputs.unwrap_or_else(|| json!({})));
        if let Some(answer) = answer {
            entry.insert("answer".into(), answer);
        }
        self.steps.insert(id.to_string(), Value::Object(entry));
    }

    /// A drill declares its incident when recovery begins; `run.declared_at` follows.
    pub fn set_declared_at(&mut self, at: chrono::DateTime<chrono::Utc>) {
        self.run["declared_at"] =
            serde_json::Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }

    /// The run's id (`run.id`; empty in tests that give none).
    pub fn run_id(&self) -> &str {
        self.run["id"].as_str().unwrap_or_default()
    }

    /// The facts of the target the run is bound to (`{}` without one).
    pub fn target(&self) -> &Value {
        &self.target
    }

    /// The context for one template: `item` is bound inside a `foreach` step.
    pub fn value(&self, item: Option<&Value>) -> Value {
        let mut context = json!({
            "inputs": self.inputs,
            "secrets": self.secrets,
            "target": self.target,
            "run": self.run,
            "steps": self.steps,
        });
        if let Some(item) = item {
            context["item"] = item.clone();
        }
        context
    }
}
