//! The identity guard: a step reaches the cluster its kubeconfig and context name, reads
//! the `kube-system` UID, and refuses before any change when it is not the pinned one.

use serde_json::json;
use tempfile::TempDir;

use drbook::actions::ActionEvent;
use drbook::actions::kube::ClusterIdentity;

use super::Cluster;
use crate::support::actions as run_action;
use crate::support::fake_kube::{FakeKube, write_kubeconfig};

#[test]
fn a_pinned_uid_that_matches_lets_the_step_through() {
    let c = Cluster::start(11).with_shop();
    let (result, events) = c.execute(
        "kube.get",
        json!({"api_version": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop", "cluster_uid": c.fake.uid()}),
    );
    assert_eq!(result.expect("reached")["cluster_uid"], c.fake.uid());
    assert!(
        events.contains(&ActionEvent::ClusterReached(ClusterIdentity {
            server: c.fake.url(),
            uid: c.fake.uid(),
            context: Some("fake".into()),
        })),
        "the identity is reported, typed: {events:?}"
    );
}

#[test]
fn every_changing_action_refuses_another_cluster_and_changes_nothing() {
    let c = Cluster::start(12).with_shop();
    let other = FakeKube::start(13);
    assert_ne!(c.fake.uid(), other.uid(), "two fakes are two clusters");
    let before = c
        .fake
        .object("apps/v1", "Deployment", Some("shop"), "web")
        .unwrap();
    let settings = c
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    let writes = c.fake.api_writes();
    let web = json!({"api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop", "cluster_uid": other.uid()});
    let steps = [
        (
            "kube.apply",
            json!({"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop}\n", "cluster_uid": other.uid()}),
        ),
        ("kube.patch", {
            let mut p = web.clone();
            p["patch"] = json!("spec: {replicas: 9}");
            p
        }),
        ("kube.scale", {
            let mut p = web.clone();
            p["replicas"] = json!(0);
            p
        }),
        (
            "kube.delete",
            json!({"api_version": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop", "cluster_uid": other.uid()}),
        ),
    ];
    for (action, params) in steps {
        let refused = c.refused(action, params);
        assert!(
            refused.starts_with("wrong cluster: http://127.0.0.1:"),
            "{action}: {refused}"
        );
        assert!(
            refused.contains(&format!(
                "has kube-system UID {}, but the target pins cluster_uid {}; nothing was changed",
                c.fake.uid(),
                other.uid()
            )),
            "{action}: {refused}"
        );
    }
    assert_eq!(c.fake.api_writes(), writes, "no write reached the cluster");
    assert_eq!(
        c.fake
            .object("apps/v1", "Deployment", Some("shop"), "web")
            .unwrap(),
        before
    );
    assert_eq!(
        c.fake
            .object("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap(),
        settings
    );
    assert!(
        c.fake
            .object("v1", "ConfigMap", Some("shop"), "new")
            .is_none()
    );
}

#[test]
fn the_context_chooses_the_cluster_and_the_pin_catches_the_wrong_one() {
    let staging = FakeKube::start(14);
    let production = FakeKube::start(15);
    for fake in [&staging, &production] {
        fake.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "default"}, "data": {"v": "1"}}));
    }
    let dir = TempDir::new().unwrap();
    let kubeconfig = write_kubeconfig(
        dir.path(),
        "config",
        &[("staging", &staging), ("production", &production)],
    );
    let tokens = [staging.token(), production.token()];
    let patch = |context: &str| {
        json!({
            "kubeconfig": kubeconfig, "context": context, "cluster_uid": staging.uid(),
            "api_version": "v1", "kind": "ConfigMap", "name": "app", "patch": "data: {v: \"2\"}",
        })
    };
    let (wrong, events_of_wrong) =
        run_action::execute("kube.patch", patch("production"), dir.path(), &tokens);
    let (wrong, events) = (wrong, events_of_wrong);
    let wrong = wrong
        .expect_err("production is not the pinned cluster")
        .to_string();
    assert!(
        events.iter().any(
            |e| matches!(e, ActionEvent::ClusterReached(c) if c.uid == production.uid() && c.context.as_deref() == Some("production"))
        ),
        "a refused step reports the cluster it reached: {events:?}"
    );
    assert!(
        wrong.contains(&format!(
            "{} has kube-system UID {}",
            production.url(),
            production.uid()
        )),
        "{wrong}"
    );
    assert_eq!(
        production
            .object("v1", "ConfigMap", Some("default"), "app")
            .unwrap()["data"]["v"],
        "1"
    );
    assert_eq!(production.api_writes(), 0);

    let (right, _) = run_action::execute("kube.patch", patch("staging"), dir.path(), &tokens);
    right.expect("staging is the pinned cluster");
    assert_eq!(
        staging
            .object("v1", "ConfigMap", Some("default"), "app")
            .unwrap()["data"]["v"],
        "2"
    );
}

#[test]
fn a_kubeconfig_that_cannot_be_read_is_named() {
    let dir = TempDir::new().unwrap();
    let (result, _) = run_action::execute(
        "kube.get",
        json!({"kubeconfig": "missing.yaml", "api_version": "v1", "kind": "ConfigMap", "name": "a"}),
        dir.path(),
        &[],
    );
    let message = result.expect_err("no kubeconfig").to_string();
    let expected = format!(
        "cannot read kubeconfig `{}`:",
        dir.path().join("missing.yaml").display()
    );
    assert!(message.starts_with(&expected), "{message}");

    let c = Cluster::start(16);
    let unknown = c.refused(
        "kube.get",
        json!({"context": "nope", "api_version": "v1", "kind": "ConfigMap", "name": "a"}),
    );
    assert!(
        unknown.starts_with("cannot use kubeconfig context `nope`:"),
        "{unknown}"
    );
}

#[test]
fn a_cluster_behind_tls_is_reached_with_the_kubeconfigs_certificate_authority() {
    let fake = FakeKube::start_tls(17);
    assert!(fake.url().starts_with("https://127.0.0.1:"));
    let dir = TempDir::new().unwrap();
    let kubeconfig = fake.kubeconfig(dir.path());
    let params = json!({"kubeconfig": kubeconfig, "cluster_uid": fake.uid(), "api_version": "v1", "kind": "Namespace", "name": "default"});
    let (result, _) = run_action::execute("kube.get", params, dir.path(), &[fake.token()]);
    let out = result.expect("reached over TLS");
    assert_eq!(out["server"], fake.url());
    assert_eq!(out["object"]["metadata"]["name"], "default");

    // A kubeconfig that does not trust the certificate fails at the identity read.
    let plain = std::fs::read_to_string(&kubeconfig).unwrap();
    let mut untrusting: serde_json::Value = serde_json::from_str(&plain).unwrap();
    untrusting["clusters"][0]["cluster"]
        .as_object_mut()
        .unwrap()
        .remove("certificate-authority-data");
    std::fs::write(&kubeconfig, untrusting.to_string()).unwrap();
    let params = json!({"kubeconfig": kubeconfig, "api_version": "v1", "kind": "Namespace", "name": "default"});
    let (result, _) = run_action::execute("kube.get", params, dir.path(), &[fake.token()]);
    let message = result
        .expect_err("the certificate is not trusted")
        .to_string();
    assert!(
        message.contains("certificate"),
        "the cause is named: {message}"
    );
    assert!(
        message.starts_with(&format!(
            "cannot read the identity of the cluster at {}",
            fake.url()
        )),
        "{message}"
    );
}
