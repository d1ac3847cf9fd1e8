//! `runs list` and `runs show` as a person and a script read them: `--output json` parses
//! as the JSON docs/run-record.md documents, and `runs show` ends by saying whether the
//! run met its RTO and RPO. Runs are real runs of small runbooks; "missed" is made
//! certain by declaring the incident two hours before the run against 1m objectives.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::Value;

use crate::support::Drbook;

/// A runbook whose recovery reports the restored point it is given, over two members.
fn runbook(rto: &str, rpo: &str) -> String {
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: objectives, version: 1.2.3}}
spec:
  objectives: {{rto: {rto}, rpo: {rpo}}}
  inputs:
    - {{name: restored_point, type: string}}
  steps:
    - id: restore
      action: shell
      foreach:
        - {{name: m0, peer_url: "http://127.0.0.1:2380", data_dir: /var/lib/etcd-m0}}
        - {{name: m1, peer_url: "http://127.0.0.1:2381", data_dir: /var/lib/etcd-m1}}
      with: {{run: "echo restored_point={{{{ inputs.restored_point }}}}"}}
      marks: recovered
"#
    )
}

fn rfc3339(time: chrono::DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs the runbook as run `id`, then `runs` with `args`, and returns its stdout.
fn run_then(test: &Drbook, id: &str, extra: &[&str], runs: &[&str]) -> String {
    let ran = test
        .clone()
        .args(["run", "runbook.yaml", "--run-id", id])
        .args(extra.iter().copied())
        .run();
    assert_eq!(ran.code, 0, "{ran:?}");
    let shown = ran.then().args(runs.iter().copied()).run();
    assert_eq!(shown.code, 0, "{shown:?}");
    shown.stdout
}

#[test]
fn runs_show_says_an_objective_within_reach_was_met() {
    let test = Drbook::new().runbook(&runbook("1h", "1h"));
    let point = rfc3339(Utc::now() - Duration::minutes(5));
    let input = format!("restored_point={point}");
    let out = run_then(&test, "met", &["-i", &input], &["runs", "show", "met"]);
    let tail: Vec<&str> = out.lines().rev().take(2).collect();
    assert!(
        tail[1].starts_with("RTO ") && tail[1].ends_with(" — met (objective 1h)"),
        "{out}"
    );
    assert!(
        tail[0].starts_with("RPO 5m") && tail[0].ends_with(" — met (objective 1h)"),
        "{out}"
    );
    // Foreach items are named, not printed as JSON.
    assert!(out.contains("▶ restore [m0]"), "{out}");
    assert!(out.contains("▶ restore [m1]"), "{out}");
    assert!(!out.contains("peer_url"), "{out}");
}

#[test]
fn runs_show_says_by_how_much_an_objective_was_missed() {
    let test = Drbook::new().runbook(&runbook("1m", "1m"));
    let declared = Utc::now() - Duration::hours(2);
    let point = rfc3339(declared - Duration::hours(1));
    let (declared, input) = (rfc3339(declared), format!("restored_point={point}"));
    let out = run_then(
        &test,
        "missed",
        &["-i", &input, "--declared-at", &declared],
        &["runs", "show", "missed"],
    );
    let tail: Vec<&str> = out.lines().rev().take(2).collect();
    assert!(
        tail[1].starts_with("RTO 2h") && tail[1].contains(" — missed by 1h 59m"),
        "{out}"
    );
    assert!(tail[1].ends_with("(objective 1m)"), "{out}");
    assert_eq!(tail[0], "RPO 1h — missed by 59m (objective 1m)", "{out}");
}

#[test]
fn runs_list_json_has_one_documented_object_per_run() {
    let test = Drbook::new().runbook(&runbook("1h", "1h"));
    let recent = format!(
        "restored_point={}",
        rfc3339(Utc::now() - Duration::minutes(1))
    );
    run_then(&test, "a", &["-i", &recent], &["runs", "list"]);
    let old = format!(
        "restored_point={}",
        rfc3339(Utc::now() - Duration::hours(3))
    );
    let out = run_then(
        &test,
        "b",
        &["-i", &old],
        &["runs", "list", "--output", "json"],
    );
    let list: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(list["format"], "1.1");
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{out}");
    for run in runs {
        for field in [
            "id",
            "status",
            "mode",
            "target",
            "runbook",
            "started",
            "declared_at",
            "rto_ms",
            "rpo_ms",
            "rto",
            "rpo",
            "objectives_met",
        ] {
            assert!(run.get(field).is_some(), "`{field}` missing: {run}");
        }
        assert_eq!(run["status"], "succeeded");
        assert_eq!(run["mode"], "incident");
        assert_eq!(run["runbook"]["name"], "objectives");
        assert_eq!(run["runbook"]["version"], "1.2.3");
        assert_eq!(run["runbook"]["sha256"].as_str().unwrap().len(), 64);
        assert!(run["rto_ms"].as_u64().is_some());
        assert_eq!(run["rto"]["objective_ms"], 3_600_000);
        assert_eq!(run["rto"]["verdict"], "met");
    }
    let (a, b) = (&runs[0], &runs[1]);
    assert_eq!((a["id"].as_str(), b["id"].as_str()), (Some("a"), Some("b")));
    assert_eq!(a["rpo"]["verdict"], "met", "{a}");
    assert_eq!(a["objectives_met"], true);
    assert_eq!(b["rpo"]["verdict"], "missed", "{b}");
    assert!(b["rpo_ms"].as_u64().unwrap() >= 3 * 3_600_000);
    assert_eq!(b["objectives_met"], false);
}

#[test]
fn runs_show_json_has_the_header_each_event_and_the_verdicts() {
    let test = Drbook::new().runbook(&runbook("1h", "1h"));
    let input = format!(
        "restored_point={}",
        rfc3339(Utc::now() - Duration::minutes(2))
    );
    let out = run_then(
        &test,
        "shown",
        &["-i", &input],
        &["runs", "show", "shown", "--output", "json"],
    );
    let shown: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(shown["format"], "1.1");
    assert_eq!(shown["verified"], true);
    assert_eq!(shown["run"]["id"], "shown");
    assert_eq!(shown["run"]["objectives_met"], true);
    let events = shown["events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["type"], "run_started");
    assert_eq!(events.last().unwrap()["type"], "run_finished");
    let started: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "step_started")
        .collect();
    assert_eq!(started.len(), 2, "{out}");
    assert_eq!(started[0]["step"], "restore");
    assert_eq!(started[0]["label"], "m0");
    assert_eq!(started[1]["label"], "m1");
    for event in events {
        assert!(
            event["summary"].is_string() && event["time"].is_string(),
            "{event}"
        );
        assert!(event["seq"].is_u64(), "{event}");
    }
}

#[test]
fn a_recovery_that_never_finished_did_not_reach_its_rto() {
    let runbook =
        runbook("1h", "1h").replace("echo restored_point={{ inputs.restored_point }}", "exit 3");
    let test = Drbook::new().runbook(&runbook);
    let ran = test
        .clone()
        .args([
            "run",
            "runbook.yaml",
            "--run-id",
            "failed",
            "-i",
            "restored_point=x",
        ])
        .run();
    assert_eq!(ran.code, 1, "{ran:?}");
    let shown = ran.then().args(["runs", "show", "failed"]).run();
    assert!(
        shown
            .stdout
            .contains("RTO not reached: the step marked `recovered` never finished (objective 1h)"),
        "{}",
        shown.stdout
    );
    let json = ran.then().args(["runs", "list", "--output", "json"]).run();
    let list: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(list["runs"][0]["rto"]["verdict"], "not_reached");
    assert_eq!(list["runs"][0]["objectives_met"], false);
}
