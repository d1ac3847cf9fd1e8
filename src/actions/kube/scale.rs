//! `kube.scale`: sets the replicas of a Deployment, StatefulSet or any kind with a
//! `scale` subresource, and reports how many it had before (a later step can scale back
//! with `{{ steps.<id>.outputs.previous_replicas }}`).
//!
//! Safe to re-run after a crash: setting the same count again changes nothing. After a
//! re-run `previous_replicas` is the count the first run set, so a runbook that scales
//! back should record the original count in an earlier `kube.get`.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe, is_not_found};
use super::object::{NAME, NAMESPACE, target, unless_cancelled};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "kube.scale",
    summary: "Sets the replicas of a Deployment, StatefulSet or other scalable object.",
    params: &[
        ParamSpec {
            name: "api_version",
            kind: ParamKind::String,
            required: true,
            doc: "The object's apiVersion, e.g. `apps/v1`.",
        },
        ParamSpec {
            name: "kind",
            kind: ParamKind::String,
            required: true,
            doc: "A kind with a scale subresource, e.g. `Deployment` or `StatefulSet`.",
        },
        NAME,
        NAMESPACE,
        ParamSpec {
            name: "replicas",
            kind: ParamKind::Integer,
            required: true,
            doc: "The number of replicas to set (0 stops every pod).",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["replicas", "previous_replicas", "cluster_uid", "server"]),
    rerun: Rerun::Safe("setting the same replica count again changes nothing"),
    by_hand,
    executor: &ScaleAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    vec![format!(
        "kubectl{} scale {} {}{} --replicas={}",
        super::kubectl_flags(given),
        super::kubectl_kind(given),
        given.word("name"),
        super::namespace_flag(given),
        given.text("replicas"),
    )]
}

/// The executor of `kube.scale`.
pub struct ScaleAction;

impl Action for ScaleAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// `replicas`: a whole number, or its text (a rendered template).
fn replicas(request: &ActionRequest) -> Result<i32, ActionError> {
    let bad = |found: String| KubeError::BadParam {
        name: "replicas",
        problem: format!("must be a whole number, 0 or more, but is {found}"),
    };
    let value = request
        .params
        .get("replicas")
        .ok_or(ActionError::MissingParam { name: "replicas" })?;
    let number = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    number
        .filter(|n| (0..=i64::from(i32::MAX)).contains(n))
        .map(|n| n as i32)
        .ok_or_else(|| bad(value.to_string()).into())
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let wanted = replicas(&request)?;
    let cluster = connect(&request).await?;
    let object = target(&cluster, &request).await?;
    let failed = |verb: &'static str| {
        let label = object.label.clone();
        move |e: kube::Error| match is_not_found(&e) {
            true => KubeError::NotFound { object: label },
            false => KubeError::Api {
                verb,
                object: label,
                reason: describe(&e),
            },
        }
    };
    let before = unless_cancelled(&request, object.api.get_scale(&object.name))
        .await?
        .map_err(failed("read the scale of"))?;
    let previous = before.spec.and_then(|s| s.replicas).unwrap_or(0);
    let patch = json!({"spec": {"replicas": wanted}});
    let after = unless_cancelled(
        &request,
        object
            .api
            .patch_scale(&object.name, &PatchParams::default(), &Patch::Merge(&patch)),
    )
    .await?
    .map_err(failed("scale"))?;
    let now = after.spec.and_then(|s| s.replicas).unwrap_or(wanted);
    request.emit(ActionEvent::Progress(format!(
        "scaled {} from {previous} to {now} replicas",
        object.label
    )));
    let mut outputs = Outputs::new();
    outputs.insert("replicas".into(), Value::from(now));
    outputs.insert("previous_replicas".into(), Value::from(previous));
    cluster.identify(&mut outputs);
    Ok(outputs)
}
