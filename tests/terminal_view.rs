//! What a person reads while a drill runs, through the real executable without a terminal
//! (plain lines): `foreach` items named by their short key, not their whole JSON, and no
//! RTO before the incident is declared — the inject clock runs instead.

use std::time::Duration;

use serde_json::Value;

use crate::support::{finish_within, spawn, write};

const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: view, version: 1.0.0}
spec:
  objectives: {rto: 1h, rpo: 1h}
  steps:
    - id: restore
      action: shell
      foreach:
        - {name: m0, client_url: "http://127.0.0.1:2379", data_dir: /var/lib/etcd/m0}
        - {name: m1, client_url: "http://127.0.0.1:2479", data_dir: /var/lib/etcd/m1}
      with: {run: "echo restoring {{ item.name }}"}
      marks: recovered
  drill:
    inject:
      - id: inject_start
        action: shell
        foreach:
          - {name: m0, client_url: "http://127.0.0.1:2379", data_dir: /var/lib/etcd/m0}
          - {name: m1, client_url: "http://127.0.0.1:2479", data_dir: /var/lib/etcd/m1}
        with: {run: "echo stopping {{ item.name }}"}
      - id: inject_more
        action: shell
        foreach: [["a", "b"]]
        with: {run: "true"}
"#;

#[test]
fn a_drill_names_items_by_their_name_and_shows_no_rto_before_recovery() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "view.yaml", RUNBOOK);
    write(
        dir.path(),
        "drbook.targets.yaml",
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging: {environment: staging, drill: allowed}\n",
    );
    let child = spawn(
        dir.path(),
        &[
            "drill",
            "view.yaml",
            "--target",
            "staging",
            "--state-dir",
            "state",
            "--run-id",
            "v1",
            "--operator",
            "tester",
        ],
        &[],
    );
    let output = finish_within(child, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );

    for line in [
        "▶ inject_start [m0]",
        "▶ inject_start [m1]",
        "▶ inject_more [#0]",
        "▶ restore [m0]",
        "▶ restore [m1]",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no `{line}` in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("client_url"), "{stdout}");

    let (injecting, recovering) = stdout
        .split_once("recovery begins")
        .expect("the drill says when recovery begins");
    // Only the objective may be named before the incident; no RTO clock runs yet.
    assert!(
        injecting
            .lines()
            .all(|l| !l.contains("RTO") || l.starts_with("objectives: ")),
        "RTO before the incident:\n{stdout}"
    );
    assert!(
        injecting.contains("· started "),
        "the undeclared drill's header says when it started:\n{stdout}"
    );
    let inject_finished = injecting
        .lines()
        .filter(|l| l.starts_with("✔ inject_start ["))
        .collect::<Vec<_>>();
    assert_eq!(inject_finished.len(), 2, "{stdout}");
    assert!(
        inject_finished.iter().all(|l| l.contains(" · inject ")),
        "inject steps show the inject clock:\n{stdout}"
    );
    let restored = recovering
        .lines()
        .filter(|l| l.starts_with("✔ restore ["))
        .collect::<Vec<_>>();
    assert_eq!(restored.len(), 2, "{stdout}");
    assert!(
        restored.iter().all(|l| l.contains(" · RTO so far ")),
        "recovery steps show the RTO clock:\n{stdout}"
    );

    // The record keeps the whole item: only the view shortens it.
    let journal = std::fs::read_to_string(dir.path().join("state/runs/v1/journal.jsonl")).unwrap();
    let labels: Vec<String> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["event"]["type"] == "step_started" && r["event"]["step"] == "inject_start")
        .map(|r| r["event"]["label"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(labels.len(), 2, "{journal}");
    for label in labels {
        let item: Value = serde_json::from_str(&label).unwrap();
        assert!(item["client_url"].is_string(), "{label}");
        assert!(item["data_dir"].is_string(), "{label}");
    }
}
