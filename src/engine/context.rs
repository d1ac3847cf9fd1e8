//! What templates can read during a run: inputs, secrets, step results, the target and
//! facts about the run. Step results are added as steps finish, so a template sees
//! exactly what has happened before it.
//!
//! The context is kept as the one JSON value templates read and lent out as it is:
//! building it afresh for every template meant copying every finished step's results
//! each time a step started, a cost that grew with the run (quadratic over a long
//! runbook). Only a `foreach` item, bound for one template, makes a copy.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

/// The growing template context of one run.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// `{"inputs", "secrets", "target", "run", "steps"}`, always an object with these keys.
    value: Value,
}

impl RunContext {
    pub fn new(
        inputs: Map<String, Value>,
        secrets: Map<String, Value>,
        target: Value,
        run: Value,
    ) -> Self {
        RunContext {
            value: json!({
                "inputs": inputs,
                "secrets": secrets,
                "target": target,
                "run": run,
                "steps": {},
            }),
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
        if let Some(steps) = self.value["steps"].as_object_mut() {
            steps.insert(id.to_string(), Value::Object(entry));
        }
    }

    /// A drill declares its incident when recovery begins; `run.declared_at` follows.
    pub fn set_declared_at(&mut self, at: chrono::DateTime<chrono::Utc>) {
        self.value["run"]["declared_at"] =
            serde_json::Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }

    /// The run's id (`run.id`; empty in tests that give none).
    pub fn run_id(&self) -> &str {
        self.value["run"]["id"].as_str().unwrap_or_default()
    }

    /// The facts of the target the run is bound to (`{}` without one).
    pub fn target(&self) -> &Value {
        &self.value["target"]
    }

    /// The context for one template: `item` is bound inside a `foreach` step (a copy
    /// then; without an item the context itself).
    pub fn value(&self, item: Option<&Value>) -> Cow<'_, Value> {
        match item {
            None => Cow::Borrowed(&self.value),
            Some(item) => {
                let mut context = self.value.clone();
                context["item"] = item.clone();
                Cow::Owned(context)
            }
        }
    }
}
