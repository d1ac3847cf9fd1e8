//! The fleet-level KKP runbooks against the fake seed with many user clusters: S9
//! (`runbooks/kkp/backup-readiness.yaml`) as an unattended drill, with a real test
//! restore of a KKP etcd backup from a real S3 server (moto) into a real etcd, and
//! failing, naming the clusters, when a backup is too old or no longer scheduled; S5's
//! (`runbooks/kkp/seed-rebuilt.yaml`) restoring the seed's objects through the fake Velero
//! server and then every cluster's etcd through the fake KKP controller; and both over
//! 200 user clusters, timed (`scale`).

mod readiness;
mod scale;
mod seed_rebuilt;
mod staging_drill;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::support::Drbook;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::kkp::{Listed, put_seed};
use crate::support::fake_kube::velero::{Ending, Script, start_velero};
use crate::support::step_outputs as outputs;

/// The id of user cluster `n` of a fleet (KKP ids are 10 lowercase characters).
fn cluster_id(n: usize) -> String {
    format!("fleet{n:05}")
}

/// An RFC 3339 time `minutes` before now, to the second.
fn minutes_ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// KKP's name for a scheduled backup taken at `time` (`2026-12-07T03:00:00Z`).
fn backup_name(time: &str) -> String {
    let stamp = time.trim_end_matches('Z').replace(':', "-").to_lowercase();
    format!("default-backups-{stamp}.db.gz")
}

/// Puts `count` user clusters on the fake seed, each with two restorable backups that
/// finished `newest_minutes` and `newest_minutes + 20` minutes ago; returns their ids.
fn put_fleet(fake: &FakeKube, count: usize, newest_minutes: i64) -> Vec<String> {
    (0..count)
        .map(|n| {
            let id = cluster_id(n);
            put_cluster(fake, &id, newest_minutes);
            id
        })
        .collect()
}

/// One user cluster whose newest backup finished `newest_minutes` ago.
fn put_cluster(fake: &FakeKube, id: &str, newest_minutes: i64) {
    let times = [
        minutes_ago(newest_minutes + 20),
        minutes_ago(newest_minutes),
    ];
    let names: Vec<String> = times.iter().map(|t| backup_name(t)).collect();
    let listed: Vec<Listed> = times
        .iter()
        .zip(&names)
        .map(|(time, name)| Listed {
            name,
            phase: "Completed",
            delete_phase: "",
            finished: Some(time),
        })
        .collect();
    put_seed(fake, id, &listed);
}

/// The secrets S9 declares, as canaries nothing drbook writes may contain.
const SECRETS: &[(&str, &str)] = &[
    ("BACKUP_ACCESS_KEY", "fleet-canary-access-5e1d"),
    ("BACKUP_SECRET_KEY", "fleet-canary-secret-9a7c"),
    ("RESTIC_PASSWORD", "fleet-canary-restic-2b4f"),
    ("OFFSITE_ACCESS_KEY", "fleet-canary-offsite-a-71e0"),
    ("OFFSITE_SECRET_KEY", "fleet-canary-offsite-s-33c8"),
];

/// `drbook drill` of a shipped runbook against `staging`, answers and inputs given.
fn drill(
    f: Drbook,
    runbook: &str,
    run_id: &str,
    answers: &str,
    inputs: &[String],
) -> crate::support::Ran {
    let path = crate::support::repo_root().join(runbook);
    let mut args: Vec<String> = [
        "drill",
        path.to_str().unwrap(),
        "--target",
        "staging",
        "--answers",
        "answers.yaml",
        "--run-id",
        run_id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for input in inputs {
        args.push("-i".into());
        args.push(input.clone());
    }
    // A config that stopped scheduling is found when S9's 30 s wait for it ends.
    f.answers(answers)
        .envs(SECRETS)
        .limit(std::time::Duration::from_secs(120))
        .args(args)
        .run()
}

/// Every finished instance of `step` (one per `foreach` item), as journal events.
fn finished<'a>(events: &[&'a Value], step: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == "step_finished" && e["step"] == step)
        .copied()
        .collect()
}

/// Fails the test when a secret shows in what drbook printed or recorded.
fn assert_no_secret(ran: &crate::support::Ran) {
    let everything = format!("{}{}{:?}", ran.stdout, ran.stderr, ran.journal);
    assert!(!everything.contains(CA_KEY), "a CA key leaked");
    for (_, secret) in SECRETS {
        assert!(!everything.contains(secret), "a secret leaked: {secret}");
    }
}

/// The name of the seed's Velero backup the tests put, and how long ago it completed.
const SEED_BACKUP: &str = "velero-hourly-cluster-20261207030000";
const SEED_BACKUP_MINUTES: i64 = 45;

/// Velero on the fake seed: namespace `velero`, storage location `default` (Available,
/// synced), Schedule `velero-hourly-cluster` (Enabled) with one Completed backup that
/// finished `SEED_BACKUP_MINUTES` ago, and the fake Velero server, which restores
/// `contents`.
fn put_velero(fake: &FakeKube, contents: Vec<Value>) {
    fake.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}}));
    fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "Schedule",
        "metadata": {"name": "velero-hourly-cluster", "namespace": "velero"},
        "spec": {"schedule": "@every 1h", "template": {"includedNamespaces": ["*"], "ttl": "720h0m0s"}},
        "status": {"phase": "Enabled", "lastBackup": minutes_ago(SEED_BACKUP_MINUTES + 2)},
    }));
    fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
        "metadata": {"name": "default", "namespace": "velero"},
        "spec": {"provider": "aws", "accessMode": "ReadWrite",
                 "objectStorage": {"bucket": "velero-backups", "prefix": "seed"},
                 "config": {"region": "us-east-1", "s3Url": "http://127.0.0.1:9", "s3ForcePathStyle": "true"}},
        "status": {"phase": "Available", "lastSyncedTime": minutes_ago(1)},
    }));
    fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "Backup",
        "metadata": {"name": SEED_BACKUP, "namespace": "velero",
                     "labels": {"velero.io/schedule-name": "velero-hourly-cluster"}},
        "spec": {"storageLocation": "default", "includedNamespaces": ["*"]},
        "status": {"phase": "Completed", "startTimestamp": minutes_ago(SEED_BACKUP_MINUTES + 2),
                   "completionTimestamp": minutes_ago(SEED_BACKUP_MINUTES),
                   "expiration": (Utc::now() + Duration::days(30)).to_rfc3339_opts(SecondsFormat::Secs, true)},
    }));
    let mut script = Script::ending(Ending::Completed);
    script.contents = contents;
    start_velero(fake, script);
}

/// The Secret `ca` of user cluster `id`, as the seed's Velero backup holds it.
fn ca_secret(id: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "ca", "namespace": format!("cluster-{id}")},
        "type": "Opaque",
        "data": {"ca.crt": "ZmxlZXQtY2EtY2VydA==", "ca.key": CA_KEY},
    })
}

/// A CA key in the seed's backup (base64), which nothing drbook writes may contain.
const CA_KEY: &str = "ZmxlZXQtY2Eta2V5LWNhbmFyeS05MTc=";
