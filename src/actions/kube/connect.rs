//! Reaching a cluster, and making sure it is the cluster the target means.
//!
//! The kubeconfig comes from the step's `kubeconfig` (a path, relative to the run's work
//! directory) and `context`, else the bound target's keys of the same names (the engine
//! hands every action the target's facts in its request). Without either, `$KUBECONFIG` is read, then
//! the in-cluster service account (drills that run as a Kubernetes Job). The home
//! directory's `~/.kube/config` is deliberately not read: a step that names no cluster
//! must not silently reach whatever the operator's shell last pointed at.
//!
//! Every action first reads the `kube-system` namespace's UID, the cluster's identity
//! (it survives API server address changes and is new on a rebuilt cluster). When the
//! step or its target pins `cluster_uid` and the UID differs, the action refuses before
//! it sends anything that changes the cluster. The identity is reported as a progress
//! event and as the outputs `cluster_uid` and `server`; credentials never leave the
//! client (errors name the kubeconfig file and context, never the user entry).

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Namespace;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::Value;

use super::error::{KubeError, describe};
use crate::actions::ParamKind;
use crate::actions::ParamSpec;
use crate::actions::execute::{ActionError, ActionEvent, ActionRequest, Outputs, optional_str};

/// The connection parameters every Kubernetes action takes.
pub(crate) const CONNECTION_PARAMS: [ParamSpec; 3] = [
    ParamSpec {
        name: "kubeconfig",
        kind: ParamKind::String,
        required: false,
        doc: "Path of the kubeconfig (relative to the work directory); default: the target's `kubeconfig`, then $KUBECONFIG, then the in-cluster service account.",
    },
    ParamSpec {
        name: "context",
        kind: ParamKind::String,
        required: false,
        doc: "The kubeconfig context to use; default: the target's `context`, then the kubeconfig's current context.",
    },
    ParamSpec {
        name: "cluster_uid",
        kind: ParamKind::String,
        required: false,
        doc: "The UID of the cluster's `kube-system` namespace this step must reach (usually pinned by the target); the step refuses any other cluster before changing anything.",
    },
];

/// A connection setting: the step's parameter, else the bound target's key of the same
/// name, so a step reaches the cluster its target names when its `with:` names none.
/// Only a string counts from the target, as a target written by hand may hold anything.
fn setting<'a>(
    request: &'a ActionRequest,
    key: &'static str,
) -> Result<Option<&'a str>, ActionError> {
    match optional_str(&request.params, key)? {
        Some(given) => Ok(Some(given)),
        None => Ok(request.target.get(key).and_then(Value::as_str)),
    }
}

/// A reached cluster whose identity has been checked.
pub(crate) struct Cluster {
    pub client: Client,
    /// The API server URL, without credentials.
    pub server: String,
    /// The `kube-system` namespace UID.
    pub uid: String,
}

impl Cluster {
    /// Adds the cluster's identity to an action's outputs.
    pub(crate) fn identify(&self, outputs: &mut Outputs) {
        outputs.insert("cluster_uid".into(), Value::String(self.uid.clone()));
        outputs.insert("server".into(), Value::String(self.server.clone()));
    }
}

/// Reaches the cluster the step names and checks its identity against `cluster_uid`.
pub(crate) async fn connect(request: &ActionRequest) -> Result<Cluster, ActionError> {
    let context = setting(request, "context")?.map(str::to_string);
    let pinned = setting(request, "cluster_uid")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let options = KubeConfigOptions {
        context: context.clone(),
        ..KubeConfigOptions::default()
    };
    let from_env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let config = match setting(request, "kubeconfig")? {
        Some(path) if !path.trim().is_empty() => {
            let path = request.workdir.join(path.trim());
            from_file(path, &options).await?
        }
        _ => match from_env {
            Some(_) => Config::from_kubeconfig(&options)
                .await
                .map_err(|e| KubeError::Context {
                    context: context.clone(),
                    reason: format!("{e} (from $KUBECONFIG)"),
                })?,
            None => Config::incluster().map_err(|_| KubeError::NoConfig)?,
        },
    };
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = Client::try_from(config).map_err(|e| KubeError::Client {
        server: server.clone(),
        reason: e.to_string(),
    })?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let kube_system = tokio::select! {
        got = namespaces.get("kube-system") => got.map_err(|e| KubeError::Identity {
            server: server.clone(),
            reason: describe(&e),
        })?,
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    };
    let uid = kube_system.metadata.uid.unwrap_or_default();
    request.emit(ActionEvent::Progress(format!(
        "reached cluster {server} (kube-system UID {uid})"
    )));
    if let Some(expected) = pinned
        && expected != uid
    {
        return Err(KubeError::WrongCluster {
            server,
            expected,
            found: uid,
        }
        .into());
    }
    Ok(Cluster {
        client,
        server,
        uid,
    })
}

async fn from_file(path: PathBuf, options: &KubeConfigOptions) -> Result<Config, KubeError> {
    let kubeconfig = Kubeconfig::read_from(&path).map_err(|e| KubeError::Kubeconfig {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Config::from_custom_kubeconfig(kubeconfig, options)
        .await
        .map_err(|e| KubeError::Context {
            context: options.context.clone(),
            reason: format!("{e} (in `{}`)", path.display()),
        })
}
