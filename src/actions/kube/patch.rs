//! `kube.patch`: changes fields of one existing object with a JSON merge patch (RFC 7386,
//! `type: merge`, the default) or a JSON patch (RFC 6902, `type: json`).
//!
//! A merge patch sets the same values again when re-run, so it is safe; a JSON patch may
//! not be (`add` to a list appends twice, `remove` fails the second time), so drbook asks
//! first after a crash. A step whose JSON patch is idempotent (only `replace`, or a
//! `test` first) says `idempotent: true`.

use kube::api::{Patch, PatchParams};
use serde_json::Value;

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe, is_not_found};
use super::manifest;
use super::object::{API_VERSION, KIND, NAME, NAMESPACE, object_outputs, target, unless_cancelled};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "kube.patch",
    summary: "Changes fields of one object with a merge patch or a JSON patch.",
    params: &[
        API_VERSION,
        KIND,
        NAME,
        NAMESPACE,
        ParamSpec {
            name: "patch",
            kind: ParamKind::String,
            required: true,
            doc: "The patch as YAML text: a partial object (`type: merge`) or a list of operations (`type: json`).",
        },
        ParamSpec {
            name: "type",
            kind: ParamKind::String,
            required: false,
            doc: "`merge` (RFC 7386, the default) or `json` (RFC 6902).",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["object", "uid", "resource_version", "cluster_uid", "server"]),
    rerun: Rerun::AskFirst(
        "a JSON patch may not apply twice (`add` appends again, `remove` fails); a merge patch is safe, say `idempotent: true`",
    ),
    by_hand,
    executor: &PatchAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let kind = match given.opt("type").as_deref() {
        Some("json") => "json",
        _ => "merge",
    };
    vec![
        "# save the step's patch as patch.yaml, then:".to_string(),
        format!(
            "kubectl{} patch {} {}{} --type {kind} --patch-file patch.yaml",
            super::kubectl_flags(given),
            super::kubectl_kind(given),
            given.word("name"),
            super::namespace_flag(given),
        ),
    ]
}

/// The executor of `kube.patch`.
pub struct PatchAction;

impl Action for PatchAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// The patch the step asks for, checked before the cluster is reached.
enum Body {
    Merge(Value),
    Json(json_patch::Patch),
}

fn body(request: &ActionRequest) -> Result<Body, ActionError> {
    let text = required_str(&request.params, "patch")?;
    let value = manifest::parse("patch", text)?;
    match optional_str(&request.params, "type")?.map(str::trim) {
        None | Some("merge") => {
            if !value.is_object() {
                return Err(KubeError::BadParam {
                    name: "patch",
                    problem: "must be a mapping for a merge patch (a partial object)".into(),
                }
                .into());
            }
            Ok(Body::Merge(value))
        }
        Some("json") => serde_json::from_value(value).map(Body::Json).map_err(|e| {
            KubeError::BadParam {
                name: "patch",
                problem: format!(
                    "is not a JSON patch (a list of `{{op, path, value}}` operations): {e}"
                ),
            }
            .into()
        }),
        Some(other) => Err(KubeError::BadParam {
            name: "type",
            problem: format!("must be `merge` or `json`, but is `{other}`"),
        }
        .into()),
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let body = body(&request)?;
    let cluster = connect(&request).await?;
    let object = target(&cluster, &request).await?;
    let params = PatchParams::default();
    let call = async {
        match &body {
            Body::Merge(value) => {
                object
                    .api
                    .patch(&object.name, &params, &Patch::Merge(value))
                    .await
            }
            Body::Json(ops) => {
                let patch: Patch<()> = Patch::Json(ops.clone());
                object.api.patch(&object.name, &params, &patch).await
            }
        }
    };
    let patched = unless_cancelled(&request, call)
        .await?
        .map_err(|e| match is_not_found(&e) {
            true => KubeError::NotFound {
                object: object.label.clone(),
            },
            false => KubeError::Api {
                verb: "patch",
                object: object.label.clone(),
                reason: describe(&e),
            },
        })?;
    request.emit(ActionEvent::Progress(format!(
        "patched {} (resourceVersion {})",
        object.label,
        patched.metadata.resource_version.as_deref().unwrap_or("?")
    )));
    let mut outputs = Outputs::new();
    object_outputs(&patched, &object.kind, &mut outputs);
    cluster.identify(&mut outputs);
    Ok(outputs)
}
