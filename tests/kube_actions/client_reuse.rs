//! One client per cluster for the steps of a run, seen from the fake API server's side
//! through the real executable: several steps on one cluster open one connection and
//! read discovery once (a kind not found is asked for again); a step after one that
//! rewrote the kubeconfig reaches the cluster the new file names, and refuses the old
//! one's pinned UID; and a step pinned to another UID after a successful one on the same
//! client is refused with nothing changed, as every step still checks the identity.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::fake_kube::{FakeKube, write_kubeconfig};
use crate::support::{Drbook, Ran, step_outputs};

const WRONG_UID: &str = "00000000-0000-4000-8000-000000000000";

/// A fake cluster with namespace `shop` and ConfigMap `shop/settings` (`mode: <mode>`).
fn shop(seed: u64, mode: &str) -> FakeKube {
    stock(FakeKube::start(seed), mode)
}

/// `fake` with namespace `shop` and ConfigMap `shop/settings` (`mode: <mode>`).
fn stock(fake: FakeKube, mode: &str) -> FakeKube {
    fake.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    fake.put(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": {"mode": mode},
    }));
    fake
}

/// A targets file whose target `staging` reaches the cluster through `kubeconfig`;
/// `pinned` is its `cluster_uid`, when given.
fn targets(kubeconfig: &Path, pinned: Option<&str>) -> String {
    let pin = pinned
        .map(|uid| format!("    cluster_uid: {uid}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    kubeconfig: {}\n{pin}",
        kubeconfig.display()
    )
}

/// Runs `steps` (YAML list items, indented by four spaces) as an unattended run bound
/// to target `staging`.
fn run(f: Drbook, steps: &str) -> Ran {
    let runbook = format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: reuse, version: 1.0.0}}\nspec:\n  steps:\n{steps}"
    );
    f.runbook(&runbook)
        .args([
            "run",
            "runbook.yaml",
            "--target",
            "staging",
            "--run-id",
            "reuse",
            "--output",
            "json",
        ])
        .run()
}

/// The error of `step`'s failed attempt.
fn failure<'a>(events: &[&'a Value], step: &str) -> &'a str {
    events
        .iter()
        .find(|e| {
            e["type"] == "step_finished" && e["step"] == step && e["outcome"]["result"] == "failed"
        })
        .and_then(|e| e["outcome"]["error"].as_str())
        .unwrap_or_else(|| panic!("step `{step}` did not fail: {events:#?}"))
}

const SETTINGS: &str = "{api_version: v1, kind: ConfigMap, name: settings, namespace: shop}";

#[test]
fn steps_on_one_cluster_share_one_connection_and_one_discovery() {
    let fake = shop(41, "normal");
    let f = Drbook::new();
    let kubeconfig = fake.kubeconfig(f.path());
    let f = f.targets(&targets(&kubeconfig, Some(&fake.uid())));
    let steps = format!(
        "    - {{id: first, action: kube.get, with: {SETTINGS}}}\n\
         \x20   - {{id: again, action: kube.get, with: {SETTINGS}}}\n\
         \x20   - {{id: change, action: kube.patch, with: {{api_version: v1, kind: ConfigMap, name: settings, namespace: shop, patch: 'data: {{mode: patched}}'}}}}\n\
         \x20   - {{id: namespace, action: kube.get, with: {{api_version: v1, kind: Namespace, name: shop}}}}\n\
         \x20   - {{id: last, action: kube.get, with: {SETTINGS}}}\n"
    );
    let ran = run(f, &steps);
    ran.assert_code(0, "five steps on one cluster");
    let events = ran.events();
    for step in ["first", "again", "change", "namespace", "last"] {
        assert_eq!(
            step_outputs(&events, step)["cluster_uid"],
            fake.uid(),
            "{step}"
        );
    }
    assert_eq!(
        step_outputs(&events, "last")["object"]["data"]["mode"],
        "patched"
    );
    // The session's preflight builds a client of its own before the run (one
    // connection); the five steps share the run's client, and its one connection.
    // Without the cache each step opened its own: six.
    assert_eq!(fake.connections_accepted(), 2);
    // Two kinds, each looked up once (`/api/v1`) by the first step that names it; the
    // other three steps know it. Without the cache each step looked its kind up: five.
    assert_eq!(fake.discovery_reads(), 2);
}

#[test]
fn a_kind_not_found_is_looked_up_again_by_the_next_step() {
    let fake = shop(42, "normal");
    let f = Drbook::new();
    let kubeconfig = fake.kubeconfig(f.path());
    let f = f.targets(&targets(&kubeconfig, Some(&fake.uid())));
    let widget = "{api_version: apps/v1, kind: Widget, name: w, namespace: shop}";
    let steps = format!(
        "    - {{id: missing, action: kube.get, with: {widget}, on_failure: continue}}\n\
         \x20   - {{id: still_missing, action: kube.get, with: {widget}, on_failure: continue}}\n\
         \x20   - {{id: settings, action: kube.get, with: {SETTINGS}}}\n"
    );
    let ran = run(f, &steps);
    let events = ran.events();
    for step in ["missing", "still_missing"] {
        let error = failure(&events, step);
        assert!(error.contains("Widget"), "{step}: {error}");
    }
    assert_eq!(
        step_outputs(&events, "settings")["object"]["data"]["mode"],
        "normal"
    );
    // `/apis/apps/v1` twice (nothing kept of a kind not found), then `/api/v1`.
    assert_eq!(fake.discovery_reads(), 3);
}

#[test]
fn a_step_after_the_kubeconfig_was_rewritten_reaches_the_new_cluster() {
    let first = shop(43, "first");
    let second = shop(44, "second");
    assert_ne!(first.uid(), second.uid());
    let f = Drbook::new();
    let kubeconfig = first.kubeconfig(f.path());
    let rebuilt = write_kubeconfig(f.path(), "rebuilt.yaml", &[("fake", &second)]);
    // Nothing pinned by the target: each step pins the cluster it means.
    let f = f.targets(&targets(&kubeconfig, None));
    let steps = format!(
        "    - {{id: on_first, action: kube.get, with: {{api_version: v1, kind: ConfigMap, name: settings, namespace: shop, cluster_uid: {first_uid}}}}}\n\
         \x20   - {{id: swap, action: shell, with: {{run: \"cp '{rebuilt}' '{kubeconfig}'\"}}}}\n\
         \x20   - {{id: on_second, action: kube.get, with: {SETTINGS}}}\n\
         \x20   - {{id: first_again, action: kube.patch, with: {{api_version: v1, kind: ConfigMap, name: settings, namespace: shop, patch: 'data: {{mode: wrong}}', cluster_uid: {first_uid}}}}}\n",
        first_uid = first.uid(),
        rebuilt = rebuilt.display(),
        kubeconfig = kubeconfig.display(),
    );
    let ran = run(f, &steps);
    assert_ne!(ran.code, 0, "the last step is refused");
    let events = ran.events();
    let on_first = step_outputs(&events, "on_first");
    assert_eq!(on_first["cluster_uid"], first.uid());
    assert_eq!(on_first["object"]["data"]["mode"], "first");
    let on_second = step_outputs(&events, "on_second");
    assert_eq!(on_second["cluster_uid"], second.uid());
    assert_eq!(on_second["server"], second.url());
    assert_eq!(on_second["object"]["data"]["mode"], "second");
    let refused = failure(&events, "first_again");
    assert!(
        refused.contains(&format!(
            "has kube-system UID {}, but the target pins cluster_uid {}; nothing was changed",
            second.uid(),
            first.uid()
        )),
        "{refused}"
    );
    for fake in [&first, &second] {
        assert_eq!(fake.api_writes(), 0);
    }
    assert_eq!(
        second
            .object("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap()["data"]["mode"],
        "second"
    );
}

#[test]
fn a_step_pinned_to_another_cluster_is_refused_on_a_shared_client() {
    let fake = shop(45, "normal");
    let before = fake
        .object("v1", "ConfigMap", Some("shop"), "settings")
        .unwrap();
    let f = Drbook::new();
    let kubeconfig = fake.kubeconfig(f.path());
    let f = f.targets(&targets(&kubeconfig, Some(&fake.uid())));
    let steps = format!(
        "    - {{id: read, action: kube.get, with: {SETTINGS}}}\n\
         \x20   - {{id: wrong, action: kube.patch, with: {{api_version: v1, kind: ConfigMap, name: settings, namespace: shop, patch: 'data: {{mode: wrong}}', cluster_uid: {WRONG_UID}}}}}\n"
    );
    let ran = run(f, &steps);
    assert_ne!(ran.code, 0, "the second step is refused");
    let events = ran.events();
    assert_eq!(step_outputs(&events, "read")["cluster_uid"], fake.uid());
    let refused = failure(&events, "wrong");
    assert!(
        refused.contains(&format!(
            "has kube-system UID {}, but the target pins cluster_uid {WRONG_UID}; nothing was changed",
            fake.uid()
        )),
        "{refused}"
    );
    // The refused step used the client the first one built: the preflight's connection
    // and the run's one.
    assert_eq!(fake.connections_accepted(), 2);
    assert_eq!(fake.api_writes(), 0);
    assert_eq!(
        fake.object("v1", "ConfigMap", Some("shop"), "settings")
            .unwrap(),
        before
    );
}

/// How long a Kubernetes step takes on the run's shared client: 200 `kube.get` steps in
/// a row against the fake, over HTTP and over HTTPS (as real API servers speak), timed
/// from the journal (each step's start to its finish), printed, not asserted. The
/// figures are in docs/performance.md.
#[test]
#[ignore = "a measurement: cargo test --test integration kube_actions::client_reuse::timing -- --ignored --nocapture"]
fn timing_of_200_steps_on_one_cluster() {
    for (scheme, fake) in [
        ("HTTP", stock(FakeKube::start(46), "normal")),
        ("HTTPS", stock(FakeKube::start_tls(47), "normal")),
    ] {
        time_200_steps(scheme, &fake);
    }
}

fn time_200_steps(scheme: &str, fake: &FakeKube) {
    const STEPS: usize = 200;
    let f = Drbook::new();
    let kubeconfig = fake.kubeconfig(f.path());
    let f = f.targets(&targets(&kubeconfig, Some(&fake.uid())));
    let steps: String = (0..STEPS)
        .map(|n| format!("    - {{id: get{n}, action: kube.get, with: {SETTINGS}}}\n"))
        .collect();
    let started = std::time::Instant::now();
    let ran = run(f, &steps);
    let took = started.elapsed();
    ran.assert_code(0, "200 steps on one cluster");
    let mono = |kind: &str| -> Vec<u64> {
        ran.journal
            .iter()
            .filter(|r| r["event"]["type"] == kind)
            .filter_map(|r| r["mono_ms"].as_u64())
            .collect()
    };
    let (starts, ends) = (mono("step_started"), mono("step_finished"));
    assert_eq!((starts.len(), ends.len()), (STEPS, STEPS));
    let mut each: Vec<u64> = starts.iter().zip(&ends).map(|(s, e)| e - s).collect();
    each.sort_unstable();
    eprintln!(
        "{STEPS} kube.get steps over {scheme}: {took:.1?} in all; per step median {} ms, mean {:.1} ms; {} connections, {} discovery reads",
        each[STEPS / 2],
        each.iter().sum::<u64>() as f64 / STEPS as f64,
        fake.connections_accepted(),
        fake.discovery_reads()
    );
}
