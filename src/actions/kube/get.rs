//! `kube.get`: one object as the API server has it, for later steps to read
//! (`steps.<id>.outputs.object.status.phase`).
//!
//! Safe to re-run after a crash: it only reads.

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe, is_not_found};
use super::object::{API_VERSION, KIND, NAME, NAMESPACE, object_outputs, target, unless_cancelled};
use crate::actions::by_hand::Given;
use crate::actions::execute::{Action, ActionError, ActionFuture, ActionRequest, Outputs};
use crate::actions::{ActionSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "kube.get",
    summary: "Reads one Kubernetes object; later steps read its fields from `outputs.object`.",
    params: &[
        API_VERSION,
        KIND,
        NAME,
        NAMESPACE,
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["object", "uid", "resource_version", "cluster_uid", "server"]),
    rerun: Rerun::Safe("it only reads"),
    by_hand,
    executor: &GetAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    vec![format!(
        "kubectl{} get {} {}{} -o yaml",
        super::kubectl_flags(given),
        super::kubectl_kind(given),
        given.word("name"),
        super::namespace_flag(given),
    )]
}

/// The executor of `kube.get`.
pub struct GetAction;

impl Action for GetAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let cluster = connect(&request).await?;
    let object = target(&cluster, &request).await?;
    let got = unless_cancelled(&request, object.api.get(&object.name))
        .await?
        .map_err(|e| match is_not_found(&e) {
            true => KubeError::NotFound {
                object: object.label.clone(),
            },
            false => KubeError::Api {
                verb: "read",
                object: object.label.clone(),
                reason: describe(&e),
            },
        })?;
    let mut outputs = Outputs::new();
    object_outputs(&got, &object.kind, &mut outputs);
    cluster.identify(&mut outputs);
    Ok(outputs)
}
