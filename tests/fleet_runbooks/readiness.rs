//! S9 (`runbooks/kkp/backup-readiness.yaml`) as an unattended drill against the fake
//! seed: every user cluster's newest etcd backup is held to its age and its config to
//! `SchedulingActive`, Velero's schedules and storage locations are checked, and each
//! etcd tier is proven restorable: the newest backup of the first user cluster from a
//! real S3 server, and the master/seed snapshot the KubeOne addon backed up with real
//! restic (its PKI checked too), each restored into a real throwaway etcd and its keys
//! counted; the RPO of each layer is said; and a stale backup, a config that stopped
//! scheduling, a paused Velero schedule or an Unavailable storage location fails the
//! run, naming what failed, after every check ran.

use std::io::Write;

use serde_json::json;

use super::{
    SECRETS, SEED_BACKUP, SEED_BACKUP_MINUTES, assert_no_secret, drill, finished, minutes_ago,
    outputs, put_cluster, put_fleet, put_velero,
};
use crate::support::Drbook;
use crate::support::etcd::EtcdCluster;
use crate::support::fake_kube::FakeKube;
use crate::support::pki::Pki;
use crate::support::restic::restic;
use crate::support::s3::S3Server;

const RUNBOOK: &str = "runbooks/kkp/backup-readiness.yaml";
const KKP: &str = "kubermatic.k8c.io/v1";

/// A real etcd snapshot holding `keys` Kubernetes-like keys, gzip'd as KKP stores it.
fn kkp_snapshot(dir: &std::path::Path, keys: usize) -> Vec<u8> {
    let root = dir.join("source");
    std::fs::create_dir_all(&root).unwrap();
    let etcd = EtcdCluster::start(&root, 1);
    etcd.load("/registry/configmaps/shop", keys);
    let file = dir.join("snapshot.db");
    etcd.etcdctl(&["snapshot", "save", file.to_str().unwrap()])
        .expect("snapshot save");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&file).unwrap()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn the_s9_drill_checks_every_cluster_and_proves_the_newest_backup_restores() {
    let fake = FakeKube::start(301);
    let clusters = put_fleet(&fake, 3, 5);
    put_velero(&fake, Vec::new());
    let f = Drbook::new();
    let work = tempfile::TempDir::new().unwrap();

    // The seed's bucket holds the first cluster's newest backup, a real etcd snapshot.
    let s3 = S3Server::start();
    s3.create_bucket("kkpbackup");
    let config = fake
        .object(
            KKP,
            "EtcdBackupConfig",
            Some("cluster-fleet00000"),
            "default-backups",
        )
        .unwrap();
    let newest = config["status"]["currentBackups"][1]["backupName"]
        .as_str()
        .unwrap()
        .to_string();
    s3.put(
        "kkpbackup",
        &format!("{}-{newest}", clusters[0]),
        &kkp_snapshot(work.path(), 40),
    );

    // The master/seed tier: the addon's directory (an etcd snapshot and the eight
    // shared PKI files) backed up with restic into the same S3 server.
    s3.create_bucket("kubermatic-master-backups");
    let repository = format!("s3:{}/kubermatic-master-backups", s3.endpoint());
    let backup = work.path().join("addon/backup");
    std::fs::create_dir_all(&backup).unwrap();
    Pki::kubeone_backup(&backup.join("pki"));
    let master_root = work.path().join("master");
    std::fs::create_dir_all(&master_root).unwrap();
    let master = EtcdCluster::start(&master_root, 1);
    master.load("/registry/namespaces/", 25);
    let snapshot = backup.join("etcd-snapshot.db");
    master
        .etcdctl(&["snapshot", "save", snapshot.to_str().unwrap()])
        .expect("snapshot save");
    drop(master);
    let password = SECRETS
        .iter()
        .find(|(k, _)| *k == "RESTIC_PASSWORD")
        .unwrap()
        .1;
    restic(&repository, password, &["init"]);
    let path = backup.to_str().unwrap();
    restic(
        &repository,
        password,
        &["backup", "--tag", "etcd", "--host", "cp-0", path],
    );

    let targets = fake.drill_targets(f.path());
    let ran = drill(
        f.targets(&targets),
        RUNBOOK,
        "s9",
        "review: none\n",
        &[
            format!("etcd_endpoint={}", s3.endpoint()),
            "etcd_bucket=kkpbackup".into(),
            format!("restic_repository={repository}"),
            format!("restic_path={path}"),
        ],
    );
    ran.assert_code(0, "the S9 drill");
    let events = ran.events();

    assert_eq!(outputs(&events, "clusters")["names"], json!(clusters));
    for step in ["etcd_backups", "etcd_scheduling", "etcd_age"] {
        let items = finished(&events, step);
        assert_eq!(items.len(), 3, "{step}: {items:#?}");
        assert!(
            items.iter().all(|e| e["outcome"]["result"] == "succeeded"),
            "{step}: {items:#?}"
        );
    }
    // The newest backup finished 5 minutes ago: that is each cluster's RPO now.
    for item in finished(&events, "etcd_age") {
        let age = item["outcome"]["outputs"]["age_seconds"].as_u64().unwrap();
        assert!((300..400).contains(&age), "{item}");
    }
    // The proof: the downloaded backup restored into an etcd that holds its keys.
    let sample = outputs(&events, "sample_backup");
    assert_eq!(sample["backup"], newest.as_str());
    let reads: Vec<(String, String)> = finished(&events, "sample_read")
        .iter()
        .map(|e| {
            let o = &e["outcome"]["outputs"];
            (
                o["TIER"].as_str().unwrap().to_string(),
                o["REGISTRY_KEYS"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert!(
        reads.contains(&("user-cluster".into(), "40".into())),
        "{reads:?}"
    );
    assert!(
        reads.contains(&("master/seed".into(), "25".into())),
        "{reads:?}"
    );
    let rpo = outputs(&events, "rpo");
    assert_eq!(rpo["ETCD_FRESH"], "3");
    let restic_age = rpo["RESTIC"].as_str().unwrap();
    assert!(
        !restic_age.contains("FAILED") && !restic_age.contains("skipped"),
        "{restic_age}"
    );
    let velero = rpo["VELERO"].as_str().unwrap();
    assert!(
        velero.starts_with(
            "1 of 1 schedules have a Completed backup within policy; worst RPO now: 45m "
        ) && velero.ends_with(&format!("(the newest Velero backup {SEED_BACKUP})")),
        "{velero}"
    );
    assert_eq!(outputs(&events, "velero_latest")["name"], SEED_BACKUP);
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        said.contains(
            "user-cluster etcd: 3 of 3 clusters have a backup within policy; worst RPO now: 5m"
        ),
        "{said}"
    );
    assert!(
        said.contains(&format!("test restore (user cluster): {newest} restored: ")),
        "{said}"
    );
    assert!(
        said.contains("velero storage locations: 1 of 1 Available"),
        "{said}"
    );
    let short_id = outputs(&events, "restic_newest")["short_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        said.contains(&format!(
            "test restore (master/seed): snapshot {short_id} restored: "
        )) && said.contains("25 under /registry/; its PKI is complete (CA "),
        "{said}"
    );
    assert!(
        said.contains("every checked layer is within policy"),
        "{said}"
    );
    // The run's RPO is the worst layer's, if disaster struck now: the Velero backup,
    // older than every etcd backup and the restic snapshot.
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "run_finished");
    let rpo_ms = finish["achieved"]["rpo_ms"].as_u64().expect("an RPO");
    let velero_ms = (SEED_BACKUP_MINUTES * 60_000) as u64;
    assert!(
        (velero_ms..velero_ms + 120_000).contains(&rpo_ms),
        "{finish}"
    );
    assert_no_secret(&ran);
    // Nothing changed on the seed: no restore, no new backup config.
    assert!(fake.list(KKP, "EtcdRestore", None).is_empty());
    assert_eq!(fake.list(KKP, "EtcdBackupConfig", None).len(), 3);
}

#[test]
fn the_s9_drill_fails_naming_a_stale_backup_and_a_config_that_stopped_scheduling() {
    let fake = FakeKube::start(302);
    put_fleet(&fake, 2, 5);
    put_cluster(&fake, "fleetstale", 90);
    // Velero: a second schedule that was paused three hours ago, and an off-site
    // storage location that lost its credentials.
    put_velero(&fake, Vec::new());
    fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "Schedule",
        "metadata": {"name": "velero-daily-seed", "namespace": "velero"},
        "spec": {"schedule": "@every 24h", "paused": true, "template": {"includedNamespaces": ["*"]}},
        "status": {"phase": "Enabled", "lastBackup": minutes_ago(180)},
    }));
    fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": "velero-daily-seed-20261207000000", "namespace": "velero",
                     "labels": {"velero.io/schedule-name": "velero-daily-seed"}},
        "spec": {"storageLocation": "default"},
        "status": {"phase": "Completed", "completionTimestamp": minutes_ago(180), "expiration": minutes_ago(-600)},
    }));
    fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
        "metadata": {"name": "offsite", "namespace": "velero"},
        "spec": {"provider": "aws", "objectStorage": {"bucket": "offsite"}},
        "status": {"phase": "Unavailable", "message": "NoCredentialProviders"},
    }));
    fake.change(
        KKP,
        "EtcdBackupConfig",
        Some("cluster-fleet00001"),
        "default-backups",
        |c| {
            c["status"]["conditions"]["SchedulingActive"] =
                json!({"status": "False", "reason": "TooManyBackups"});
        },
    );
    let f = Drbook::new();
    let targets = fake.drill_targets(f.path());
    let ran = drill(
        f.targets(&targets),
        RUNBOOK,
        "s9-stale",
        "review: none\n",
        &[],
    );
    ran.assert_code(1, "the S9 drill with a stale backup");
    let events = ran.events();

    // Every cluster was still checked.
    let ages = finished(&events, "etcd_age");
    assert_eq!(ages.len(), 3);
    let stale: Vec<_> = ages
        .iter()
        .filter(|e| e["outcome"]["result"] != "succeeded")
        .collect();
    assert_eq!(stale.len(), 1, "{ages:#?}");
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        said.contains("the newest etcd backup of cluster-fleetstale"),
        "{said}"
    );
    assert!(said.contains("older than the allowed 40m"), "{said}");
    assert!(
        said.contains("not ready; 1 clusters' newest etcd backup is too old; 1 configs no longer schedule backups; 1 Velero schedules have no Completed backup within policy; Velero schedules paused: velero-daily-seed; storage locations not Available: offsite: see the failed steps above"),
        "{said}"
    );
    // The backup that expires within a day is warned about.
    assert!(said.contains("velero-daily-seed-20261207000000"), "{said}");
    assert!(
        said.contains("worst RPO now: 5m"),
        "the stale backup is a failure, not the worst RPO: {said}"
    );
    assert!(
        said.contains("test restore (user cluster): skipped (no bucket given)"),
        "{said}"
    );
}
