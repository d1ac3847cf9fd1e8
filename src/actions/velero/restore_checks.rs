//! What `velero.restore` checks before it creates a Restore, so that a restore Velero
//! would refuse, queue forever or stall on is refused here, with the reason and what to
//! do, before anything is created: the backup exists and completed; its storage location
//! is Available; no other Restore is unfinished (Velero runs one at a time, so ours would
//! wait behind it); no target namespace is Terminating. Namespaces that already exist are
//! listed with what `existing_resource_policy` will do to the objects in them.

use kube::api::ListParams;
use serde_json::Value;

use super::api::{TERMINAL, api_error, core_api, json, name_of, text, velero_api};
use super::bsl;
use super::error::VeleroError;
use crate::actions::execute::{ActionError, ActionEvent, ActionRequest};
use crate::actions::kube::{Cluster, is_not_found};

/// Where the Restore reads from: one backup, or the newest Completed one of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Backup(String),
    Schedule(String),
}

/// The Backup the restore will read, as checked.
pub(crate) async fn backup(
    cluster: &Cluster,
    namespace: &str,
    source: &Source,
) -> Result<Value, ActionError> {
    let api = velero_api(cluster, "Backup", "backups", namespace);
    let found = match source {
        Source::Backup(name) => match api.get(name).await {
            Ok(found) => json(&found),
            Err(e) if is_not_found(&e) => {
                return Err(VeleroError::NoBackup {
                    namespace: namespace.into(),
                    name: name.clone(),
                }
                .into());
            }
            Err(e) => {
                return Err(api_error(
                    "read",
                    format!("Backup `{namespace}/{name}`"),
                    &e,
                ));
            }
        },
        Source::Schedule(schedule) => {
            let selector = format!("velero.io/schedule-name={schedule}");
            let all = api
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| {
                    api_error("list", format!("the Backups of schedule `{schedule}`"), &e)
                })?;
            // Velero's own rule: the Completed one with the newest start.
            all.items
                .iter()
                .map(json)
                .filter(|b| text(b, "/status/phase") == "Completed")
                .max_by_key(|b| text(b, "/status/startTimestamp"))
                .ok_or_else(|| {
                    VeleroError::NoRestorableBackup(format!(
                        "schedule `{schedule}` has no Completed backup in namespace `{namespace}` ({} backup(s) of it in all), so Velero would refuse the restore (\"No completed backups found for schedule\"); check `velero backup get --selector velero.io/schedule-name={schedule}`",
                        all.items.len()
                    ))
                })?
        }
    };
    let phase = text(&found, "/status/phase");
    if phase != "Completed" {
        return Err(VeleroError::BackupNotCompleted {
            namespace: namespace.into(),
            name: name_of(&found),
            phase: if phase.is_empty() {
                "New".into()
            } else {
                phase
            },
            partial: false,
        }
        .into());
    }
    Ok(found)
}

/// The storage location the backup lives in must be Available.
pub(crate) async fn location(
    cluster: &Cluster,
    namespace: &str,
    backup: &Value,
) -> Result<Value, ActionError> {
    let name = match text(backup, "/spec/storageLocation") {
        n if n.is_empty() => "default".to_string(),
        n => n,
    };
    let Some(found) = bsl::read(cluster, namespace, &name).await? else {
        return Err(VeleroError::BslUnavailable {
            namespace: namespace.into(),
            name,
            phase: "missing".into(),
            message: format!("backup `{}` lives in it", name_of(backup)),
        }
        .into());
    };
    if !bsl::available(&found) {
        return Err(VeleroError::BslUnavailable {
            namespace: namespace.into(),
            name,
            phase: bsl::phase(&found),
            message: text(&found, "/status/message"),
        }
        .into());
    }
    Ok(found)
}

/// The first unfinished Restore other than `own`, oldest first: Velero would run ours
/// only after it.
pub(crate) fn blocker<'a>(restores: &'a [Value], own: &str) -> Option<&'a Value> {
    let mut open: Vec<&Value> = restores
        .iter()
        .filter(|r| name_of(r) != own)
        .filter(|r| !TERMINAL.contains(&text(r, "/status/phase").as_str()))
        .collect();
    // One that runs blocks before one that waits; then the oldest.
    open.sort_by_key(|r| {
        (
            text(r, "/status/phase").is_empty(),
            text(r, "/metadata/creationTimestamp"),
        )
    });
    open.first().copied()
}

/// Every Restore in the Velero namespace.
pub(crate) async fn restores(
    cluster: &Cluster,
    namespace: &str,
) -> Result<Vec<Value>, ActionError> {
    velero_api(cluster, "Restore", "restores", namespace)
        .list(&ListParams::default())
        .await
        .map(|l| l.items.iter().map(json).collect())
        .map_err(|e| {
            api_error(
                "list",
                format!("the Restores in namespace `{namespace}`"),
                &e,
            )
        })
}

/// Refuses when another Restore is unfinished.
pub(crate) async fn nothing_running(
    cluster: &Cluster,
    namespace: &str,
    own: &str,
) -> Result<(), ActionError> {
    let all = restores(cluster, namespace).await?;
    match blocker(&all, own) {
        None => Ok(()),
        Some(other) => Err(VeleroError::Blocked {
            namespace: namespace.into(),
            blocker: name_of(other),
            phase: match text(other, "/status/phase").as_str() {
                "" => "queued (its phase is empty)".to_string(),
                p => p.to_string(),
            },
        }
        .into()),
    }
}

/// True when a namespace is being deleted.
pub(crate) fn terminating(namespace: &Value) -> bool {
    text(namespace, "/status/phase") == "Terminating"
        || !text(namespace, "/metadata/deletionTimestamp").is_empty()
}

/// Refuses a Terminating target namespace; reports the ones that exist, with what the
/// policy will do to the objects in them.
pub(crate) async fn target_namespaces(
    cluster: &Cluster,
    request: &ActionRequest,
    targets: &[String],
    policy: &str,
) -> Result<(), ActionError> {
    let api = core_api(cluster, "Namespace", "namespaces", None);
    for target in targets {
        let found = match api.get(target).await {
            Ok(found) => json(&found),
            Err(e) if is_not_found(&e) => continue,
            Err(e) => return Err(api_error("read", format!("namespace `{target}`"), &e)),
        };
        if terminating(&found) {
            return Err(VeleroError::Terminating {
                namespace: target.clone(),
            }
            .into());
        }
        let effect = match policy {
            "update" => {
                "objects in it that differ from the backup are updated to the backup's version (existing_resource_policy update)"
            }
            _ => {
                "objects already in it are kept as they are and skipped, with a warning for each that differs (existing_resource_policy none)"
            }
        };
        request.emit(ActionEvent::Progress(format!(
            "namespace `{target}` already exists: {effect}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn restore(name: &str, phase: &str, created: &str) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": created}, "status": {"phase": phase}})
    }

    #[test]
    fn a_running_restore_blocks_before_a_queued_one_and_finished_ones_never() {
        let all = [
            restore("old", "Completed", "2026-01-01T00:00:00Z"),
            restore("queued", "", "2026-01-01T01:00:00Z"),
            restore("running", "InProgress", "2026-01-01T02:00:00Z"),
            restore("mine", "", "2026-01-01T03:00:00Z"),
        ];
        assert_eq!(name_of(blocker(&all, "mine").unwrap()), "running");
        assert_eq!(name_of(blocker(&all[..2], "mine").unwrap()), "queued");
        assert!(blocker(&all[..1], "mine").is_none());
        assert!(
            blocker(&all[3..], "mine").is_none(),
            "its own Restore blocks nothing"
        );
    }
}
