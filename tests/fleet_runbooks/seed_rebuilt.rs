//! S5 (`runbooks/kkp/seed-rebuilt.yaml`) as an unattended drill against the fake seed,
//! its Velero server and its KKP controller: the seed's objects (here the clusters' CA
//! Secrets, lost before the drill) come back from the seed's Velero backup with the
//! storage location ReadOnly meanwhile; the inject pauses every cluster and stops its
//! etcd; the recovery restores each cluster's newest backup through its own EtcdRestore,
//! a bounded number at a time, and verifies every etcd Ready. A cluster whose backup is
//! gone from the bucket fails alone, a cluster whose CA did not come back is not
//! restored, and both are named at the end; the RPO is the Velero backup's age, the
//! oldest restored point.

use serde_json::Value;

use super::{
    SEED_BACKUP, SEED_BACKUP_MINUTES, assert_no_secret, ca_secret, drill, finished, put_cluster,
    put_fleet, put_velero,
};
use crate::support::Drbook;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::kkp::Kkp;

pub(super) const RUNBOOK: &str = "runbooks/kkp/seed-rebuilt.yaml";
pub(super) const ANSWERS: &str = "declare: true\napprove_seed: true\napprove: true\nowners: true\nsign_off: drill DR-9, seed rebuilt\n";
const KKP: &str = "kubermatic.k8c.io/v1";

/// What the seed holds after the drill, per cluster: (EtcdRestores, how many of them
/// Completed, paused, etcd's `spec.replicas`, etcd members ready).
pub(super) fn left_on_seed(fake: &FakeKube, id: &str) -> (usize, usize, bool, u64, u64) {
    let ns = format!("cluster-{id}");
    let restores = fake.list(KKP, "EtcdRestore", Some(&ns));
    let completed = restores
        .iter()
        .filter(|r| r["status"]["phase"] == "Completed")
        .count();
    let cluster = fake.object(KKP, "Cluster", None, id).unwrap();
    let etcd = fake
        .object("apps/v1", "StatefulSet", Some(&ns), "etcd")
        .unwrap();
    (
        restores.len(),
        completed,
        cluster["spec"]["pause"].as_bool().unwrap_or(false),
        etcd["spec"]["replicas"].as_u64().unwrap_or(0),
        etcd["status"]["readyReplicas"].as_u64().unwrap_or(0),
    )
}

/// The seed's Velero backup holds the CA of every cluster of `with_ca`.
pub(super) fn put_seed_backup(fake: &FakeKube, with_ca: &[String]) {
    put_velero(fake, with_ca.iter().map(|id| ca_secret(id)).collect());
}

/// What Velero left on the seed: the Restores (name and phase) and the storage
/// location's access mode.
pub(super) fn velero_left(fake: &FakeKube) -> (Vec<String>, String) {
    let restores = fake
        .list("velero.io/v1", "Restore", Some("velero"))
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["metadata"]["name"].as_str().unwrap(),
                r["status"]["phase"].as_str().unwrap()
            )
        })
        .collect();
    let bsl = fake
        .object(
            "velero.io/v1",
            "BackupStorageLocation",
            Some("velero"),
            "default",
        )
        .unwrap();
    (
        restores,
        bsl["spec"]["accessMode"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn the_s5_drill_restores_the_seed_then_every_user_cluster_and_names_those_it_could_not() {
    let fake = FakeKube::start(401);
    let mut clusters = put_fleet(&fake, 3, 5);
    // One more cluster whose newest backup is listed but gone from the bucket: KKP says
    // so only in an event, and its restore stalls.
    put_cluster(&fake, "fleetlost", 7);
    clusters.push("fleetlost".into());
    // And one whose CA the seed's Velero backup does not hold.
    put_cluster(&fake, "fleetnoca", 5);
    put_seed_backup(&fake, &clusters);
    clusters.push("fleetnoca".into());
    let config = fake
        .object(
            KKP,
            "EtcdBackupConfig",
            Some("cluster-fleetlost"),
            "default-backups",
        )
        .unwrap();
    let lost = config["status"]["currentBackups"][1]["backupName"]
        .as_str()
        .unwrap()
        .to_string();
    Kkp::new().lost_backup(&lost).start(&fake);
    let f = Drbook::new();
    let targets = fake.drill_targets(f.path());
    let ran = drill(
        f.targets(&targets),
        RUNBOOK,
        "s5",
        ANSWERS,
        &["stall_after=2s".into()],
    );
    ran.assert_code(1, "the S5 drill with one lost backup and one lost CA");
    let events = ran.events();

    // The seed's objects came back first, from the backup before the drill declared.
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert_eq!(
        velero_left(&fake),
        (
            vec!["drbook-s5-seed-restore Completed".to_string()],
            "ReadWrite".to_string()
        )
    );
    for id in &clusters[..4] {
        let ca = fake
            .object("v1", "Secret", Some(&format!("cluster-{id}")), "ca")
            .unwrap_or_else(|| panic!("the CA of {id} is back"));
        assert_eq!(
            ca["metadata"]["labels"]["velero.io/backup-name"],
            SEED_BACKUP
        );
    }
    assert!(said.contains(SEED_BACKUP), "{said}");

    let restores = finished(&events, "restore");
    assert_eq!(
        restores.len(),
        4,
        "fleetnoca is not restored: {restores:#?}"
    );
    let failed: Vec<&&Value> = restores
        .iter()
        .filter(|e| e["outcome"]["result"] != "succeeded")
        .collect();
    assert_eq!(failed.len(), 1, "{restores:#?}");
    assert!(
        said.contains("3 of 5 user clusters restored and Ready"),
        "{said}"
    );
    assert!(
        said.contains("not restored (run scenario S1 for each): fleetlost fleetnoca"),
        "{said}"
    );
    assert!(
        said.contains(
            "CA missing (restore it from the seed's backup, then run scenario S1): fleetnoca"
        ),
        "{said}"
    );
    assert!(said.contains("The specified key does not exist"), "{said}");

    for id in &clusters {
        let left = left_on_seed(&fake, id);
        match id.as_str() {
            // One EtcdRestore, never deleted, still waiting; the inject's pause and
            // stopped etcd stay, as KKP never started (the fake has no StatefulSet
            // controller, so its status still says what it said before the inject).
            "fleetlost" => assert_eq!(left, (1, 0, true, 0, 3), "{id}"),
            // No EtcdRestore at all: without its CA the cluster stays as the inject left it.
            "fleetnoca" => assert_eq!(left, (0, 0, true, 0, 3), "{id}"),
            _ => assert_eq!(left, (1, 1, false, 3, 3), "{id}"),
        }
    }
    // The RPO is the oldest restored point: the seed's Velero backup.
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "run_finished");
    let rpo_ms = finish["achieved"]["rpo_ms"].as_u64().expect("an RPO");
    let backup_ms = (SEED_BACKUP_MINUTES * 60_000) as u64;
    assert!(
        (backup_ms..backup_ms + 120_000).contains(&rpo_ms),
        "RPO {rpo_ms} ms, the Velero backup completed {backup_ms} ms before the drill"
    );
    assert_no_secret(&ran);
}
