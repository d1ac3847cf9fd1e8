//! A canned history of an incident run that a person steered: a failure they decided
//! to retry, a pause, a resume by someone else with a changed runbook, a checkpoint
//! that timed out to its default and a step left running when the journal ends.

use chrono::TimeZone;
use serde_json::{Map, json};

use super::*;
use crate::journal::event::{Mode, RunbookRef};

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 3, 12, second).unwrap()
}

/// A journal of `(second, event)`s; each `session_started` begins the next session.
fn journal(events: Vec<(u32, Event)>) -> Journal {
    let mut session = 0;
    Journal {
        records: events
            .into_iter()
            .enumerate()
            .map(|(seq, (second, event))| Record {
                seq: seq as u64,
                session: {
                    session += u32::from(matches!(event, Event::SessionStarted { .. }));
                    session
                },
                time: at(second),
                mono_ms: 0,
                prev: String::new(),
                event,
            })
            .collect(),
        last_hash: String::new(),
        torn_tail_at: None,
    }
}

fn steered_run() -> Journal {
    let started = |step: &str, attempt| Event::StepStarted {
        step: step.into(),
        item: None,
        attempt,
        label: None,
    };
    let finished = |step: &str, attempt, outcome| Event::StepFinished {
        step: step.into(),
        item: None,
        attempt,
        outcome,
    };
    journal(vec![
        (
            0,
            Event::RunStarted {
                format: "1.1".into(),
                drbook_version: "0.1.0".into(),
                run_id: "r1".into(),
                mode: Mode::Incident,
                runbook: RunbookRef {
                    path: "rb.yaml".into(),
                    name: "rb".into(),
                    version: "1.0.0".into(),
                    sha256: "a".repeat(64),
                },
                target: Some("prod".into()),
                targets_file: None,
                answers_file: None,
                operator: "alice".into(),
                declared_at: at(0),
                declared_at_given: false,
                failed_at: None,
                inputs: Map::new(),
            },
        ),
        (
            0,
            Event::ClusterReached {
                server: "https://10.0.0.1:6443".into(),
                uid: "5f0c2a1e-0000-4000-8000-00000000c0de".into(),
                context: Some("prod".into()),
                via: crate::journal::event::VIA_PREFLIGHT.into(),
            },
        ),
        (1, started("check", 1)),
        (
            2,
            Event::StepOutput {
                step: "check".into(),
                item: None,
                stream: crate::journal::event::Stream::Stderr,
                line: "member m2 unhealthy".into(),
            },
        ),
        (
            3,
            finished(
                "check",
                1,
                Outcome::Failed {
                    error: "exit 1".into(),
                },
            ),
        ),
        (
            5,
            Event::FailureDecided {
                step: "check".into(),
                item: None,
                decision: FailureDecision::Retry,
                by: "alice".into(),
            },
        ),
        (6, started("check", 2)),
        (
            7,
            finished(
                "check",
                2,
                Outcome::Succeeded {
                    outputs: Map::new(),
                },
            ),
        ),
        (
            8,
            Event::RunPaused {
                reason: "interrupted (Ctrl-C)".into(),
                stopped_at: None,
            },
        ),
        (
            20,
            Event::SessionStarted {
                operator: "bob".into(),
                accepted_changed_runbook: true,
                runbook_sha256: "b".repeat(64),
            },
        ),
        (21, started("go", 1)),
        (
            22,
            Event::CheckpointAnswered {
                step: "go".into(),
                answer: json!("proceed"),
                by: AnsweredBy::TimeoutDefault,
            },
        ),
        (
            22,
            finished(
                "go",
                1,
                Outcome::Succeeded {
                    outputs: Map::new(),
                },
            ),
        ),
        (23, started("restore", 1)),
        (
            24,
            Event::StepOutput {
                step: "restore".into(),
                item: None,
                stream: crate::journal::event::Stream::Stdout,
                line: "copying".into(),
            },
        ),
    ])
}

/// The report of the steered run, and its span: also what the renderers'
/// snapshots are made of.
pub(in crate::report) fn steered_report() -> (Report, Span) {
    let copy = RunbookCopy {
        prompts: HashMap::from([("go".to_string(), "Go on?".to_string())]),
    };
    build("r1", &steered_run(), "interrupted".into(), &copy).unwrap()
}

fn report() -> Report {
    steered_report().0
}

#[test]
fn every_deviation_a_person_caused_is_listed_in_time_order() {
    let report = report();
    let kinds: Vec<&str> = report.deviations.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [
            "failure_decided",
            "retry",
            "paused",
            "changed_runbook",
            "timeout_default",
            "failed"
        ]
    );
    assert_eq!(
        report.deviations[0].text,
        "`check` failed; alice decided to retry it"
    );
    assert!(report.deviations[3].text.contains("bbbbbbbb"));
    assert_eq!(report.deviations[5].text, "`restore` interrupted");
}

#[test]
fn operators_and_answerers_are_people_once_each() {
    let report = report();
    assert_eq!(report.operators, ["alice", "bob"]);
    // A timeout is nobody; alice decided a failure.
    assert_eq!(report.answered_by, ["alice"]);
    assert_eq!(report.checkpoints[0].by, "timeout (default)");
    assert_eq!(report.checkpoints[0].question.as_deref(), Some("Go on?"));
}

#[test]
fn an_attempt_left_running_lasts_until_the_last_event_and_keeps_its_output() {
    let report = report();
    let restore = report.steps.iter().find(|s| s.step == "restore").unwrap();
    assert_eq!(restore.outcome, "interrupted");
    assert_eq!(restore.attempts[0].ended, None);
    assert_eq!(restore.attempts[0].duration_ms, 1_000);
    assert_eq!(restore.attempts[0].output, ["copying"]);
    let check = report.steps.iter().find(|s| s.step == "check").unwrap();
    assert_eq!(check.retries, 1);
    assert_eq!(check.attempts[0].output, ["member m2 unhealthy"]);
    assert!(check.attempts[1].output.is_empty());
    assert_eq!(check.duration_ms, 3_000);
    let go = report.steps.iter().find(|s| s.step == "go").unwrap();
    assert_eq!(go.kind, "checkpoint");
}

#[test]
fn an_unfinished_run_is_not_measured() {
    let report = report();
    assert_eq!(report.rto.verdict, "not_finished");
    assert_eq!(
        report.rto.text,
        "RTO not measured yet: the run has not finished"
    );
    assert!(report.achieved.is_none());
}

#[test]
fn the_cluster_the_run_reached_is_reported_with_how_it_was_reached() {
    let report = report();
    assert_eq!(report.clusters.len(), 1);
    assert_eq!(
        report.clusters[0].text,
        "cluster: https://10.0.0.1:6443 (kube-system UID 5f0c2a1e-0000-4000-8000-00000000c0de), context `prod`, checked before the first step"
    );
    assert_eq!(report.clusters[0].via, "preflight");
}
