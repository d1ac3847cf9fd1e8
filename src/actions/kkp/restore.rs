//! `kkp.etcd.restore`: restores a KKP user cluster's etcd from one of its backups by
//! creating an `EtcdRestore` on the seed and following KKP's seed controller through
//! `Started → StsRebuilding → Completed` (domain-facts §1.3, §9.2).
//!
//! Before creating anything it checks what KKP would otherwise only report as an event
//! and then never start: the Seed has backup destinations and this one, the cluster has
//! etcd-launcher enabled, no other restore holds the cluster (the
//! `kubermatic.k8c.io/active-restore` annotation), and the backup is listed as
//! restorable (which gives `restored_point`, its `backupFinishedTime`).
//!
//! While KKP works, every phase change, the Cluster's pause and `EtcdClusterInitialized`
//! condition and every new Warning event on the EtcdRestore are shown. KKP has no failed
//! phase, so a restore whose phase has not moved for `stall_after` fails the step with
//! the events KKP reported.
//!
//! Crash safety, phase by phase. The EtcdRestore's name is derived from the run id and
//! the step (`drbook-<run>-<step>`), so a re-run finds the one an earlier attempt created
//! (KKP rewrites its spec, so it is recognised by name, never by comparing specs) and
//! follows it instead of creating a second; the pre-checks are then skipped (the
//! annotation they look at is the restore's own). A crash before the create leaves
//! nothing; after it, KKP goes on without drbook and the re-run follows. drbook never
//! deletes an EtcdRestore: its finalizer ends a restore KKP is in the middle of.

use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};
use tokio::sync::mpsc::unbounded_channel;
use tokio::task::JoinSet;

use super::backups::{CLUSTER, user_cluster};
use super::checks::{check_seed, restored_point};
use super::error::KkpError;
use super::follow::{ACTIVE_RESTORE, Tracker};
use super::watch::{self, Source};
use super::{KKP_API_VERSION, clusters, kubectl, restores};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_duration,
    optional_str, required_str,
};
use crate::actions::kube::{CONNECTION_PARAMS, Cluster, connect, describe};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

/// The annotation on a created EtcdRestore that says the cluster had been paused before.
const PAUSED_BEFORE: &str = "drbook.io/cluster-was-paused";

/// How long a phase may stand still before the step fails, by default.
const STALL_AFTER: Duration = Duration::from_secs(300);

pub const SPEC: ActionSpec = ActionSpec {
    name: "kkp.etcd.restore",
    summary: "Restores a KKP user cluster's etcd from a backup through an EtcdRestore and follows it to Completed.",
    params: &[
        CLUSTER,
        ParamSpec {
            name: "backup",
            kind: ParamKind::String,
            required: true,
            doc: "The backup's name exactly as `status.currentBackups[].backupName` lists it (`kkp.etcd.backups` outputs it as `backup`).",
        },
        ParamSpec {
            name: "destination",
            kind: ParamKind::String,
            required: true,
            doc: "The backup destination (a key of the Seed's `spec.etcdBackupRestore.destinations`) the backup is stored in.",
        },
        ParamSpec {
            name: "stall_after",
            kind: ParamKind::Duration,
            required: false,
            doc: "Fail when the EtcdRestore's phase (or the etcd condition) has not moved for this long; default `5m`. KKP reports failures only as events, never as a phase.",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::String,
            required: false,
            doc: "The Seed object's name, when the cluster holds more than one.",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&[
        "name",
        "namespace",
        "phase",
        "backup",
        "destination",
        "restored_point",
        "last_restart",
        "cluster_uid",
        "server",
    ]),
    rerun: Rerun::Safe(
        "the EtcdRestore is named after the run and the step: a re-run finds the one it created and follows it, never creating a second",
    ),
    by_hand,
    executor: &RestoreAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let kubectl = kubectl(given);
    let cluster = given.text("cluster");
    let ns = format!("cluster-{cluster}");
    let manifest = format!(
        "{{apiVersion: {KKP_API_VERSION}, kind: EtcdRestore, metadata: {{name: drbook-restore, namespace: {ns}}}, spec: {{name: drbook-restore, cluster: {{apiVersion: {KKP_API_VERSION}, kind: Cluster, name: {cluster}}}, backupName: {}, destination: {}}}}}",
        given.text("backup"),
        given.text("destination"),
    );
    vec![
        "# first: the cluster has etcd-launcher, no other restore holds it, the Seed has the destination".into(),
        format!(
            "{kubectl} get cluster {cluster} -o jsonpath='{{.spec.features.etcdLauncher}} {{.metadata.annotations.kubermatic\\.k8c\\.io/active-restore}}{{\"\\n\"}}'"
        ),
        format!("{kubectl} -n kubermatic get seeds -o jsonpath='{{.items[*].spec.etcdBackupRestore.destinations}}'"),
        format!("echo {} | {kubectl} create -f -", crate::actions::by_hand::quote(&manifest)),
        "# follow it; KKP reports failures only as events (ReconcilingError), never as a phase".into(),
        format!("{kubectl} -n {ns} get etcdrestore drbook-restore -w"),
        format!("{kubectl} -n {ns} get events --field-selector involvedObject.kind=EtcdRestore,involvedObject.name=drbook-restore,type=Warning -w"),
        format!(
            "{kubectl} wait cluster.v1.kubermatic.k8c.io {cluster} --for=jsonpath='{{.status.conditions.EtcdClusterInitialized.status}}'=True --timeout=30m"
        ),
        "# KKP unpauses the cluster itself (even one an operator had paused); never delete the EtcdRestore".into(),
    ]
}

/// The executor of `kkp.etcd.restore`.
pub struct RestoreAction;

impl Action for RestoreAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// `drbook-<run>-<step>` as a Kubernetes name (lowercase letters, digits, `-`; at most
/// 63 characters, a long one shortened with a hash of the whole so it stays unique).
pub(crate) fn restore_name(run_id: &str, step: &str) -> String {
    let raw = format!("drbook-{run_id}-{step}").to_lowercase();
    let mut name = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_matches('-').to_string();
    if name.len() <= 63 {
        return name;
    }
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    let hash = raw.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{:08x}", name[..54].trim_end_matches('-'), hash as u32)
}

/// What the step was asked.
struct Asked {
    cluster: String,
    backup: String,
    destination: String,
    stall_after: Duration,
    seed: Option<String>,
}

impl Asked {
    fn read(request: &ActionRequest) -> Result<Asked, ActionError> {
        let params = &request.params;
        let word = |name| -> Result<String, ActionError> {
            Ok(required_str(params, name)?.trim().to_string())
        };
        Ok(Asked {
            cluster: word("cluster")?,
            backup: word("backup")?,
            destination: word("destination")?,
            stall_after: optional_duration(params, "stall_after")?.unwrap_or(STALL_AFTER),
            seed: optional_str(params, "seed")?
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        })
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let asked = Asked::read(&request)?;
    let seed = connect(&request).await?;
    let name = restore_name(&request.run_id, &request.step);
    let prepared = tokio::select! {
        done = prepare(&request, &seed, &asked, &name) => done?,
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    };
    let mut tracker = Tracker::new(&asked.cluster, prepared.paused_by_operator);
    follow(
        &request,
        &seed,
        &asked,
        &prepared.namespace,
        &name,
        &mut tracker,
    )
    .await?;
    let mut outputs = Outputs::new();
    outputs.insert("name".into(), json!(name));
    outputs.insert("namespace".into(), json!(prepared.namespace));
    outputs.insert(
        "phase".into(),
        json!(tracker.phase.clone().unwrap_or_default()),
    );
    outputs.insert("backup".into(), json!(asked.backup));
    outputs.insert("destination".into(), json!(asked.destination));
    outputs.insert("restored_point".into(), json!(prepared.restored_point));
    outputs.insert(
        "last_restart".into(),
        json!(tracker.last_restart.clone().unwrap_or_default()),
    );
    seed.identify(&mut outputs);
    Ok(outputs)
}

/// What the checks found before the EtcdRestore exists (or was found).
struct Prepared {
    namespace: String,
    restored_point: String,
    paused_by_operator: bool,
}

/// Finds this step's EtcdRestore or checks everything and creates it.
async fn prepare(
    request: &ActionRequest,
    seed: &Cluster,
    asked: &Asked,
    name: &str,
) -> Result<Prepared, ActionError> {
    let (cluster, namespace) = user_cluster(seed, &asked.cluster).await?;
    let path = format!("{namespace}/{name}");
    let label = format!("EtcdRestore `{path}`");
    let api = restores(seed, &namespace);
    let existing = api.get_opt(name).await.map_err(|e| KkpError::Api {
        verb: "read",
        object: label.clone(),
        reason: describe(&e),
    })?;
    let restored_point = restored_point(seed, &namespace, &asked.backup).await?;
    if let Some(found) = existing {
        return resume(
            request,
            &path,
            asked,
            &found,
            namespace,
            restored_point.ok(),
        );
    }
    let restored_point = restored_point.map_err(ActionError::from)?;
    check_seed(seed, asked.seed.as_deref(), &asked.destination).await?;
    if cluster
        .pointer("/spec/features/etcdLauncher")
        .and_then(Value::as_bool)
        != Some(true)
    {
        return Err(KkpError::LauncherDisabled {
            cluster: asked.cluster.clone(),
        }
        .into());
    }
    let holder = cluster
        .pointer(&format!(
            "/metadata/annotations/{}",
            ACTIVE_RESTORE.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty());
    if let Some(holder) = holder {
        let (ns, held_by) = holder
            .split_once('/')
            .unwrap_or((namespace.as_str(), holder));
        return Err(KkpError::RestoreActive {
            cluster: asked.cluster.clone(),
            holder: holder.to_string(),
            namespace: ns.to_string(),
            name: held_by.to_string(),
        }
        .into());
    }
    let paused_by_operator = cluster.pointer("/spec/pause").and_then(Value::as_bool) == Some(true);
    if paused_by_operator {
        request.emit(ActionEvent::Progress(format!(
            "cluster {} is paused (spec.pause: true), apparently by an operator: KKP unpauses it unconditionally while it rebuilds etcd; pause it again after the restore if it must stay paused",
            asked.cluster
        )));
    }
    let body = json!({
        "apiVersion": KKP_API_VERSION, "kind": "EtcdRestore",
        "metadata": {
            "name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "drbook"},
            "annotations": {
                "drbook.io/run": request.run_id, "drbook.io/step": request.step,
                // Remembered for a re-run after a crash, which finds KKP's pause instead.
                PAUSED_BEFORE: paused_by_operator.to_string(),
            },
        },
        "spec": {
            "name": name,
            "cluster": {"apiVersion": KKP_API_VERSION, "kind": "Cluster", "name": asked.cluster},
            "backupName": asked.backup,
            "destination": asked.destination,
        },
    });
    let object: DynamicObject = serde_json::from_value(body).expect("a well-formed EtcdRestore");
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => {
            request.emit(ActionEvent::Progress(format!(
                "created {label} for backup {} (destination {}, finished {restored_point}); KKP pauses cluster {}, deletes its etcd StatefulSet and volumes and rebuilds etcd from the backup",
                asked.backup, asked.destination, asked.cluster
            )));
            Ok(Prepared {
                namespace,
                restored_point,
                paused_by_operator,
            })
        }
        // Created between the read and now (a second drbook on the same run?): follow it.
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let found = api.get(name).await.map_err(|e| KkpError::Api {
                verb: "read",
                object: label.clone(),
                reason: describe(&e),
            })?;
            let found = serde_json::to_value(&found).unwrap_or(Value::Null);
            resume(
                request,
                &path,
                asked,
                &found,
                namespace,
                Some(restored_point),
            )
        }
        Err(e) => Err(KkpError::Api {
            verb: "create",
            object: label,
            reason: describe(&e),
        }
        .into()),
    }
}

/// Follows the EtcdRestore an earlier attempt created, when it restores the same backup.
fn resume(
    request: &ActionRequest,
    path: &str,
    asked: &Asked,
    found: &impl serde::Serialize,
    namespace: String,
    restored_point: Option<String>,
) -> Result<Prepared, ActionError> {
    let found = serde_json::to_value(found).unwrap_or(Value::Null);
    let has = found
        .pointer("/spec/backupName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if has != asked.backup {
        return Err(KkpError::OtherBackup {
            restore: path.to_string(),
            has: has.to_string(),
            wanted: asked.backup.clone(),
        }
        .into());
    }
    let phase = found
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("no status yet");
    request.emit(ActionEvent::Progress(format!(
        "found EtcdRestore `{path}`, created by an earlier attempt of this step ({phase}); following it instead of creating another"
    )));
    let paused_by_operator = found
        .pointer(&format!(
            "/metadata/annotations/{}",
            PAUSED_BEFORE.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        == Some("true");
    Ok(Prepared {
        namespace,
        restored_point: restored_point.unwrap_or_default(),
        paused_by_operator,
    })
}

/// Watches the EtcdRestore, its Cluster and the Warning events on it until `Completed`,
/// failing when the phase stands still for `stall_after`.
async fn follow(
    request: &ActionRequest,
    seed: &Cluster,
    asked: &Asked,
    namespace: &str,
    name: &str,
    tracker: &mut Tracker,
) -> Result<(), ActionError> {
    let label = format!("{namespace}/{name}");
    let (sink, mut seen) = unbounded_channel();
    let mut tasks = JoinSet::new();
    watch::start(
        &mut tasks,
        sink.clone(),
        restores(seed, namespace),
        format!("metadata.name={name}"),
        Source::Restore,
        format!("EtcdRestore `{label}`"),
    );
    watch::start(
        &mut tasks,
        sink.clone(),
        clusters(seed),
        format!("metadata.name={}", asked.cluster),
        Source::Cluster,
        format!("Cluster `{}`", asked.cluster),
    );
    let events: Api<DynamicObject> = Api::namespaced_with(
        seed.client.clone(),
        namespace,
        &ApiResource::erase::<Event>(&()),
    );
    watch::start(
        &mut tasks,
        sink,
        events,
        format!("involvedObject.kind=EtcdRestore,involvedObject.name={name},type=Warning"),
        Source::Events,
        format!("the events of EtcdRestore `{label}`"),
    );
    let stall = |tracker: &Tracker| KkpError::Stalled {
        restore: label.clone(),
        phase: tracker.phase_text(),
        after: asked.stall_after,
        events: tracker.warnings.clone(),
    };
    let mut deadline = tokio::time::Instant::now() + asked.stall_after;
    loop {
        let sighting = tokio::select! {
            got = seen.recv() => got,
            () = tokio::time::sleep_until(deadline) => return Err(stall(tracker).into()),
            () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
        };
        let Some(sighting) = sighting else {
            return Err(stall(tracker).into());
        };
        let sighting = match sighting {
            Ok(seen) => seen,
            // Without the events (RBAC may not allow them) the restore is still followed.
            Err((Source::Events, e)) => {
                request.emit(ActionEvent::Progress(format!(
                    "{e}; KKP's warnings on the EtcdRestore cannot be shown: read them with `kubectl -n {namespace} get events --field-selector involvedObject.name={name}`"
                )));
                continue;
            }
            Err((_, e)) => return Err(e.into()),
        };
        let (lines, moved) = match sighting.source {
            Source::Restore if sighting.deleted => {
                return Err(KkpError::Deleted {
                    restore: label.clone(),
                    phase: tracker.phase_text(),
                    namespace: namespace.to_string(),
                }
                .into());
            }
            Source::Restore => tracker.restore(&sighting.object),
            Source::Cluster => tracker.cluster(&sighting.object),
            Source::Events => (tracker.event(&sighting.object).into_iter().collect(), false),
        };
        for line in lines {
            request.emit(ActionEvent::Progress(line));
        }
        if moved {
            deadline = tokio::time::Instant::now() + asked.stall_after;
        }
        if tracker.completed() {
            break;
        }
    }
    drop(tasks);
    // The Cluster's watch may not have delivered KKP's last writes yet: read it once.
    if let Ok(cluster) = clusters(seed).get(&asked.cluster).await {
        let (lines, _) = tracker.cluster(&serde_json::to_value(&cluster).unwrap_or(Value::Null));
        for line in lines {
            request.emit(ActionEvent::Progress(line));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_a_kubernetes_name_derived_from_run_and_step() {
        assert_eq!(
            restore_name("20261207T031500Z-a1b2c3", "restore_etcd"),
            "drbook-20261207t031500z-a1b2c3-restore-etcd"
        );
        let long = restore_name("20261207T031500Z-a1b2c3", &"x".repeat(80));
        assert!(
            long.len() <= 63 && long.starts_with("drbook-20261207t031500z-a1b2c3-xx"),
            "{long}"
        );
        assert_ne!(
            long,
            restore_name("20261207T031500Z-a1b2c3", &"x".repeat(81))
        );
        assert_eq!(restore_name("R_1", "--s"), "drbook-r-1-s");
    }

    #[test]
    fn the_paper_says_how_to_follow_events_too() {
        let lines = by_hand(&crate::actions::by_hand::given(
            json!({"cluster": "abc", "backup": "b.db.gz", "destination": "minio"}),
        ));
        assert!(
            lines.iter().any(|l| l.contains(
                "kubectl -n cluster-abc get events --field-selector involvedObject.kind=EtcdRestore"
            )),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("backupName: b.db.gz, destination: minio")),
            "{lines:?}"
        );
    }
}
