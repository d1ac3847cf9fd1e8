//! `kube.wait` follows a watch: a change the test makes once the fake reports the watch
//! open is seen, with its time, and ends the wait; conditions are read as lists and as
//! KKP's maps; an object that does not exist yet is waited for.

use std::thread;

use serde_json::json;

use super::{Cluster, progress};

#[test]
fn a_change_made_after_the_watch_opened_ends_the_wait() {
    let c = Cluster::start(21).with_shop();
    let params = c.params(json!({
        "api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop",
        "jsonpath": "{.status.phase}", "value": "Ready",
    }));
    let dir = c.dir.path().to_path_buf();
    let token = c.fake.token().to_string();
    let waiting = thread::spawn(move || {
        crate::support::actions::execute("kube.wait", params, &dir, &[&token])
    });
    c.fake.wait_for_watches(1);
    c.fake
        .change("apps/v1", "Deployment", Some("shop"), "web", |o| {
            o["status"] = json!({"phase": "Progressing"})
        });
    c.fake
        .change("apps/v1", "Deployment", Some("shop"), "web", |o| {
            o["status"] = json!({"phase": "Ready"})
        });
    let (result, events) = waiting.join().unwrap();
    let out = result.expect("the wait ended");
    assert_eq!(out["value"], "Ready");
    assert_eq!(out["object"]["status"]["phase"], "Ready");
    let seen: Vec<String> = progress(&events)
        .into_iter()
        .filter(|p| !p.starts_with("reached cluster"))
        .collect();
    // Each line starts with the time it was seen (RFC 3339, UTC), then what was seen.
    let shown: Vec<&str> = seen.iter().map(|p| p.split_once(' ').unwrap().1).collect();
    assert_eq!(
        shown,
        [
            "{.status.phase} is not set",
            "{.status.phase} = Progressing",
            "{.status.phase} = Ready"
        ]
    );
    for line in &seen {
        let time = line.split_once(' ').unwrap().0;
        chrono::DateTime::parse_from_rfc3339(time)
            .unwrap_or_else(|e| panic!("`{time}` is a time: {e}"));
    }
}

#[test]
fn a_condition_already_true_ends_the_wait_at_once_as_a_list_or_a_map() {
    let c = Cluster::start(22).with_shop();
    c.fake.change("apps/v1", "Deployment", Some("shop"), "web", |o| {
        o["status"] = json!({"conditions": [{"type": "Available", "status": "True"}, {"type": "Progressing", "status": "False"}]});
    });
    let out = c.ok("kube.wait", json!({"api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop", "condition": "Available"}));
    assert_eq!(out["value"], "True");
    let out = c.ok("kube.wait", json!({"api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop", "condition": "Progressing", "status": "False"}));
    assert_eq!(out["value"], "False");
    assert_eq!(c.fake.api_writes(), 0, "waiting only reads");

    // KKP writes conditions as a map keyed by type (domain-facts §9.2).
    c.fake
        .change("v1", "ConfigMap", Some("shop"), "settings", |o| {
            o["status"] = json!({"conditions": {"EtcdClusterInitialized": {"status": "True"}}});
        });
    let out = c.ok("kube.wait", json!({"api_version": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop", "condition": "EtcdClusterInitialized"}));
    assert_eq!(out["value"], "True");
}

#[test]
fn an_object_created_after_the_wait_began_is_seen() {
    let c = Cluster::start(23).with_shop();
    let params = c.params(json!({
        "api_version": "v1", "kind": "ConfigMap", "name": "late", "namespace": "shop",
        "jsonpath": ".data.ready",
    }));
    let dir = c.dir.path().to_path_buf();
    let waiting =
        thread::spawn(move || crate::support::actions::execute("kube.wait", params, &dir, &[]));
    c.fake.wait_for_watches(1);
    c.fake.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": "shop"}, "data": {"ready": "yes"}}));
    let (result, events) = waiting.join().unwrap();
    assert_eq!(result.expect("seen")["value"], "yes");
    let shown: Vec<String> = progress(&events)
        .into_iter()
        .filter(|p| !p.starts_with("reached"))
        .map(|p| p.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(shown, ["the object does not exist", ".data.ready = yes"]);
}

#[test]
fn what_to_wait_for_is_checked_before_the_cluster_is_reached() {
    let c = Cluster::start(24);
    let object = json!({"api_version": "v1", "kind": "ConfigMap", "name": "a", "kubeconfig": "/nonexistent"});
    let mut both = object.clone();
    both["jsonpath"] = json!("{.a}");
    both["condition"] = json!("Ready");
    assert_eq!(
        c.refused("kube.wait", both),
        "parameter `condition` and `jsonpath` are both given; wait for one of them"
    );
    assert_eq!(
        c.refused("kube.wait", object),
        "parameter `jsonpath` or `condition` is needed: say what to wait for"
    );
}

#[test]
fn a_watch_whose_version_is_forgotten_starts_over_from_a_fresh_read() {
    let c = Cluster::start(25).with_shop();
    let params = c.params(json!({
        "api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop",
        "jsonpath": "{.status.phase}", "value": "Ready",
    }));
    let dir = c.dir.path().to_path_buf();
    let waiting =
        thread::spawn(move || crate::support::actions::execute("kube.wait", params, &dir, &[]));
    c.fake.wait_for_watches(1);
    c.fake
        .change("apps/v1", "Deployment", Some("shop"), "web", |o| {
            o["status"] = json!({"phase": "Progressing"})
        });
    // Another write, then compaction: whatever version the client last saw is now too old.
    c.fake
        .change("v1", "ConfigMap", Some("shop"), "settings", |o| {
            o["data"]["mode"] = json!("other")
        });
    c.fake.compact();
    c.fake.end_watches();
    // Watch 2 is answered with the in-stream 410; watch 3 follows a fresh list.
    c.fake.wait_for_watches(3);
    c.fake
        .change("apps/v1", "Deployment", Some("shop"), "web", |o| {
            o["status"] = json!({"phase": "Ready"})
        });
    let (result, events) = waiting.join().unwrap();
    assert_eq!(
        result.expect("the wait survived the lost history")["value"],
        "Ready"
    );
    let shown: Vec<String> = progress(&events)
        .into_iter()
        .filter(|p| !p.starts_with("reached"))
        .map(|p| p.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "{.status.phase} is not set",
            "{.status.phase} = Progressing",
            "{.status.phase} = Ready"
        ]
    );
}

#[test]
fn a_cancelled_wait_stops_at_once() {
    let c = Cluster::start(26).with_shop();
    let params = c.params(json!({
        "api_version": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop",
        "condition": "Available",
    }));
    // The engine cancels a step at its timeout (or on Ctrl-C); here, once it waits.
    let waiting = |e: &drbook::actions::ActionEvent| matches!(e, drbook::actions::ActionEvent::Progress(p) if p.ends_with("condition Available is not set"));
    let (result, _) = crate::support::actions::execute_until(
        "kube.wait",
        params,
        c.dir.path(),
        &[],
        Some(&waiting),
    );
    assert_eq!(result.expect_err("cancelled").to_string(), "cancelled");
}
