//! Each generic action against the fake: what it changes in the cluster, what it
//! outputs, and the API server's refusals turned into messages that name the object.

use serde_json::json;

use super::{Cluster, progress};

fn web() -> serde_json::Value {
    json!({"api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop"})
}

#[test]
fn get_reads_the_object_and_names_the_cluster() {
    let c = Cluster::start(1).with_shop();
    let out = c.ok("kube.get", web());
    assert_eq!(out["object"]["spec"]["replicas"], 3);
    assert_eq!(out["object"]["metadata"]["labels"]["app"], "web");
    assert_eq!(out["cluster_uid"], c.fake.uid());
    assert_eq!(
        out["server"].as_str().unwrap().trim_end_matches('/'),
        c.fake.url()
    );
    let missing = c.refused(
        "kube.get",
        json!({"api_version": "apps/v1", "kind": "Deployment", "name": "api", "namespace": "shop"}),
    );
    assert_eq!(
        missing,
        "Deployment `shop/api` (apps/v1) was not found; check its name and namespace"
    );
    let unknown = c.refused(
        "kube.get",
        json!({"api_version": "example.io/v1", "kind": "Widget", "name": "w"}),
    );
    assert!(
        unknown.contains("does not serve Widget in example.io/v1"),
        "{unknown}"
    );
    assert!(unknown.contains("is the CRD installed?"), "{unknown}");
}

#[test]
fn apply_creates_then_changes_nothing_then_updates_as_field_manager_drbook() {
    let c = Cluster::start(2).with_shop();
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canary\n  namespace: shop\ndata:\n  written: \"1\"\n";
    let first = c.ok("kube.apply", json!({"manifest": manifest}));
    let stored = c
        .fake
        .object("v1", "ConfigMap", Some("shop"), "canary")
        .expect("created");
    assert_eq!(stored["data"]["written"], "1");
    assert_eq!(stored["metadata"]["managedFields"][0]["manager"], "drbook");
    assert_eq!(stored["metadata"]["managedFields"][0]["operation"], "Apply");
    assert_eq!(first["uid"], stored["metadata"]["uid"]);

    let writes = c.fake.api_writes();
    let again = c.ok("kube.apply", json!({"manifest": manifest}));
    assert_eq!(
        again["resource_version"], first["resource_version"],
        "a second apply changes nothing"
    );

    let changed = manifest.replace("\"1\"", "\"2\"");
    let third = c.ok("kube.apply", json!({"manifest": changed}));
    assert_ne!(third["resource_version"], first["resource_version"]);
    assert_eq!(
        c.fake
            .object("v1", "ConfigMap", Some("shop"), "canary")
            .unwrap()["data"]["written"],
        "2"
    );
    assert!(c.fake.api_writes() > writes);
}

#[test]
fn apply_of_a_field_another_manager_owns_is_a_conflict_unless_forced() {
    let c = Cluster::start(3).with_shop();
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec: {replicas: 5}\n";
    let refused = c.refused("kube.apply", json!({"manifest": manifest}));
    assert!(
        refused.starts_with(
            "cannot apply Deployment `shop/web` (apps/v1): Apply failed with 1 conflict"
        ),
        "{refused}"
    );
    assert!(
        refused.contains("conflict with \"test-setup\": .spec.replicas"),
        "{refused}"
    );
    assert!(refused.contains("(Conflict, HTTP 409)"), "{refused}");
    assert_eq!(
        c.fake
            .object("apps/v1", "Deployment", Some("shop"), "web")
            .unwrap()["spec"]["replicas"],
        3
    );

    c.ok("kube.apply", json!({"manifest": manifest, "force": true}));
    assert_eq!(
        c.fake
            .object("apps/v1", "Deployment", Some("shop"), "web")
            .unwrap()["spec"]["replicas"],
        5
    );
}

#[test]
fn apply_refuses_a_manifest_without_a_name_before_reaching_the_cluster() {
    let c = Cluster::start(4);
    let refused = c.refused(
        "kube.apply",
        json!({"manifest": "apiVersion: v1\nkind: ConfigMap\n", "kubeconfig": "/nonexistent"}),
    );
    assert_eq!(
        refused,
        "parameter `manifest` has no `metadata.name`; every object needs apiVersion, kind and metadata.name"
    );
    let into_nowhere = c.refused("kube.apply", json!({"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: gone}\n"}));
    assert!(
        into_nowhere.contains("namespaces \"gone\" not found (NotFound, HTTP 404)"),
        "{into_nowhere}"
    );
}

#[test]
fn patch_merges_and_applies_json_patches() {
    let c = Cluster::start(5).with_shop();
    let settings =
        json!({"api_version": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop"});
    let mut merge = settings.clone();
    merge["patch"] = json!("data:\n  mode: maintenance\n  extra: \"yes\"\n");
    let out = c.ok("kube.patch", merge);
    assert_eq!(out["object"]["data"]["mode"], "maintenance");
    let stored = c
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(
        stored["data"],
        json!({"mode": "maintenance", "extra": "yes"})
    );

    let mut ops = settings.clone();
    ops["type"] = json!("json");
    ops["patch"] = json!(
        "- {op: test, path: /data/mode, value: maintenance}\n- {op: remove, path: /data/extra}\n"
    );
    c.ok("kube.patch", ops.clone());
    let stored = c
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    assert_eq!(stored["data"], json!({"mode": "maintenance"}));

    // The same JSON patch again: `extra` is gone, the server refuses (422) and says why.
    let refused = c.refused("kube.patch", ops);
    assert!(
        refused.starts_with("cannot patch ConfigMap `shop/settings` (v1):"),
        "{refused}"
    );
    assert!(refused.contains("(Invalid, HTTP 422)"), "{refused}");

    let mut wrong = settings;
    wrong["type"] = json!("strategic");
    wrong["patch"] = json!("data: {}\n");
    assert_eq!(
        c.refused("kube.patch", wrong),
        "parameter `type` must be `merge` or `json`, but is `strategic`"
    );
}

#[test]
fn scale_sets_replicas_and_reports_the_count_before() {
    let c = Cluster::start(6).with_shop();
    let mut params = web();
    params["replicas"] = json!("0");
    let (result, events) = c.execute("kube.scale", params);
    let out = result.expect("scaled");
    assert_eq!(out["replicas"], 0);
    assert_eq!(out["previous_replicas"], 3);
    assert_eq!(
        c.fake
            .object("apps/v1", "Deployment", Some("shop"), "web")
            .unwrap()["spec"]["replicas"],
        0
    );
    assert!(
        progress(&events)
            .contains(&"scaled Deployment `shop/web` (apps/v1) from 3 to 0 replicas".to_string()),
        "{events:?}"
    );
    let mut negative = web();
    negative["replicas"] = json!(-1);
    assert_eq!(
        c.refused("kube.scale", negative),
        "parameter `replicas` must be a whole number, 0 or more, but is -1"
    );
}

#[test]
fn delete_removes_the_object_and_a_second_delete_finds_it_gone() {
    let c = Cluster::start(7).with_shop();
    let settings =
        json!({"api_version": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop"});
    let uid = c
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap()["metadata"]["uid"]
        .clone();
    let out = c.ok("kube.delete", settings.clone());
    assert_eq!(out["deleted"], true);
    assert_eq!(out["uid"], uid);
    assert!(
        c.fake
            .object("v1", "ConfigMap", Some("shop"), "settings")
            .is_none()
    );
    let again = c.ok("kube.delete", settings);
    assert_eq!(
        again["deleted"], false,
        "a re-run after a crash finds it already deleted"
    );
}

#[test]
fn delete_of_an_object_with_finalizers_says_what_holds_it() {
    let c = Cluster::start(8).with_shop();
    c.fake
        .change("v1", "ConfigMap", Some("shop"), "settings", |o| {
            o["metadata"]["finalizers"] = json!(["example.io/keep"]);
        });
    let (result, events) = c.execute(
        "kube.delete",
        json!({"api_version": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop"}),
    );
    assert_eq!(result.expect("accepted")["deleted"], true);
    let stored = c
        .fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .expect("still there");
    assert!(stored["metadata"]["deletionTimestamp"].is_string());
    assert!(
        progress(&events)
            .iter()
            .any(|p| p.contains("waits for its finalizers: example.io/keep")),
        "{events:?}"
    );
}

#[test]
fn list_names_every_object_sorted_in_a_namespace_all_of_them_or_by_label() {
    let c = Cluster::start(7).with_shop();
    for (name, ns, app) in [
        ("zeta", "shop", "web"),
        ("alpha", "shop", "db"),
        ("beta", "staging", "web"),
    ] {
        c.fake.put(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
            "data": {"k": name},
        }));
    }
    let all = c.ok(
        "kube.list",
        json!({"api_version": "v1", "kind": "ConfigMap"}),
    );
    let names: Vec<&str> = all["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    // Every namespace when none is named; sorted by name.
    assert_eq!(names, ["alpha", "beta", "settings", "zeta"], "{all}");
    assert_eq!(all["count"], 4);
    assert_eq!(all["items"][0]["data"]["k"], "alpha");
    assert!(all["items"][0]["metadata"].get("managedFields").is_none());
    assert_eq!(all["cluster_uid"], c.fake.uid());

    let shop = c.ok(
        "kube.list",
        json!({"api_version": "v1", "kind": "ConfigMap", "namespace": "shop"}),
    );
    assert_eq!(shop["names"], json!(["alpha", "settings", "zeta"]));

    let (result, events) = c.execute(
        "kube.list",
        json!({"api_version": "v1", "kind": "ConfigMap", "label_selector": "app=web"}),
    );
    let web = serde_json::Value::Object(result.unwrap());
    assert_eq!(web["names"], json!(["beta", "zeta"]));
    assert!(
        progress(&events)
            .iter()
            .any(|l| l == "2 ConfigMap objects (v1) in every namespace matching `app=web`"),
        "{events:?}"
    );

    let none = c.ok(
        "kube.list",
        json!({"api_version": "v1", "kind": "ConfigMap", "namespace": "empty"}),
    );
    assert_eq!(none["names"], json!([]));
    assert_eq!(none["count"], 0);

    // Cluster-scoped kinds ignore the namespace.
    let namespaces = c.ok(
        "kube.list",
        json!({"api_version": "v1", "kind": "Namespace"}),
    );
    assert!(
        namespaces["names"]
            .as_array()
            .unwrap()
            .contains(&json!("kube-system")),
        "{namespaces}"
    );
    let unknown = c.refused(
        "kube.list",
        json!({"api_version": "example.io/v1", "kind": "Widget"}),
    );
    assert!(unknown.contains("is the CRD installed?"), "{unknown}");
}

#[test]
fn a_secret_read_by_get_list_or_wait_keeps_its_keys_but_not_its_values_in_the_outputs() {
    let c = Cluster::start(8).with_shop();
    // base64 of a CA key, and of the same key as `kubectl apply` records it.
    let value = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tZmxlZXQ=";
    c.fake.put(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "ca", "namespace": "shop", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": format!("{{\"data\":{{\"ca.key\":\"{value}\"}}}}"),
        }},
        "type": "Opaque",
        "data": {"ca.crt": value, "ca.key": value},
    }));
    let secret = json!({"api_version": "v1", "kind": "Secret", "name": "ca", "namespace": "shop"});
    let got = c.ok("kube.get", secret.clone());
    let listed = c.ok(
        "kube.list",
        json!({"api_version": "v1", "kind": "Secret", "namespace": "shop"}),
    );
    let mut until = secret.clone();
    until["jsonpath"] = json!("{.type}");
    until["value"] = json!("Opaque");
    let waited = c.ok("kube.wait", until);
    for outputs in [&got, &listed, &waited] {
        assert!(!outputs.to_string().contains(value), "{outputs:#}");
    }
    assert_eq!(got["object"]["data"]["ca.key"], "<redacted>");
    assert_eq!(listed["items"][0]["data"]["ca.crt"], "<redacted>");
    assert_eq!(waited["object"]["metadata"]["name"], "ca");
    assert_eq!(waited["value"], "Opaque");
}
