//! A scripted KKP seed controller for the fake: it drives `EtcdRestore`s the way KKP's
//! `etcd_restore_controller` does (domain-facts §1.3, §9.2), so `kkp.etcd.restore` is
//! tested against what a client of the real one sees:
//!
//! - no status at all until `Started` (the CRD requires `phase`); nothing happens while
//!   the seed has no backup destination;
//! - every failure only as a Warning `ReconcilingError` event on the EtcdRestore, with
//!   the texts of KKP's `etcdrestore` controller (a repeat bumps its `count`), the
//!   phase never moves (KKP assigns `EtcdLauncherNotEnabled` to its in-memory copy only
//!   and returns before patching it): etcd-launcher not enabled, no or
//!   an unknown `destination`, the `cluster-<id>-ca-bundle` ConfigMap missing in
//!   `kube-system`, the backup object missing in the bucket (a backup is in the bucket
//!   when an EtcdBackupConfig of the namespace lists it Completed and not deleted, unless
//!   the test said it is lost);
//! - the Cluster annotation `kubermatic.k8c.io/active-restore` as a mutex (another
//!   restore waits: the fake retries on every change instead of every minute);
//! - `spec.pause = true`, a `<restore>-backupdownload-<n>` Secret patched into the spec,
//!   the finalizer `kubermatic.k8c.io/finish-restore`, phase `Started`; StatefulSet `etcd`
//!   and the PVCs labelled `app=etcd` deleted; `StsRebuilding` with the Cluster
//!   condition (a map) `EtcdClusterInitialized=False`; `spec.pause = false`
//!   unconditionally; KKP's StatefulSet and PVCs recreated; the condition `True` once
//!   etcd is up (at once, or when the test releases it); the annotation removed,
//!   `kubermatic.k8c.io/last-restart` set; `Completed`, finalizer removed.
//!
//! A one-shot EtcdBackupConfig gets its backup at once; with a [`UserCluster`] bound to
//! the cluster, that backup records the user cluster's objects and a restore of it puts
//! them back just before etcd comes up.
//!
//! What it does not do: run etcd or read a bucket, wait the real requeue intervals (it
//! acts on every change at once), write events on the Cluster, or restore anything
//! after `Completed`. Its writes go through the fake's [`Handle`], so they are not API
//! writes.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::Handle;
use super::store::now;
pub use super::user_cluster::UserCluster;

const KKP: &str = "kubermatic.k8c.io/v1";
const ACTIVE_RESTORE: &str = "kubermatic.k8c.io/active-restore";
const LAST_RESTART: &str = "kubermatic.k8c.io/last-restart";
const FINALIZER: &str = "kubermatic.k8c.io/finish-restore";

type Hook = Box<dyn FnOnce(&Handle) + Send>;

/// How the controller behaves; `start` runs it.
#[derive(Default)]
pub struct Kkp {
    hold_etcd: bool,
    before_first: Option<Hook>,
    lost: Vec<String>,
    user_clusters: Vec<Arc<UserCluster>>,
}

/// The test's side of a running controller.
#[derive(Clone)]
pub struct KkpControl {
    state: Arc<Mutex<State>>,
    wake: Arc<Notify>,
}

#[derive(Default)]
struct State {
    hold_etcd: bool,
    lost: Vec<String>,
    events: u64,
    user_clusters: Vec<Arc<UserCluster>>,
}

impl Kkp {
    pub fn new() -> Kkp {
        Kkp::default()
    }

    /// The rebuilt etcd does not come up until `KkpControl::release_etcd`: the restore
    /// stays in `StsRebuilding`, for tests that act while drbook waits.
    pub fn holding_etcd(mut self) -> Kkp {
        self.hold_etcd = true;
        self
    }

    /// Runs `hook` once, when the controller first sees an EtcdRestore and before it
    /// acts on it (e.g. something changes the Cluster between drbook's checks and KKP).
    pub fn before_first_reconcile(mut self, hook: impl FnOnce(&Handle) + Send + 'static) -> Kkp {
        self.before_first = Some(Box::new(hook));
        self
    }

    /// The bucket has lost the object of this backup (its name as listed).
    pub fn lost_backup(mut self, backup: &str) -> Kkp {
        self.lost.push(backup.to_string());
        self
    }

    /// Binds user cluster `user.id`: its one-shot backups record `user`'s objects, and
    /// a restore of one puts them back.
    pub fn with_user_cluster(mut self, user: Arc<UserCluster>) -> Kkp {
        self.user_clusters.push(user);
        self
    }

    /// Starts the controller on the fake's runtime.
    pub fn start(self, fake: &Handle) -> KkpControl {
        let control = KkpControl {
            state: Arc::new(Mutex::new(State {
                hold_etcd: self.hold_etcd,
                lost: self.lost,
                events: 0,
                user_clusters: self.user_clusters,
            })),
            wake: Arc::new(Notify::new()),
        };
        let handle = fake.handle_for_controllers();
        let mut changes = handle.subscribe();
        let running = control.clone();
        let mut before_first = self.before_first;
        handle.clone().spawn(async move {
            loop {
                let restores = handle.list(KKP, "EtcdRestore", None);
                if !restores.is_empty()
                    && let Some(hook) = before_first.take()
                {
                    hook(&handle);
                }
                for restore in restores {
                    running.reconcile(&handle, &restore);
                }
                running.one_shot_backups(&handle);
                tokio::select! {
                    change = changes.recv() => match change {
                        // Its own events do not wake it, or a failing restore would loop.
                        Ok(change) if change.key.resource == "events" => continue,
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    () = running.wake.notified() => {}
                }
            }
        });
        control
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn annotation<'a>(object: &'a Value, name: &str) -> &'a str {
    object["metadata"]["annotations"][name]
        .as_str()
        .unwrap_or("")
}

impl KkpControl {
    /// Lets the held etcd come up: the restore goes on to `Completed`.
    pub fn release_etcd(&self) {
        self.state.lock().unwrap().hold_etcd = false;
        self.wake.notify_one();
    }

    /// One pass over one EtcdRestore, as KKP's reconcile does; failures become events.
    fn reconcile(&self, fake: &Handle, restore: &Value) {
        if let Err(message) = self.step(fake, restore) {
            self.warn(fake, restore, &message);
        }
    }

    fn step(&self, fake: &Handle, restore: &Value) -> Result<(), String> {
        let ns = text(restore, "/metadata/namespace").to_string();
        let name = text(restore, "/metadata/name").to_string();
        let phase = text(restore, "/status/phase").to_string();
        if phase == "Completed" {
            return Ok(());
        }
        let seed = fake.list(KKP, "Seed", None).into_iter().find(|s| {
            s.pointer("/spec/etcdBackupRestore/destinations")
                .is_some_and(|d| d.as_object().is_some_and(|d| !d.is_empty()))
        });
        // No destinations: the controller does nothing at all.
        let Some(seed) = seed else { return Ok(()) };
        let id = text(restore, "/spec/cluster/name").to_string();
        let Some(cluster) = fake.object(KKP, "Cluster", None, &id) else {
            return Err(format!(
                "failed to get cluster: clusters.kubermatic.k8c.io \"{id}\" not found"
            ));
        };
        let me = format!("{ns}/{name}");
        let holder = annotation(&cluster, ACTIVE_RESTORE);
        if !holder.is_empty() && holder != me {
            // Another restore holds the cluster: requeue, no event.
            return Ok(());
        }
        let backup = text(restore, "/spec/backupName").to_string();
        if phase.is_empty() {
            if cluster
                .pointer("/spec/features/etcdLauncher")
                .and_then(Value::as_bool)
                != Some(true)
            {
                // KKP sets the phase `EtcdLauncherNotEnabled` on its in-memory copy only
                // and returns the error before any patch: the stored phase stays empty.
                return Err(format!("etcdLauncher not enabled on cluster: \"{id}\""));
            }
            let destination = text(restore, "/spec/destination");
            if destination.is_empty() {
                // Not KKP's text: KKP falls back to the Seed's legacy `backupRestore`,
                // which the fake does not model.
                return Err("backup destination not set in the EtcdRestore spec".into());
            }
            if seed
                .pointer(&format!(
                    "/spec/etcdBackupRestore/destinations/{destination}"
                ))
                .is_none()
            {
                return Err(format!(
                    "can't find backup restore destination \"{destination}\" in Seed \"{}\"",
                    text(&seed, "/metadata/name")
                ));
            }
            let bundle = format!("cluster-{id}-ca-bundle");
            if fake
                .object("v1", "ConfigMap", Some("kube-system"), &bundle)
                .is_none()
            {
                return Err(format!(
                    "failed to obtain S3 client: failed to get CA bundle: configmaps \"{bundle}\" not found"
                ));
            }
            if !self.in_bucket(fake, &ns, &backup) {
                return Err(format!(
                    "could not access backup object {id}-{backup}: The specified key does not exist."
                ));
            }
            fake.change(KKP, "Cluster", None, &id, |c| {
                c["metadata"]["annotations"][ACTIVE_RESTORE] = json!(me);
                c["spec"]["pause"] = json!(true);
            });
            let secret = format!("{name}-backupdownload-{}", self.next());
            fake.put(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": secret, "namespace": ns},
                "data": {
                    "ACCESS_KEY_ID": "a2twLWFjY2Vzcy1rZXk=", "SECRET_ACCESS_KEY": "a2twLXNlY3JldC1rZXk=",
                    "BUCKET_NAME": "a2twYmFja3Vw", "ENDPOINT": "aHR0cDovL21pbmlvOjkwMDA=",
                },
            }));
            fake.change(KKP, "EtcdRestore", Some(&ns), &name, |r| {
                r["spec"]["backupDownloadCredentialsSecret"] = json!(secret);
                r["metadata"]["finalizers"] = json!([FINALIZER]);
            });
            fake.change(KKP, "EtcdRestore", Some(&ns), &name, |r| {
                r["status"] = json!({"phase": "Started"});
            });
            return Ok(());
        }
        if phase == "Started" {
            fake.remove("apps/v1", "StatefulSet", Some(&ns), "etcd");
            for pvc in fake.list("v1", "PersistentVolumeClaim", Some(&ns)) {
                if pvc["metadata"]["labels"]["app"] == "etcd" {
                    fake.remove(
                        "v1",
                        "PersistentVolumeClaim",
                        Some(&ns),
                        text(&pvc, "/metadata/name"),
                    );
                }
            }
            fake.change(KKP, "EtcdRestore", Some(&ns), &name, |r| {
                r["status"]["phase"] = json!("StsRebuilding");
            });
            fake.change(KKP, "Cluster", None, &id, |c| {
                c["status"]["conditions"]["EtcdClusterInitialized"] = json!({
                    "status": "False", "kubermaticVersion": "v2.29.0",
                    "lastHeartbeatTime": now(), "lastTransitionTime": now(),
                    "reason": "", "message": format!("Etcd Cluster is being restored from backup {backup}"),
                });
            });
            // Unconditionally, even when an operator had paused the cluster.
            fake.change(KKP, "Cluster", None, &id, |c| {
                c["spec"]["pause"] = json!(false)
            });
            return Ok(());
        }
        if phase == "StsRebuilding" {
            // The unpaused cluster's controller recreates etcd with new, empty volumes.
            if fake
                .object("apps/v1", "StatefulSet", Some(&ns), "etcd")
                .is_none()
            {
                put_etcd(fake, &ns);
            }
            if self.state.lock().unwrap().hold_etcd {
                return Ok(());
            }
            if let Some(user) = self.user_cluster(&id) {
                user.restore(text(restore, "/spec/backupName"));
            }
            fake.change("apps/v1", "StatefulSet", Some(&ns), "etcd", |s| {
                s["status"] = json!({"replicas": 3, "readyReplicas": 3});
            });
            fake.change(KKP, "Cluster", None, &id, |c| {
                c["status"]["conditions"]["EtcdClusterInitialized"] = json!({
                    "status": "True", "kubermaticVersion": "v2.29.0",
                    "lastHeartbeatTime": now(), "lastTransitionTime": now(),
                    "reason": "", "message": "",
                });
            });
            fake.change(KKP, "Cluster", None, &id, |c| {
                if let Some(a) = c["metadata"]["annotations"].as_object_mut() {
                    a.remove(ACTIVE_RESTORE);
                }
                c["metadata"]["annotations"][LAST_RESTART] = json!(now());
            });
            fake.change(KKP, "EtcdRestore", Some(&ns), &name, |r| {
                r["status"]["phase"] = json!("Completed");
            });
            fake.change(KKP, "EtcdRestore", Some(&ns), &name, |r| {
                r["metadata"]["finalizers"] = json!([]);
            });
        }
        Ok(())
    }

    /// The user cluster bound to cluster `id`, if any.
    fn user_cluster(&self, id: &str) -> Option<Arc<UserCluster>> {
        let state = self.state.lock().unwrap();
        state.user_clusters.iter().find(|u| u.id == id).cloned()
    }

    /// A one-shot EtcdBackupConfig (no `schedule`) gets its single backup
    /// `<config>.db.gz`, completed at once (the fake runs no backup Jobs); a bound user
    /// cluster's objects are recorded as that backup.
    fn one_shot_backups(&self, fake: &Handle) {
        for config in fake.list(KKP, "EtcdBackupConfig", None) {
            let done = config["status"]["currentBackups"]
                .as_array()
                .is_some_and(|b| !b.is_empty());
            if !config["spec"]["schedule"].as_str().unwrap_or("").is_empty() || done {
                continue;
            }
            let name = text(&config, "/metadata/name").to_string();
            let backup = format!("{name}.db.gz");
            if let Some(user) = self.user_cluster(text(&config, "/spec/cluster/name")) {
                user.back_up(&backup);
            }
            fake.change(
                KKP,
                "EtcdBackupConfig",
                Some(text(&config, "/metadata/namespace")),
                &name,
                |c| {
                    c["status"]["currentBackups"] = json!([{
                        "backupName": backup, "scheduledTime": now(),
                        "backupStartTime": now(), "backupFinishedTime": now(),
                        "backupPhase": "Completed", "backupMessage": "job complete",
                    }]);
                },
            );
        }
    }

    /// Whether the bucket holds the backup's object.
    fn in_bucket(&self, fake: &Handle, ns: &str, backup: &str) -> bool {
        if self.state.lock().unwrap().lost.iter().any(|l| l == backup) {
            return false;
        }
        fake.list(KKP, "EtcdBackupConfig", Some(ns))
            .iter()
            .any(|config| {
                config["status"]["currentBackups"]
                    .as_array()
                    .is_some_and(|all| {
                        all.iter().any(|b| {
                            b["backupName"] == backup
                                && b["backupPhase"] == "Completed"
                                && b["deletePhase"] != "Completed"
                        })
                    })
            })
    }

    fn next(&self) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.events += 1;
        state.events
    }

    /// A Warning `ReconcilingError` event on the EtcdRestore; a repeat bumps its count.
    fn warn(&self, fake: &Handle, restore: &Value, message: &str) {
        let ns = text(restore, "/metadata/namespace");
        let uid = text(restore, "/metadata/uid");
        let repeat = fake
            .list("v1", "Event", Some(ns))
            .into_iter()
            .find(|e| e["involvedObject"]["uid"] == uid && e["message"] == message);
        if let Some(event) = repeat {
            fake.change(
                "v1",
                "Event",
                Some(ns),
                text(&event, "/metadata/name"),
                |e| {
                    e["count"] = json!(e["count"].as_u64().unwrap_or(1) + 1);
                    e["lastTimestamp"] = json!(now());
                },
            );
            return;
        }
        let name = format!(
            "{}.{:x}",
            text(restore, "/metadata/name"),
            0x1000 + self.next()
        );
        fake.put(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {
                "apiVersion": KKP, "kind": "EtcdRestore", "namespace": ns,
                "name": restore["metadata"]["name"], "uid": uid,
                "resourceVersion": restore["metadata"]["resourceVersion"],
            },
            "reason": "ReconcilingError", "message": message, "type": "Warning",
            "source": {"component": "kkp-etcd-restore-controller"},
            "firstTimestamp": now(), "lastTimestamp": now(), "count": 1,
        }));
    }
}

/// StatefulSet `etcd` (3 replicas) and its volumes `data-etcd-N`, labelled `app=etcd`.
fn put_etcd(fake: &Handle, ns: &str) {
    fake.put(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "etcd", "namespace": ns, "labels": {"app": "etcd"}},
        "spec": {"replicas": 3, "serviceName": "etcd", "selector": {"matchLabels": {"app": "etcd"}}},
    }));
    for n in 0..3 {
        fake.put(json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": format!("data-etcd-{n}"), "namespace": ns, "labels": {"app": "etcd"}},
            "spec": {"storageClassName": "kubermatic-fast", "accessModes": ["ReadWriteOnce"]},
        }));
    }
}

/// One backup in an EtcdBackupConfig's `status.currentBackups`.
pub struct Listed<'a> {
    pub name: &'a str,
    pub phase: &'a str,
    pub delete_phase: &'a str,
    pub finished: Option<&'a str>,
}

/// A seed as KKP sets it up: namespace `kubermatic` with Seed `europe-west` and its
/// destination `minio` (credentials Secret `kube-system/kubermatic-s3-credentials`,
/// whose values are secrets the tests look for), and user cluster `id`: its `Cluster`
/// (etcd-launcher on, not paused, etcd initialized), namespace `cluster-<id>` with the
/// etcd StatefulSet and volumes, the CA bundle ConfigMap, and EtcdBackupConfig
/// `default-backups` listing `backups`.
pub fn put_seed(fake: &Handle, id: &str, backups: &[Listed]) {
    let ns = format!("cluster-{id}");
    for namespace in ["kubermatic", ns.as_str()] {
        fake.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}));
    }
    fake.put(json!({
        "apiVersion": KKP, "kind": "Seed", "metadata": {"name": "europe-west", "namespace": "kubermatic"},
        "spec": {"etcdBackupRestore": {
            "defaultDestination": "minio",
            "destinations": {"minio": {
                "endpoint": "http://minio.minio.svc.cluster.local:9000", "bucketName": "kkpbackup",
                "credentials": {"name": "kubermatic-s3-credentials", "namespace": "kube-system"},
            }},
        }},
    }));
    fake.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "kubermatic-s3-credentials", "namespace": "kube-system"},
        "stringData": {"ACCESS_KEY_ID": SEED_ACCESS_KEY, "SECRET_ACCESS_KEY": SEED_SECRET_KEY},
    }));
    fake.put(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cluster-{id}-ca-bundle"), "namespace": "kube-system"},
        "data": {"ca-bundle.pem": "-----BEGIN CERTIFICATE-----"},
    }));
    fake.put(json!({
        "apiVersion": KKP, "kind": "Cluster",
        "metadata": {"name": id, "annotations": {}},
        "spec": {"humanReadableName": "shop-prod", "pause": false, "features": {"etcdLauncher": true}},
        "status": {"namespaceName": ns, "conditions": {"EtcdClusterInitialized": {
            "status": "True", "kubermaticVersion": "v2.29.0", "lastHeartbeatTime": "2026-12-01T00:00:00Z",
        }}},
    }));
    put_etcd(fake, &ns);
    fake.change("apps/v1", "StatefulSet", Some(&ns), "etcd", |s| {
        s["status"] = json!({"replicas": 3, "readyReplicas": 3});
    });
    let listed: Vec<Value> = backups
        .iter()
        .map(|b| {
            json!({
                "backupName": b.name, "backupPhase": b.phase, "deletePhase": b.delete_phase,
                "backupFinishedTime": b.finished, "scheduledTime": b.finished,
            })
        })
        .collect();
    fake.put(json!({
        "apiVersion": KKP, "kind": "EtcdBackupConfig",
        "metadata": {"name": "default-backups", "namespace": ns},
        "spec": {
            "name": "default-backups", "schedule": "@every 20m", "keep": 20, "destination": "minio",
            "cluster": {"apiVersion": KKP, "kind": "Cluster", "name": id},
        },
        "status": {"currentBackups": listed, "conditions": {"SchedulingActive": {"status": "True"}}},
    }));
}

/// The seed's S3 credentials, which nothing drbook shows may contain.
pub const SEED_ACCESS_KEY: &str = "kkp-seed-access-key-3141";
pub const SEED_SECRET_KEY: &str = "kkp-seed-secret-key-2718";

/// Waits (at most 30 s) until `holds` is true of the fake, checking after every change:
/// how a test waits for the controller to reach a state without sleeping.
pub fn wait_until(fake: &Handle, what: &str, holds: impl Fn(&Handle) -> bool) {
    let mut changes = fake.subscribe();
    let reached = fake.runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while !holds(fake) {
                if let Err(tokio::sync::broadcast::error::RecvError::Closed) = changes.recv().await
                {
                    return;
                }
            }
        })
        .await
    });
    assert!(reached.is_ok(), "within 30 s: {what}");
}

/// The phase of an EtcdRestore now (empty without a status; `None` without the object).
pub fn restore_phase(fake: &Handle, namespace: &str, name: &str) -> Option<String> {
    fake.object(KKP, "EtcdRestore", Some(namespace), name)
        .map(|r| text(&r, "/status/phase").to_string())
}

/// Runs `act`, then records every EtcdRestore phase change as `(name, phase)` in the
/// order the fake committed them, until `done` holds of the record (at most 30 s).
pub fn phases_after(
    fake: &Handle,
    act: impl FnOnce(),
    done: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let mut changes = fake.subscribe();
    act();
    let mut seen: Vec<(String, String)> = Vec::new();
    let finished = fake.runtime.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while !done(&seen) {
                let Ok(change) = changes.recv().await else {
                    return;
                };
                if change.key.resource != "etcdrestores.kubermatic.k8c.io" {
                    continue;
                }
                let entry = (
                    change.key.name.clone(),
                    text(&change.object, "/status/phase").to_string(),
                );
                if seen.iter().rev().find(|(n, _)| *n == entry.0) != Some(&entry) {
                    seen.push(entry);
                }
            }
        })
        .await
    });
    assert!(
        finished.is_ok(),
        "the phases did not get there within 30 s: {seen:?}"
    );
    seen
}
