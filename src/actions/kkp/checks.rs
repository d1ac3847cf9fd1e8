//! The checks `kkp.etcd.restore` makes before it creates an EtcdRestore, for what KKP
//! would otherwise only report as a Warning event and then never start (domain-facts
//! §9.2): the Seed's backup destinations, and the backup listed as restorable by an
//! EtcdBackupConfig of the cluster (which gives the restore's `restored_point`).

use serde_json::Value;

use super::backups::listed;
use super::error::KkpError;
use super::{backup_configs, seeds};
use crate::actions::execute::ActionError;
use crate::actions::kube::{Cluster, describe};

/// The backup's `backupFinishedTime`, when an EtcdBackupConfig of the namespace lists it
/// as restorable; else why not.
pub(super) async fn restored_point(
    seed: &Cluster,
    namespace: &str,
    backup: &str,
) -> Result<Result<String, KkpError>, ActionError> {
    let configs = backup_configs(seed, namespace)
        .list(&Default::default())
        .await
        .map_err(|e| KkpError::Api {
            verb: "list",
            object: format!("the EtcdBackupConfigs in `{namespace}`"),
            reason: describe(&e),
        })?;
    let mut restorable = Vec::new();
    let mut why = format!("no EtcdBackupConfig in `{namespace}` lists it");
    for config in &configs.items {
        let value = serde_json::to_value(config).unwrap_or(Value::Null);
        for listed in listed(&value) {
            if listed.name == backup {
                if listed.restorable() {
                    return Ok(Ok(listed.finished_text()));
                }
                why = format!(
                    "EtcdBackupConfig `{}` lists it with backupPhase `{}` and deletePhase `{}` (restorable: Completed and none)",
                    config.metadata.name.as_deref().unwrap_or_default(),
                    listed.phase,
                    listed.delete_phase
                );
            } else if listed.restorable() {
                restorable.push(listed.name.clone());
            }
        }
    }
    Ok(Err(KkpError::BackupNotRestorable {
        backup: backup.to_string(),
        namespace: namespace.to_string(),
        why,
        restorable: if restorable.is_empty() {
            "none".into()
        } else {
            restorable.join(", ")
        },
    }))
}

/// The Seed has backup destinations, and `destination` among them.
pub(super) async fn check_seed(
    seed: &Cluster,
    wanted_seed: Option<&str>,
    destination: &str,
) -> Result<(), ActionError> {
    let all = seeds(seed)
        .list(&Default::default())
        .await
        .map_err(|e| KkpError::Api {
            verb: "list",
            object: "the Seed objects".into(),
            reason: describe(&e),
        })?;
    let names: Vec<String> = all
        .items
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    let chosen = match wanted_seed {
        Some(wanted) => all
            .items
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(wanted))
            .ok_or_else(|| KkpError::Seed {
                problem: format!(
                    "there is no Seed `{wanted}` on the cluster at {} (it has: {}); check `seed`",
                    seed.server,
                    list_or_none(&names)
                ),
            })?,
        None => match all.items.as_slice() {
            [only] => only,
            [] => {
                return Err(KkpError::Seed {
                    problem: format!("the cluster at {} has no Seed object (namespace `kubermatic`); is the kubeconfig the seed's?", seed.server),
                }
                .into());
            }
            _ => {
                return Err(KkpError::Seed {
                    problem: format!("the cluster at {} has several Seeds ({}); name the one hosting the cluster in `seed`", seed.server, names.join(", ")),
                }
                .into());
            }
        },
    };
    let seed_name = chosen.metadata.name.clone().unwrap_or_default();
    let value = serde_json::to_value(chosen).unwrap_or(Value::Null);
    let destinations: Vec<String> = value
        .pointer("/spec/etcdBackupRestore/destinations")
        .and_then(Value::as_object)
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default();
    if destinations.is_empty() {
        return Err(KkpError::Seed {
            problem: format!("Seed `{seed_name}` has no backup destinations (spec.etcdBackupRestore.destinations is empty), and KKP's restore controller does nothing at all without one: add the destination the backups are in to the Seed, then run the step again"),
        }
        .into());
    }
    if !destinations.iter().any(|d| d == destination) {
        return Err(KkpError::UnknownDestination {
            seed: seed_name,
            destination: destination.to_string(),
            known: destinations.join(", "),
        }
        .into());
    }
    Ok(())
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
