//! What every Velero action shares: the Velero namespace, the typed-less API of each
//! Velero kind (the kinds are fixed, so no discovery round trip is needed), reading an
//! object's fields as JSON, and the name drbook gives its Restores.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;
use sha2::Digest as _;

use super::error::VeleroError;
use crate::actions::execute::{ActionError, ActionRequest, optional_str};
use crate::actions::kube::Cluster;
use crate::actions::{ParamKind, ParamSpec};

/// `namespace` of every Velero action.
pub(crate) const NAMESPACE: ParamSpec = ParamSpec {
    name: "namespace",
    kind: ParamKind::String,
    required: false,
    doc: "The namespace Velero's server runs in and processes objects of; default `velero`.",
};

/// The Velero namespace the step names, `velero` by default.
pub(crate) fn namespace(request: &ActionRequest) -> Result<String, ActionError> {
    Ok(optional_str(&request.params, "namespace")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("velero")
        .to_string())
}

/// The API of one Velero kind (`velero.io/v1`) in `namespace`.
pub(crate) fn velero_api(
    cluster: &Cluster,
    kind: &str,
    plural: &str,
    namespace: &str,
) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("velero.io", "v1", kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(cluster.client.clone(), namespace, &resource)
}

/// The API of a core kind (`v1`), in a namespace or cluster-wide.
pub(crate) fn core_api(
    cluster: &Cluster,
    kind: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("", "v1", kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    match namespace {
        Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, &resource),
        None => Api::all_with(cluster.client.clone(), &resource),
    }
}

/// An object as JSON, to read its `status` and `spec` by pointer.
pub(crate) fn json(object: &DynamicObject) -> Value {
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// A text field, empty when absent (Velero omits empty fields).
pub(crate) fn text(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A count field, 0 when absent (Velero omits zero counts).
pub(crate) fn count(object: &Value, pointer: &str) -> u64 {
    object.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// An object's name.
pub(crate) fn name_of(object: &Value) -> String {
    text(object, "/metadata/name")
}

/// The error for a failed API call about `object`.
pub(crate) fn api_error(verb: &'static str, object: String, error: &kube::Error) -> ActionError {
    VeleroError::Api {
        verb,
        object,
        reason: crate::actions::kube::describe(error),
    }
    .into()
}

/// The four phases a Restore ends in.
pub(crate) const TERMINAL: [&str; 4] =
    ["Completed", "PartiallyFailed", "Failed", "FailedValidation"];

/// The longest name a Restore may have: it becomes the label `velero.io/restore-name`
/// on every restored object, which Velero hashes past 63 characters.
const MAX_NAME: usize = 63;

/// The name of the `attempt`-th Restore (1-based) of step `step` in run `run`:
/// `drbook-<run>-<step>`, lowercased, every character a DNS label does not allow made a
/// `-`, and cut to 63 characters with a hash of the whole when longer, so two long names
/// stay apart. The same run and step always give the same name: that is how a re-run
/// after a crash finds the Restore it created instead of creating a second one.
pub(crate) fn restore_name(run: &str, step: &str, attempt: u32) -> String {
    let mut full = format!("drbook-{run}-{step}");
    if attempt > 1 {
        full.push_str(&format!("-{attempt}"));
    }
    let mut name: String = full
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if name.len() > MAX_NAME {
        let digest = sha2::Sha256::digest(full.as_bytes());
        let hash = base16ct::lower::encode_string(&digest[..4]);
        name.truncate(MAX_NAME - hash.len() - 1);
        name = format!("{}-{hash}", name.trim_end_matches('-'));
    }
    name.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_name_is_a_dns_label_of_at_most_63_characters() {
        assert_eq!(restore_name("r1", "restore", 1), "drbook-r1-restore");
        assert_eq!(
            restore_name("R_1", "seed.Restore", 2),
            "drbook-r-1-seed-restore-2"
        );
        let long = restore_name(&"x".repeat(40), &"step".repeat(10), 1);
        assert_eq!(long.len(), 63, "{long}");
        let other = restore_name(&"x".repeat(40), &"step".repeat(9), 1);
        assert_ne!(long, other, "long names stay apart by their hash");
        assert!(long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
