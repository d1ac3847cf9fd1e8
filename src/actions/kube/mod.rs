//! The generic Kubernetes actions: read, apply, patch, scale, delete and wait for any
//! object, through the API server (the `kube` crate; no kubectl needed).
//!
//! Every action first reaches its cluster and checks its identity (`connect`, with a
//! client the run's steps share: `client_cache`, `client_key`), then names its object
//! through discovery (`object`, remembering what it found: `known_kinds`), so CRDs work
//! like built-in kinds.

mod apply;
mod client_cache;
mod client_key;
mod connect;
mod delete;
mod error;
mod get;
mod known_kinds;
mod list;
mod manifest;
mod object;
mod patch;
mod scale;
mod wait;

pub use client_cache::ClientCache;
pub use connect::{ClusterIdentity, ClusterSource, identify};
pub use error::KubeError;

// What the Velero and KKP actions build on: the connection with its identity guard, and
// the client errors rendered without credentials.
pub(crate) use connect::{CONNECTION_PARAMS, Cluster, connect};
pub(crate) use error::{describe, is_not_found};

pub(crate) use apply::SPEC as APPLY;
pub(crate) use delete::SPEC as DELETE;
pub(crate) use get::SPEC as GET;
pub(crate) use list::SPEC as LIST;
pub(crate) use patch::SPEC as PATCH;
pub(crate) use scale::SPEC as SCALE;
pub(crate) use wait::SPEC as WAIT;

use crate::actions::by_hand::Given;

/// `--kubeconfig` and `--context` for the by-hand kubectl command, when the step names them.
pub(crate) fn kubectl_flags(given: &Given) -> String {
    let mut flags = String::new();
    if let Some(path) = given.opt("kubeconfig") {
        flags.push_str(&format!(
            " --kubeconfig {}",
            crate::actions::by_hand::quote(&path)
        ));
    }
    if let Some(context) = given.opt("context") {
        flags.push_str(&format!(
            " --context {}",
            crate::actions::by_hand::quote(&context)
        ));
    }
    flags
}

/// The kind as kubectl takes it unambiguously: `Deployment.v1.apps`, or `Pod` for core.
fn kubectl_kind(given: &Given) -> String {
    let kind = given.text("kind");
    match given.opt("api_version") {
        Some(api_version) => match api_version.split_once('/') {
            Some((group, version)) => format!("{kind}.{version}.{group}"),
            None => kind,
        },
        None => kind,
    }
}

/// ` -n <namespace>` when the step names one.
fn namespace_flag(given: &Given) -> String {
    given
        .opt("namespace")
        .map(|ns| format!(" -n {}", crate::actions::by_hand::quote(&ns)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    fn given(params: Value) -> Given {
        let map: Map<String, Value> = params.as_object().cloned().unwrap_or_default();
        Given::new(map)
    }

    #[test]
    fn by_hand_commands_name_the_kind_unambiguously() {
        let web = given(json!({
            "api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop",
            "kubeconfig": "/etc/k config", "replicas": 0,
        }));
        assert_eq!(
            (SCALE.by_hand)(&web),
            [
                "kubectl --kubeconfig '/etc/k config' scale Deployment.v1.apps web -n shop --replicas=0"
            ]
        );
        let core = given(
            json!({"api_version": "v1", "kind": "ConfigMap", "name": "a", "context": "prod"}),
        );
        assert_eq!(
            (GET.by_hand)(&core),
            ["kubectl --context prod get ConfigMap a -o yaml"]
        );
        let wait = given(
            json!({"api_version": "velero.io/v1", "kind": "Restore", "name": "r", "namespace": "velero", "jsonpath": "{.status.phase}", "value": "Completed"}),
        );
        assert_eq!(
            (WAIT.by_hand)(&wait),
            [
                "kubectl wait Restore.v1.velero.io r -n velero '--for=jsonpath={.status.phase}=Completed' --timeout=<the step's timeout>"
            ]
        );
    }
}
