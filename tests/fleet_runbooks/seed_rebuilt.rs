//! S5's user-cluster half (`runbooks/kkp/seed-rebuilt.yaml`) as an unattended drill
//! against the fake seed and its KKP controller: the inject pauses every cluster and
//! stops its etcd; the recovery restores each cluster's newest backup through its own
//! EtcdRestore, a bounded number at a time, and verifies every etcd Ready; a cluster
//! whose backup is gone from the bucket fails alone and is named at the end.

use serde_json::Value;

use super::{drill, finished, put_cluster, put_fleet, targets};
use crate::support::Drbook;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::kkp::Kkp;

pub(super) const RUNBOOK: &str = "runbooks/kkp/seed-rebuilt.yaml";
pub(super) const ANSWERS: &str =
    "declare: true\napprove: true\nowners: true\nsign_off: drill DR-9, seed rebuilt\n";
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

#[test]
fn the_s5_drill_restores_every_user_cluster_and_names_the_one_that_failed() {
    let fake = FakeKube::start(401);
    let mut clusters = put_fleet(&fake, 3, 5);
    // One more cluster whose newest backup is listed but gone from the bucket: KKP says
    // so only in an event, and its restore stalls.
    put_cluster(&fake, "fleetlost", 7);
    clusters.push("fleetlost".into());
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
    let targets = targets(&fake, f.path());
    let ran = drill(
        f.targets(&targets),
        RUNBOOK,
        "s5",
        ANSWERS,
        &["stall_after=2s".into()],
    );
    ran.assert_code(1, "the S5 drill with one lost backup");
    let events = ran.events();

    let restores = finished(&events, "restore");
    assert_eq!(restores.len(), 4);
    let failed: Vec<&&Value> = restores
        .iter()
        .filter(|e| e["outcome"]["result"] != "succeeded")
        .collect();
    assert_eq!(failed.len(), 1, "{restores:#?}");
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        said.contains("3 of 4 user clusters restored and Ready"),
        "{said}"
    );
    assert!(
        said.contains("not restored (run scenario S1 for each): fleetlost"),
        "{said}"
    );
    assert!(said.contains("The specified key does not exist"), "{said}");

    for id in &clusters {
        let left = left_on_seed(&fake, id);
        if id == "fleetlost" {
            // One EtcdRestore, never deleted, still waiting; the inject's pause and
            // stopped etcd stay, as KKP never started (the fake has no StatefulSet
            // controller, so its status still says what it said before the inject).
            assert_eq!(left, (1, 0, true, 0, 3), "{id}");
            continue;
        }
        assert_eq!(left, (1, 1, false, 3, 3), "{id}");
    }
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "run_finished");
}
