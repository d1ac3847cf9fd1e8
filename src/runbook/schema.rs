//! The JSON Schema of the runbook format, for editors (`drbook schema`,
//! docs/runbook.schema.json).
//!
//! Built from the same key lists the parser enforces (`model::*_KEYS`) and from the action
//! registry, so editors flag exactly what `drbook validate` flags structurally. Semantic
//! rules (ids, `needs`, templates) stay with `validate`.

use serde_json::{Map, Value, json};

use crate::SUPPORTED_API_VERSIONS;
use crate::actions::{CATALOG, ParamKind};
use crate::runbook::model::*;

/// humantime syntax (`30s`, `1h 30m`, `1.5h`) with the units `validate` accepts: months
/// and years are left out, so an editor flags `10M` as `validate` does.
const DURATION_PATTERN: &str = concat!(
    r"^\s*([0-9]+(\.[0-9]+)?\s*",
    r"(ns|nsec|nanos|us|µs|usec|ms|msec|millis|s|sec|secs|second|seconds",
    r"|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|wk|wks|week|weeks)",
    r"\s*)+$"
);
const TEMPLATE_PATTERN: &str = r"\{[{%#]";

/// The schema as a JSON value.
pub fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://drbook.io/schemas/runbook-v1.json",
        "title": "drbook runbook",
        "description": "A versioned disaster-recovery runbook, interpreted step by step by drbook.",
        "type": "object",
        "additionalProperties": false,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": props(RUNBOOK_KEYS, |key| match key {
            "apiVersion" => json!({"enum": SUPPORTED_API_VERSIONS, "description": "Format version; read first."}),
            "kind" => json!({"const": crate::RUNBOOK_KIND}),
            "metadata" => json!({"$ref": "#/$defs/metadata"}),
            _ => json!({"$ref": "#/$defs/spec"}),
        }),
        "$defs": {
            "duration": {"type": "string", "pattern": DURATION_PATTERN, "description": "humantime duration: 30s, 10m, 1h 30m, 1.5h, 10 minutes; no months or years"},
            "template": {"type": "string", "pattern": TEMPLATE_PATTERN, "description": "a minijinja template"},
            "metadata": object(METADATA_KEYS, &["name", "version"], |key| match key {
                "name" => json!({"type": "string", "minLength": 1}),
                "version" => json!({"type": "string", "description": "semantic version of the runbook, e.g. 1.0.0"}),
                "title" => json!({"type": "string"}),
                "owners" => json!({"type": "array", "items": {"type": "string"}}),
                _ => json!({"type": "object", "additionalProperties": {"type": "string"}}),
            }),
            "spec": object(SPEC_KEYS, &["steps"], |key| match key {
                "description" => json!({"type": "string", "description": "markdown shown at the start and in the printable runbook"}),
                "objectives" => object(OBJECTIVES_KEYS, OBJECTIVES_KEYS, |_| json!({"$ref": "#/$defs/duration"})),
                "inputs" => json!({"type": "array", "items": {"$ref": "#/$defs/input"}}),
                "secrets" => json!({"type": "array", "items": {"$ref": "#/$defs/secret"}}),
                "steps" => json!({"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}}),
                _ => object(DRILL_KEYS, &["inject"], |key| match key {
                    "inject" => json!({"type": "array", "items": {"$ref": "#/$defs/step"}}),
                    _ => json!({"type": "string"}),
                }),
            }),
            "input": object(INPUT_KEYS, &["name"], |key| match key {
                "type" => json!({"enum": InputKind::NAMES}),
                "default" => json!({}),
                "choices" => json!({"type": "array", "items": {"type": "string"}}),
                _ => json!({"type": "string"}),
            }),
            "secret": {
                "allOf": [object(SECRET_KEYS, &["name"], |_| json!({"type": "string"}))],
                "oneOf": [{"required": ["env"]}, {"required": ["file"]}],
            },
            "step": step_schema(),
            "checkpoint": object(CHECKPOINT_KEYS, &["prompt"], |key| match key {
                "type" => json!({"enum": CheckpointKind::NAMES}),
                "choices" => json!({"type": "array", "items": {"type": "string"}}),
                "default" => json!({}),
                "timeout" => json!({"$ref": "#/$defs/duration"}),
                "on_no" => json!({"enum": OnNo::NAMES}),
                _ => json!({"type": "string"}),
            }),
        }
    })
}

fn step_schema() -> Value {
    let mut step = object(STEP_KEYS, &["id"], |key| match key {
        "id" => json!({"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*$"}),
        "checkpoint" => json!({"$ref": "#/$defs/checkpoint"}),
        "action" => json!({"enum": CATALOG.iter().map(|a| a.name).collect::<Vec<_>>()}),
        "with" => json!({"type": "object"}),
        "needs" => json!({"type": "array", "items": {"type": "string"}}),
        "foreach" => json!({"type": ["string", "array"]}),
        "concurrency" => json!({"type": "integer", "minimum": 1}),
        "timeout" => json!({"$ref": "#/$defs/duration"}),
        "retry" => object(RETRY_KEYS, &["attempts"], |key| match key {
            "attempts" => json!({"type": "integer", "minimum": 1}),
            _ => json!({"$ref": "#/$defs/duration"}),
        }),
        "on_failure" => json!({"enum": OnFailure::NAMES}),
        "marks" => json!({"enum": Mark::NAMES}),
        "idempotent" => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    });
    let mut rules =
        vec![json!({"oneOf": [{"required": ["action"]}, {"required": ["checkpoint"]}]})];
    // Each action's parameters, so editors complete and check `with:`.
    for action in CATALOG {
        let required: Vec<&str> = action
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        let names: Vec<&str> = action.params.iter().map(|p| p.name).collect();
        let with = object(&names, &required, |name| {
            let param = action.param(name).expect("name comes from the same list");
            let mut schema = param_schema(param.kind);
            schema["description"] = json!(param.doc);
            schema
        });
        rules.push(json!({
            "if": {"required": ["action"], "properties": {"action": {"const": action.name}}},
            "then": {"properties": {"with": with}, "description": action.summary},
        }));
    }
    step["allOf"] = Value::Array(rules);
    step
}

/// A parameter's schema; a template string is accepted for every type.
fn param_schema(kind: ParamKind) -> Value {
    let plain = match kind {
        ParamKind::String => return json!({"type": "string"}),
        ParamKind::Integer => json!({"type": "integer"}),
        ParamKind::Bool => json!({"type": "boolean"}),
        ParamKind::Duration => json!({"$ref": "#/$defs/duration"}),
        ParamKind::StringList => json!({"type": "array", "items": {"type": "string"}}),
        ParamKind::StringMap => {
            json!({"type": "object", "additionalProperties": {"type": "string"}})
        }
        ParamKind::MemberTable => json!({
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name", "peer_url", "data_dir"],
                "properties": {
                    "name": {"type": "string"},
                    "peer_url": {"anyOf": [
                        {"type": "string", "pattern": "^https?://[^/]+:[0-9]+/?$"},
                        {"$ref": "#/$defs/template"},
                    ]},
                    "data_dir": {"type": "string"},
                },
            },
        }),
    };
    json!({"anyOf": [plain, {"$ref": "#/$defs/template"}]})
}

fn props(keys: &[&str], schema_of: impl Fn(&str) -> Value) -> Map<String, Value> {
    keys.iter().map(|k| (k.to_string(), schema_of(k))).collect()
}

fn object(keys: &[&str], required: &[&str], schema_of: impl Fn(&str) -> Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": props(keys, schema_of),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema and the parser must allow exactly the same keys.
    #[test]
    fn schema_lists_the_parsers_keys() {
        let schema = schema();
        let defs = &schema["$defs"];
        for (def, keys) in [
            ("metadata", METADATA_KEYS),
            ("spec", SPEC_KEYS),
            ("input", INPUT_KEYS),
            ("step", STEP_KEYS),
            ("checkpoint", CHECKPOINT_KEYS),
        ] {
            let props: Vec<&str> = defs[def]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{def} has properties"))
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected = keys.to_vec();
            expected.sort();
            let mut props = props;
            props.sort();
            assert_eq!(props, expected, "{def}");
        }
    }
}
