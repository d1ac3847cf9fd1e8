//! `velero.backup.latest`, `velero.backups` and `velero.bsl.access`: the newest Completed
//! backup of a schedule and its completion time (the RPO's restored point), a
//! PartiallyFailed one only when allowed, the bounded and explained wait for a storage
//! location on a rebuilt cluster, and a storage location set ReadOnly and back.

use serde_json::json;

use super::{BACKUP, COMPLETED, Seed, said};

#[test]
fn the_newest_completed_backup_is_the_restored_point() {
    let seed = Seed::start(71);
    let (latest, events) = seed.ok(
        "velero.backup.latest",
        json!({"schedule": "velero-hourly-cluster"}),
    );
    assert_eq!(latest["name"], BACKUP);
    assert_eq!(latest["restored_point"], COMPLETED);
    assert_eq!(latest["expiration"], "2126-01-08T10:00:00Z");
    assert_eq!(latest["cluster_uid"], json!(seed.fake.uid()));
    assert!(
        said(
            &events,
            &format!("newest restorable backup of schedule `velero-hourly-cluster`: `{BACKUP}`")
        ),
        "{events:?}"
    );

    let (all, _) = seed.ok(
        "velero.backups",
        json!({"schedule": "velero-hourly-cluster", "allow_partial": true}),
    );
    let names: Vec<&str> = all["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["velero-hourly-cluster-20260101120000", BACKUP],
        "newest first, Failed left out"
    );

    let (before, _) = seed.refused(
        "velero.backup.latest",
        json!({"schedule": "velero-hourly-cluster", "before": "2026-01-01T10:00:00Z"}),
    );
    assert!(before.contains("none of the 3 backup(s) of schedule `velero-hourly-cluster` is Completed before 2026-01-01T10:00:00+00:00"), "{before}");
    assert_eq!(seed.fake.api_writes(), 0, "it only reads");
}

#[test]
fn a_backup_expiring_within_a_day_is_warned_about() {
    let seed = Seed::start(72);
    let soon = (chrono::Utc::now() + chrono::Duration::hours(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    seed.backup(
        "velero-hourly-cluster-20260101130000",
        "Completed",
        "2026-01-01T13:00:00Z",
        "2026-01-01T13:05:00Z",
        &soon,
    );
    let (latest, events) = seed.ok(
        "velero.backup.latest",
        json!({"schedule": "velero-hourly-cluster"}),
    );
    assert_eq!(latest["name"], "velero-hourly-cluster-20260101130000");
    assert!(
        said(
            &events,
            "warning: backup `velero-hourly-cluster-20260101130000` expires at"
        ),
        "{events:?}"
    );
}

/// A rebuilt seed: the storage location is not validated yet and no Backup is synced.
/// The action says what it waits for, sees the location become Available and the
/// backups appear, and picks the newest; with nothing arriving it stops at `wait`.
#[test]
fn on_a_rebuilt_cluster_it_waits_for_the_location_and_the_sync_saying_so() {
    let seed = Seed::start(73);
    for backup in seed.fake.list("velero.io/v1", "Backup", Some("velero")) {
        let name = backup["metadata"]["name"].as_str().unwrap().to_string();
        seed.fake
            .change("velero.io/v1", "Backup", Some("velero"), &name, |b| {
                b["metadata"]["labels"] = json!({})
            });
    }
    seed.fake.change(
        "velero.io/v1",
        "BackupStorageLocation",
        Some("velero"),
        "default",
        |l| l["status"] = json!({}),
    );

    let (waited, events) = seed.refused(
        "velero.backup.latest",
        json!({"schedule": "velero-hourly-cluster", "wait": "1s"}),
    );
    assert!(
        waited.starts_with("no restorable backup of schedule `velero-hourly-cluster` appeared within 1s: waiting for a storage location to be Available (`default` is not validated yet); Velero validates them every minute"),
        "{waited}"
    );
    assert!(
        said(&events, "waiting for a storage location to be Available"),
        "{events:?}"
    );

    let fake = &seed.fake;
    let (latest, events) = match seed.execute_with(
        "velero.backup.latest",
        json!({"schedule": "velero-hourly-cluster", "wait": "60s"}),
        &|event| {
            let text = format!("{event:?}");
            if text.contains("to be Available") {
                fake.change(
                    "velero.io/v1",
                    "BackupStorageLocation",
                    Some("velero"),
                    "default",
                    |l| {
                        l["status"] = json!({"phase": "Available"});
                    },
                );
            }
            if text.contains("to sync the Backup objects") {
                fake.change("velero.io/v1", "Backup", Some("velero"), BACKUP, |b| {
                    b["metadata"]["labels"] =
                        json!({"velero.io/schedule-name": "velero-hourly-cluster"});
                });
            }
            false
        },
    ) {
        (Ok(outputs), events) => (outputs, events),
        (Err(e), events) => panic!("{e}: {events:#?}"),
    };
    assert_eq!(latest["name"], BACKUP);
    assert!(
        said(
            &events,
            "waiting for Velero to sync the Backup objects from the bucket"
        ),
        "{events:?}"
    );
}

#[test]
fn a_storage_location_is_set_read_only_and_back() {
    let seed = Seed::start(74);
    let (ro, events) = seed.ok("velero.bsl.access", json!({"access_mode": "ReadOnly"}));
    assert_eq!(
        (ro["previous"].as_str(), ro["access_mode"].as_str()),
        (Some("ReadWrite"), Some("ReadOnly"))
    );
    assert!(
        said(
            &events,
            "BackupStorageLocation `velero/default`: ReadWrite → ReadOnly"
        ),
        "{events:?}"
    );
    let bsl = seed
        .fake
        .object(
            "velero.io/v1",
            "BackupStorageLocation",
            Some("velero"),
            "default",
        )
        .unwrap();
    assert_eq!(bsl["spec"]["accessMode"], "ReadOnly");
    assert_eq!(
        bsl["spec"]["objectStorage"]["bucket"],
        super::BUCKET,
        "nothing else changed"
    );
    let (again, events) = seed.ok("velero.bsl.access", json!({"access_mode": "ReadOnly"}));
    assert_eq!(again["previous"], "ReadOnly");
    assert!(said(&events, "was already ReadOnly"), "{events:?}");
    seed.ok("velero.bsl.access", json!({"access_mode": "ReadWrite"}));
    let bsl = seed
        .fake
        .object(
            "velero.io/v1",
            "BackupStorageLocation",
            Some("velero"),
            "default",
        )
        .unwrap();
    assert_eq!(bsl["spec"]["accessMode"], "ReadWrite");
    let (bad, _) = seed.refused("velero.bsl.access", json!({"access_mode": "readonly"}));
    assert_eq!(
        bad,
        "parameter `access_mode` must be `ReadOnly` or `ReadWrite`, but is `readonly`"
    );
    let (missing, _) = seed.refused(
        "velero.bsl.access",
        json!({"access_mode": "ReadOnly", "name": "offsite"}),
    );
    assert!(
        missing.contains("BackupStorageLocation `velero/offsite`"),
        "{missing}"
    );
}
