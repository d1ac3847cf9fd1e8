//! The shipped S1 runbook (`runbooks/kkp/user-cluster-etcd-restore.yaml`) as an
//! unattended drill through the real drbook against the fake seed and its KKP
//! controller: the inject pauses the cluster, stops etcd and deletes its volumes; the
//! recovery picks the newest restorable backup, restores it through an EtcdRestore,
//! verifies etcd and the unpause, takes a fresh one-shot backup, and reports the RPO
//! from the backup's `backupFinishedTime`.

use super::{CLUSTER, KKP, NAMESPACE, NEWEST, NEWEST_FINISHED, Seed};
use crate::support::fake_kube::kkp::Kkp;
use crate::support::{Drbook, repo_root, step_outputs as outputs};

const ANSWERS: &str =
    "declare: true\napprove: true\nowners: true\nsign_off: drill DR-7, shop-prod back\n";

#[test]
fn the_s1_drill_restores_the_user_cluster_and_reports_rpo_from_the_backup() {
    let seed = Seed::start(91);
    Kkp::new().start(&seed.fake);
    let f = Drbook::new();
    let targets = seed.fake.drill_targets(f.path());
    let runbook = repo_root().join("runbooks/kkp/user-cluster-etcd-restore.yaml");
    let ran = f
        .targets(&targets)
        .answers(ANSWERS)
        .args([
            "drill",
            runbook.to_str().unwrap(),
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "s1",
            "--failed-at",
            "2026-12-07T01:45:00Z",
            "-i",
            &format!("cluster={CLUSTER}"),
        ])
        .run();
    ran.assert_code(0, "the S1 drill");
    let events = ran.events();

    let restore = outputs(&events, "restore");
    assert_eq!(restore["backup"], NEWEST);
    assert_eq!(restore["phase"], "Completed");
    assert_eq!(restore["restored_point"], NEWEST_FINISHED);
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "run_finished");
    assert_eq!(
        finish["achieved"]["restored_point"], "2026-12-07T01:20:38.000Z",
        "{finish}"
    );
    // Failed at 01:45:00, restored to 01:20:38: 24 min 22 s of data lost.
    assert_eq!(finish["achieved"]["rpo_ms"], 1_462_000, "{finish}");

    // What the operator saw: the inject's pause warned about, KKP's unpause said.
    let everything = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        everything.contains("apparently by an operator: KKP unpauses it unconditionally"),
        "{everything}"
    );
    assert!(
        everything.contains(&format!(
            "KKP unpaused cluster {CLUSTER} (spec.pause: false): it had been paused by an operator"
        )),
        "{everything}"
    );
    for secret in seed.secrets() {
        assert!(
            !everything.contains(&secret) && !format!("{events:?}").contains(&secret),
            "a secret leaked"
        );
    }

    // What is left on the seed: one completed restore, etcd back, unpaused, a fresh backup.
    let restores = seed.restores();
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0]["metadata"]["name"], "drbook-s1-restore");
    let cluster = seed.cluster();
    assert_eq!(cluster["spec"]["pause"], false);
    assert_eq!(
        cluster["status"]["conditions"]["EtcdClusterInitialized"]["status"],
        "True"
    );
    let etcd = seed
        .fake
        .object("apps/v1", "StatefulSet", Some(NAMESPACE), "etcd")
        .unwrap();
    assert_eq!(etcd["status"]["readyReplicas"], 3);
    assert_eq!(
        seed.fake
            .list("v1", "PersistentVolumeClaim", Some(NAMESPACE))
            .len(),
        3
    );
    let fresh = seed
        .fake
        .object(
            KKP,
            "EtcdBackupConfig",
            Some(NAMESPACE),
            "drbook-s1-restore",
        )
        .expect("a fresh one-shot backup");
    assert!(fresh["spec"]["schedule"].is_null(), "one-shot: {fresh}");
    assert_eq!(fresh["spec"]["destination"], "minio");
    assert_eq!(
        fresh["status"]["currentBackups"][0]["backupPhase"],
        "Completed"
    );
}
