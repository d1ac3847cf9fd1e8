//! `kkp.etcd.backups`: the restorable etcd backups of one user cluster, newest first, as
//! its EtcdBackupConfig lists them in `status.currentBackups` on the seed.
//!
//! A restorable backup has `backupPhase: Completed` and an empty `deletePhase`: deleted
//! and deleting backups stay listed (domain-facts §9.2). The name is output verbatim
//! (its format changed between KKP versions; never rebuild it), with its
//! `backupFinishedTime` as `restored_point`, the point the cluster goes back to.
//!
//! Safe to re-run after a crash: it only reads.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::error::KkpError;
use super::{backup_configs, cluster_namespace, clusters, kubectl};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::kube::{CONNECTION_PARAMS, Cluster, connect, describe, is_not_found};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub(crate) const CLUSTER: ParamSpec = ParamSpec {
    name: "cluster",
    kind: ParamKind::String,
    required: true,
    doc: "The user cluster's ID (the name of its `Cluster` object on the seed, e.g. `zvc78xnnz7`).",
};

pub const SPEC: ActionSpec = ActionSpec {
    name: "kkp.etcd.backups",
    summary: "Lists a KKP user cluster's restorable etcd backups, newest first, and picks the newest.",
    params: &[
        CLUSTER,
        ParamSpec {
            name: "config",
            kind: ParamKind::String,
            required: false,
            doc: "The EtcdBackupConfig to read; default `default-backups` (the one KKP creates for every cluster).",
        },
        ParamSpec {
            name: "before",
            kind: ParamKind::String,
            required: false,
            doc: "Only backups that finished before this time (RFC 3339, e.g. `2026-12-07T03:00:00Z`): the last good state before the damage.",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&[
        "backup",
        "restored_point",
        "destination",
        "config",
        "namespace",
        "backups",
        "cluster_uid",
        "server",
    ]),
    rerun: Rerun::Safe("it only reads"),
    by_hand,
    executor: &BackupsAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let config = given
        .opt("config")
        .unwrap_or_else(|| "default-backups".into());
    vec![
        "# restorable: backupPhase Completed and no deletePhase; pick the newest backupFinishedTime (before the damage)".into(),
        format!(
            "{} -n cluster-{} get etcdbackupconfig {} -o jsonpath='{{range .status.currentBackups[*]}}{{.backupName}}{{\"\\t\"}}{{.backupPhase}}{{\"\\t\"}}{{.deletePhase}}{{\"\\t\"}}{{.backupFinishedTime}}{{\"\\n\"}}{{end}}'",
            kubectl(given),
            given.text("cluster"),
            crate::actions::by_hand::quote(&config),
        ),
    ]
}

/// The executor of `kkp.etcd.backups`.
pub struct BackupsAction;

impl Action for BackupsAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// One backup as `status.currentBackups` lists it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backup {
    pub name: String,
    pub finished: Option<DateTime<Utc>>,
    pub phase: String,
    pub delete_phase: String,
}

impl Backup {
    fn read(entry: &Value) -> Option<Backup> {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let name = text("backupName");
        (!name.is_empty()).then(|| Backup {
            finished: entry
                .get("backupFinishedTime")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            phase: text("backupPhase"),
            delete_phase: text("deletePhase"),
            name,
        })
    }

    /// Completed and not deleted nor being deleted.
    pub fn restorable(&self) -> bool {
        self.phase == "Completed" && self.delete_phase.is_empty()
    }

    /// `backupFinishedTime` as the API writes it; empty when unknown.
    pub fn finished_text(&self) -> String {
        self.finished
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    }

    /// How a listing describes it: `name (Completed, finished T)`.
    fn describe(&self) -> String {
        let mut parts = vec![if self.phase.is_empty() {
            "not started".to_string()
        } else {
            self.phase.clone()
        }];
        if !self.delete_phase.is_empty() {
            parts.push(format!("delete {}", self.delete_phase));
        }
        if let Some(t) = self.finished {
            parts.push(format!(
                "finished {}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        format!("{} ({})", self.name, parts.join(", "))
    }
}

/// Every backup an EtcdBackupConfig lists.
pub(crate) fn listed(config: &Value) -> Vec<Backup> {
    config
        .pointer("/status/currentBackups")
        .and_then(Value::as_array)
        .map(|all| all.iter().filter_map(Backup::read).collect())
        .unwrap_or_default()
}

/// The restorable backups that finished before `before` (when given), newest first. A
/// backup without a finish time sorts last and never counts as "before" anything.
pub(crate) fn restorable(all: &[Backup], before: Option<DateTime<Utc>>) -> Vec<Backup> {
    let mut found: Vec<Backup> = all
        .iter()
        .filter(|b| b.restorable())
        .filter(|b| match before {
            Some(limit) => b.finished.is_some_and(|t| t < limit),
            None => true,
        })
        .cloned()
        .collect();
    found.sort_by_key(|b| std::cmp::Reverse(b.finished));
    found
}

/// What a listing holds, for an error: "a (Completed, …), b (Failed)", or "nothing".
pub(crate) fn summary(all: &[Backup]) -> String {
    if all.is_empty() {
        return "no backups at all".into();
    }
    all.iter()
        .map(Backup::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `before` as a time.
fn before_param(request: &ActionRequest) -> Result<Option<DateTime<Utc>>, ActionError> {
    match optional_str(&request.params, "before")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                KkpError::BadParam {
                    name: "before",
                    problem: format!(
                        "is not an RFC 3339 time (`{text}`: {e}); write e.g. `2026-12-07T03:00:00Z`"
                    ),
                }
                .into()
            }),
    }
}

/// The user cluster's `Cluster` object and its control-plane namespace.
pub(crate) async fn user_cluster(seed: &Cluster, id: &str) -> Result<(Value, String), ActionError> {
    let found = clusters(seed)
        .get(id)
        .await
        .map_err(|e| match is_not_found(&e) {
            true => KkpError::ClusterNotFound {
                cluster: id.to_string(),
                server: seed.server.clone(),
            },
            false => KkpError::Api {
                verb: "read",
                object: format!("Cluster `{id}`"),
                reason: describe(&e),
            },
        })?;
    let value = serde_json::to_value(&found).unwrap_or(Value::Null);
    let namespace = cluster_namespace(&value, id);
    Ok((value, namespace))
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let id = required_str(&request.params, "cluster")?.trim().to_string();
    let config_name = optional_str(&request.params, "config")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("default-backups")
        .to_string();
    let before = before_param(&request)?;
    let seed = connect(&request).await?;
    let work = async {
        let (_, namespace) = user_cluster(&seed, &id).await?;
        let configs = backup_configs(&seed, &namespace);
        let config = match configs.get(&config_name).await {
            Ok(found) => serde_json::to_value(&found).unwrap_or(Value::Null),
            Err(e) if is_not_found(&e) => {
                let existing = configs
                    .list(&Default::default())
                    .await
                    .map(|l| {
                        l.items
                            .iter()
                            .filter_map(|c| c.metadata.name.clone())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                return Err(ActionError::from(KkpError::ConfigNotFound {
                    namespace,
                    config: config_name.clone(),
                    existing: if existing.is_empty() {
                        "none; is backup enabled on the seed (`etcdBackupRestore.defaultDestination`)?".into()
                    } else {
                        existing.join(", ")
                    },
                }));
            }
            Err(e) => {
                return Err(KkpError::Api {
                    verb: "read",
                    object: format!("EtcdBackupConfig `{namespace}/{config_name}`"),
                    reason: describe(&e),
                }
                .into());
            }
        };
        Ok((namespace, config))
    };
    let (namespace, config) = tokio::select! {
        done = work => done?,
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    };
    let all = listed(&config);
    let found = restorable(&all, before);
    let Some(newest) = found.first() else {
        return Err(KkpError::NoRestorableBackup {
            namespace,
            config: config_name,
            before: before.map(|b| b.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            listed: summary(&all),
        }
        .into());
    };
    request.emit(ActionEvent::Progress(format!(
        "{} restorable of {} listed in EtcdBackupConfig {namespace}/{config_name}; newest{}: {}",
        found.len(),
        all.len(),
        before
            .map(|b| format!(
                " before {}",
                b.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
            .unwrap_or_default(),
        newest.describe()
    )));
    let mut outputs = Outputs::new();
    outputs.insert("backup".into(), json!(newest.name));
    outputs.insert("restored_point".into(), json!(newest.finished_text()));
    outputs.insert(
        "destination".into(),
        config
            .pointer("/spec/destination")
            .cloned()
            .unwrap_or(json!("")),
    );
    outputs.insert("config".into(), json!(config_name));
    outputs.insert("namespace".into(), json!(namespace));
    outputs.insert(
        "backups".into(),
        Value::Array(
            found
                .iter()
                .map(|b| json!({"backup": b.name, "finished": b.finished_text()}))
                .collect(),
        ),
    );
    seed.identify(&mut outputs);
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(name: &str, phase: &str, delete: &str, finished: Option<&str>) -> Value {
        json!({"backupName": name, "backupPhase": phase, "deletePhase": delete, "backupFinishedTime": finished})
    }

    fn config(entries: Vec<Value>) -> Value {
        json!({"status": {"currentBackups": entries}})
    }

    fn names(found: &[Backup]) -> Vec<&str> {
        found.iter().map(|b| b.name.as_str()).collect()
    }

    #[test]
    fn only_completed_backups_not_being_deleted_are_restorable_newest_first() {
        let all = listed(&config(vec![
            backup("a", "Completed", "", Some("2026-12-07T01:00:00Z")),
            backup("b", "Completed", "Completed", Some("2026-12-07T03:00:00Z")),
            backup("c", "Completed", "Running", Some("2026-12-07T03:10:00Z")),
            backup("d", "Failed", "", Some("2026-12-07T03:20:00Z")),
            backup("e", "Completed", "", Some("2026-12-07T02:00:00Z")),
            backup("f", "Running", "", None),
            backup("g", "Completed", "", None),
        ]));
        assert_eq!(names(&restorable(&all, None)), ["e", "a", "g"]);
        let before = DateTime::parse_from_rfc3339("2026-12-07T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(names(&restorable(&all, Some(before))), ["a"]);
    }

    #[test]
    fn a_summary_says_what_each_listed_backup_is() {
        let all = listed(&config(vec![
            backup("a", "Completed", "Completed", Some("2026-12-07T01:00:00Z")),
            backup("b", "", "", None),
        ]));
        assert_eq!(
            summary(&all),
            "a (Completed, delete Completed, finished 2026-12-07T01:00:00Z), b (not started)"
        );
        assert_eq!(summary(&[]), "no backups at all");
    }

    #[test]
    fn null_times_and_missing_lists_are_read_as_absent() {
        assert!(listed(&json!({"status": {}})).is_empty());
        let all = listed(&config(vec![
            json!({"backupName": "x", "backupPhase": "Completed", "backupFinishedTime": null}),
        ]));
        assert_eq!(all[0].finished, None);
        assert!(all[0].restorable());
    }
}
