//! The `Status` objects the real API server answers failures with, with the same codes,
//! reasons and message texts, so that what drbook shows is what a real cluster would make
//! it show.

use serde_json::{Value, json};

use super::resources::Kind;

/// An HTTP status code with its `Status` body.
pub type Failure = (u16, Value);

fn status(code: u16, reason: &str, message: String, details: Value) -> Failure {
    (
        code,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": details, "code": code,
        }),
    )
}

fn details(kind: &Kind, name: &str) -> Value {
    json!({"name": name, "group": kind.group, "kind": kind.plural})
}

/// 404: `deployments.apps "web" not found`.
pub fn not_found(kind: &Kind, name: &str) -> Failure {
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", kind.qualified()),
        details(kind, name),
    )
}

/// 404 for a namespace that does not exist, as a create in it is answered.
pub fn namespace_not_found(namespace: &str) -> Failure {
    status(
        404,
        "NotFound",
        format!("namespaces \"{namespace}\" not found"),
        json!({"name": namespace, "kind": "namespaces"}),
    )
}

/// 404 for a path nothing is served at.
pub fn no_route() -> Failure {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource".into(),
        json!({}),
    )
}

/// 409: `deployments.apps "web" already exists`.
pub fn already_exists(kind: &Kind, name: &str) -> Failure {
    status(
        409,
        "AlreadyExists",
        format!("{} \"{name}\" already exists", kind.qualified()),
        details(kind, name),
    )
}

/// 409: a write with a stale `resourceVersion`.
pub fn conflict(kind: &Kind, name: &str) -> Failure {
    status(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            kind.qualified()
        ),
        details(kind, name),
    )
}

/// 409: server-side apply of fields another manager owns with other values.
pub fn apply_conflict(kind: &Kind, name: &str, conflicts: &[(String, String)]) -> Failure {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(manager, field)| {
            json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{manager}\""), "field": field})
        })
        .collect();
    let listed: Vec<String> = conflicts
        .iter()
        .map(|(manager, field)| format!("- conflict with \"{manager}\": {field}"))
        .collect();
    let mut failure = status(
        409,
        "Conflict",
        format!(
            "Apply failed with {} conflict{}:\n{}",
            conflicts.len(),
            if conflicts.len() == 1 { "" } else { "s" },
            listed.join("\n")
        ),
        details(kind, name),
    );
    failure.1["details"]["causes"] = Value::Array(causes);
    failure
}

/// 422: a field that fails validation.
pub fn invalid(kind: &Kind, name: &str, field: &str, problem: &str) -> Failure {
    let mut failure = status(
        422,
        "Invalid",
        format!(
            "{} \"{name}\" is invalid: {field}: {problem}",
            kind.qualified_kind()
        ),
        json!({"name": name, "group": kind.group, "kind": kind.kind}),
    );
    failure.1["details"]["causes"] =
        json!([{"reason": "FieldValueInvalid", "message": problem, "field": field}]);
    failure
}

/// 400: a request the server cannot read.
pub fn bad_request(message: String) -> Failure {
    status(400, "BadRequest", message, json!({}))
}

/// 401: no or wrong bearer token.
pub fn unauthorized() -> Failure {
    status(401, "Unauthorized", "Unauthorized".into(), json!({}))
}

/// 410 as an in-stream watch `ERROR`: the resourceVersion is older than the history.
pub fn expired(asked: u64, oldest: u64) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("too old resource version: {asked} ({oldest})"),
        "reason": "Expired", "code": 410,
    })
}
