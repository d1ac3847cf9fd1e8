//! `velero.backups` and `velero.backup.latest`: the newest restorable Backup of a
//! schedule (label `velero.io/schedule-name`): phase Completed (PartiallyFailed only with
//! `allow_partial: true`), completed before `before:` when given. Its
//! `status.completionTimestamp` is the `restored_point` the run's RPO is measured from.
//! `velero.backups` also lists every restorable backup, newest first.
//!
//! On a rebuilt cluster Velero knows no Backup until its storage location is Available
//! (validated every minute) and synced from the bucket (every minute): while no
//! location is Available, or none has synced yet, the action waits, at most `wait`
//! (default 3m), saying what it waits for. A location that has synced and holds no
//! backup of the schedule is an error at once.
//!
//! Safe to re-run after a crash: it only reads.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kube::api::ListParams;
use serde_json::{Value, json};

use super::api::{NAMESPACE, api_error, json as to_json, name_of, namespace, text, velero_api};
use super::bsl;
use super::error::VeleroError;
use crate::actions::by_hand::{Given, quote};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_bool,
    optional_duration, optional_str, required_str,
};
use crate::actions::kube::{CONNECTION_PARAMS, Cluster, connect};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "schedule",
        kind: ParamKind::String,
        required: true,
        doc: "The Velero Schedule whose backups count (label `velero.io/schedule-name`), e.g. `velero-hourly-cluster`.",
    },
    ParamSpec {
        name: "before",
        kind: ParamKind::String,
        required: false,
        doc: "Only backups completed before this time (RFC 3339), e.g. `{{ run.declared_at }}`.",
    },
    ParamSpec {
        name: "allow_partial",
        kind: ParamKind::Bool,
        required: false,
        doc: "Also accept PartiallyFailed backups (default `false`: Completed only).",
    },
    ParamSpec {
        name: "storage_location",
        kind: ParamKind::String,
        required: false,
        doc: "Only backups in this BackupStorageLocation (default: any).",
    },
    ParamSpec {
        name: "wait",
        kind: ParamKind::Duration,
        required: false,
        doc: "How long to wait for a storage location to be Available and synced on a rebuilt cluster; default `3m`.",
    },
    NAMESPACE,
    CONNECTION_PARAMS[0],
    CONNECTION_PARAMS[1],
    CONNECTION_PARAMS[2],
];

const OUTPUTS: &[&str] = &[
    "name",
    "restored_point",
    "expiration",
    "phase",
    "storage_location",
    "backups",
    "cluster_uid",
    "server",
];

pub const BACKUPS: ActionSpec = ActionSpec {
    name: "velero.backups",
    summary: "Lists the restorable Velero backups of a schedule, newest first.",
    params: PARAMS,
    outputs: Some(OUTPUTS),
    rerun: Rerun::Safe("it only reads"),
    by_hand,
    executor: &BackupsAction { all: true },
};

pub const LATEST: ActionSpec = ActionSpec {
    name: "velero.backup.latest",
    summary: "Finds the newest Completed Velero backup of a schedule; its completion time is the restored point.",
    params: PARAMS,
    outputs: Some(OUTPUTS),
    rerun: Rerun::Safe("it only reads"),
    by_hand,
    executor: &BackupsAction { all: false },
};

fn by_hand(given: &Given) -> Vec<String> {
    let ns = given.opt("namespace").unwrap_or_else(|| "velero".into());
    vec![
        format!(
            "velero -n {} backup get --selector velero.io/schedule-name={}",
            quote(&ns),
            given.word("schedule")
        ),
        "# pick the newest with STATUS Completed (and created before the incident); its completion time is the restored point:".into(),
        format!(
            "kubectl -n {} get backups.velero.io <backup> -o jsonpath='{{.status.completionTimestamp}}'",
            quote(&ns)
        ),
    ]
}

/// The executor of both actions; `all` also outputs the list.
pub struct BackupsAction {
    all: bool,
}

impl Action for BackupsAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request, self.all))
    }
}

/// What the step asks for.
struct Wanted {
    schedule: String,
    before: Option<DateTime<Utc>>,
    allow_partial: bool,
    location: Option<String>,
}

fn wanted(request: &ActionRequest) -> Result<Wanted, ActionError> {
    let params = &request.params;
    let schedule = required_str(params, "schedule")?.trim().to_string();
    let before = match optional_str(params, "before")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|e| VeleroError::BadParam {
                    name: "before",
                    problem: format!(
                        "is not an RFC 3339 time (`{text}`: {e}); write e.g. `2026-01-31T10:00:00Z`"
                    ),
                })?
                .with_timezone(&Utc),
        ),
    };
    Ok(Wanted {
        schedule,
        before,
        allow_partial: optional_bool(params, "allow_partial")?.unwrap_or(false),
        location: optional_str(params, "storage_location")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    })
}

/// A backup's completion time.
fn completed_at(backup: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&text(backup, "/status/completionTimestamp"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The backups of `all` the step may restore, newest first.
fn restorable(all: &[Value], wanted: &Wanted) -> Vec<Value> {
    let mut found: Vec<(DateTime<Utc>, Value)> = all
        .iter()
        .filter(|b| {
            let phase = text(b, "/status/phase");
            phase == "Completed" || (wanted.allow_partial && phase == "PartiallyFailed")
        })
        .filter(|b| match &wanted.location {
            Some(location) => &text(b, "/spec/storageLocation") == location,
            None => true,
        })
        .filter_map(|b| completed_at(b).map(|t| (t, b.clone())))
        .filter(|(t, _)| wanted.before.is_none_or(|before| *t < before))
        .collect();
    found.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    found.into_iter().map(|(_, b)| b).collect()
}

/// Why no backup can be picked yet: `Wait(state)` while Velero may still sync, `Fail`
/// when it has synced and there is none.
enum Nothing {
    Wait(String),
    Fail(String),
}

fn why_nothing(all: &[Value], locations: &[Value], wanted: &Wanted) -> Nothing {
    let considered: Vec<&Value> = locations
        .iter()
        .filter(|l| wanted.location.as_ref().is_none_or(|n| &name_of(l) == n))
        .collect();
    if considered.is_empty() {
        let which = match &wanted.location {
            Some(n) => format!("BackupStorageLocation `{n}` does not exist"),
            None => "no BackupStorageLocation exists".to_string(),
        };
        return Nothing::Wait(format!(
            "{which} (is Velero installed with its storage location?)"
        ));
    }
    if !considered.iter().any(|l| bsl::available(l)) {
        let states: Vec<String> = considered
            .iter()
            .map(|l| format!("`{}` is {}", name_of(l), bsl::phase(l)))
            .collect();
        return Nothing::Wait(format!(
            "waiting for a storage location to be Available ({}); Velero validates them every minute",
            states.join(", ")
        ));
    }
    if all.is_empty() {
        let synced = considered
            .iter()
            .any(|l| bsl::available(l) && !text(l, "/status/lastSyncedTime").is_empty());
        if !synced {
            return Nothing::Wait(
                "waiting for Velero to sync the Backup objects from the bucket (it does every minute once the location is Available)".into(),
            );
        }
        return Nothing::Fail(format!(
            "no Backup of schedule `{}` exists, and the storage location has synced; check the schedule's name (`velero schedule get`) and that its backups ran",
            wanted.schedule
        ));
    }
    let mut newest: Vec<&Value> = all.iter().collect();
    newest.sort_by_key(|b| std::cmp::Reverse(text(b, "/metadata/creationTimestamp")));
    let shown: Vec<String> = newest
        .iter()
        .take(5)
        .map(|b| {
            let completed = text(b, "/status/completionTimestamp");
            format!(
                "`{}` {}{}",
                name_of(b),
                match text(b, "/status/phase").as_str() {
                    "" => "New".to_string(),
                    p => p.to_string(),
                },
                if completed.is_empty() {
                    String::new()
                } else {
                    format!(" at {completed}")
                }
            )
        })
        .collect();
    let mut rule = String::from("Completed");
    if wanted.allow_partial {
        rule.push_str(" or PartiallyFailed");
    }
    if let Some(before) = wanted.before {
        rule.push_str(&format!(" before {}", before.to_rfc3339()));
    }
    if let Some(location) = &wanted.location {
        rule.push_str(&format!(" in storage location `{location}`"));
    }
    Nothing::Fail(format!(
        "none of the {} backup(s) of schedule `{}` is {rule}; the newest: {}",
        all.len(),
        wanted.schedule,
        shown.join(", ")
    ))
}

async fn run(request: ActionRequest, all: bool) -> Result<Outputs, ActionError> {
    let wanted = wanted(&request)?;
    let limit = optional_duration(&request.params, "wait")?.unwrap_or(Duration::from_secs(180));
    let ns = namespace(&request)?;
    let cluster = connect(&request).await?;
    let started = Instant::now();
    let mut said = String::new();
    let found = loop {
        let backups = list_backups(&cluster, &ns, &wanted.schedule).await?;
        let picked = restorable(&backups, &wanted);
        if !picked.is_empty() {
            break picked;
        }
        let locations = bsl::list(&cluster, &ns).await?;
        match why_nothing(&backups, &locations, &wanted) {
            Nothing::Fail(message) => return Err(VeleroError::NoRestorableBackup(message).into()),
            Nothing::Wait(state) if started.elapsed() >= limit => {
                return Err(VeleroError::WaitedTooLong {
                    what: format!("no restorable backup of schedule `{}` appeared", wanted.schedule),
                    waited: humantime::format_duration(limit).to_string(),
                    state,
                    advice: "check `velero backup-location get` (phase, message) and the Velero server's log, or give the step a longer `wait`",
                }
                .into());
            }
            Nothing::Wait(state) => {
                if state != said {
                    request.emit(ActionEvent::Progress(state.clone()));
                    said = state;
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => {}
                    () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
                }
            }
        }
    };
    let newest = &found[0];
    let mut outputs = Outputs::new();
    let name = name_of(newest);
    let completed = text(newest, "/status/completionTimestamp");
    let expiration = text(newest, "/status/expiration");
    request.emit(ActionEvent::Progress(format!(
        "newest restorable backup of schedule `{}`: `{name}` ({}, completed {completed})",
        wanted.schedule,
        text(newest, "/status/phase")
    )));
    if let Some(warning) = expiry_warning(&name, &expiration, Utc::now()) {
        request.emit(ActionEvent::Progress(warning));
    }
    outputs.insert("name".into(), json!(name));
    outputs.insert("restored_point".into(), json!(completed));
    outputs.insert("expiration".into(), json!(expiration));
    outputs.insert("phase".into(), json!(text(newest, "/status/phase")));
    outputs.insert(
        "storage_location".into(),
        json!(text(newest, "/spec/storageLocation")),
    );
    if all {
        let listed: Vec<Value> = found
            .iter()
            .map(|b| {
                json!({
                    "name": name_of(b),
                    "phase": text(b, "/status/phase"),
                    "completed": text(b, "/status/completionTimestamp"),
                    "expiration": text(b, "/status/expiration"),
                })
            })
            .collect();
        outputs.insert("backups".into(), Value::Array(listed));
    }
    cluster.identify(&mut outputs);
    Ok(outputs)
}

/// Every Backup of `schedule` in the Velero namespace.
async fn list_backups(
    cluster: &Cluster,
    namespace: &str,
    schedule: &str,
) -> Result<Vec<Value>, ActionError> {
    let api = velero_api(cluster, "Backup", "backups", namespace);
    let selector = format!("velero.io/schedule-name={schedule}");
    api.list(&ListParams::default().labels(&selector))
        .await
        .map(|l| l.items.iter().map(to_json).collect())
        .map_err(|e| {
            api_error(
                "list",
                format!("the Backups of schedule `{schedule}` in namespace `{namespace}`"),
                &e,
            )
        })
}

/// A warning when the backup expires within a day: Velero's garbage collection deletes
/// it then (unless the storage location is ReadOnly).
fn expiry_warning(name: &str, expiration: &str, now: DateTime<Utc>) -> Option<String> {
    let at = DateTime::parse_from_rfc3339(expiration)
        .ok()?
        .with_timezone(&Utc);
    let left = at - now;
    (left < chrono::Duration::days(1)).then(|| {
        let hours = left.num_minutes().max(0) as f64 / 60.0;
        format!(
            "warning: backup `{name}` expires at {expiration} (in {hours:.1} h) and Velero then deletes it; set the storage location ReadOnly (`velero.bsl.access`) to keep it during the restore"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(name: &str, phase: &str, completed: &str) -> Value {
        json!({"metadata": {"name": name, "creationTimestamp": completed}, "spec": {"storageLocation": "default"},
               "status": {"phase": phase, "completionTimestamp": completed}})
    }

    fn wanted(before: Option<&str>, allow_partial: bool) -> Wanted {
        Wanted {
            schedule: "hourly".into(),
            before: before.map(|b| DateTime::parse_from_rfc3339(b).unwrap().with_timezone(&Utc)),
            allow_partial,
            location: None,
        }
    }

    #[test]
    fn the_newest_completed_backup_before_the_time_is_picked() {
        let all = [
            backup("a", "Completed", "2026-01-01T10:00:00Z"),
            backup("b", "PartiallyFailed", "2026-01-01T11:00:00Z"),
            backup("c", "Completed", "2026-01-01T12:00:00Z"),
            backup("d", "Failed", "2026-01-01T12:30:00Z"),
        ];
        let names = |w: &Wanted| restorable(&all, w).iter().map(name_of).collect::<Vec<_>>();
        assert_eq!(names(&wanted(None, false)), ["c", "a"]);
        assert_eq!(names(&wanted(Some("2026-01-01T11:30:00Z"), false)), ["a"]);
        assert_eq!(
            names(&wanted(Some("2026-01-01T11:30:00Z"), true)),
            ["b", "a"]
        );
    }

    #[test]
    fn an_unsynced_location_is_waited_for_and_a_synced_empty_one_is_not() {
        let unavailable =
            [json!({"metadata": {"name": "default"}, "status": {"phase": "Unavailable"}})];
        let Nothing::Wait(state) = why_nothing(&[], &unavailable, &wanted(None, false)) else {
            panic!("an unavailable location is waited for")
        };
        assert!(state.contains("`default` is Unavailable"), "{state}");
        let fresh = [json!({"metadata": {"name": "default"}, "status": {"phase": "Available"}})];
        assert!(
            matches!(why_nothing(&[], &fresh, &wanted(None, false)), Nothing::Wait(s) if s.contains("sync"))
        );
        let synced = [
            json!({"metadata": {"name": "default"}, "status": {"phase": "Available", "lastSyncedTime": "2026-01-01T00:00:00Z"}}),
        ];
        assert!(matches!(
            why_nothing(&[], &synced, &wanted(None, false)),
            Nothing::Fail(_)
        ));
        let failed = [backup("d", "Failed", "2026-01-01T12:30:00Z")];
        let Nothing::Fail(message) = why_nothing(&failed, &synced, &wanted(None, false)) else {
            panic!("a failed backup is no reason to wait")
        };
        assert!(
            message.contains("`d` Failed at 2026-01-01T12:30:00Z"),
            "{message}"
        );
    }

    #[test]
    fn a_backup_expiring_within_a_day_is_warned_about() {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(
            expiry_warning("b", "2026-01-01T05:00:00Z", now)
                .unwrap()
                .contains("in 5.0 h")
        );
        assert_eq!(expiry_warning("b", "2026-01-03T00:00:00Z", now), None);
        assert_eq!(expiry_warning("b", "", now), None);
    }
}
