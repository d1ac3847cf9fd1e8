//! Through the real executable: a drill bound to a target whose keys name the cluster
//! (`kubeconfig`) and pin it (`cluster_uid`) runs its inject delete and its recovery
//! against the fake; pinned to another UID it is refused before its first step with
//! nothing changed; and `validate` refuses a delete in recovery without
//! `allow_delete: true`, at its line.

use serde_json::json;

use crate::support::Drbook;
use crate::support::fake_kube::FakeKube;

const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: settings-lost, version: 1.0.0}
spec:
  steps:
    - id: restore
      action: kube.apply
      with:
        manifest: |
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings, namespace: shop}
          data: {mode: restored}
    - id: check
      action: kube.wait
      with: {api_version: v1, kind: ConfigMap, name: settings, namespace: shop, jsonpath: "{.data.mode}", value: restored}
      marks: recovered
  drill:
    inject:
      - id: break
        action: kube.delete
        with: {api_version: v1, kind: ConfigMap, name: settings, namespace: shop}
"#;

fn cluster() -> FakeKube {
    let fake = FakeKube::start(31);
    fake.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    fake.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {"mode": "normal"}}));
    fake
}

fn drill(fake: &FakeKube, pinned: &str) -> Drbook {
    let f = Drbook::new().runbook(RUNBOOK);
    let kubeconfig = fake.kubeconfig(f.path());
    let targets = format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    kubeconfig: {}\n    cluster_uid: {pinned}\n",
        kubeconfig.display()
    );
    f.targets(&targets).args([
        "drill",
        "runbook.yaml",
        "--target",
        "staging",
        "--run-id",
        "k1",
    ])
}

#[test]
fn a_drill_on_the_pinned_cluster_deletes_and_restores() {
    let fake = cluster();
    let ran = drill(&fake, &fake.uid()).run();
    ran.assert_code(0, "the drill on the pinned cluster");
    let settings = fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .expect("restored");
    assert_eq!(settings["data"]["mode"], "restored");
    assert_eq!(
        settings["metadata"]["managedFields"][0]["manager"],
        "drbook"
    );
    let everything = format!("{}{}{:?}", ran.stdout, ran.stderr, ran.events());
    assert!(!everything.contains(fake.token()), "the token leaked");
    assert!(
        everything.contains(&fake.uid()),
        "the cluster's identity is recorded: {everything}"
    );
}

#[test]
fn a_drill_pinned_to_another_cluster_is_refused_with_nothing_changed() {
    let fake = cluster();
    let before = fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    let ran = drill(&fake, "00000000-0000-4000-8000-000000000000").run();
    ran.assert_code(4, "refused before the first step");
    assert!(
        ran.stderr.contains(&format!("whose kube-system UID is {}, but the target pins cluster_uid 00000000-0000-4000-8000-000000000000; nothing was run", fake.uid())),
        "{}",
        ran.stderr
    );
    assert_eq!(fake.api_writes(), 0);
    assert_eq!(
        fake.object("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap(),
        before
    );
}

#[test]
fn validate_refuses_a_recovery_delete_without_allow_delete() {
    let runbook = RUNBOOK.replace(
        "    - id: check\n",
        "    - id: tidy\n      action: kube.delete\n      with: {api_version: v1, kind: ConfigMap, name: old, namespace: shop}\n    - id: check\n",
    );
    let ran = Drbook::new()
        .runbook(&runbook)
        .args(["validate", "runbook.yaml"])
        .run();
    assert_ne!(ran.code, 0);
    assert!(
        ran.stderr.contains(
            "step `tidy` deletes an object outside `drill.inject` without `allow_delete: true`"
        ),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("runbook.yaml:15:"), "{}", ran.stderr);
    let allowed = runbook.replace(
        "name: old, namespace: shop}",
        "name: old, namespace: shop, allow_delete: true}",
    );
    Drbook::new()
        .runbook(&allowed)
        .args(["validate", "runbook.yaml"])
        .run()
        .assert_code(0, "allowed");
}

/// The same drill on a target that names no kubeconfig: `$KUBECONFIG` decides.
fn drill_without_kubeconfig(fake: &FakeKube) -> Drbook {
    let targets = format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    cluster_uid: {}\n",
        fake.uid()
    );
    Drbook::new()
        .runbook(RUNBOOK)
        .targets(&targets)
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--run-id",
            "k2",
        ])
        // Not inside a pod, whatever machine the tests run on: no in-cluster config.
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
}

#[test]
fn without_a_kubeconfig_in_step_or_target_kubeconfig_env_is_used() {
    let fake = cluster();
    let f = drill_without_kubeconfig(&fake);
    let kubeconfig = fake.kubeconfig(f.path());
    f.env("KUBECONFIG", &kubeconfig)
        .run()
        .assert_code(0, "the drill through $KUBECONFIG");
    assert_eq!(
        fake.object("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap()["data"]["mode"],
        "restored"
    );
}

#[test]
fn with_no_cluster_named_anywhere_the_step_says_how_to_name_one() {
    let fake = cluster();
    let ran = drill_without_kubeconfig(&fake)
        .env_remove("KUBECONFIG")
        .run();
    assert_ne!(ran.code, 0);
    assert!(
        ran.stderr.contains("no cluster to reach: give the step `kubeconfig:` (or the target a `kubeconfig` key), set $KUBECONFIG, or run drbook inside a pod"),
        "{}",
        ran.stderr
    );
    assert_eq!(fake.api_writes(), 0);
}
