//! Through the real executable: drbook killed with SIGKILL while a restore runs, then
//! resumed (exactly one Restore, and the run completes); a restore queued behind
//! another outliving its step's timeout (the diagnosis names the other); and the
//! shipped S6 runbook (`runbooks/kkp/velero-targeted-restore.yaml`) drilled end to end,
//! its RPO taken from the backup's completion time.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::{Value, json};

use super::{BACKUP, COMPLETED, Seed};
use crate::support::fake_kube::velero::{Ending, Gate, Script};
use crate::support::{Drbook, repo_root, wait_until};

/// A drill of one restore step, on a target that pins the seed.
fn restore_drill(seed: &Seed, run_id: &str, timeout: &str) -> Drbook {
    let runbook = format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: seed-restore, version: 1.0.0}}\nspec:\n  steps:\n    - id: restore\n      action: velero.restore\n      with: {{backup: {BACKUP}, namespaces: [shop]}}\n      timeout: {timeout}\n      marks: recovered\n  drill:\n    inject:\n      - id: inject_nothing\n        action: shell\n        with: {{run: \"true\"}}\n"
    );
    let f = Drbook::new().runbook(&runbook);
    let targets = seed.fake.drill_targets(f.path());
    f.targets(&targets)
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--run-id",
            run_id,
        ])
        .limit(Duration::from_secs(120))
}

/// The Restore the test waits on, once it is halfway.
fn halfway(seed: &Seed) -> bool {
    seed.restores()
        .iter()
        .any(|r| r["status"]["progress"]["itemsRestored"] == json!(2))
}

#[test]
fn killed_while_it_waits_then_resumed_it_follows_its_own_restore() {
    let seed = Seed::start(91);
    let gate = Gate::new();
    let mut script = Script::ending(Ending::Completed);
    script.gate = Some(gate.clone());
    seed.velero(script);
    let running = restore_drill(&seed, "k9", "2m").spawn();
    wait_until("the restore is halfway", Duration::from_secs(60), || {
        halfway(&seed)
    });
    seed.fake.wait_for_watches(1);
    running.signal(Signal::SIGKILL);
    let killed = running.wait();
    killed.assert_killed("drbook while it watched the restore");

    // Velero goes on while drbook is dead.
    gate.open();
    wait_until("the restore completes", Duration::from_secs(30), || {
        seed.restores()
            .iter()
            .all(|r| r["status"]["phase"] == "Completed")
    });
    let resumed = killed.resume();
    resumed.assert_code(0, "the resumed drill");
    let restores = seed.restores();
    assert_eq!(restores.len(), 1, "exactly one Restore: {restores:#?}");
    assert_eq!(restores[0]["metadata"]["name"], "drbook-k9-restore");
    let journal = format!("{:?}", resumed.events());
    assert!(
        resumed
            .stdout
            .contains("found Restore `velero/drbook-k9-restore`, which this step created before"),
        "{}",
        resumed.stdout
    );
    let finished = resumed
        .events()
        .last()
        .cloned()
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(finished["type"], "run_finished", "{finished}");
    assert_eq!(
        finished["achieved"]["restored_point"]
            .as_str()
            .map(|t| t.starts_with("2026-01-01T10:05:00")),
        Some(true),
        "{finished}"
    );
    assert!(!format!("{}{}{journal}", resumed.stdout, resumed.stderr).contains(seed.fake.token()));
}

#[test]
fn a_restore_queued_past_its_timeout_names_the_restore_ahead_of_it() {
    let seed = Seed::start(92);
    let mut script = Script::ending(Ending::Completed);
    // Another restore reaches Velero first, between drbook's checks and its create.
    let fake = seed.fake.handle_for_controllers();
    script.before_validation = Some(Box::new(move |_| {
        if fake
            .object("velero.io/v1", "Restore", Some("velero"), "ahead")
            .is_none()
        {
            fake.put(json!({"apiVersion": "velero.io/v1", "kind": "Restore", "metadata": {"name": "ahead", "namespace": "velero"},
                "spec": {"backupName": BACKUP}, "status": {"phase": "InProgress", "startTimestamp": "2026-01-01T12:00:00Z",
                "progress": {"totalItems": 50, "itemsRestored": 9}}}));
        }
    }));
    seed.velero(script);
    let ran = restore_drill(&seed, "q1", "3s").run();
    assert_ne!(ran.code, 0, "{}", ran.stdout);
    let everything = format!("{}{}{:?}", ran.stdout, ran.stderr, ran.events());
    assert!(
        everything.contains("queued: Velero runs one restore at a time, and Restore `velero/ahead` is InProgress since 2026-01-01T12:00:00Z (9/50 items); ours starts after it ends"),
        "{everything}"
    );
    assert!(everything.contains("timed out after"), "{everything}");
    // The diagnosis is in the run's record, for the report, not only on the screen.
    let recorded: Vec<String> = ran
        .events()
        .iter()
        .filter(|e| e["type"] == "step_output" && e["step"] == "restore")
        .map(|e| e["line"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        recorded.iter().any(|l| l.contains(
            "queued: Velero runs one restore at a time, and Restore `velero/ahead` is InProgress"
        )),
        "{recorded:#?}"
    );
    let ours = seed
        .fake
        .object(
            "velero.io/v1",
            "Restore",
            Some("velero"),
            "drbook-q1-restore",
        )
        .expect("ours is left");
    assert_eq!(
        ours["status"]["phase"].as_str().unwrap_or(""),
        "",
        "still queued, never deleted"
    );
    assert_eq!(seed.restores().len(), 2);
}

const S6_ANSWERS: &str =
    "declare: true\napprove: true\ncompare: true\nsign_off: drill DR-6, settings back\n";

#[test]
fn the_targeted_restore_runbook_is_drilled_end_to_end() {
    let seed = Seed::start(93);
    let settings = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "normal"}});
    seed.fake.put(settings.clone());
    let mut script = Script::ending(Ending::Completed);
    script.contents = vec![
        settings,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "db"}, "data": {"x": "y"}}),
    ];
    seed.velero(script);
    let f = Drbook::new().answers(S6_ANSWERS);
    let targets = seed.fake.drill_targets(f.path());
    let runbook = repo_root().join("runbooks/kkp/velero-targeted-restore.yaml");
    let ran = f
        .targets(&targets)
        .args([
            "drill",
            runbook.to_str().unwrap(),
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "s6",
            "-i",
            "namespace=shop",
            "-i",
            "probe_name=settings",
        ])
        .limit(Duration::from_secs(120))
        .run();
    ran.assert_code(0, "the S6 drill");

    let restored = seed
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .expect("settings is back");
    assert_eq!(restored["data"]["mode"], "normal");
    assert_eq!(
        restored["metadata"]["labels"]["velero.io/restore-name"],
        "drbook-s6-restore"
    );
    let scratch = seed
        .fake
        .object("v1", "ConfigMap", Some("drbook-scratch"), "settings")
        .expect("the scratch copy");
    assert_eq!(
        scratch["metadata"]["labels"]["velero.io/restore-name"],
        "drbook-s6-scratch"
    );
    assert!(
        seed.fake
            .object("v1", "ConfigMap", Some("db"), "other")
            .is_none(),
        "only the namespace asked for"
    );
    let names: Vec<String> = seed
        .restores()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["metadata"]["name"].as_str().unwrap(),
                r["status"]["phase"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        ["drbook-s6-restore Completed", "drbook-s6-scratch Completed"]
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
    assert_eq!(
        bsl["spec"]["accessMode"], "ReadWrite",
        "back to ReadWrite after the restore"
    );

    let finished = ran.events().last().cloned().cloned().unwrap_or(Value::Null);
    assert_eq!(finished["type"], "run_finished", "{finished}");
    let achieved = &finished["achieved"];
    assert!(
        achieved["restored_point"]
            .as_str()
            .unwrap_or("")
            .starts_with(&COMPLETED[..19]),
        "{achieved}"
    );
    assert!(
        achieved["rpo_ms"].as_u64().is_some() && achieved["rto_ms"].as_u64().is_some(),
        "{achieved}"
    );
    let everything = format!("{}{}{:?}", ran.stdout, ran.stderr, ran.events());
    assert!(!everything.contains(seed.fake.token()), "the token leaked");
}
