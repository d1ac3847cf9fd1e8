//! `velero.restore` against the scripted Velero server: each way a restore ends, what the
//! operator reads and what is left in the cluster (the Restore is never deleted).

use drbook::actions::ActionEvent;
use serde_json::{Value, json};

use super::{BACKUP, COMPLETED, Seed, said, texts};
use crate::support::fake_kube::velero::{Ending, Gate, Script};

fn restore_from_backup() -> Value {
    json!({"backup": BACKUP, "namespaces": ["shop"]})
}

/// The one Restore in the cluster.
fn only_restore(seed: &Seed) -> Value {
    let restores = seed.restores();
    assert_eq!(restores.len(), 1, "exactly one Restore: {restores:#?}");
    restores[0].clone()
}

#[test]
fn a_completed_restore_reports_its_progress_and_restored_point() {
    let seed = Seed::start(81);
    let mut script = Script::ending(Ending::Completed);
    script.contents = vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "backed-up"}}),
    ];
    // Velero starts only once drbook has seen the Restore queued, so every phase shows.
    let start = Gate::new();
    script.start = Some(start.clone());
    seed.velero(script);
    let (outputs, events) = match seed.execute_with(
        "velero.restore",
        json!({"schedule": "velero-hourly-cluster", "namespaces": ["shop"]}),
        &|e| {
            if format!("{e:?}").contains("phase empty") {
                start.open();
            }
            false
        },
    ) {
        (Ok(outputs), events) => (serde_json::Value::Object(outputs), events),
        (Err(e), events) => panic!("{e}: {events:#?}"),
    };
    assert_eq!(outputs["phase"], "Completed");
    assert_eq!(
        outputs["backup"], BACKUP,
        "Velero resolved the schedule to its newest Completed backup"
    );
    assert_eq!(outputs["restored_point"], COMPLETED);
    assert_eq!(
        (outputs["warnings"].as_u64(), outputs["errors"].as_u64()),
        (Some(0), Some(0)),
        "absent counts read as 0"
    );
    let restore = only_restore(&seed);
    assert_eq!(restore["metadata"]["name"], outputs["name"]);
    assert!(outputs["name"].as_str().unwrap().len() <= 63);
    assert_eq!(
        restore["spec"]["backupName"], BACKUP,
        "the server rewrote the spec"
    );
    assert!(restore["status"].get("warnings").is_none(), "omitempty");
    let seen = texts(&events);
    let order: Vec<usize> = [
        "phase empty",
        "phase InProgress",
        "4/4 items restored",
        "phase Finalizing",
        "phase Completed",
    ]
    .iter()
    .map(|p| {
        seen.iter()
            .position(|t| t.contains(p))
            .unwrap_or_else(|| panic!("`{p}` not reported: {seen:#?}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "phases in order: {seen:#?}"
    );
    assert!(
        said(
            &events,
            "namespace `shop` already exists: objects already in it are kept as they are and skipped"
        ),
        "{seen:#?}"
    );
    let settings = seed
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(
        settings["metadata"]["labels"]["velero.io/restore-name"],
        outputs["name"]
    );
}

#[test]
fn a_partially_failed_restore_shows_its_warning_texts_from_the_bucket() {
    let seed = Seed::with_bucket(82);
    seed.fake.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "changed"}}));
    let mut script = Script::ending(Ending::PartiallyFailed {
        warnings: json!({"cluster": ["the CRD clusters.kubermatic.k8c.io was restored without its status"]}),
        errors: json!({"namespaces": {"shop": ["error restoring secrets/shop/tls: admission webhook denied the request"]}}),
    });
    script.contents = vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "backed-up"}}),
    ];
    seed.velero(script);
    let (error, events) = seed.refused("velero.restore", restore_from_backup());
    let name = only_restore(&seed)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with(&format!("Restore `velero/{name}` ended PartiallyFailed with 1 error(s) and 2 warning(s): Errors (1):")),
        "{error}"
    );
    let lines: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ActionEvent::Output { line, .. } => Some(line.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        lines,
        [
            "Errors (1):",
            "  Namespace shop:",
            "    - error restoring secrets/shop/tls: admission webhook denied the request",
            "Warnings (2):",
            "  Cluster:",
            "    - the CRD clusters.kubermatic.k8c.io was restored without its status",
            "  Namespace shop:",
            "    - could not restore, ConfigMap \"settings\" already exists. Warning: the in-cluster version is different than the backed-up version",
        ]
    );
    let restore = only_restore(&seed);
    assert_eq!(
        restore["status"]["phase"], "PartiallyFailed",
        "the Restore stays, with its results"
    );
    assert_eq!(
        restore["metadata"]["annotations"]["drbook.io/failure-reported"],
        "true"
    );
    let kept = seed
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(
        kept["data"]["mode"], "changed",
        "policy none kept the existing object"
    );
}

#[test]
fn a_failed_restore_fails_with_its_reason_and_a_rerun_creates_the_next_one() {
    let seed = Seed::start(83);
    seed.velero(Script::ending(Ending::Failed(
        "error getting backup store: rpc error: AccessDenied".into(),
    )));
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    let first = only_restore(&seed)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        error,
        format!(
            "Restore `velero/{first}` failed: error getting backup store: rpc error: AccessDenied; read its log with `velero restore logs {first} -n velero`"
        )
    );
    let (again, _) = seed.refused("velero.restore", restore_from_backup());
    let names: Vec<String> = seed
        .restores()
        .iter()
        .map(|r| r["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [first.clone(), format!("{first}-2")],
        "the reported failure is kept; the re-run made the next Restore"
    );
    assert!(again.contains(&format!("{first}-2")), "{again}");
}

#[test]
fn a_missing_backup_is_refused_before_anything_is_created_and_velero_says_so_in_a_race() {
    let seed = Seed::start(84);
    let (error, _) = seed.refused(
        "velero.restore",
        json!({"backup": "velero-hourly-cluster-20250101000000"}),
    );
    assert!(
        error.starts_with("Backup `velero/velero-hourly-cluster-20250101000000` does not exist"),
        "{error}"
    );
    assert!(seed.restores().is_empty());
    assert_eq!(seed.fake.api_writes(), 0, "nothing was created");

    // The backup expires between drbook's check and Velero's validation.
    let mut script = Script::ending(Ending::Completed);
    script.before_validation = Some(Box::new(|fake| {
        fake.remove("velero.io/v1", "Backup", Some("velero"), BACKUP);
    }));
    seed.velero(script);
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    let restore = only_restore(&seed);
    let name = restore["metadata"]["name"].as_str().unwrap();
    assert_eq!(
        error,
        format!(
            "Restore `velero/{name}` failed validation: Error retrieving backup: can't find backup velero/{BACKUP}: backups.velero.io \"{BACKUP}\" not found; the backup is gone or not synced yet (`velero backup get`); pick another, then run the step again: a new Restore is created"
        )
    );
    assert_eq!(restore["status"]["phase"], "FailedValidation");
    assert!(
        restore["status"].get("completionTimestamp").is_none(),
        "no completion time on FailedValidation"
    );
}

#[test]
fn an_unavailable_storage_location_is_refused_and_velero_says_so_in_a_race() {
    let seed = Seed::start(85);
    seed.fake.change("velero.io/v1", "BackupStorageLocation", Some("velero"), "default", |l| {
        l["status"] = json!({"phase": "Unavailable", "message": "BackupStorageLocation \"default\" is unavailable: rpc error: NoSuchBucket"});
    });
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    assert!(error.starts_with("BackupStorageLocation `velero/default` is Unavailable, not Available (BackupStorageLocation \"default\" is unavailable: rpc error: NoSuchBucket); Velero cannot read the backup from it"), "{error}");
    assert!(seed.restores().is_empty());

    seed.fake.change(
        "velero.io/v1",
        "BackupStorageLocation",
        Some("velero"),
        "default",
        |l| l["status"] = json!({"phase": "Available"}),
    );
    let mut script = Script::ending(Ending::Completed);
    script.before_validation = Some(Box::new(|fake| {
        fake.change(
            "velero.io/v1",
            "BackupStorageLocation",
            Some("velero"),
            "default",
            |l| l["status"]["phase"] = json!("Unavailable"),
        );
    }));
    seed.velero(script);
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    assert!(error.contains("failed validation: The BSL default is unavailable, cannot retrieve the backup; the storage location must be Available"), "{error}");
}

#[test]
fn a_restore_behind_another_is_refused_naming_it() {
    let seed = Seed::start(86);
    seed.fake.put(json!({
        "apiVersion": "velero.io/v1", "kind": "Restore",
        "metadata": {"name": "someone-elses", "namespace": "velero"},
        "spec": {"backupName": BACKUP},
        "status": {"phase": "InProgress", "startTimestamp": "2026-01-01T12:00:00Z", "progress": {"totalItems": 100, "itemsRestored": 7}},
    }));
    seed.velero(Script::ending(Ending::Completed));
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    assert!(
        error.starts_with("Restore `velero/someone-elses` is still InProgress, and Velero runs one restore at a time: a new Restore would wait behind it"),
        "{error}"
    );
    assert_eq!(seed.restores().len(), 1, "nothing created, nothing deleted");
    assert_eq!(seed.fake.api_writes(), 0);
}

#[test]
fn a_terminating_target_namespace_is_refused() {
    let seed = Seed::start(87);
    seed.fake.change("v1", "Namespace", None, "shop", |n| {
        n["status"] = json!({"phase": "Terminating"})
    });
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    assert!(
        error.starts_with("namespace `shop` is Terminating"),
        "{error}"
    );
    assert!(seed.restores().is_empty());
}

/// A stuck restore (its gate never opens) whose step runs out of time: cancelled as the
/// engine cancels at the timeout, it says what holds it up before it ends.
#[test]
fn a_stuck_restore_is_diagnosed_when_its_time_is_up() {
    let seed = Seed::start(88);
    seed.fake.put(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "shop"},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient memory."}]},
    }));
    let mut script = Script::ending(Ending::Completed);
    script.gate = Some(Gate::new());
    seed.velero(script);
    let (result, events) = seed.execute_with("velero.restore", restore_from_backup(), &|e| {
        format!("{e:?}").contains("2/4 items restored")
    });
    assert!(
        matches!(result, Err(drbook::actions::ActionError::Cancelled)),
        "{result:?}"
    );
    let name = only_restore(&seed)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = texts(&events);
    let at = seen
        .iter()
        .position(|t| {
            t.contains(&format!(
                "Restore `velero/{name}` has not finished; what holds it up:"
            ))
        })
        .unwrap_or_else(|| panic!("{seen:#?}"));
    assert!(
        seen[at + 1].starts_with("  still InProgress since "),
        "{seen:#?}"
    );
    assert!(seen[at + 1].ends_with("(2/4 items)"), "{seen:#?}");
    assert_eq!(
        seen[at + 2],
        "  pod `shop/web-0` is Pending: Unschedulable 0/3 nodes are available: 3 Insufficient memory."
    );
    assert_eq!(
        only_restore(&seed)["status"]["phase"],
        "InProgress",
        "left running, not deleted"
    );
}

/// The fake Velero server refuses what Velero refuses, with Velero's texts, for the
/// Restores drbook never creates (it checks first): both a backup and a schedule, a
/// schedule without backups, an unknown policy.
#[test]
fn the_fake_velero_server_validates_with_velero_s_texts() {
    let seed = Seed::start(90);
    seed.velero(Script::ending(Ending::Completed));
    let cases = [
        (
            "both",
            json!({"backupName": BACKUP, "scheduleName": "velero-hourly-cluster"}),
            "Either a backup or schedule must be specified as a source for the restore, but not both",
        ),
        (
            "no-backups",
            json!({"scheduleName": "weekly"}),
            "No backups found for schedule",
        ),
        (
            "policy",
            json!({"backupName": BACKUP, "existingResourcePolicy": "replace"}),
            "Invalid ExistingResourcePolicy: replace",
        ),
    ];
    for (name, spec, text) in cases {
        seed.fake.put(json!({"apiVersion": "velero.io/v1", "kind": "Restore", "metadata": {"name": name, "namespace": "velero"}, "spec": spec}));
        crate::support::wait_until(
            &format!("Restore {name} is validated"),
            std::time::Duration::from_secs(30),
            || {
                seed.fake
                    .object("velero.io/v1", "Restore", Some("velero"), name)
                    .is_some_and(|r| r["status"]["phase"] == "FailedValidation")
            },
        );
        let restore = seed
            .fake
            .object("velero.io/v1", "Restore", Some("velero"), name)
            .unwrap();
        assert_eq!(
            restore["status"]["validationErrors"],
            json!([text]),
            "{name}"
        );
        assert!(restore["status"].get("completionTimestamp").is_none());
    }
}

/// The bucket cannot be reached from where drbook runs: the step still fails with the
/// counts, says why the texts are missing and how to read them, and leaks no key.
#[test]
fn partially_failed_texts_out_of_reach_say_why_and_where_to_read_them() {
    let seed = Seed::start(80);
    seed.velero(Script::ending(Ending::PartiallyFailed {
        warnings: json!({"velero": ["w"]}),
        errors: json!({}),
    }));
    let (error, _) = seed.refused("velero.restore", restore_from_backup());
    let name = only_restore(&seed)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with(&format!("Restore `velero/{name}` ended PartiallyFailed with 0 error(s) and 1 warning(s); their texts could not be read from the bucket (from the bucket: cannot reach the S3 endpoint http://127.0.0.1:9")),
        "{error}"
    );
    // Then through a DownloadRequest, whose URL names the same unreachable store: said
    // by its host alone, never with the URL's signature.
    assert!(
        error.contains("; through a DownloadRequest: cannot download from http://127.0.0.1:9"),
        "{error}"
    );
    assert!(!error.contains("X-Amz"), "{error}");
    assert!(
        error.contains(&format!(
            "run `velero restore describe {name} -n velero --details`"
        )),
        "{error}"
    );
}

#[test]
fn partially_failed_texts_come_through_a_download_request_when_the_secret_cannot_be_read() {
    let seed = Seed::with_bucket(83);
    // drbook may not read the location's credentials (or they are gone): Velero's own
    // answer to a DownloadRequest still brings the texts.
    assert!(
        seed.fake
            .remove("v1", "Secret", Some("velero"), "cloud-credentials")
    );
    seed.velero(Script::ending(Ending::PartiallyFailed {
        warnings: json!({"namespaces": {"shop": ["could not restore, ConfigMap \"a\" already exists"]}}),
        errors: json!({"velero": ["timed out waiting for plugin operations"]}),
    }));
    let (error, events) = seed.refused("velero.restore", restore_from_backup());
    assert!(
        error.contains(
            ": Errors (1):   Velero:     - timed out waiting for plugin operations Warnings (1):"
        ),
        "{error}"
    );
    let said = format!("{error}{events:?}");
    assert!(
        said.contains("could not restore, ConfigMap \\\"a\\\" already exists"),
        "{said}"
    );
    for secret in [
        "X-Amz-Signature",
        "X-Amz-Credential",
        crate::support::s3::ACCESS_KEY,
    ] {
        assert!(!said.contains(secret), "{secret} shows: {said}");
    }
    let requests = seed
        .fake
        .list("velero.io/v1", "DownloadRequest", Some("velero"));
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0]["spec"]["target"]["kind"], "RestoreResults");
    assert_eq!(
        requests[0]["spec"]["target"]["name"],
        only_restore(&seed)["metadata"]["name"]
    );
}
