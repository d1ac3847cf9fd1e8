//! Why a Restore has not finished when its step runs out of time, said before the step
//! fails, so the operator does not have to find out at 3 a.m.: queued behind which other
//! Restore (Velero runs one at a time), how far it got, which pods in the target
//! namespaces are Pending (file-system restores wait for them), which target namespace is
//! Terminating (Velero stalls on every item restored into one), and whether the Velero
//! server itself runs.

use kube::api::ListParams;
use serde_json::Value;

use super::api::{TERMINAL, core_api, count, json, name_of, text};
use super::restore_checks::{blocker, restores, terminating};
use crate::actions::kube::Cluster;

/// What the diagnosis looks at.
#[derive(Debug, Default)]
pub(crate) struct Scene {
    pub own: Value,
    pub restores: Vec<Value>,
    /// Target namespaces as they exist (absent ones left out).
    pub namespaces: Vec<Value>,
    /// The pods of the target namespaces.
    pub pods: Vec<Value>,
    /// The pods of the Velero namespace.
    pub velero_pods: Vec<Value>,
}

/// Reads what the diagnosis needs; what cannot be read is left out.
pub(crate) async fn gather(
    cluster: &Cluster,
    namespace: &str,
    own: Value,
    targets: &[String],
) -> Scene {
    let mut scene = Scene {
        restores: restores(cluster, namespace).await.unwrap_or_default(),
        own,
        ..Scene::default()
    };
    let namespaces = core_api(cluster, "Namespace", "namespaces", None);
    for target in targets {
        if let Ok(found) = namespaces.get(target).await {
            scene.namespaces.push(json(&found));
        }
        if let Ok(pods) = core_api(cluster, "Pod", "pods", Some(target))
            .list(&ListParams::default())
            .await
        {
            scene.pods.extend(pods.items.iter().map(json));
        }
    }
    if let Ok(pods) = core_api(cluster, "Pod", "pods", Some(namespace))
        .list(&ListParams::default())
        .await
    {
        scene.velero_pods = pods.items.iter().map(json).collect();
    }
    scene
}

/// The diagnosis, one finding a line.
pub(crate) fn explain(scene: &Scene, namespace: &str) -> Vec<String> {
    let mut found = Vec::new();
    let own = name_of(&scene.own);
    let phase = text(&scene.own, "/status/phase");
    if phase.is_empty() {
        match blocker(&scene.restores, &own) {
            Some(other) => {
                let other_phase = text(other, "/status/phase");
                let state = match other_phase.as_str() {
                    "" => "also queued".to_string(),
                    p => format!(
                        "{p} since {}{}",
                        text(other, "/status/startTimestamp"),
                        progress(other)
                    ),
                };
                found.push(format!(
                    "queued: Velero runs one restore at a time, and Restore `{namespace}/{}` is {state}; ours starts after it ends",
                    name_of(other)
                ));
            }
            None => {
                found.push(format!(
                    "Velero has not started the restore and no other Restore is running: is the Velero server running? (`kubectl -n {namespace} get pods`, `kubectl -n {namespace} logs deploy/velero`)"
                ));
            }
        }
        for pod in &scene.velero_pods {
            let pod_phase = text(pod, "/status/phase");
            if pod_phase != "Running" && pod_phase != "Succeeded" {
                found.push(format!(
                    "pod `{namespace}/{}` of Velero is {pod_phase}",
                    name_of(pod)
                ));
            }
        }
    } else if !TERMINAL.contains(&phase.as_str()) {
        found.push(format!(
            "still {phase} since {}{}",
            text(&scene.own, "/status/startTimestamp"),
            progress(&scene.own)
        ));
    }
    for ns in &scene.namespaces {
        if terminating(ns) {
            found.push(format!(
                "namespace `{}` is Terminating: Velero waits (up to 10 min) on every item restored into it",
                name_of(ns)
            ));
        }
    }
    let pending: Vec<&Value> = scene
        .pods
        .iter()
        .filter(|p| text(p, "/status/phase") == "Pending")
        .collect();
    for pod in pending.iter().take(10) {
        let why = pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| c.iter().find(|c| text(c, "/status") == "False"))
            .map(|c| format!(": {} {}", text(c, "/reason"), text(c, "/message")))
            .unwrap_or_default();
        found.push(format!(
            "pod `{}/{}` is Pending{}",
            text(pod, "/metadata/namespace"),
            name_of(pod),
            why.trim_end()
        ));
    }
    if pending.len() > 10 {
        found.push(format!("… and {} more Pending pods", pending.len() - 10));
    }
    if found.len() == 1 && !phase.is_empty() {
        found.push(format!(
            "no pod is Pending and no target namespace Terminating; read the Velero server's log (`kubectl -n {namespace} logs deploy/velero | grep {own}`)"
        ));
    }
    found
}

/// ` (3/10 items)` when the restore reports progress.
fn progress(restore: &Value) -> String {
    let total = count(restore, "/status/progress/totalItems");
    match total {
        0 => String::new(),
        total => format!(
            " ({}/{total} items)",
            count(restore, "/status/progress/itemsRestored")
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_queued_restore_names_the_one_it_waits_behind() {
        let own =
            json!({"metadata": {"name": "mine", "creationTimestamp": "2026-01-01T03:00:00Z"}});
        let other = json!({"metadata": {"name": "theirs", "creationTimestamp": "2026-01-01T02:00:00Z"},
            "status": {"phase": "InProgress", "startTimestamp": "2026-01-01T02:00:01Z", "progress": {"totalItems": 10, "itemsRestored": 3}}});
        let scene = Scene {
            own: own.clone(),
            restores: vec![own, other],
            ..Scene::default()
        };
        assert_eq!(
            explain(&scene, "velero"),
            [
                "queued: Velero runs one restore at a time, and Restore `velero/theirs` is InProgress since 2026-01-01T02:00:01Z (3/10 items); ours starts after it ends"
            ]
        );
    }

    #[test]
    fn a_stuck_restore_names_pending_pods_and_terminating_namespaces() {
        let own = json!({"metadata": {"name": "mine"}, "status": {"phase": "InProgress", "startTimestamp": "T", "progress": {"totalItems": 4, "itemsRestored": 2}}});
        let scene = Scene {
            own,
            namespaces: vec![
                json!({"metadata": {"name": "shop"}, "status": {"phase": "Terminating"}}),
            ],
            pods: vec![
                json!({"metadata": {"name": "web-0", "namespace": "shop"}, "status": {"phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}]}}),
            ],
            ..Scene::default()
        };
        assert_eq!(
            explain(&scene, "velero"),
            [
                "still InProgress since T (2/4 items)",
                "namespace `shop` is Terminating: Velero waits (up to 10 min) on every item restored into it",
                "pod `shop/web-0` is Pending: Unschedulable 0/3 nodes are available",
            ]
        );
    }
}
