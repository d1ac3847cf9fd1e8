//! The kinds the fake serves and its discovery documents (`/api`, `/api/v1`,
//! `/apis/<group>/<version>`), shaped as the real API server's `APIResourceList`, which
//! is all kube-rs's `discovery::pinned_kind` reads.

use serde_json::{Value, json};

/// One kind the fake serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// Served with a `scale` subresource (`spec.replicas`).
    pub scale: bool,
    /// Built into Kubernetes (a deletion answers a `Status`), or a CRD (answers the object).
    pub builtin: bool,
}

impl Kind {
    pub fn api_version(&self) -> String {
        match self.group {
            "" => self.version.to_string(),
            group => format!("{group}/{}", self.version),
        }
    }

    /// `deployments.apps`, as the real server names a resource in messages.
    pub fn qualified(&self) -> String {
        match self.group {
            "" => self.plural.to_string(),
            group => format!("{}.{group}", self.plural),
        }
    }

    /// `Deployment.apps`, as validation messages name a kind.
    pub fn qualified_kind(&self) -> String {
        match self.group {
            "" => self.kind.to_string(),
            group => format!("{}.{group}", self.kind),
        }
    }
}

const fn kind(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    scale: bool,
    builtin: bool,
) -> Kind {
    Kind {
        group,
        version,
        kind,
        plural,
        namespaced,
        scale,
        builtin,
    }
}

/// Every kind the fake serves: enough core and apps kinds for the generic actions, the
/// Velero kinds (namespaced CRDs, no status subresource) and the KKP kinds (`Cluster` is
/// cluster-scoped). Kinds of one group stay together: discovery lists them by group.
pub const KINDS: &[Kind] = &[
    kind("", "v1", "Namespace", "namespaces", false, false, true),
    kind("", "v1", "ConfigMap", "configmaps", true, false, true),
    kind("", "v1", "Pod", "pods", true, false, true),
    kind("", "v1", "Event", "events", true, false, true),
    kind("", "v1", "Secret", "secrets", true, false, true),
    kind(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        false,
        true,
    ),
    kind("apps", "v1", "Deployment", "deployments", true, true, true),
    kind(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
        true,
        true,
    ),
    kind("velero.io", "v1", "Backup", "backups", true, false, false),
    kind("velero.io", "v1", "Restore", "restores", true, false, false),
    kind(
        "velero.io",
        "v1",
        "BackupStorageLocation",
        "backupstoragelocations",
        true,
        false,
        false,
    ),
    kind(
        "velero.io",
        "v1",
        "Schedule",
        "schedules",
        true,
        false,
        false,
    ),
    kind(
        "velero.io",
        "v1",
        "DownloadRequest",
        "downloadrequests",
        true,
        false,
        false,
    ),
    kind(
        "kubermatic.k8c.io",
        "v1",
        "Cluster",
        "clusters",
        false,
        false,
        false,
    ),
    kind(
        "kubermatic.k8c.io",
        "v1",
        "Seed",
        "seeds",
        true,
        false,
        false,
    ),
    kind(
        "kubermatic.k8c.io",
        "v1",
        "EtcdBackupConfig",
        "etcdbackupconfigs",
        true,
        false,
        false,
    ),
    kind(
        "kubermatic.k8c.io",
        "v1",
        "EtcdRestore",
        "etcdrestores",
        true,
        false,
        false,
    ),
];

/// Whether a kind has a `status` subresource: the KKP kinds and the built-in workload
/// kinds do, ConfigMaps, Secrets, Events and Velero's kinds do not (domain-facts §9.1,
/// §9.2). A write of the main resource of such a kind leaves its status alone.
pub fn has_status(kind: &Kind) -> bool {
    matches!(
        (kind.group, kind.kind),
        ("kubermatic.k8c.io", _)
            | ("apps", _)
            | ("", "Pod" | "PersistentVolumeClaim" | "Namespace")
    )
}

/// The kind served at `group`/`version` under `plural`.
pub fn by_plural(group: &str, version: &str, plural: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.plural == plural)
}

/// The kind an object's `apiVersion` and `kind` name.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.api_version() == api_version && k.kind == kind)
}

/// `GET /api`.
pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
}

/// `GET /apis`.
pub fn groups() -> Value {
    let mut names: Vec<(&str, &str)> = KINDS
        .iter()
        .filter(|k| !k.group.is_empty())
        .map(|k| (k.group, k.version))
        .collect();
    names.dedup();
    let groups: Vec<Value> = names
        .iter()
        .map(|(group, version)| {
            let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
            json!({"name": group, "versions": [gv], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /api/v1` or `/apis/<group>/<version>`; `None` when nothing is served there.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let verbs = json!([
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch"
    ]);
    let mut resources = Vec::new();
    for k in KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
    {
        resources.push(json!({
            "name": k.plural, "singularName": k.kind.to_lowercase(), "namespaced": k.namespaced,
            "kind": k.kind, "verbs": verbs,
        }));
        if has_status(k) {
            resources.push(json!({
                "name": format!("{}/status", k.plural), "singularName": "", "namespaced": k.namespaced,
                "kind": k.kind, "verbs": ["get", "patch", "update"],
            }));
        }
        if k.scale {
            resources.push(json!({
                "name": format!("{}/scale", k.plural), "singularName": "", "namespaced": k.namespaced,
                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = match group {
        "" => version.to_string(),
        g => format!("{g}/{version}"),
    };
    Some(json!({
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
        "resources": resources,
    }))
}
