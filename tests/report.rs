//! `drbook report` of real recorded runs, in each of its formats: a drill with an answers
//! file, a step that needed a retry, a skipped step and a step that failed printing a
//! secret. Each format carries the facts of the journal; the JSON parses with the fields
//! docs/reports.md documents; the JUnit XML is well-formed with one case per step and
//! per objective, and validates with `xmllint` against both the strict Ant schema and
//! Jenkins' `junit-10.xsd` (fetched by `scripts/ensure-tools`); the HTML refers to nothing on
//! the network and never shows the secret. A missed RTO says by how much; an unknown run
//! and a bad id end as every command ends them (66, 64).

use std::path::Path;
use std::process::Command;

use chrono::{Duration, SecondsFormat, Utc};
use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use serde_json::Value;

use crate::support::{Drbook, Ran};

/// The secret the failing step prints: it must appear in no report.
const CANARY: &str = "cAnArY-report-5d1e-s3cr3t";

/// A drill: an inject step, a confirm answered from the file, a step that fails once
/// and is retried, a step skipped by its `when`, a recovery over two members marked
/// `recovered`, and a step that fails printing the secret and is gone past.
fn runbook(rto: &str) -> String {
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: etcd-restore, version: 2.1.0}}
spec:
  objectives: {{rto: {rto}, rpo: 1h}}
  secrets:
    - {{name: token, env: DRBOOK_TEST_CANARY}}
  inputs:
    - {{name: restored_point, type: string}}
  steps:
    - id: approve
      checkpoint: {{prompt: "Restore etcd from the latest snapshot?", type: confirm}}
    - id: flaky
      action: shell
      retry: {{attempts: 3}}
      with:
        run: |
          if [ ! -e tried ]; then touch tried; echo "first try fails" >&2; exit 3; fi
          echo ok
    - id: optional
      when: "{{{{ inputs.restored_point == 'never' }}}}"
      action: shell
      with: {{run: "echo never"}}
    - id: restore
      action: shell
      foreach: [m0, m1]
      with: {{run: "echo restored_point={{{{ inputs.restored_point }}}}"}}
      marks: recovered
    - id: noisy
      on_failure: continue
      action: shell
      with:
        env: {{TOKEN: "{{{{ secrets.token }}}}"}}
        run: |
          echo "denied for $TOKEN" >&2
          exit 2
  drill:
    inject:
      - id: break
        action: shell
        with: {{run: "echo injected"}}
"#
    )
}

const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  staging: {environment: staging, drill: allowed}
";

fn rfc3339(time: chrono::DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs the drill as run `d1` (with `extra` arguments) and returns the finished run.
fn drill(rto: &str, extra: &[&str]) -> Ran {
    let point = format!(
        "restored_point={}",
        rfc3339(Utc::now() - Duration::minutes(5))
    );
    let ran = Drbook::new()
        .runbook(&runbook(rto))
        .targets(TARGETS)
        .answers("approve: true\n")
        .env("DRBOOK_TEST_CANARY", CANARY)
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "d1",
            "-i",
            &point,
        ])
        .args(extra.iter().copied())
        .run();
    ran.assert_code(0, "the drill");
    ran
}

/// `drbook report d1 --format FORMAT`'s standard output.
fn report(ran: &Ran, format: &str) -> String {
    let out = ran.then().args(["report", "d1", "--format", format]).run();
    out.assert_code(0, &format!("report --format {format}"));
    assert!(!out.stdout.contains(CANARY), "the secret in {format}");
    out.stdout
}

#[test]
fn markdown_names_the_runbook_the_answers_the_retry_the_skip_and_the_failure() {
    let ran = drill("1h", &[]);
    let md = report(&ran, "md");
    let sha = ran.events()[0]["runbook"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    for fact in [
        "# Drill report: etcd-restore 2.1.0",
        "| Run | `d1` |",
        "| Outcome | **succeeded**, but 1 step failed and the run went on without it: `noisy` |",
        &format!("sha256 `{sha}`"),
        "| Target | staging |",
        "| Operators | test-operator |",
        "- **RTO ",
        " — met (objective 1h)**",
        "| `approve` | Restore etcd from the latest snapshot? | true | answers file ",
        "| `flaky` | action | succeeded | 1 |",
        "| `optional` | action | skipped: ",
        "| `restore` [m0] | action | succeeded | 0 |",
        "| `restore` [m1] | action | succeeded | 0 |",
        "| `noisy` | action | failed | 0 |",
        "**retry**: `flaky` tried again (attempt 2)",
        "**skipped**: `optional` skipped",
        "**failed**: `noisy` failed: command exited with status 2",
        "### Failed: `noisy`, attempt 1",
        "denied for ***",
    ] {
        assert!(md.contains(fact), "`{fact}` missing:\n{md}");
    }
}

#[test]
fn json_has_the_documented_fields_and_the_facts_of_the_journal() {
    let ran = drill("1h", &[]);
    let text = report(&ran, "json");
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(json["format"], "1.1");
    for field in [
        "run_id",
        "status",
        "mode",
        "drbook_version",
        "runbook",
        "target",
        "clusters",
        "operators",
        "answered_by",
        "started",
        "last_event",
        "declared_at",
        "rto",
        "rpo",
        "achieved",
        "steps",
        "checkpoints",
        "deviations",
    ] {
        assert!(json.get(field).is_some(), "`{field}` missing: {text}");
    }
    assert_eq!(json["run_id"], "d1");
    assert_eq!(json["status"], "succeeded");
    assert_eq!(json["mode"], "drill");
    assert_eq!(json["target"], "staging");
    assert_eq!(
        json["clusters"],
        serde_json::json!([]),
        "no step reached one"
    );
    assert_eq!(
        json["runbook"]["sha256"],
        ran.events()[0]["runbook"]["sha256"]
    );
    assert_eq!(json["rto"]["verdict"], "met");
    assert_eq!(json["rto"]["objective_ms"], 3_600_000);
    assert_eq!(json["rpo"]["verdict"], "met");

    let steps = json["steps"].as_array().unwrap();
    let names: Vec<String> = steps
        .iter()
        .map(|s| match s["label"].as_str() {
            Some(label) => format!("{}[{label}]", s["step"].as_str().unwrap()),
            None => s["step"].as_str().unwrap().to_string(),
        })
        .collect();
    assert_eq!(
        names,
        [
            "break",
            "approve",
            "flaky",
            "optional",
            "restore[m0]",
            "restore[m1]",
            "noisy"
        ]
    );
    let flaky = &steps[2];
    assert_eq!(flaky["retries"], 1);
    assert_eq!(flaky["attempts"][0]["outcome"], "failed");
    assert_eq!(flaky["attempts"][0]["output"][0], "first try fails");
    assert_eq!(flaky["attempts"][1]["outcome"], "succeeded");
    assert_eq!(flaky["attempts"][1]["output"], Value::Array(vec![]));
    assert_eq!(steps[1]["kind"], "checkpoint");
    assert_eq!(steps[3]["outcome"], "skipped");
    assert!(
        steps[3]["skipped_reason"]
            .as_str()
            .unwrap()
            .contains("when")
    );
    assert_eq!(steps[6]["outcome"], "failed");

    let checkpoint = &json["checkpoints"][0];
    assert_eq!(checkpoint["step"], "approve");
    assert_eq!(
        checkpoint["question"],
        "Restore etcd from the latest snapshot?"
    );
    assert_eq!(checkpoint["answer"], "true");
    assert_eq!(checkpoint["by_kind"], "answers_file");
    assert_eq!(
        json["answered_by"],
        Value::Array(vec![]),
        "a file is nobody"
    );

    let kinds: Vec<&str> = json["deviations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["retry", "skipped", "failed"], "{text}");
}

/// What a JUnit document holds, read with a strict XML reader (end tags must match).
#[derive(Debug, Default)]
struct JunitFacts {
    root: String,
    tests_attr: String,
    failures_attr: String,
    skipped_attr: String,
    cases: Vec<String>,
    failed_cases: Vec<String>,
    skipped_cases: Vec<String>,
    properties: Vec<(String, String)>,
    /// Child elements of the root, in order, once per run of equal names.
    sections: Vec<String>,
}

fn read_junit(xml: &str) -> JunitFacts {
    let mut reader = Reader::from_str(xml);
    let mut facts = JunitFacts::default();
    let mut depth = 0;
    let mut current_case = String::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.try_get_attribute(name)
            .unwrap_or_else(|err| panic!("bad attribute {name}: {err}"))
            .map(|a| {
                a.normalized_value(XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned()
            })
            .unwrap_or_default()
    };
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
        let (element, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                depth -= 1;
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let e = element.unwrap();
        let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
        match (depth, name.as_str()) {
            (0, _) => {
                facts.root = name.clone();
                facts.tests_attr = attr(&e, "tests");
                facts.failures_attr = attr(&e, "failures");
                facts.skipped_attr = attr(&e, "skipped");
                for required in ["name", "timestamp", "hostname", "errors", "time"] {
                    assert!(!attr(&e, required).is_empty(), "`{required}` missing");
                }
            }
            (1, section) => {
                if facts.sections.last().map(String::as_str) != Some(section) {
                    facts.sections.push(section.to_string());
                }
                if section == "testcase" {
                    current_case = attr(&e, "name");
                    assert!(!attr(&e, "classname").is_empty());
                    assert!(!attr(&e, "time").is_empty());
                    facts.cases.push(current_case.clone());
                }
            }
            (2, "property") => facts.properties.push((attr(&e, "name"), attr(&e, "value"))),
            (2, "failure") => {
                assert!(!attr(&e, "type").is_empty(), "a failure needs its type");
                facts.failed_cases.push(current_case.clone());
            }
            (2, "skipped") => facts.skipped_cases.push(current_case.clone()),
            _ => {}
        }
        if !empty {
            depth += 1;
        }
    }
    facts
}

#[test]
fn junit_has_one_case_per_step_that_ran_and_per_objective_with_the_failures() {
    let ran = drill("1h", &[]);
    let xml = report(&ran, "junit");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        "{xml}"
    );
    let facts = read_junit(&xml);
    assert_eq!(facts.root, "testsuite");
    assert_eq!(
        facts.sections,
        ["properties", "testcase", "system-out", "system-err"],
        "the order the strict Ant schema requires"
    );
    assert_eq!(
        facts.cases,
        [
            "break",
            "approve",
            "flaky",
            "restore [m0]",
            "restore [m1]",
            "noisy",
            "RTO within objective",
            "RPO within objective"
        ],
        "the skipped step is no case: the strict Ant schema has no `skipped`"
    );
    assert_eq!(facts.failed_cases, ["noisy"]);
    assert!(facts.skipped_cases.is_empty());
    assert_eq!(facts.tests_attr, "8");
    assert_eq!(facts.failures_attr, "1");
    assert_eq!(facts.skipped_attr, "", "no `skipped` attribute either");
    assert!(
        xml.contains("skipped: `optional` skipped"),
        "system-out names the skipped step: {xml}"
    );
    let property = |name: &str| {
        facts
            .properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("property {name} missing: {:?}", facts.properties))
    };
    assert_eq!(property("drbook.run_id"), "d1");
    assert_eq!(property("drbook.mode"), "drill");
    assert_eq!(
        property("drbook.runbook_sha256"),
        ran.events()[0]["runbook"]["sha256"].as_str().unwrap()
    );
    let timestamp = xml.split("timestamp=\"").nth(1).unwrap();
    assert_eq!(
        timestamp.find('"'),
        Some(19),
        "no time zone, no fraction (Ant's pattern): {timestamp}"
    );
    validate_with_xmllint(&ran, &xml);
}

/// Validates against the two schemas (the strict Ant schema, Windy Road's `JUnit.xsd`, and
/// Jenkins' `junit-10.xsd`) that `scripts/ensure-tools` fetches, pinned, into
/// `$DRBOOK_JUNIT_XSD_DIR` (default `~/.cache/drbook/junit-xsd`) with `xmllint`, always: a
/// machine without them fails here, saying what to run, rather than passing unchecked.
fn validate_with_xmllint(ran: &Ran, xml: &str) {
    let file = ran.then().write("report.xml", xml);
    let dir = std::env::var_os("DRBOOK_JUNIT_XSD_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap()).join(".cache"));
            cache.join("drbook/junit-xsd")
        });
    for schema in ["JUnit.xsd", "junit-10.xsd"] {
        let schema = dir.join(schema);
        assert!(
            schema.is_file(),
            "{} is missing: run `scripts/ensure-tools` (it fetches the JUnit schemas), or \
             set $DRBOOK_JUNIT_XSD_DIR to a folder holding JUnit.xsd and junit-10.xsd",
            schema.display()
        );
        let out = match Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "xmllint not found: the JUnit report cannot be validated; install it with \
                 `apt-get install libxml2-utils` (scripts/ensure-tools does)"
            ),
            Err(e) => panic!("could not run xmllint: {e}"),
        };
        assert!(
            out.status.success(),
            "{} refuses the report: {}\n{xml}",
            schema.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn html_is_self_contained_has_the_timeline_and_never_the_secret() {
    let ran = drill("1h", &[]);
    let html = report(&ran, "html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<svg"), "{html}");
    assert!(!html.contains("<script"), "no JavaScript");
    // Every bar: one per attempt (flaky twice) and one for the skipped step.
    assert_eq!(html.matches("<rect class=").count(), 8, "{html}");
    assert_eq!(html.matches("<rect class=\"failed\"").count(), 2, "{html}");
    assert_eq!(html.matches("<rect class=\"skipped\"").count(), 1, "{html}");
    assert_eq!(html.matches("<rect class=\"person\"").count(), 1, "{html}");
    assert!(html.contains("recovered after "), "{html}");
    assert!(html.contains("RTO objective 1h"), "{html}");
    assert!(
        !html.contains("<figcaption>"),
        "one chart when the run fills it"
    );
    // No reference to anything outside the file: no URL in an attribute or in CSS.
    for (at, _) in html.match_indices("http") {
        let before = &html[..at];
        let in_attribute = before.ends_with('"') || before.ends_with('\'') || before.ends_with('(');
        assert!(
            !in_attribute,
            "a network reference at {at}: {}",
            &html[at.saturating_sub(60)..at + 40]
        );
    }
    for reference in ["src=", "href=", "url(", "@import"] {
        assert!(!html.contains(reference), "`{reference}` in the report");
    }
    for fact in [
        "Restore etcd from the latest snapshot?",
        "denied for ***",
        "<code>flaky</code> tried again (attempt 2)",
        "1 step failed and the run went on without it: <code>noisy</code>",
        "staging",
        ran.events()[0]["runbook"]["sha256"].as_str().unwrap(),
    ] {
        let escaped = fact.replace('`', "&#x60;").replace('/', "&#x2f;");
        assert!(
            html.contains(fact) || html.contains(&escaped),
            "`{fact}` missing"
        );
    }
}

#[test]
fn a_missed_rto_says_by_how_much_in_every_format() {
    // Declared two hours ago against a 1m objective: missed by about 1h 59m.
    let declared = rfc3339(Utc::now() - Duration::hours(2));
    let ran = drill("1m", &["--declared-at", &declared]);
    let md = report(&ran, "md");
    assert!(md.contains("— missed by 1h 59m"), "{md}");
    let html = report(&ran, "html");
    assert!(html.contains("missed by 1h 59m"), "{html}");
    // The run is a sliver of the two hours since the incident: a second chart shows it.
    assert!(
        html.contains("<figcaption>The run itself</figcaption>"),
        "{html}"
    );
    assert!(html.contains("(passed before this view)"), "{html}");
    let json: Value = serde_json::from_str(&report(&ran, "json")).unwrap();
    assert_eq!(json["rto"]["verdict"], "missed");
    let by = json["rto"]["missed_by_ms"].as_u64().unwrap();
    assert!((7_100_000..7_200_000).contains(&by), "{by}");
    let xml = report(&ran, "junit");
    let facts = read_junit(&xml);
    assert!(
        facts
            .failed_cases
            .contains(&"RTO within objective".to_string()),
        "{facts:?}"
    );
    validate_with_xmllint(&ran, &xml);
}

#[test]
fn out_writes_the_report_to_a_file() {
    let ran = drill("1h", &[]);
    let out = ran
        .then()
        .args(["report", "d1", "--format", "json", "--out", "report.json"])
        .run();
    out.assert_code(0, "report --out");
    assert_eq!(out.stdout, "");
    let written = std::fs::read_to_string(ran.then().path().join("report.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&written).unwrap()["run_id"],
        "d1"
    );
}

#[test]
fn an_unknown_run_is_no_input_and_a_bad_id_a_usage_error() {
    let test = Drbook::new();
    let unknown = test.clone().args(["report", "nothing-here"]).run();
    unknown.assert_code(66, "an unknown run");
    assert!(
        unknown.stderr.contains("there is no run `nothing-here`"),
        "{unknown:?}"
    );
    let bad = test.args(["report", "../etc", "--format", "md"]).run();
    bad.assert_code(64, "a run id that is a path");
}
