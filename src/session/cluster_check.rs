//! The cluster a run will change, checked before its first step: when a step the run can
//! reach acts on a Kubernetes cluster (`actions::reaches_cluster`), drbook reaches the
//! cluster the target names (its `kubeconfig` and `context`, else `$KUBECONFIG`, else
//! the in-cluster service account) and compares its `kube-system` UID with the target's
//! `cluster_uid`. A different cluster, or none reachable while the target pins one, is a
//! refusal before the run directory exists (a resumed run: before its journal is written
//! to), so no shell step, etcd restore or drill inject runs against the wrong cluster
//! before the first Kubernetes step would have noticed. The identity found is what the
//! run records first (`cluster_reached`, via `preflight`).
//!
//! A runbook without such steps contacts nothing, whatever the target pins; `plan` never
//! calls this. Each Kubernetes action checks again (`actions::kube::connect`), for steps
//! whose `with:` names another kubeconfig.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::binding::BoundTarget;
use crate::actions::kube::{ClusterIdentity, ClusterSource, identify};
use crate::app_error::AppError;
use crate::journal::event::Mode;
use crate::runbook::model::{Runbook, StepBody};

/// How long the preflight waits for the API server before calling it unreachable: a
/// hung connection must not hang the start of a run.
const PATIENCE: Duration = Duration::from_secs(30);

/// Reaches and checks the target's cluster when the run needs one. `workdir` is the
/// run's work directory, which relative kubeconfig paths are read from (as the steps
/// read them). `Ok(None)`: nothing was contacted, or the cluster could not be reached
/// and nothing pins it (the steps then say what is wrong).
pub(crate) fn check(
    runbook: &Runbook,
    mode: Mode,
    bound: Option<&BoundTarget>,
    workdir: &Path,
) -> Result<Option<ClusterIdentity>, AppError> {
    if !needs_cluster(runbook, mode) {
        return Ok(None);
    }
    let empty = json!({});
    let facts = bound.map_or(&empty, |b| &b.target.facts);
    let source = ClusterSource::of_target(facts, workdir);
    let pinned = facts
        .get("cluster_uid")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|uid| !uid.is_empty());
    let reached = reach(&source)?;
    let (identity, pinned, bound) = match (reached, pinned, bound) {
        (Ok(identity), Some(pinned), Some(bound)) => (identity, pinned, bound),
        (Ok(identity), _, _) => return Ok(Some(identity)),
        (Err(_), None, _) | (Err(_), _, None) => return Ok(None),
        (Err(reason), Some(pinned), Some(bound)) => {
            return Err(AppError::refused(format!(
                "cannot check the cluster of target `{}`, which pins cluster_uid {pinned}: {} does not reach it: {reason}; nothing was run. Make the API server reachable from here (check the kubeconfig, context, network and credentials), or, when it is down as part of the incident, remove `cluster_uid` from the entry of `{}` in `{}` for this run (then nothing checks which cluster the steps reach)",
                bound.target.name,
                source.describe(),
                bound.target.name,
                bound.file.display()
            )));
        }
    };
    if identity.uid == pinned {
        return Ok(Some(identity));
    }
    Err(AppError::refused(format!(
        "wrong cluster for target `{}`: {} reaches {}, whose kube-system UID is {}, but the target pins cluster_uid {pinned}; nothing was run. Point the target's `kubeconfig` and `context` at the cluster it names, or, if this is the right cluster (a rebuilt cluster has a new UID), correct `cluster_uid` in `{}`: `kubectl get ns kube-system -o jsonpath='{{.metadata.uid}}'` prints it",
        bound.target.name,
        // The context the kubeconfig chose, when the target named none.
        ClusterSource {
            context: identity.context.clone(),
            ..source
        }
        .describe(),
        identity.server,
        identity.uid,
        bound.file.display()
    )))
}

/// True when a step the run can reach acts on a Kubernetes cluster: the recovery's
/// steps, and in a drill the inject steps too.
fn needs_cluster(runbook: &Runbook, mode: Mode) -> bool {
    let inject = match (&runbook.spec.drill, mode) {
        (Some(drill), Mode::Drill) => &drill.inject[..],
        _ => &[][..],
    };
    inject
        .iter()
        .chain(&runbook.spec.steps)
        .any(|step| match &step.body {
            StepBody::Action(call) => crate::actions::reaches_cluster(&call.name.value),
            StepBody::Checkpoint(_) => false,
        })
}

/// Reaches the cluster on a runtime of its own (the session has none yet). The inner
/// `Err` is why the cluster could not be reached; the outer one, that drbook could not
/// even try.
fn reach(source: &ClusterSource) -> Result<Result<ClusterIdentity, String>, AppError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::failed(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(async {
        match tokio::time::timeout(PATIENCE, identify(source)).await {
            Ok(reached) => reached.map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "the API server did not answer within {}",
                humantime::format_duration(PATIENCE)
            )),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runbook with one step in recovery and one in `drill.inject`, each a
    /// Kubernetes step or a shell step.
    fn runbook(recovery_kube: bool, inject_kube: bool) -> Runbook {
        let step = |id: &str, indent: &str, kube: bool| {
            let body = if kube {
                "action: kube.get, with: {api_version: v1, kind: Namespace, name: default}"
            } else {
                "action: shell, with: {run: \"true\"}"
            };
            format!("{indent}- {{id: {id}, {body}}}\n")
        };
        let text = format!(
            "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: t, version: 1.0.0}}\nspec:\n  steps:\n{}  drill:\n    inject:\n{}",
            step("recover", "    ", recovery_kube),
            step("break", "      ", inject_kube)
        );
        crate::runbook::load(&text)
            .expect("the test runbook is valid")
            .runbook
    }

    #[test]
    fn a_cluster_is_needed_only_by_a_step_the_mode_runs() {
        let inject_only = runbook(false, true);
        assert!(needs_cluster(&inject_only, Mode::Drill));
        assert!(!needs_cluster(&inject_only, Mode::Incident));
        assert!(needs_cluster(&runbook(true, false), Mode::Incident));
        assert!(!needs_cluster(&runbook(false, false), Mode::Drill));
    }

    #[test]
    fn without_a_kubernetes_step_nothing_is_contacted_whatever_the_target_pins() {
        let bound = BoundTarget {
            target: crate::targets::Target {
                name: "prod".into(),
                environment: "production".into(),
                drill_allowed: false,
                // A kubeconfig that does not exist: reaching it would fail.
                facts: json!({"kubeconfig": "/nonexistent/k", "cluster_uid": "u-1"}),
            },
            file: "drbook.targets.yaml".into(),
        };
        let checked = check(
            &runbook(false, false),
            Mode::Drill,
            Some(&bound),
            Path::new("/"),
        );
        assert_eq!(checked.expect("nothing to check"), None);
    }
}
