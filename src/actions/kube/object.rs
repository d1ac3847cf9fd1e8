//! Naming one object: `api_version`, `kind`, `name` and `namespace`, resolved through the
//! API server's discovery (the plural and whether the kind is namespaced come from the
//! server, so any CRD works without drbook knowing it), and the object as messages name
//! it: "Deployment `shop/web` (apps/v1)".
//!
//! A kind found once is remembered on the step's (shared) client for the rest of the run
//! (`KnownKinds`); a kind not found is asked for again by the next step, so a CRD that
//! an earlier step installed is found.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::{self, Scope};

use super::connect::Cluster;
use super::error::{KubeError, describe};
use super::known_kinds::KindName;
use crate::actions::execute::{ActionError, required_str};
use crate::actions::execute::{ActionRequest, optional_str};
use crate::actions::{ParamKind, ParamSpec};

pub(crate) const API_VERSION: ParamSpec = ParamSpec {
    name: "api_version",
    kind: ParamKind::String,
    required: true,
    doc: "The object's apiVersion, e.g. `v1`, `apps/v1`, `velero.io/v1`.",
};
pub(crate) const KIND: ParamSpec = ParamSpec {
    name: "kind",
    kind: ParamKind::String,
    required: true,
    doc: "The object's kind, e.g. `Deployment`.",
};
pub(crate) const NAME: ParamSpec = ParamSpec {
    name: "name",
    kind: ParamKind::String,
    required: true,
    doc: "The object's name.",
};
pub(crate) const NAMESPACE: ParamSpec = ParamSpec {
    name: "namespace",
    kind: ParamKind::String,
    required: false,
    doc: "The object's namespace (for namespaced kinds); default `default`.",
};

/// One object a step works on, with the API to reach it.
pub(crate) struct Target {
    pub api: Api<DynamicObject>,
    pub name: String,
    pub kind: String,
    /// How messages name the object.
    pub label: String,
}

/// Splits `apps/v1` into group and version (`v1` is the core group).
fn group_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// How messages name an object of a kind.
pub(crate) fn label(kind: &str, namespace: Option<&str>, name: &str, api_version: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} `{ns}/{name}` ({api_version})"),
        None => format!("{kind} `{name}` ({api_version})"),
    }
}

/// Looks up a kind through discovery, unless the client found it before on this cluster.
pub(crate) async fn resource(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
) -> Result<(ApiResource, bool), KubeError> {
    let (group, version) = group_version(api_version);
    let name = KindName {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
    };
    if let Some(found) = cluster.kinds.get(&cluster.uid, &name) {
        return Ok(found);
    }
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, caps) = discovery::pinned_kind(&cluster.client, &gvk)
        .await
        .map_err(|e| KubeError::UnknownKind {
            server: cluster.server.clone(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            reason: describe(&e),
        })?;
    let found = (resource, caps.scope == Scope::Namespaced);
    cluster.kinds.insert(&cluster.uid, name, found.clone());
    Ok(found)
}

/// The API of one kind in a namespace (or cluster-wide for cluster-scoped kinds).
pub(crate) async fn api_for(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
) -> Result<(Api<DynamicObject>, Option<String>), KubeError> {
    let (resource, namespaced) = resource(cluster, api_version, kind).await?;
    if namespaced {
        let ns = namespace.unwrap_or("default").to_string();
        Ok((
            Api::namespaced_with(cluster.client.clone(), &ns, &resource),
            Some(ns),
        ))
    } else {
        Ok((Api::all_with(cluster.client.clone(), &resource), None))
    }
}

/// The object the step's `api_version`, `kind`, `name` and `namespace` name.
pub(crate) async fn target(
    cluster: &Cluster,
    request: &ActionRequest,
) -> Result<Target, ActionError> {
    let params = &request.params;
    let api_version = required_str(params, "api_version")?.trim();
    let kind = required_str(params, "kind")?.trim();
    let name = required_str(params, "name")?.trim().to_string();
    let namespace = optional_str(params, "namespace")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (api, namespace) = api_for(cluster, api_version, kind, namespace).await?;
    Ok(Target {
        label: label(kind, namespace.as_deref(), &name, api_version),
        api,
        name,
        kind: kind.to_string(),
    })
}

/// Awaits `work` unless the step is cancelled first (Ctrl-C, abort, timeout).
pub(crate) async fn unless_cancelled<T>(
    request: &ActionRequest,
    work: impl std::future::Future<Output = T>,
) -> Result<T, ActionError> {
    tokio::select! {
        done = work => Ok(done),
        () = request.cancel.cancelled() => Err(ActionError::Cancelled),
    }
}

/// The outputs that describe an object as the API server returned it.
pub(crate) fn object_outputs(
    object: &DynamicObject,
    kind: &str,
    outputs: &mut crate::actions::Outputs,
) {
    use serde_json::Value;
    let meta = &object.metadata;
    outputs.insert(
        "uid".into(),
        Value::String(meta.uid.clone().unwrap_or_default()),
    );
    outputs.insert(
        "resource_version".into(),
        Value::String(meta.resource_version.clone().unwrap_or_default()),
    );
    outputs.insert("object".into(), recordable(object, kind));
}

/// What the run may keep of an object: everything but a Secret's values.
///
/// A step's outputs go into the journal and every report, and a runbook that reads a
/// Secret (is the cluster's `ca` back?) must not copy its keys there. So the values of
/// `data` and `stringData` become `<redacted>` (the keys stay, so `object.data['ca.key']
/// is defined` still answers), and so does the `last-applied-configuration` annotation,
/// which `kubectl apply` fills with the whole Secret, values included.
/// `kind` is the kind the step asked for: the items of a list carry none of their own.
pub(crate) fn recordable(object: &DynamicObject, kind: &str) -> serde_json::Value {
    use serde_json::Value;
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    let is_secret = kind == "Secret" || value["kind"] == "Secret";
    if !is_secret {
        return value;
    }
    for field in ["data", "stringData"] {
        if let Some(values) = value.get_mut(field).and_then(Value::as_object_mut) {
            for v in values.values_mut() {
                *v = Value::String(REDACTED.into());
            }
        }
    }
    if let Some(applied) = value
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut(LAST_APPLIED))
    {
        *applied = Value::String(REDACTED.into());
    }
    value
}

/// What a Secret's values read as in a step's outputs.
const REDACTED: &str = "<redacted>";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_keeps_its_keys_but_not_its_values() {
        let secret: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "ca", "namespace": "cluster-a", "annotations": {
                LAST_APPLIED: "{\"data\":{\"ca.key\":\"c2VjcmV0\"}}", "team": "platform"}},
            "data": {"ca.crt": "Y2VydA==", "ca.key": "c2VjcmV0"},
            "stringData": {"token": "plain"},
        }))
        .unwrap();
        let kept = recordable(&secret, "Secret");
        assert_eq!(kept["data"]["ca.key"], REDACTED);
        assert_eq!(kept["data"]["ca.crt"], REDACTED);
        assert_eq!(kept["stringData"]["token"], REDACTED);
        assert_eq!(kept["metadata"]["annotations"][LAST_APPLIED], REDACTED);
        assert_eq!(kept["metadata"]["annotations"]["team"], "platform");
        assert!(!kept.to_string().contains("c2VjcmV0"));

        let map: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings"}, "data": {"mode": "c2VjcmV0"},
        }))
        .unwrap();
        assert_eq!(recordable(&map, "ConfigMap")["data"]["mode"], "c2VjcmV0");
        // A listed item has no kind of its own; the step's kind decides.
        let item: DynamicObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "ca"}, "data": {"ca.key": "c2VjcmV0"},
        }))
        .unwrap();
        assert_eq!(recordable(&item, "Secret")["data"]["ca.key"], REDACTED);
    }

    #[test]
    fn core_group_has_no_slash() {
        assert_eq!(group_version("v1"), ("", "v1"));
        assert_eq!(group_version("apps/v1"), ("apps", "v1"));
    }
}
