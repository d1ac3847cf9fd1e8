//! `kube.list`: every object of a kind (in a namespace, or in all of them), for later
//! steps to fan out over (`foreach: "{{ steps.clusters.outputs.names }}"`) or read.
//!
//! The items keep what a runbook reads (`metadata`, `spec`, `status` and, for kinds like
//! Events, their other top-level fields) and drop `metadata.managedFields`, which only
//! makes a listing of 200 objects large in the run's record.
//!
//! Safe to re-run after a crash: it only reads.

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe};
use super::object::{API_VERSION, KIND, resource, unless_cancelled};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "kube.list",
    summary: "Lists the Kubernetes objects of a kind; later steps fan out over `outputs.names`.",
    params: &[
        API_VERSION,
        KIND,
        ParamSpec {
            name: "namespace",
            kind: ParamKind::String,
            required: false,
            doc: "Only objects in this namespace (for namespaced kinds); default: every namespace.",
        },
        ParamSpec {
            name: "label_selector",
            kind: ParamKind::String,
            required: false,
            doc: "Only objects whose labels match, e.g. `app=etcd` or `env in (staging),!frozen`.",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["names", "items", "count", "cluster_uid", "server"]),
    rerun: Rerun::Safe("it only reads"),
    by_hand,
    executor: &ListAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let scope = match given.opt("namespace") {
        Some(ns) => format!(" -n {}", crate::actions::by_hand::quote(&ns)),
        None => " --all-namespaces".to_string(),
    };
    let selector = given
        .opt("label_selector")
        .map(|s| format!(" -l {}", crate::actions::by_hand::quote(&s)))
        .unwrap_or_default();
    vec![format!(
        "kubectl{} get {}{scope}{selector} -o yaml",
        super::kubectl_flags(given),
        super::kubectl_kind(given),
    )]
}

/// The executor of `kube.list`.
pub struct ListAction;

impl Action for ListAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let cluster = connect(&request).await?;
    let params = &request.params;
    let api_version = required_str(params, "api_version")?.trim();
    let kind = required_str(params, "kind")?.trim();
    let namespace = optional_str(params, "namespace")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let selector = optional_str(params, "label_selector")?
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (resource, namespaced) = resource(&cluster, api_version, kind).await?;
    let (api, scope): (Api<DynamicObject>, String) = match (namespaced, namespace) {
        (true, Some(ns)) => (
            Api::namespaced_with(cluster.client.clone(), ns, &resource),
            format!("namespace `{ns}`"),
        ),
        (true, None) => (
            Api::all_with(cluster.client.clone(), &resource),
            "every namespace".to_string(),
        ),
        (false, _) => (
            Api::all_with(cluster.client.clone(), &resource),
            "the cluster".to_string(),
        ),
    };
    let what = format!("{kind} ({api_version}) in {scope}");
    let mut list_params = ListParams::default();
    if let Some(selector) = selector {
        list_params = list_params.labels(selector);
    }
    let listed = unless_cancelled(&request, api.list(&list_params))
        .await?
        .map_err(|e| KubeError::Api {
            verb: "list",
            object: what.clone(),
            reason: describe(&e),
        })?;
    let mut items: Vec<Value> = listed.items.iter().map(|o| item(o, kind)).collect();
    items.sort_by(|a, b| key(a).cmp(&key(b)));
    let mut names: Vec<String> = items.iter().map(|i| key(i).1.to_string()).collect();
    names.sort();
    request.emit(ActionEvent::Progress(format!(
        "{} ({api_version}) in {scope}{}",
        count_text(items.len(), kind),
        selector
            .map(|s| format!(" matching `{s}`"))
            .unwrap_or_default()
    )));
    let mut outputs = Outputs::new();
    outputs.insert("count".into(), Value::from(items.len()));
    outputs.insert(
        "names".into(),
        Value::Array(names.into_iter().map(Value::String).collect()),
    );
    outputs.insert("items".into(), Value::Array(items));
    cluster.identify(&mut outputs);
    Ok(outputs)
}

/// "1 Cluster", "200 Cluster objects": how the step's log counts what it found.
fn count_text(count: usize, kind: &str) -> String {
    match count {
        1 => format!("1 {kind}"),
        n => format!("{n} {kind} objects"),
    }
}

/// Sort key of an item: namespace, then name.
fn key(item: &Value) -> (&str, &str) {
    let text = |field: &str| item["metadata"][field].as_str().unwrap_or("");
    (text("namespace"), text("name"))
}

/// One listed object as later steps read it, without `metadata.managedFields` (and
/// without a Secret's values: see `recordable`).
fn item(object: &DynamicObject, kind: &str) -> Value {
    let mut value = super::object::recordable(object, kind);
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    value
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn by_hand_lists_every_namespace_unless_one_is_named() {
        let all = crate::actions::by_hand::given(json!({
            "api_version": "kubermatic.k8c.io/v1", "kind": "EtcdBackupConfig",
            "label_selector": "env=staging",
        }));
        assert_eq!(
            by_hand(&all),
            [
                "kubectl get EtcdBackupConfig.v1.kubermatic.k8c.io --all-namespaces -l env=staging -o yaml"
            ]
        );
        let one = crate::actions::by_hand::given(
            json!({"api_version": "v1", "kind": "Pod", "namespace": "cluster-a"}),
        );
        assert_eq!(by_hand(&one), ["kubectl get Pod -n cluster-a -o yaml"]);
    }

    #[test]
    fn listed_items_drop_managed_fields_and_keep_spec_and_status() {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "x", "managedFields": [{"manager": "drbook"}]},
            "spec": {"k": 1}, "status": {"phase": "Ready"},
        }))
        .unwrap();
        let listed = item(&object, "ConfigMap");
        assert!(
            listed["metadata"].get("managedFields").is_none(),
            "{listed}"
        );
        assert_eq!(listed["spec"]["k"], 1);
        assert_eq!(listed["status"]["phase"], "Ready");
        assert_eq!(key(&listed), ("x", "a"));
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(count_text(1, "Cluster"), "1 Cluster");
        assert_eq!(count_text(0, "Cluster"), "0 Cluster objects");
        assert_eq!(count_text(200, "Cluster"), "200 Cluster objects");
    }
}
