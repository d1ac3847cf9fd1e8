//! `velero.bsl.access`: sets a BackupStorageLocation `ReadOnly` or `ReadWrite`. Velero's
//! documented disaster procedure sets it ReadOnly while restoring, so that no new backup
//! and no expiry overwrites or deletes what is being restored, and ReadWrite after (while
//! ReadOnly, new backups fail and expired ones are kept).
//!
//! Safe to re-run after a crash: it sets the same value again (a merge patch).

use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::api::{NAMESPACE, api_error, json as to_json, namespace, text, velero_api};
use super::error::VeleroError;
use crate::actions::by_hand::{Given, quote};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::kube::{CONNECTION_PARAMS, connect, is_not_found};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "velero.bsl.access",
    summary: "Sets a Velero BackupStorageLocation ReadOnly (during a restore) or ReadWrite.",
    params: &[
        ParamSpec {
            name: "access_mode",
            kind: ParamKind::String,
            required: true,
            doc: "`ReadOnly` or `ReadWrite`.",
        },
        ParamSpec {
            name: "name",
            kind: ParamKind::String,
            required: false,
            doc: "The BackupStorageLocation; default `default`.",
        },
        NAMESPACE,
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&["name", "access_mode", "previous", "cluster_uid", "server"]),
    rerun: Rerun::Safe("it sets the same access mode again"),
    by_hand,
    executor: &BslAccessAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let ns = given.opt("namespace").unwrap_or_else(|| "velero".into());
    let name = given.opt("name").unwrap_or_else(|| "default".into());
    let patch = format!(
        "{{\"spec\":{{\"accessMode\":\"{}\"}}}}",
        given.text("access_mode")
    );
    vec![format!(
        "kubectl -n {} patch backupstoragelocation.velero.io {} --type merge -p {}",
        quote(&ns),
        quote(&name),
        quote(&patch)
    )]
}

/// The executor of `velero.bsl.access`.
pub struct BslAccessAction;

impl Action for BslAccessAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let mode = required_str(&request.params, "access_mode")?
        .trim()
        .to_string();
    if mode != "ReadOnly" && mode != "ReadWrite" {
        return Err(VeleroError::BadParam {
            name: "access_mode",
            problem: format!("must be `ReadOnly` or `ReadWrite`, but is `{mode}`"),
        }
        .into());
    }
    let name = optional_str(&request.params, "name")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    let ns = namespace(&request)?;
    let cluster = connect(&request).await?;
    let api = velero_api(
        &cluster,
        "BackupStorageLocation",
        "backupstoragelocations",
        &ns,
    );
    let label = format!("BackupStorageLocation `{ns}/{name}`");
    let before = match api.get(&name).await {
        Ok(found) => to_json(&found),
        Err(e) if is_not_found(&e) => {
            return Err(VeleroError::Api {
                verb: "find",
                object: label,
                reason: format!(
                    "it does not exist; list them with `velero backup-location get -n {ns}`"
                ),
            }
            .into());
        }
        Err(e) => return Err(api_error("read", label, &e)),
    };
    // Empty means ReadWrite to Velero.
    let previous = match text(&before, "/spec/accessMode") {
        m if m.is_empty() => "ReadWrite".to_string(),
        m => m,
    };
    let patch = Patch::Merge(json!({"spec": {"accessMode": mode}}));
    let params = PatchParams::default();
    tokio::select! {
        done = api.patch(&name, &params, &patch) => {
            done.map_err(|e| api_error("patch", label.clone(), &e))?;
        }
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    }
    request.emit(ActionEvent::Progress(if previous == mode {
        format!("{label} was already {mode}")
    } else {
        format!("{label}: {previous} → {mode}")
    }));
    let mut outputs = Outputs::new();
    outputs.insert("name".into(), json!(name));
    outputs.insert("access_mode".into(), json!(mode));
    outputs.insert("previous".into(), json!(previous));
    cluster.identify(&mut outputs);
    Ok(outputs)
}
