//! Field ownership for server-side apply, simplified: each leaf of an object (a scalar,
//! or a whole list: lists are atomic here, where the real server merges some by key) is
//! owned by the field manager that last set it. Applying a value another manager owns
//! with a different value is a conflict; an applier's fields missing from its next apply
//! are removed. Shown in `metadata.managedFields` as `FieldsV1`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// Who owns which leaf (a JSON pointer) of one object, and how each manager last wrote.
#[derive(Debug, Clone, Default)]
pub struct Owners {
    pub leaves: BTreeMap<String, String>,
    pub operations: BTreeMap<String, &'static str>,
}

/// The leaves of an object that ownership covers: everything but `apiVersion`, `kind`,
/// `status` and the server-set metadata; labels and annotations count.
pub fn leaves(object: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    if let Value::Object(map) = object {
        for (key, value) in map {
            match key.as_str() {
                "apiVersion" | "kind" | "status" => {}
                "metadata" => {
                    for part in ["labels", "annotations"] {
                        if let Some(v) = value.get(part) {
                            walk(&format!("/metadata/{part}"), v, &mut found);
                        }
                    }
                }
                _ => walk(&format!("/{}", escape(key)), value, &mut found),
            }
        }
    }
    found
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(pointer: &str, value: &Value, found: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                walk(&format!("{pointer}/{}", escape(key)), inner, found);
            }
        }
        other => found.push((pointer.to_string(), other.clone())),
    }
}

/// Removes the leaf at `pointer` (and mappings left empty above it).
pub fn remove(object: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(map)) = object.pointer_mut(parent) {
        map.remove(&key);
        if map.is_empty() && !parent.is_empty() {
            remove(object, parent);
        }
    }
}

/// `metadata.managedFields` as the server shows it.
pub fn managed_fields(owners: &Owners, api_version: &str) -> Value {
    let mut per_manager: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for (pointer, manager) in &owners.leaves {
        let mut node = per_manager.entry(manager).or_default();
        for part in pointer.trim_start_matches('/').split('/') {
            let key = format!("f:{}", part.replace("~1", "/").replace("~0", "~"));
            node = node
                .entry(key)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("field sets are mappings");
        }
    }
    Value::Array(
        per_manager
            .into_iter()
            .map(|(manager, fields)| {
                json!({
                    "manager": manager,
                    "operation": owners.operations.get(manager).copied().unwrap_or("Update"),
                    "apiVersion": api_version,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": fields,
                })
            })
            .collect(),
    )
}
