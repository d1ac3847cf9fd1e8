//! The KKP actions: a user cluster's restorable etcd backups (`kkp.etcd.backups`) and
//! its etcd restored from one through an `EtcdRestore` (`kkp.etcd.restore`), on the
//! seed, through the Kubernetes API (`kubermatic.k8c.io/v1`).
//!
//! They reach the seed and check its identity as the `kube.*` actions do (`kube::connect`).
//! What KKP's controllers write, and what they never write, is in the reference notes
//! (domain-facts §1.3, §9.2): an EtcdRestore has no status before `Started`, every
//! failure is only a Warning event, and a Cluster's conditions are a map.

mod backups;
mod checks;
mod error;
mod follow;
mod restore;
mod watch;

pub use error::KkpError;

pub(crate) use backups::SPEC as BACKUPS;
pub(crate) use restore::SPEC as RESTORE;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

use crate::actions::by_hand::Given;
use crate::actions::kube::Cluster;

/// The API group and version of every KKP kind drbook reads or writes.
pub(crate) const KKP_API_VERSION: &str = "kubermatic.k8c.io/v1";

/// One KKP kind, named without discovery (the plural is fixed by KKP's CRDs).
fn kkp_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kubermatic.k8c.io", "v1", kind),
        plural,
    )
}

/// The cluster-scoped `Cluster` objects.
fn clusters(seed: &Cluster) -> Api<DynamicObject> {
    Api::all_with(seed.client.clone(), &kkp_resource("Cluster", "clusters"))
}

/// `Seed` objects, in every namespace (KKP keeps them in `kubermatic`).
fn seeds(seed: &Cluster) -> Api<DynamicObject> {
    Api::all_with(seed.client.clone(), &kkp_resource("Seed", "seeds"))
}

/// The EtcdBackupConfigs of one cluster namespace.
fn backup_configs(seed: &Cluster, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        seed.client.clone(),
        namespace,
        &kkp_resource("EtcdBackupConfig", "etcdbackupconfigs"),
    )
}

/// The EtcdRestores of one cluster namespace.
fn restores(seed: &Cluster, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        seed.client.clone(),
        namespace,
        &kkp_resource("EtcdRestore", "etcdrestores"),
    )
}

/// The namespace of a user cluster's control plane on the seed: `status.namespaceName`,
/// which KKP sets, else its default `cluster-<id>`.
fn cluster_namespace(cluster: &Value, id: &str) -> String {
    cluster
        .pointer("/status/namespaceName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("cluster-{id}"))
}

/// `kubectl` with the step's `--kubeconfig` and `--context`.
fn kubectl(given: &Given) -> String {
    format!("kubectl{}", crate::actions::kube::kubectl_flags(given))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_namespace_is_the_one_kkp_wrote_else_its_default() {
        let written = json!({"status": {"namespaceName": "cluster-abc"}});
        assert_eq!(cluster_namespace(&written, "xyz"), "cluster-abc");
        assert_eq!(cluster_namespace(&json!({}), "xyz"), "cluster-xyz");
    }
}
