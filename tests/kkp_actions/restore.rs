//! `kkp.etcd.restore` through the library API: a clean restore (what the operator sees,
//! what is left on the seed), failures KKP reports only as events (surfaced, failing at
//! `stall_after`), the pre-checks that refuse with nothing created, and a second attempt
//! of the same step following the EtcdRestore the first created.

use serde_json::{Value, json};

use super::{CLUSTER, KKP, NAMESPACE, NEWEST, NEWEST_FINISHED, Seed, said};
use crate::support::fake_kube::kkp::Kkp;

/// The name the action gives its EtcdRestore in these tests (run `test-run`, step `test`).
const RESTORE: &str = "drbook-test-run-test";

fn params() -> Value {
    json!({"cluster": CLUSTER, "backup": NEWEST, "destination": "minio"})
}

fn uids(seed: &Seed) -> Vec<Value> {
    seed.fake
        .list("v1", "PersistentVolumeClaim", Some(NAMESPACE))
        .iter()
        .map(|p| p["metadata"]["uid"].clone())
        .collect()
}

#[test]
fn a_clean_restore_is_followed_to_completed_and_leaves_the_cluster_running() {
    let seed = Seed::start(71);
    let volumes_before = uids(&seed);
    let kkp = Kkp::new().holding_etcd().start(&seed.fake);
    let (out, lines) = std::thread::scope(|s| {
        let running = s.spawn(|| seed.ok("kkp.etcd.restore", params()));
        // The restore, its Cluster and its events are watched: let etcd come up.
        seed.fake.wait_for_watches(3);
        kkp.release_etcd();
        running.join().unwrap()
    });
    assert_eq!(out["name"], RESTORE);
    assert_eq!(out["namespace"], NAMESPACE);
    assert_eq!(out["phase"], "Completed");
    assert_eq!(out["backup"], NEWEST);
    assert_eq!(out["restored_point"], NEWEST_FINISHED);
    let cluster = seed.cluster();
    let restarted = cluster["metadata"]["annotations"]["kubermatic.k8c.io/last-restart"]
        .as_str()
        .unwrap();
    assert_eq!(out["last_restart"], restarted);

    // What the operator saw, in order.
    let position = |text: &str| {
        lines
            .iter()
            .position(|l| l.contains(text))
            .unwrap_or_else(|| panic!("`{text}` was not said: {lines:#?}"))
    };
    let created = position(&format!(
        "created EtcdRestore `{NAMESPACE}/{RESTORE}` for backup {NEWEST} (destination minio, finished {NEWEST_FINISHED})"
    ));
    let rebuilding = position(
        "EtcdRestore phase = StsRebuilding (the etcd StatefulSet and its volumes are deleted",
    );
    let unpaused = position(&format!(
        "KKP unpaused cluster {CLUSTER} (spec.pause: false)"
    ));
    let initialized = position(&format!(
        "Cluster {CLUSTER} condition EtcdClusterInitialized = True"
    ));
    let completed =
        position("EtcdRestore phase = Completed (etcd is restored; KKP rolls the control plane)");
    let restart = position(&format!(
        "KKP set kubermatic.k8c.io/last-restart = {restarted} on cluster {CLUSTER}"
    ));
    // The restore and the Cluster are two watches: their lines interleave as they come.
    assert!(
        created < rebuilding && rebuilding < completed && created < initialized,
        "{lines:#?}"
    );
    assert!(unpaused < completed && restart > created, "{lines:#?}");
    assert!(!said(&lines, "paused by an operator"), "{lines:#?}");

    // What is left on the seed.
    let restores = seed.restores();
    assert_eq!(restores.len(), 1, "exactly one EtcdRestore");
    let restore = &restores[0];
    assert_eq!(restore["status"]["phase"], "Completed");
    assert_eq!(restore["metadata"]["finalizers"], json!([]));
    assert_eq!(restore["spec"]["name"], RESTORE);
    assert_eq!(
        restore["spec"]["cluster"],
        json!({"apiVersion": KKP, "kind": "Cluster", "name": CLUSTER})
    );
    assert!(
        restore["spec"]["backupDownloadCredentialsSecret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{RESTORE}-backupdownload-")),
        "KKP rewrote the spec: {restore}"
    );
    assert_eq!(cluster["spec"]["pause"], false);
    assert!(cluster["metadata"]["annotations"]["kubermatic.k8c.io/active-restore"].is_null());
    assert_eq!(
        cluster["status"]["conditions"]["EtcdClusterInitialized"]["status"],
        "True"
    );
    assert!(
        seed.fake
            .object("apps/v1", "StatefulSet", Some(NAMESPACE), "etcd")
            .is_some()
    );
    let volumes_after = uids(&seed);
    assert_eq!(volumes_after.len(), 3);
    assert!(
        volumes_after.iter().all(|u| !volumes_before.contains(u)),
        "etcd got new volumes"
    );
    assert_eq!(
        seed.fake.api_writes(),
        1,
        "drbook wrote only the EtcdRestore"
    );
}

#[test]
fn an_operators_pause_is_warned_about_and_the_unpause_is_said() {
    let seed = Seed::start(72);
    seed.change_cluster(|c| c["spec"]["pause"] = json!(true));
    Kkp::new().start(&seed.fake);
    let (_, lines) = seed.ok("kkp.etcd.restore", params());
    assert!(
        said(
            &lines,
            &format!(
                "cluster {CLUSTER} is paused (spec.pause: true), apparently by an operator: KKP unpauses it unconditionally"
            )
        ),
        "{lines:#?}"
    );
    assert!(
        said(
            &lines,
            &format!(
                "KKP unpaused cluster {CLUSTER} (spec.pause: false): it had been paused by an operator before the restore"
            )
        ),
        "{lines:#?}"
    );
    assert_eq!(
        seed.cluster()["spec"]["pause"],
        false,
        "KKP unpaused it, as the real one does"
    );
}

#[test]
fn launcher_disabled_under_kkp_is_surfaced_from_events_and_fails_at_stall_after() {
    let seed = Seed::start(73);
    // Switched off between drbook's check and KKP's reconcile: KKP says it only as an event.
    Kkp::new()
        .before_first_reconcile(|fake| {
            fake.change(KKP, "Cluster", None, CLUSTER, |c| {
                c["spec"]["features"]["etcdLauncher"] = json!(false)
            });
        })
        .start(&seed.fake);
    let (error, lines) = seed.refused(
        "kkp.etcd.restore",
        json!({"cluster": CLUSTER, "backup": NEWEST, "destination": "minio", "stall_after": "2s"}),
    );
    let kkp_said = format!("ReconcilingError: etcdLauncher not enabled on cluster: \"{CLUSTER}\"");
    assert!(
        said(&lines, &format!("warning from KKP {kkp_said}")),
        "{lines:#?}"
    );
    assert_eq!(
        error,
        format!(
            "EtcdRestore `{NAMESPACE}/{RESTORE}` has not moved from no status (KKP has not started it) for 2s; KKP reports failures only as events, and it reported: {kkp_said}. The EtcdRestore is left in place: fix the cause, then run the step again (it follows the same EtcdRestore; KKP retries by itself)"
        )
    );
    // Nothing was touched: no status, no pause, no mutex, etcd as it was.
    let restores = seed.restores();
    assert_eq!(restores.len(), 1);
    assert!(restores[0]["status"].is_null(), "{}", restores[0]);
    let cluster = seed.cluster();
    assert_eq!(cluster["spec"]["pause"], false);
    assert!(cluster["metadata"]["annotations"]["kubermatic.k8c.io/active-restore"].is_null());
    assert_eq!(
        seed.fake
            .list("v1", "PersistentVolumeClaim", Some(NAMESPACE))
            .len(),
        3
    );
}

#[test]
fn a_backup_missing_in_the_bucket_is_surfaced_from_events() {
    let seed = Seed::start(74);
    Kkp::new().lost_backup(NEWEST).start(&seed.fake);
    let (error, lines) = seed.refused(
        "kkp.etcd.restore",
        json!({"cluster": CLUSTER, "backup": NEWEST, "destination": "minio", "stall_after": "1s"}),
    );
    let kkp_said = format!(
        "could not access backup object {CLUSTER}-{NEWEST}: The specified key does not exist."
    );
    assert!(said(&lines, &kkp_said), "{lines:#?}");
    assert!(
        error.contains(&format!("it reported: ReconcilingError: {kkp_said}")),
        "{error}"
    );
}

#[test]
fn another_restore_holding_the_cluster_is_named_and_nothing_is_created() {
    let seed = Seed::start(75);
    seed.change_cluster(|c| {
        c["metadata"]["annotations"]["kubermatic.k8c.io/active-restore"] =
            json!(format!("{NAMESPACE}/restore-by-alice"));
    });
    Kkp::new().start(&seed.fake);
    let (error, _) = seed.refused("kkp.etcd.restore", params());
    assert_eq!(
        error,
        format!(
            "another restore holds user cluster `{CLUSTER}`: its annotation kubermatic.k8c.io/active-restore names EtcdRestore `{NAMESPACE}/restore-by-alice`; KKP runs one restore per cluster and would queue this one behind it. Let `{NAMESPACE}/restore-by-alice` finish (`kubectl -n {NAMESPACE} get etcdrestore restore-by-alice -w`), then run the step again; nothing was created"
        )
    );
    assert!(seed.restores().is_empty());
    assert_eq!(seed.fake.api_writes(), 0);
}

#[test]
fn the_pre_checks_refuse_before_anything_is_created() {
    let seed = Seed::start(76);
    let refused = |params: Value| {
        let (error, _) = seed.refused("kkp.etcd.restore", params);
        assert!(seed.restores().is_empty(), "{error}");
        error
    };
    let error = refused(json!({"cluster": CLUSTER, "backup": NEWEST, "destination": "s3"}));
    assert_eq!(
        error,
        "Seed `europe-west` has no backup destination `s3` (spec.etcdBackupRestore.destinations has: minio); KKP would only report this as an event and never start: give `destination` one of those names"
    );
    let error = refused(
        json!({"cluster": CLUSTER, "backup": "default-backups-2026-12-07t00-40-00.db.gz", "destination": "minio"}),
    );
    assert_eq!(
        error,
        format!(
            "backup `default-backups-2026-12-07t00-40-00.db.gz` is not restorable in `{NAMESPACE}`: EtcdBackupConfig `default-backups` lists it with backupPhase `Completed` and deletePhase `Completed` (restorable: Completed and none); restorable backups: default-backups-2026-12-07t01-00-00.db.gz, {NEWEST}"
        )
    );
    let error =
        refused(json!({"cluster": CLUSTER, "backup": "typo.db.gz", "destination": "minio"}));
    assert!(
        error.contains(&format!("no EtcdBackupConfig in `{NAMESPACE}` lists it")),
        "{error}"
    );
    seed.change_cluster(|c| c["spec"]["features"]["etcdLauncher"] = json!(false));
    let error = refused(params());
    assert!(
        error.starts_with(&format!(
            "user cluster `{CLUSTER}` does not have etcd-launcher enabled"
        )),
        "{error}"
    );
    seed.fake
        .change(KKP, "Seed", Some("kubermatic"), "europe-west", |s| {
            s["spec"]["etcdBackupRestore"]["destinations"] = json!({})
        });
    let error = refused(params());
    assert!(
        error.starts_with("Seed `europe-west` has no backup destinations"),
        "{error}"
    );
    assert_eq!(seed.fake.api_writes(), 0);
}

#[test]
fn a_second_attempt_of_the_step_follows_the_restore_the_first_created() {
    let seed = Seed::start(77);
    Kkp::new().start(&seed.fake);
    let (first, _) = seed.ok("kkp.etcd.restore", params());
    let (again, lines) = seed.ok("kkp.etcd.restore", params());
    assert_eq!(first["name"], again["name"]);
    assert_eq!(again["phase"], "Completed");
    assert_eq!(again["restored_point"], NEWEST_FINISHED);
    assert!(
        said(
            &lines,
            &format!(
                "found EtcdRestore `{NAMESPACE}/{RESTORE}`, created by an earlier attempt of this step (Completed); following it instead of creating another"
            )
        ),
        "{lines:#?}"
    );
    assert_eq!(seed.restores().len(), 1);
    assert_eq!(seed.fake.api_writes(), 1);
    let (error, _) = seed.refused("kkp.etcd.restore", json!({"cluster": CLUSTER, "backup": "default-backups-2026-12-07t01-00-00.db.gz", "destination": "minio"}));
    assert!(error.starts_with(&format!("EtcdRestore `{NAMESPACE}/{RESTORE}`, which an earlier attempt of this step created, restores backup `{NEWEST}`, not `default-backups-2026-12-07t01-00-00.db.gz`")), "{error}");
}
