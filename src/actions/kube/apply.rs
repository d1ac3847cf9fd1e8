//! `kube.apply`: creates or updates one object by server-side apply, as field manager
//! `drbook`.
//!
//! Safe to re-run after a crash: applying the same manifest again leaves the object as
//! the first apply did (server-side apply is declarative). A field another manager owns
//! is a conflict (409) that fails the step and names the manager, unless `force: true`
//! takes the field over, as `kubectl apply --server-side --force-conflicts` does.

use kube::api::{Patch, PatchParams};

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe};
use super::manifest;
use super::object::{api_for, label, object_outputs, unless_cancelled};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_bool,
    optional_str, required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

/// The field manager drbook applies as: `kubectl get -o yaml --show-managed-fields` shows
/// which fields drbook set.
pub(crate) const FIELD_MANAGER: &str = "drbook";

pub const SPEC: ActionSpec = ActionSpec {
    name: "kube.apply",
    summary: "Creates or updates one object by server-side apply (field manager `drbook`).",
    params: &[
        ParamSpec {
            name: "manifest",
            kind: ParamKind::String,
            required: true,
            doc: "The object as YAML text (a block scalar `|`), with apiVersion, kind and metadata.name.",
        },
        ParamSpec {
            name: "namespace",
            kind: ParamKind::String,
            required: false,
            doc: "The namespace, when the manifest has none; default `default`.",
        },
        ParamSpec {
            name: "force",
            kind: ParamKind::Bool,
            required: false,
            doc: "Take over fields another field manager owns instead of failing with a conflict; default false.",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["object", "uid", "resource_version", "cluster_uid", "server"]),
    rerun: Rerun::Safe(
        "server-side apply is declarative: applying the same manifest again changes nothing more",
    ),
    by_hand,
    executor: &ApplyAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let mut lines = vec!["# save the step's manifest as manifest.yaml, then:".to_string()];
    lines.push(format!(
        "kubectl{} apply --server-side --field-manager=drbook{}{} -f manifest.yaml",
        super::kubectl_flags(given),
        if given.flag("force") {
            " --force-conflicts"
        } else {
            ""
        },
        super::namespace_flag(given),
    ));
    lines
}

/// The executor of `kube.apply`.
pub struct ApplyAction;

impl Action for ApplyAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let mut manifest = manifest::parse("manifest", required_str(&request.params, "manifest")?)?;
    let (api_version, kind, name) = manifest::identity(&manifest)?;
    let force = optional_bool(&request.params, "force")?.unwrap_or(false);
    let namespace = manifest
        .pointer("/metadata/namespace")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .or(optional_str(&request.params, "namespace")?.map(str::to_string));
    let cluster = connect(&request).await?;
    let (api, namespace) = api_for(&cluster, &api_version, &kind, namespace.as_deref()).await?;
    if let Some(ns) = &namespace {
        manifest["metadata"]["namespace"] = ns.clone().into();
    }
    let object = label(&kind, namespace.as_deref(), &name, &api_version);
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    let applied = unless_cancelled(
        &request,
        api.patch(&name, &params, &Patch::Apply(&manifest)),
    )
    .await?
    .map_err(|e| KubeError::Api {
        verb: "apply",
        object: object.clone(),
        reason: describe(&e),
    })?;
    request.emit(ActionEvent::Progress(format!(
        "applied {object} (resourceVersion {})",
        applied.metadata.resource_version.as_deref().unwrap_or("?")
    )));
    let mut outputs = Outputs::new();
    object_outputs(&applied, &kind, &mut outputs);
    cluster.identify(&mut outputs);
    Ok(outputs)
}
