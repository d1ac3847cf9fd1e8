//! The verbs on objects: get, list (label and field selectors), create, replace, patch
//! (merge, JSON patch, server-side apply) and delete, and the `scale` subresource, each
//! answered with the code and body the real API server gives.

use serde_json::{Value, json};

use super::fields::{self, Owners};
use super::http::{Query, Target, deleted_status};
use super::resources::{Kind, has_status};
use super::status::{self, Failure};
use super::store::{Key, Store};

/// One call on objects, as `http` read it.
pub struct Call<'a> {
    pub target: &'a Target,
    pub query: &'a Query,
    pub body: Option<Value>,
    pub content_type: &'a str,
    /// The field manager: `fieldManager`, else the client's user agent, as the real
    /// server defaults it.
    pub manager: &'a str,
}

type Answer = Result<(u16, Value), Failure>;

fn name_of<'a>(call: &'a Call) -> Result<&'a str, Failure> {
    call.target
        .name
        .as_deref()
        .ok_or_else(|| status::bad_request("a name is needed".into()))
}

/// 422 for what the real server's validation refuses, as far as the fake knows it.
fn validate(kind: &Kind, name: &str, object: &Value) -> Result<(), Failure> {
    if let Some(replicas) = object.pointer("/spec/replicas").and_then(Value::as_i64)
        && replicas < 0
    {
        return Err(status::invalid(
            kind,
            name,
            "spec.replicas",
            &format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    Ok(())
}

/// A write of the main resource of a kind with a `status` subresource keeps the status
/// the object has (none on create), as the real server ignores the status it is sent.
fn keep_status(kind: &Kind, current: Option<&Value>, written: &mut Value) {
    if !has_status(kind) {
        return;
    }
    match current.and_then(|c| c.get("status")) {
        Some(status) => written["status"] = status.clone(),
        None => {
            if let Some(map) = written.as_object_mut() {
                map.remove("status");
            }
        }
    }
}

/// A write of `/status`: the current object with only the written status.
fn only_status(current: &Value, written: &Value) -> Value {
    let mut object = current.clone();
    match written.get("status") {
        Some(status) => object["status"] = status.clone(),
        None => {
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        }
    }
    object
}

/// GET one object, its scale, or a list.
pub fn read(store: &Store, call: &Call) -> Answer {
    let target = call.target;
    let Some(name) = &target.name else {
        return list(store, call);
    };
    let object = store
        .get(&target.key(name))
        .ok_or_else(|| status::not_found(target.kind, name))?;
    match target.subresource.as_deref() {
        None => Ok((200, object.clone())),
        Some("status") if has_status(target.kind) => Ok((200, object.clone())),
        Some("scale") if target.kind.scale => Ok((200, scale_of(object))),
        Some(_) => Err(status::no_route()),
    }
}

/// Whether an object's labels satisfy a selector: `a=b`, `a==b`, `a!=b`, `a`, `!a`.
pub fn labels_match(object: &Value, selector: &str) -> bool {
    let labels = &object["metadata"]["labels"];
    selector
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .all(|requirement| {
            if let Some((key, value)) = requirement.split_once("!=") {
                labels[key.trim()].as_str() != Some(value.trim())
            } else if let Some((key, value)) = requirement.split_once('=') {
                let value = value.trim_start_matches('=');
                labels[key.trim()].as_str() == Some(value.trim())
            } else if let Some(key) = requirement.strip_prefix('!') {
                labels[key.trim()].is_null()
            } else {
                !labels[requirement].is_null()
            }
        })
}

/// The fields a selector may name: every kind's `metadata.name` and `metadata.namespace`,
/// and for core Events the ones the real server indexes for them.
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "reason",
    "type",
    "source",
    "reportingComponent",
];

/// The value of a selectable field of an object (`None` for an unknown field).
fn field_value<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    let event = object["kind"] == "Event";
    match field {
        "metadata.name" => object["metadata"]["name"].as_str(),
        "metadata.namespace" => object["metadata"]["namespace"].as_str(),
        "source" if event => object["source"]["component"].as_str().or(Some("")),
        f if event && EVENT_FIELDS.contains(&f) => {
            let mut value = object;
            for part in f.split('.') {
                value = &value[part];
            }
            value.as_str().or(Some(""))
        }
        _ => None,
    }
}

/// The requirements of a field selector: (field, value, equal).
fn requirements(selector: &str) -> impl Iterator<Item = Option<(&str, &str, bool)>> {
    selector
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|requirement| match requirement.split_once("!=") {
            Some((f, v)) => Some((f.trim(), v.trim(), false)),
            None => requirement
                .split_once('=')
                .map(|(f, v)| (f.trim(), v.trim_start_matches('=').trim(), true)),
        })
}

/// 400 for a field selector naming a field the kind cannot be selected by, with the
/// real server's text.
pub fn check_fields(kind: &Kind, selector: &str) -> Result<(), Failure> {
    for requirement in requirements(selector) {
        let Some((field, _, _)) = requirement else {
            return Err(status::bad_request(format!(
                "invalid field selector: `{selector}`"
            )));
        };
        let known = matches!(field, "metadata.name" | "metadata.namespace")
            || (kind.kind == "Event" && kind.group.is_empty() && EVENT_FIELDS.contains(&field));
        if !known {
            return Err(status::bad_request(format!(
                "field label not supported: {field}"
            )));
        }
    }
    Ok(())
}

/// Whether an object satisfies a field selector (`check_fields` has vetted its fields).
pub fn fields_match(object: &Value, selector: &str) -> bool {
    requirements(selector).all(|requirement| match requirement {
        Some((field, value, equal)) => (field_value(object, field) == Some(value)) == equal,
        None => false,
    })
}

fn list(store: &Store, call: &Call) -> Answer {
    let target = call.target;
    let labels = call.query.get("labelSelector").unwrap_or("");
    let fields = call.query.get("fieldSelector").unwrap_or("");
    check_fields(target.kind, fields)?;
    let items: Vec<Value> = store
        .list(target.kind, target.namespace.as_deref())
        .into_iter()
        .filter(|o| labels_match(o, labels) && fields_match(o, fields))
        .cloned()
        .collect();
    Ok((
        200,
        json!({
            "kind": format!("{}List", target.kind.kind),
            "apiVersion": target.kind.api_version(),
            "metadata": {"resourceVersion": store.revision().to_string()},
            "items": items,
        }),
    ))
}

/// A namespaced object can only be written into a namespace that exists.
fn namespace_exists(store: &Store, target: &Target) -> Result<(), Failure> {
    let (true, Some(ns)) = (target.kind.namespaced, &target.namespace) else {
        return Ok(());
    };
    let namespaces = super::resources::by_kind("v1", "Namespace").expect("namespaces are served");
    match store.get(&Key::new(namespaces, None, ns)) {
        Some(_) => Ok(()),
        None => Err(status::namespace_not_found(ns)),
    }
}

/// The body's kind and namespace must be the path's.
fn body_fits(target: &Target, body: &Value) -> Result<(), Failure> {
    let kind = target.kind;
    let api_version = body["apiVersion"]
        .as_str()
        .unwrap_or(&kind.api_version())
        .to_string();
    if api_version != kind.api_version() || body["kind"].as_str().is_some_and(|k| k != kind.kind) {
        return Err(status::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            kind.api_version()
        )));
    }
    if let (Some(in_body), Some(in_path)) =
        (body["metadata"]["namespace"].as_str(), &target.namespace)
        && in_body != in_path
    {
        return Err(status::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        ));
    }
    Ok(())
}

/// POST: creates an object.
pub fn create(store: &mut Store, call: &Call) -> Answer {
    let target = call.target;
    let body = call
        .body
        .clone()
        .ok_or_else(|| status::bad_request("no body".into()))?;
    body_fits(target, &body)?;
    let Some(name) = body["metadata"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_string)
    else {
        return Err(status::invalid(
            target.kind,
            "",
            "metadata.name",
            "Required value: name or generateName is required",
        ));
    };
    validate(target.kind, &name, &body)?;
    namespace_exists(store, target)?;
    let key = target.key(&name);
    if store.get(&key).is_some() {
        return Err(status::already_exists(target.kind, &name));
    }
    let mut body = body;
    keep_status(target.kind, None, &mut body);
    store.api_writes += 1;
    Ok((
        201,
        store.commit(target.kind, key, body, Some((call.manager, "Update"))),
    ))
}

/// PUT: replaces an object, refusing a stale `resourceVersion`.
pub fn replace(store: &mut Store, call: &Call) -> Answer {
    let target = call.target;
    let name = name_of(call)?;
    let to_status = match target.subresource.as_deref() {
        None => false,
        Some("status") if has_status(target.kind) => true,
        Some(_) => return Err(status::no_route()),
    };
    let body = call
        .body
        .clone()
        .ok_or_else(|| status::bad_request("no body".into()))?;
    body_fits(target, &body)?;
    if body["metadata"]["name"].as_str() != Some(name) {
        return Err(status::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            body["metadata"]["name"].as_str().unwrap_or("")
        )));
    }
    let key = target.key(name);
    let current = store
        .get(&key)
        .ok_or_else(|| status::not_found(target.kind, name))?;
    if let Some(version) = body["metadata"]["resourceVersion"].as_str()
        && Some(version) != current["metadata"]["resourceVersion"].as_str()
    {
        return Err(status::conflict(target.kind, name));
    }
    let body = if to_status {
        only_status(current, &body)
    } else {
        let mut body = body;
        keep_status(target.kind, Some(current), &mut body);
        body
    };
    validate(target.kind, name, &body)?;
    store.api_writes += 1;
    Ok((
        200,
        store.commit(target.kind, key, body, Some((call.manager, "Update"))),
    ))
}

/// Applies a merge or JSON patch to `document`.
fn apply_patch(
    kind: &Kind,
    name: &str,
    content_type: &str,
    document: &mut Value,
    patch: &Value,
) -> Result<(), Failure> {
    match content_type {
        // The fake merges strategic patches like merge patches (no patch strategies).
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            json_patch::merge(document, patch);
            Ok(())
        }
        "application/json-patch+json" => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| status::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(document, &ops).map_err(|e| {
                status::invalid(
                    kind,
                    name,
                    "patch",
                    &format!("the JSON patch cannot be applied: {e}"),
                )
            })
        }
        other => Err((
            415,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, got {other}"),
                "reason": "UnsupportedMediaType", "code": 415,
            }),
        )),
    }
}

/// PATCH: merge, JSON or apply patch of an object or its scale.
pub fn patch(store: &mut Store, call: &Call) -> Answer {
    let target = call.target;
    let name = name_of(call)?.to_string();
    let body = call
        .body
        .clone()
        .ok_or_else(|| status::bad_request("no body".into()))?;
    let key = target.key(&name);
    if call.content_type.starts_with("application/apply-patch") {
        return apply(store, call, key, &name, body);
    }
    let current = store
        .get(&key)
        .cloned()
        .ok_or_else(|| status::not_found(target.kind, &name))?;
    match target.subresource.as_deref() {
        None | Some("status") => {
            if target.subresource.is_some() && !has_status(target.kind) {
                return Err(status::no_route());
            }
            let mut changed = current.clone();
            apply_patch(target.kind, &name, call.content_type, &mut changed, &body)?;
            if target.subresource.is_some() {
                changed = only_status(&current, &changed);
            } else {
                keep_status(target.kind, Some(&current), &mut changed);
            }
            validate(target.kind, &name, &changed)?;
            store.api_writes += 1;
            Ok((
                200,
                store.commit(target.kind, key, changed, Some((call.manager, "Update"))),
            ))
        }
        Some("scale") if target.kind.scale => {
            let mut scale = scale_of(&current);
            let scale_kind = Kind {
                group: "autoscaling",
                version: "v1",
                kind: "Scale",
                plural: "scale",
                namespaced: true,
                scale: false,
                builtin: true,
            };
            apply_patch(&scale_kind, &name, call.content_type, &mut scale, &body)?;
            validate(&scale_kind, &name, &scale)?;
            let mut changed = current;
            changed["spec"]["replicas"] = scale["spec"]["replicas"].clone();
            store.api_writes += 1;
            let written = store.commit(target.kind, key, changed, Some((call.manager, "Update")));
            Ok((200, scale_of(&written)))
        }
        Some(_) => Err(status::no_route()),
    }
}

/// `/spec/replicas` as `.spec.replicas`, as conflicts name fields.
fn dotted(pointer: &str) -> String {
    pointer
        .replace('/', ".")
        .replace("~1", "/")
        .replace("~0", "~")
}

/// Server-side apply: creates or updates, owning the applied fields, refusing fields
/// another manager owns with other values unless forced.
fn apply(store: &mut Store, call: &Call, key: Key, name: &str, config: Value) -> Answer {
    let target = call.target;
    if call.query.get("fieldManager").is_none_or(str::is_empty) {
        return Err(status::invalid(
            target.kind,
            name,
            "fieldManager",
            "Required value: is required for apply patch",
        ));
    }
    body_fits(target, &config)?;
    if config["metadata"]["name"].as_str() != Some(name) {
        return Err(status::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            config["metadata"]["name"].as_str().unwrap_or("")
        )));
    }
    validate(target.kind, name, &config)?;
    let current = store.get(&key).cloned();
    if current.is_none() {
        namespace_exists(store, target)?;
    }
    let force = call.query.get("force") == Some("true");
    let mut owners: Owners = store.owners(&key);
    let applied = fields::leaves(&config);
    let existing = current.clone().unwrap_or_else(|| json!({}));
    let conflicts: Vec<(String, String)> = applied
        .iter()
        .filter_map(|(pointer, value)| {
            let owner = owners.leaves.get(pointer)?;
            (owner != call.manager && existing.pointer(pointer) != Some(value))
                .then(|| (owner.clone(), dotted(pointer)))
        })
        .collect();
    if !conflicts.is_empty() && !force {
        return Err(status::apply_conflict(target.kind, name, &conflicts));
    }
    let mut object = existing;
    let applied_pointers: Vec<&String> = applied.iter().map(|(p, _)| p).collect();
    let dropped: Vec<String> = owners
        .leaves
        .iter()
        .filter(|(p, m)| m.as_str() == call.manager && !applied_pointers.contains(p))
        .map(|(p, _)| p.clone())
        .collect();
    for pointer in &dropped {
        fields::remove(&mut object, pointer);
        owners.leaves.remove(pointer);
    }
    json_patch::merge(&mut object, &config);
    keep_status(target.kind, current.as_ref(), &mut object);
    for (pointer, _) in &applied {
        owners
            .leaves
            .insert(pointer.clone(), call.manager.to_string());
    }
    owners.operations.insert(call.manager.to_string(), "Apply");
    store.set_owners(&key, owners);
    store.api_writes += 1;
    let code = if current.is_some() { 200 } else { 201 };
    Ok((code, store.commit(target.kind, key, object, None)))
}

/// DELETE: removes an object, or marks it deleting while finalizers hold it (202).
pub fn delete(store: &mut Store, call: &Call) -> Answer {
    let target = call.target;
    let name = name_of(call)?;
    let key = target.key(name);
    let (object, gone) = store.delete(target.kind, &key)?;
    store.api_writes += 1;
    Ok(match (gone, target.kind.builtin) {
        (false, _) => (202, object),
        (true, true) => (
            200,
            deleted_status(target.kind, name, &object["metadata"]["uid"]),
        ),
        (true, false) => (200, object),
    })
}

/// The `autoscaling/v1` Scale of a scalable object.
pub fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": object.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": object.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": ""},
    })
}
