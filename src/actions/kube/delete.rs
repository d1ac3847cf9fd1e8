//! `kube.delete`: deletes one object. Deleting is what drills do to cause a failure, so
//! `validate` allows it in `drill.inject` steps; a recovery step must say
//! `allow_delete: true` (see `runbook::check`), so that no recovery deletes by a slip of
//! the action name. `plan` and `render` show every step, so a delete is always visible.
//!
//! Safe to re-run after a crash: an object already gone counts as deleted (`deleted` is
//! then false: this run did not delete it). The step returns once the API server has
//! accepted the deletion; an object with finalizers may still exist for a while, which
//! the step reports.

use kube::api::DeleteParams;
use serde_json::Value;

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe, is_not_found};
use super::object::{API_VERSION, KIND, NAME, NAMESPACE, target, unless_cancelled};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

/// The action's name, which `validate` looks for.
pub const NAME_OF_ACTION: &str = "kube.delete";

pub const SPEC: ActionSpec = ActionSpec {
    name: NAME_OF_ACTION,
    summary: "Deletes one object (in drill inject steps; elsewhere only with `allow_delete: true`).",
    params: &[
        API_VERSION,
        KIND,
        NAME,
        NAMESPACE,
        ParamSpec {
            name: "allow_delete",
            kind: ParamKind::Bool,
            required: false,
            doc: "Must be `true` for a delete outside `drill.inject`: a recovery that deletes says so.",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["deleted", "uid", "cluster_uid", "server"]),
    rerun: Rerun::Safe("an object already gone counts as deleted"),
    by_hand,
    executor: &DeleteAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    vec![format!(
        "kubectl{} delete {} {}{} --wait=false",
        super::kubectl_flags(given),
        super::kubectl_kind(given),
        given.word("name"),
        super::namespace_flag(given),
    )]
}

/// The executor of `kube.delete`.
pub struct DeleteAction;

impl Action for DeleteAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let cluster = connect(&request).await?;
    let object = target(&cluster, &request).await?;
    let answer = unless_cancelled(
        &request,
        object.api.delete(&object.name, &DeleteParams::default()),
    )
    .await?;
    let mut outputs = Outputs::new();
    match answer {
        Ok(either) => {
            // `Left` is the object: gone already (CRDs answer with it), or marked for
            // deletion while finalizers hold it until their controllers let go.
            let (uid, note) = either.either(
                |remaining| {
                    let finalizers = remaining.metadata.finalizers.clone().unwrap_or_default();
                    let note = match remaining.metadata.deletion_timestamp.is_some()
                        && !finalizers.is_empty()
                    {
                        true => format!(
                            "deletion of {} accepted; it waits for its finalizers: {}",
                            object.label,
                            finalizers.join(", ")
                        ),
                        false => format!("deleted {}", object.label),
                    };
                    (remaining.metadata.uid.clone(), note)
                },
                |status| {
                    (
                        status.details.as_ref().map(|d| d.uid.clone()),
                        format!("deleted {}", object.label),
                    )
                },
            );
            request.emit(ActionEvent::Progress(note));
            outputs.insert("deleted".into(), Value::Bool(true));
            outputs.insert("uid".into(), Value::String(uid.unwrap_or_default()));
        }
        Err(e) if is_not_found(&e) => {
            request.emit(ActionEvent::Progress(format!(
                "{} does not exist (already deleted)",
                object.label
            )));
            outputs.insert("deleted".into(), Value::Bool(false));
            outputs.insert("uid".into(), Value::String(String::new()));
        }
        Err(e) => {
            return Err(KubeError::Api {
                verb: "delete",
                object: object.label,
                reason: describe(&e),
            }
            .into());
        }
    }
    cluster.identify(&mut outputs);
    Ok(outputs)
}
