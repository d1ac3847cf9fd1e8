//! S10 (`runbooks/kkp/staging-drill.yaml`), the full staging drill of one user cluster,
//! against two fakes: the seed, with its KKP controller, and the user cluster behind the
//! cluster's etcd (`UserCluster`: a one-shot backup records its objects, a completed
//! restore puts them back). The drill proves the restore by its effect: the canary
//! written before the backup is back with the run's id, the one written after it is
//! gone. A cluster without the staging label, and an incident run, change nothing.

use std::path::Path;

use serde_json::json;

use super::{finished, put_cluster};
use crate::support::Drbook;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::kkp::{Kkp, UserCluster};

const RUNBOOK: &str = "runbooks/kkp/staging-drill.yaml";
const KKP: &str = "kubermatic.k8c.io/v1";
const CLUSTER: &str = "stagingabc";

/// A seed with user cluster `CLUSTER` (labelled `labels`) bound to a user-cluster fake
/// that runs CoreDNS; the KKP controller runs.
fn seed_and_user(labels: serde_json::Value) -> (FakeKube, FakeKube) {
    let seed = FakeKube::start(601);
    put_cluster(&seed, CLUSTER, 5);
    seed.change(KKP, "Cluster", None, CLUSTER, |c| {
        c["metadata"]["labels"] = labels;
    });
    let user = FakeKube::start(602);
    user.put(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "spec": {"replicas": 2},
        "status": {"replicas": 2, "readyReplicas": 2, "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]},
    }));
    Kkp::new()
        .with_user_cluster(UserCluster::new(CLUSTER, &user))
        .start(&seed);
    (seed, user)
}

/// `drbook <mode>` of S10 against `staging`, the user cluster's kubeconfig beside it.
fn run(f: Drbook, mode: &str, seed: &FakeKube, user: &FakeKube, dir: &Path) -> crate::support::Ran {
    let user_kubeconfig =
        crate::support::fake_kube::write_kubeconfig(dir, "user.kubeconfig", &[("user", user)]);
    let runbook = crate::support::repo_root().join(RUNBOOK);
    let targets = seed.drill_targets(dir);
    f.targets(&targets)
        .answers("approve: true\nsign_off: drill DR-10, none\n")
        .args([
            mode,
            runbook.to_str().unwrap(),
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "s10",
            "-i",
            &format!("cluster={CLUSTER}"),
            "-i",
            &format!("user_kubeconfig={}", user_kubeconfig.display()),
            "-i",
            &format!("user_cluster_uid={}", user.uid()),
            "-i",
            "stall_after=5s",
        ])
        .limit(std::time::Duration::from_secs(120))
        .run()
}

fn canary(user: &FakeKube, name: &str) -> Option<serde_json::Value> {
    user.object("v1", "ConfigMap", Some("drbook-canary"), name)
}

#[test]
fn the_s10_drill_restores_the_user_cluster_to_its_fresh_backup_and_proves_it_with_canaries() {
    let (seed, user) = seed_and_user(json!({"environment": "staging"}));
    let f = Drbook::new();
    let dir = f.path().to_path_buf();
    let ran = run(f, "drill", &seed, &user, &dir);
    ran.assert_code(0, "the S10 drill");
    let events = ran.events();

    // The proof, in the user cluster: the canary from before the backup is there with
    // this run's id, the one written after it is gone.
    assert_eq!(
        canary(&user, "drbook-canary-before").expect("the first canary")["data"]["run"],
        "s10"
    );
    assert!(
        canary(&user, "drbook-canary-after").is_none(),
        "the second canary survived"
    );
    // On the seed: the drill's one-shot backup config and exactly one EtcdRestore, from it.
    let ns = format!("cluster-{CLUSTER}");
    let config = seed
        .object(KKP, "EtcdBackupConfig", Some(&ns), "drbook-drill-s10")
        .expect("the drill's backup config");
    assert!(config["spec"]["schedule"].is_null(), "a one-shot backup");
    let restores = seed.list(KKP, "EtcdRestore", Some(&ns));
    assert_eq!(restores.len(), 1);
    assert_eq!(restores[0]["spec"]["backupName"], "drbook-drill-s10.db.gz");
    assert_eq!(restores[0]["status"]["phase"], "Completed");

    // The RPO is measured from the one-shot backup's finish time, moments before the
    // drill declared; the RTO stops at the first canary.
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "run_finished");
    let finished_at = config["status"]["currentBackups"][0]["backupFinishedTime"]
        .as_str()
        .unwrap();
    let restored_point = finish["achieved"]["restored_point"].as_str().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(restored_point).unwrap(),
        chrono::DateTime::parse_from_rfc3339(finished_at).unwrap()
    );
    assert!(
        finish["achieved"]["rpo_ms"].as_u64().unwrap() < 60_000,
        "{finish}"
    );
    assert!(finish["achieved"]["rto_ms"].is_u64(), "{finish}");
    assert_eq!(finished(&events, "canary_before").len(), 1);
    // Both clusters were reached and recorded.
    let reached: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "cluster_reached")
        .map(|e| e["uid"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        reached.contains(&seed.uid()) && reached.contains(&user.uid()),
        "{reached:?}"
    );
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        said.contains("the canary written after the backup is gone"),
        "{said}"
    );
}

#[test]
fn a_cluster_without_the_staging_label_is_not_touched() {
    let (seed, user) = seed_and_user(json!({"environment": "production"}));
    let writes = (seed.api_writes(), user.api_writes());
    let f = Drbook::new();
    let dir = f.path().to_path_buf();
    let ran = run(f, "drill", &seed, &user, &dir);
    ran.assert_code(1, "the S10 drill of a production cluster");
    let said = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        said.contains(
            "the Cluster is not labelled environment=staging (its labels: environment=production )"
        ),
        "{said}"
    );
    assert_eq!(
        (seed.api_writes(), user.api_writes()),
        writes,
        "something was written"
    );
    assert!(seed.list(KKP, "EtcdRestore", None).is_empty());
}

#[test]
fn an_incident_run_of_the_drill_runbook_restores_nothing() {
    let (seed, user) = seed_and_user(json!({"environment": "staging"}));
    let writes = (seed.api_writes(), user.api_writes());
    let f = Drbook::new();
    let dir = f.path().to_path_buf();
    let user_kubeconfig =
        crate::support::fake_kube::write_kubeconfig(&dir, "user.kubeconfig", &[("user", &user)]);
    let runbook = crate::support::repo_root().join(RUNBOOK);
    let targets = seed.drill_targets(&dir);
    // An incident run is answered by a person at a terminal. (`f` keeps the directory.)
    let f = f.targets(&targets).env("TERM", "xterm").args([
        "run",
        runbook.to_str().unwrap(),
        "--target",
        "staging",
        "--run-id",
        "s10-incident",
        "--operator",
        "alice",
        "-i",
        &format!("cluster={CLUSTER}"),
        "-i",
        &format!("user_kubeconfig={}", user_kubeconfig.display()),
    ]);
    let mut pty = crate::interactive::Pty::spawn(f.command());
    pty.expect("kkp-staging-drill only runs as a drill");
    assert_eq!(pty.exit_code(), 1);
    assert_eq!(
        (seed.api_writes(), user.api_writes()),
        writes,
        "something was written"
    );
    assert!(seed.list(KKP, "EtcdRestore", None).is_empty());
}
