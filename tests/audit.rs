//! `drbook audit` over a generated history of 1,000 runs of 20 runbooks in 3 stores
//! flags exactly the planted cases (`audit/history.rs` lists them) and nothing else;
//! over a real drill's state directory; the prometheus textfile; and the exit status
//! when a record fails verification.

#[path = "audit/history.rs"]
pub mod history;

use std::collections::BTreeSet;

use chrono::Utc;
use serde_json::Value;

use crate::support::Drbook;

/// The findings and record problems of an audit's JSON, as sortable text.
fn flagged(json: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let findings = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["kind"].as_str().unwrap(),
                f["runbook"].as_str().unwrap(),
                f["target"]
                    .as_str()
                    .or(f["person"].as_str())
                    .unwrap_or_default()
            )
            .trim_end()
            .to_string()
        })
        .collect();
    let problems = json["records"]
        .as_array()
        .expect("records")
        .iter()
        .flat_map(|r| {
            let id = r["run_id"].as_str().unwrap().to_string();
            r["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| format!("{id} {}", p["kind"].as_str().unwrap()))
                .collect::<Vec<_>>()
        })
        .collect();
    (findings, problems)
}

#[test]
fn a_history_of_a_thousand_runs_in_three_stores_flags_exactly_the_planted_cases() {
    let test = Drbook::new();
    let root = test.path().to_path_buf();
    let stores: Vec<_> = ["store-a", "store-b", "store-c"]
        .iter()
        .map(|s| root.join(s))
        .collect();
    let store_refs: Vec<&std::path::Path> = stores.iter().map(|p| p.as_path()).collect();
    let runbooks = history::plant(&store_refs, 1000, Utc::now());
    std::fs::create_dir_all(root.join("runbooks")).unwrap();
    for runbook in &runbooks {
        std::fs::write(
            root.join("runbooks").join(format!("{}.yaml", runbook.name)),
            &runbook.text,
        )
        .unwrap();
    }
    // A targets file beside the runbooks is not a runbook.
    std::fs::write(
        root.join("runbooks/drbook.targets.yaml"),
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets: {}\n",
    )
    .unwrap();
    let ran = test
        .args([
            "audit",
            "store-a",
            "store-b",
            "store-c",
            "--runbooks",
            "runbooks",
            "--format",
            "json",
        ])
        .run();
    ran.assert_code(6, "truncated records fail verification");
    let json: Value = serde_json::from_str(&ran.stdout).expect("the audit is JSON");
    assert_eq!(json["records"].as_array().unwrap().len(), 1000);
    let (findings, problems) = flagged(&json);
    let expected_findings: BTreeSet<String> = [
        "knowledge_silo rb01 staging",
        "knowledge_silo rb06 staging",
        "never_drilled rb20",
        "overdue rb00 staging",
        "runbook_changed rb02",
    ]
    .map(String::from)
    .into();
    assert_eq!(findings, expected_findings);
    let silo = |runbook: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["kind"] == "knowledge_silo" && f["runbook"] == runbook)
            .map(|f| f["person"].clone())
    };
    assert_eq!(silo("rb01"), Some(Value::from("dave")));
    assert_eq!(
        silo("rb06"),
        Some(Value::from("erin")),
        "a machine is not a person"
    );
    let expected_problems: BTreeSet<String> = [
        "rb03-truncated-cut truncated",
        "rb03-truncated-registered truncated",
        "rb04-unsigned unsigned",
        "rb05-unreviewed unreviewed",
    ]
    .map(String::from)
    .into();
    assert_eq!(problems, expected_problems);
    assert_eq!(json["failed_records"], 2);
    assert!(
        ran.stderr.contains("2 run records failed verification"),
        "{ran:?}"
    );
    // Twenty scenarios, each with its last drill and the trend of its last runs.
    let scenarios = json["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 20);
    let rb10 = scenarios.iter().find(|s| s["runbook"] == "rb10").unwrap();
    assert_eq!(rb10["rto_trend_ms"].as_array().unwrap().len(), 5);
    assert_eq!(rb10["last_drill"]["rto"]["verdict"], "met");
}

#[test]
fn the_prometheus_textfile_is_written_whole_with_gauges_per_runbook_and_target() {
    let test = Drbook::new();
    let root = test.path().to_path_buf();
    let store = root.join("store");
    let runbooks = history::plant(&[store.as_path()], 300, Utc::now());
    let ran = test
        .args([
            "audit",
            "store",
            "--format",
            "prometheus",
            "--out",
            "drbook.prom",
        ])
        .run();
    ran.assert_code(6, "the planted truncated records");
    assert!(ran.stdout.is_empty(), "{ran:?}");
    let text = std::fs::read_to_string(root.join("drbook.prom")).expect("the textfile");
    for line in [
        "# TYPE drbook_last_successful_drill_timestamp_seconds gauge",
        "drbook_rto_objective_seconds{runbook=\"rb10\",target=\"staging\"} 3600",
        "drbook_rpo_objective_met{runbook=\"rb10\",target=\"staging\"} 1",
        "drbook_audit_records_failed_verification 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing in:\n{text}"
        );
    }
    assert!(text.contains(
        "drbook_last_successful_drill_timestamp_seconds{runbook=\"rb10\",target=\"staging\"} "
    ));
    let leftovers: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(runbooks);
}

#[test]
fn a_real_drill_in_a_state_directory_is_audited_and_an_edited_journal_fails_verification() {
    let ran = Drbook::new()
        .runbook(
            "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: audited, version: 1.0.0, title: Audited}
spec:
  objectives: {rto: 1h, rpo: 1h}
  steps:
    - id: restore
      action: shell
      marks: recovered
      with: {run: \"true\"}
  drill:
    inject:
      - id: break
        action: shell
        with: {run: \"true\"}
",
        )
        .targets(
            "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n",
        )
        .args(["drill", "runbook.yaml", "--target", "staging", "--run-id", "d1"])
        .run();
    ran.assert_code(0, "the drill");
    let audit = ran.then().args(["audit", "state"]).run();
    audit.assert_code(0, "an intact record");
    assert!(
        audit.stdout.contains("d1 (state): unsigned: no signature")
            && audit.stdout.contains("d1 (state): unreviewed"),
        "{audit:?}"
    );
    assert!(audit.stdout.contains("audited"), "{audit:?}");
    let md = ran.then().args(["audit", "state", "--format", "md"]).run();
    md.assert_code(0, "markdown");
    assert!(
        md.stdout.starts_with("# drbook audit") && md.stdout.contains("| audited | staging |"),
        "{md:?}"
    );
    let html = ran
        .then()
        .args(["audit", "state", "--format", "html"])
        .run();
    html.assert_code(0, "html");
    assert!(html.stdout.contains("<td>audited</td>"), "{html:?}");
    for outside in ["http:", "https:", "<script", "src="] {
        assert!(
            !html.stdout.contains(outside),
            "{outside} in {}",
            html.stdout
        );
    }

    let journal = ran.then().run_dir("d1").join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    std::fs::write(&journal, text.replacen("\"restore\"", "\"restorf\"", 1)).unwrap();
    let audit = ran.then().args(["audit", "state"]).run();
    audit.assert_code(6, "an edited record");
    assert!(
        audit.stdout.contains("d1: broken:") && audit.stdout.contains("is damaged"),
        "{audit:?}"
    );
}

/// With `--allowed-signers`, the audit checks every signature of a record the way
/// `drbook verify` does, in the state directory and in a store: the operator's key
/// verifies; a file that lists another key for the operator makes the record fail
/// verification (exit 6), naming the signature.
#[test]
fn signatures_are_verified_against_the_allowed_signers_in_a_state_directory_and_a_store() {
    use crate::signing::{allowed_signers, drill, drill_dir, key};
    let f = drill_dir(true);
    let store = f.path().join("store");
    let alice = key(f.path(), "alice");
    let mallory = key(f.path(), "mallory");
    let ran = drill(&f.clone().env("DRBOOK_STORE", &store), "s1", &alice);
    ran.assert_code(0, "the signed drill");
    let good = allowed_signers(f.path(), "good", &[("test-operator", &alice)]);
    let bad = allowed_signers(f.path(), "bad", &[("test-operator", &mallory)]);
    for location in [f.path().join("state"), store.clone()] {
        let audit = ran
            .then()
            .args(["audit"])
            .args([&location])
            .args(["--allowed-signers"])
            .args([&good])
            .run();
        audit.assert_code(0, "signed by the operator's key");
        assert!(
            audit
                .stdout
                .contains("signatures verified against the allowed signers")
                && !audit.stdout.contains("broken"),
            "{audit:?}"
        );
        let audit = ran
            .then()
            .args(["audit"])
            .args([&location])
            .args(["--allowed-signers"])
            .args([&bad])
            .run();
        audit.assert_code(6, "signed by a key the file does not list for the operator");
        assert!(
            audit.stdout.contains("signatures/") && audit.stdout.contains("s1"),
            "{audit:?}"
        );
    }
}
