//! `kkp.etcd.backups`: which backups are restorable, which is picked, and what is said
//! when none fits.

use serde_json::json;

use super::{BACKUPS, CLUSTER, KKP, NAMESPACE, NEWEST, NEWEST_FINISHED, Seed};

#[test]
fn the_newest_completed_backup_not_being_deleted_is_picked() {
    let seed = Seed::start(61);
    let (out, lines) = seed.ok("kkp.etcd.backups", json!({"cluster": CLUSTER}));
    assert_eq!(out["backup"], NEWEST);
    assert_eq!(out["restored_point"], NEWEST_FINISHED);
    assert_eq!(out["destination"], "minio");
    assert_eq!(out["namespace"], NAMESPACE);
    assert_eq!(
        out["backups"],
        json!([
            {"backup": NEWEST, "finished": NEWEST_FINISHED},
            {"backup": "default-backups-2026-12-07t01-00-00.db.gz", "finished": "2026-12-07T01:00:41Z"},
        ]),
        "the deleted, deleting, failed and running ones are left out, newest first"
    );
    assert_eq!(out["cluster_uid"], seed.fake.uid());
    assert!(
        lines.iter().any(|l| l.contains(&format!("2 restorable of {} listed in EtcdBackupConfig {NAMESPACE}/default-backups; newest: {NEWEST} (Completed, finished {NEWEST_FINISHED})", BACKUPS.len()))),
        "{lines:?}"
    );
    assert_eq!(seed.fake.api_writes(), 0);
}

#[test]
fn before_picks_the_newest_backup_that_finished_before_the_damage() {
    let seed = Seed::start(62);
    let (out, _) = seed.ok(
        "kkp.etcd.backups",
        json!({"cluster": CLUSTER, "before": "2026-12-07T01:20:00Z"}),
    );
    assert_eq!(out["backup"], "default-backups-2026-12-07t01-00-00.db.gz");
    assert_eq!(out["restored_point"], "2026-12-07T01:00:41Z");
}

#[test]
fn when_nothing_fits_the_error_says_what_exists() {
    let seed = Seed::start(63);
    let (error, _) = seed.refused(
        "kkp.etcd.backups",
        json!({"cluster": CLUSTER, "before": "2026-12-07T00:50:00+00:00"}),
    );
    assert_eq!(
        error,
        format!(
            "no restorable backup in EtcdBackupConfig `{NAMESPACE}/default-backups` finished before 2026-12-07T00:50:00Z: a restorable backup has backupPhase Completed and no deletePhase; it lists default-backups-2026-12-07t01-00-00.db.gz (Completed, finished 2026-12-07T01:00:41Z), default-backups-2026-12-07t01-20-00.db.gz (Completed, finished 2026-12-07T01:20:38Z), default-backups-2026-12-07t00-40-00.db.gz (Completed, delete Completed, finished 2026-12-07T00:40:40Z), default-backups-2026-12-07t01-40-00.db.gz (Failed, finished 2026-12-07T01:40:39Z), default-backups-2026-12-07t00-20-00.db.gz (Completed, delete Running, finished 2026-12-07T00:20:44Z), default-backups-2026-12-07t02-00-00.db.gz (Running)"
        )
    );
    let (error, _) = seed.refused(
        "kkp.etcd.backups",
        json!({"cluster": CLUSTER, "config": "daily"}),
    );
    assert_eq!(
        error,
        format!(
            "there is no EtcdBackupConfig `{NAMESPACE}/daily` (the namespace has: default-backups); give `config` one of those names"
        )
    );
    let (error, _) = seed.refused("kkp.etcd.backups", json!({"cluster": "nope"}));
    assert!(
        error.starts_with("user cluster `nope` is not on the seed at http://127.0.0.1:"),
        "{error}"
    );
    let (error, _) = seed.refused(
        "kkp.etcd.backups",
        json!({"cluster": CLUSTER, "before": "yesterday"}),
    );
    assert!(
        error.starts_with("parameter `before` is not an RFC 3339 time (`yesterday`"),
        "{error}"
    );
}

#[test]
fn a_config_without_backups_says_so() {
    let seed = Seed::start(64);
    seed.fake.change(
        KKP,
        "EtcdBackupConfig",
        Some(NAMESPACE),
        "default-backups",
        |c| {
            c["status"]["currentBackups"] = json!(null);
        },
    );
    let (error, _) = seed.refused("kkp.etcd.backups", json!({"cluster": CLUSTER}));
    assert!(error.ends_with("it lists no backups at all"), "{error}");
}
