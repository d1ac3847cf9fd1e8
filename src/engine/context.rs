//! What templates can read during a run: inputs, secrets, step results, the target and
//! facts about the run. Step results are added as steps finish, so a template sees
//! exactly what has happened before it.
//!
//! The context is kept twice, each part converted once: as JSON (what explains an
//! undefined value, and what the engine reads back) and as minijinja values (what
//! templates are rendered against). Building it afresh for every template meant
//! copying, and then converting, every finished step's results each time a template
//! was rendered, a cost that grew with the run (quadratic over a long runbook, and
//! most of a fleet runbook's time). A finished step is converted when it is recorded;
//! a template gets the converted parts lent, plus its `foreach` item.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use minijinja::value::{Enumerator, Object};

use serde_json::{Map, Value, json};

use crate::template::Context;

/// The growing template context of one run.
#[derive(Debug)]
pub struct RunContext {
    /// `{"inputs", "secrets", "target", "run", "steps"}`, always an object with these keys.
    value: Value,
    /// `value`'s parts as minijinja values: every root but `steps`, by name.
    roots: BTreeMap<&'static str, minijinja::Value>,
    /// `value["steps"]` as minijinja values, shared with every template's context.
    steps: Arc<Steps>,
}

/// The finished steps as templates read them (`steps.<id>`), each converted once when
/// it finished: shared with every template's context rather than copied into it, so a
/// template costs the same after the thousandth step as after the first. Templates
/// render while nothing else runs, so one sees exactly the steps finished before it.
#[derive(Debug, Default)]
struct Steps(RwLock<BTreeMap<String, minijinja::Value>>);

impl Steps {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, minijinja::Value>> {
        // A panic while the lock was held left at most one entry half-written; the map
        // is still a map.
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Object for Steps {
    fn get_value(self: &Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        self.read().get(key.as_str()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let entries: Vec<(minijinja::Value, minijinja::Value)> = self
            .read()
            .iter()
            .map(|(id, step)| (minijinja::Value::from(id.as_str()), step.clone()))
            .collect();
        Enumerator::KeyValueIter(Box::new(entries.into_iter()))
    }
}

impl RunContext {
    pub fn new(
        inputs: Map<String, Value>,
        secrets: Map<String, Value>,
        target: Value,
        run: Value,
    ) -> Self {
        let value = json!({
            "inputs": inputs,
            "secrets": secrets,
            "target": target,
            "run": run,
            "steps": {},
        });
        let roots = ["inputs", "secrets", "target", "run"]
            .into_iter()
            .map(|root| (root, minijinja::Value::from_serialize(&value[root])))
            .collect();
        RunContext {
            value,
            roots,
            steps: Arc::default(),
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
        let entry = Value::Object(entry);
        self.steps
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_string(), minijinja::Value::from_serialize(&entry));
        if let Some(steps) = self.value["steps"].as_object_mut() {
            steps.insert(id.to_string(), entry);
        }
    }

    /// A drill declares its incident when recovery begins; `run.declared_at` follows.
    pub fn set_declared_at(&mut self, at: chrono::DateTime<chrono::Utc>) {
        self.value["run"]["declared_at"] =
            serde_json::Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        self.roots
            .insert("run", minijinja::Value::from_serialize(&self.value["run"]));
    }

    /// The run's id (`run.id`; empty in tests that give none).
    pub fn run_id(&self) -> &str {
        self.value["run"]["id"].as_str().unwrap_or_default()
    }

    /// The facts of the target the run is bound to (`{}` without one).
    pub fn target(&self) -> &Value {
        &self.value["target"]
    }

    /// What a finished step recorded (`{"status", "outputs", "answer"}`), if it has.
    pub fn step(&self, id: &str) -> Option<&Value> {
        self.value["steps"].get(id)
    }

    /// The context for one template: `item` is bound inside a `foreach` step.
    pub fn template<'a>(&'a self, item: Option<&'a Value>) -> StepContext<'a> {
        StepContext { run: self, item }
    }
}

/// The run's context as one template sees it: lent, with its `foreach` item.
pub struct StepContext<'a> {
    run: &'a RunContext,
    item: Option<&'a Value>,
}

impl Context for StepContext<'_> {
    fn jinja(&self) -> minijinja::Value {
        let mut roots = self.run.roots.clone();
        roots.insert(
            "steps",
            minijinja::Value::from_dyn_object(Arc::clone(&self.run.steps)),
        );
        if let Some(item) = self.item {
            roots.insert("item", minijinja::Value::from_serialize(item));
        }
        roots.into_iter().collect()
    }

    fn json(&self) -> Cow<'_, Value> {
        match self.item {
            None => Cow::Borrowed(&self.run.value),
            Some(item) => {
                let mut context = self.run.value.clone();
                context["item"] = item.clone();
                Cow::Owned(context)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{environment, render};

    /// Rendering against the converted parts gives what rendering the same JSON gives,
    /// for every root, a `foreach` item, a later step and a changed `declared_at`.
    #[test]
    fn templates_read_the_same_values_as_from_the_json() {
        let mut inputs = Map::new();
        inputs.insert("members".into(), json!(["a", "b"]));
        inputs.insert("n".into(), json!(3));
        let mut secrets = Map::new();
        secrets.insert("token".into(), json!("s3cr3t"));
        let mut context = RunContext::new(
            inputs,
            secrets,
            json!({"name": "staging", "etcd": {"endpoints": ["http://127.0.0.1:2379"]}}),
            json!({"id": "r1", "mode": "drill"}),
        );
        context.set_step("first", "succeeded", Some(json!({"count": 2})), None);
        context.set_step("ask", "succeeded", None, Some(json!("yes")));
        context.set_declared_at(chrono::DateTime::UNIX_EPOCH);
        let env = environment();
        let item = json!({"name": "m0", "port": 2380});
        let text = "{{ inputs.members | join(',') }} {{ inputs.n + 1 }} {{ secrets.token }} \
                    {{ target.etcd.endpoints[0] }} {{ run.id }} {{ run.declared_at }} \
                    {{ steps.first.outputs.count }} {{ steps.ask.answer }} \
                    {{ steps.first.status }} {{ item.name }}:{{ item.port }} \
                    {{ steps | length }} {% for id, step in steps | items %}{{ id }}={{ step.status }},{% endfor %} \
                    {{ steps.first is defined }} {{ steps.later is defined }}";
        let converted = render::text(&env, text, &context.template(Some(&item))).unwrap();
        let json = context.template(Some(&item)).json().into_owned();
        assert_eq!(converted, render::text(&env, text, &json).unwrap());
        assert_eq!(
            converted,
            "a,b 4 s3cr3t http://127.0.0.1:2379 r1 1970-01-01T00:00:00.000Z 2 yes succeeded m0:2380 \
             2 ask=succeeded,first=succeeded, true false"
        );
        // A step finished after a template's context was taken is seen by the next.
        context.set_step("later", "skipped", None, None);
        assert_eq!(
            render::text(
                &env,
                "{{ steps.later.status }} {{ steps | length }}",
                &context.template(None)
            )
            .unwrap(),
            "skipped 3"
        );
        // An undefined value is explained from the JSON, as before.
        let missing = render::text(
            &env,
            "{{ steps.first.outputs.cuont }}",
            &context.template(None),
        )
        .unwrap_err()
        .to_string();
        assert!(missing.contains("did you mean `count`?"), "{missing}");
    }
}
