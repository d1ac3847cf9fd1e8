//! A generated history of drills and incidents, written straight into store
//! directories in the store's layout (`runs/<id>/registration.json`,
//! `journal.<N>.jsonl`, `signatures/<N>.sig`, `review.md`), so the audit can be tested
//! and benchmarked over thousands of runs without running drbook thousands of times.
//!
//! Journals are built from drbook's own event types and hash-chained as the journal
//! writer chains them, with chosen times (the writer stamps the present), so the
//! journal reader verifies them as it verifies real ones.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use drbook::journal::event::{
    Achieved, AnsweredBy, Event, FORMAT_MAJOR, FORMAT_MINOR, GENESIS_HASH, Mode, Outcome, Record,
    RunOutcome, RunbookRef, Stream,
};
use sha2::{Digest, Sha256};

/// A runbook of the history: its file's text and the SHA-256 runs record.
pub struct GeneratedRunbook {
    pub name: String,
    pub text: String,
    pub sha256: String,
}

impl GeneratedRunbook {
    pub fn new(name: &str, revision: u32) -> GeneratedRunbook {
        let text = format!(
            "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: {name}, version: 1.{revision}.0, title: {name}}}\nspec:\n  objectives: {{rto: 1h, rpo: 15m}}\n  steps:\n    - id: restore\n      action: shell\n      marks: recovered\n      with: {{run: \"true\"}}\n"
        );
        let sha256 = base16ct::lower::encode_string(&Sha256::digest(text.as_bytes()));
        GeneratedRunbook {
            name: name.into(),
            text,
            sha256,
        }
    }
}

/// One run to write.
pub struct RunSpec<'a> {
    pub id: String,
    pub runbook: &'a GeneratedRunbook,
    pub mode: Mode,
    pub target: &'a str,
    pub operator: &'a str,
    /// Who answered the checkpoint: a person, else the drill's answers file.
    pub answered_by: Option<&'a str>,
    pub started: DateTime<Utc>,
    /// `None`: paused, not finished.
    pub outcome: Option<RunOutcome>,
    /// Achieved RTO in minutes.
    pub rto_minutes: u64,
    pub signed: Signed,
    pub reviewed: bool,
    /// Only the registration was uploaded (the run never reached a session end).
    pub registered_only: bool,
}

/// How a run is signed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// A signature over the whole journal.
    Whole,
    /// No signature at all.
    Not,
    /// A signature claiming more lines than the journal has (the journal was cut).
    BeyondTheEnd,
}

/// The journal lines of `spec`, chained.
pub fn journal(spec: &RunSpec) -> Vec<u8> {
    let t = |seconds: i64| spec.started + Duration::seconds(seconds);
    let mut events = vec![(
        t(0),
        Event::RunStarted {
            format: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
            drbook_version: "0.1.0".into(),
            run_id: spec.id.clone(),
            mode: spec.mode,
            runbook: RunbookRef {
                path: format!("/srv/runbooks/{}.yaml", spec.runbook.name),
                name: spec.runbook.name.clone(),
                version: "1.0.0".into(),
                sha256: spec.runbook.sha256.clone(),
            },
            target: Some(spec.target.into()),
            targets_file: None,
            answers_file: None,
            operator: spec.operator.into(),
            declared_at: t(0),
            declared_at_given: false,
            failed_at: None,
            inputs: Default::default(),
        },
    )];
    if spec.mode == Mode::Drill {
        events.push((t(5), Event::RecoveryStarted { declared_at: t(5) }));
    }
    events.push((
        t(6),
        Event::StepStarted {
            step: "restore".into(),
            item: None,
            attempt: 1,
            label: None,
        },
    ));
    events.push((
        t(7),
        Event::StepOutput {
            step: "restore".into(),
            item: None,
            stream: Stream::Stdout,
            line: "restored snapshot etcd-2026-11-24T03:00".into(),
        },
    ));
    events.push((
        t(8),
        Event::CheckpointAnswered {
            step: "restore".into(),
            answer: serde_json::Value::Bool(true),
            by: match spec.answered_by {
                Some(name) => AnsweredBy::Operator { name: name.into() },
                None => AnsweredBy::AnswersFile {
                    path: "/srv/drill-answers.yaml".into(),
                },
            },
        },
    ));
    let rto_ms = spec.rto_minutes * 60_000;
    let end = t(spec.rto_minutes as i64 * 60);
    match spec.outcome {
        Some(outcome) => {
            events.push((
                end,
                Event::StepFinished {
                    step: "restore".into(),
                    item: None,
                    attempt: 1,
                    outcome: Outcome::Succeeded {
                        outputs: Default::default(),
                    },
                },
            ));
            events.push((
                end,
                Event::RunFinished {
                    outcome,
                    achieved: Achieved {
                        rto_ms: Some(rto_ms),
                        rto_objective_ms: Some(3_600_000),
                        machine_ms: rto_ms / 2,
                        operator_ms: rto_ms / 2,
                        idle_ms: 0,
                        rpo_ms: Some(300_000),
                        rpo_objective_ms: Some(900_000),
                        restored_point: Some("etcd-2026-11-24T03:00".into()),
                    },
                },
            ));
        }
        None => events.push((
            end,
            Event::RunPaused {
                reason: "paused by the operator (Ctrl-C)".into(),
                stopped_at: None,
            },
        )),
    }
    let mut prev = GENESIS_HASH.to_string();
    let mut bytes = Vec::new();
    for (seq, (time, event)) in events.into_iter().enumerate() {
        let record = Record {
            seq: seq as u64,
            session: 0,
            time,
            mono_ms: (time - spec.started).num_milliseconds() as u64,
            prev: prev.clone(),
            event,
        };
        let line = serde_json::to_string(&record).expect("a record encodes");
        prev = base16ct::lower::encode_string(&Sha256::digest(line.as_bytes()));
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

/// Writes `spec` into the store directory `store`.
pub fn write_run(store: &Path, spec: &RunSpec) {
    let dir = store.join("runs").join(&spec.id);
    std::fs::create_dir_all(dir.join("signatures")).expect("the store directory");
    let registration = serde_json::json!({
        "format": "1.0",
        "run_id": spec.id,
        "runbook": {"name": spec.runbook.name, "version": "1.0.0", "sha256": spec.runbook.sha256},
        "mode": spec.mode.name(),
        "target": spec.target,
        "operator": spec.operator,
        "started_at": spec.started,
        "drbook_version": "0.1.0",
    });
    std::fs::write(
        dir.join("registration.json"),
        serde_json::to_vec_pretty(&registration).unwrap(),
    )
    .unwrap();
    if spec.registered_only {
        return;
    }
    let journal = journal(spec);
    let lines = journal.iter().filter(|&&b| b == b'\n').count();
    std::fs::write(dir.join(format!("journal.{lines}.jsonl")), &journal).unwrap();
    let signed = match spec.signed {
        Signed::Whole => Some(lines),
        Signed::Not => None,
        Signed::BeyondTheEnd => Some(lines + 2),
    };
    if let Some(n) = signed {
        std::fs::write(
            dir.join("signatures").join(format!("{n}.sig")),
            "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
        )
        .unwrap();
    }
    if spec.reviewed {
        std::fs::write(dir.join("review.md"), "lessons learned: none\n").unwrap();
    }
}

/// The planted history the audit test and the benchmark read: `runs` runs of 20
/// runbooks (`rb00`…`rb19`, all on `staging`) spread over the store directories, with
/// exactly these cases planted (everything else is a healthy, signed, reviewed drill
/// history by several people, the last successful drill of each scenario recent):
///
/// - rb00: every drill older than 400 days (overdue);
/// - rb01: the last three drills run by `dave` alone (knowledge silo);
/// - rb02: its runbook file changed since the last drill (the file is revision 2);
/// - rb03: run `rb03-truncated-registered` registered only, run `rb03-truncated-cut`
///   cut below its signature (both truncated);
/// - rb04: run `rb04-unsigned` has no signature;
/// - rb05: drill `rb05-unreviewed` has no review;
/// - rb06: scheduled drills by `machine:cron-rb06`, the last three answered by `erin`
///   alone (a silo: the machine is not a person);
/// - rb20: in the runbooks directory, never drilled.
///
/// Drill `rb07-00020` is paused (unfinished, not a finding).
///
/// Returns the runbooks as the `--runbooks` directory should hold them.
pub fn plant(stores: &[&Path], runs: usize, now: DateTime<Utc>) -> Vec<GeneratedRunbook> {
    let names: Vec<String> = (0..20).map(|i| format!("rb{i:02}")).collect();
    let drilled: Vec<GeneratedRunbook> =
        names.iter().map(|n| GeneratedRunbook::new(n, 1)).collect();
    let people = ["alice", "bob", "carol"];
    let per_runbook = runs / 20;
    for (r, runbook) in drilled.iter().enumerate() {
        for k in 0..per_runbook {
            // Oldest first; the newest run is a day old, one every three days.
            let age_days = 1 + 3 * (per_runbook - 1 - k) as i64 + if r == 0 { 400 } else { 0 };
            let newest = k + 3 >= per_runbook;
            let mode = if k % 5 == 4 {
                Mode::Incident
            } else {
                Mode::Drill
            };
            let mut operator = people[(k + r) % 3];
            let mut answered_by = Some(people[(k + r + 1) % 3]);
            let name = runbook.name.as_str();
            if name == "rb01" && newest {
                operator = "dave";
                answered_by = Some("dave");
            }
            if name == "rb06" {
                operator = "machine:cron-rb06";
                answered_by = Some(if newest { "erin" } else { people[k % 3] });
            }
            // The last runs are drills, so silo and trend cases are about drills.
            let mode = if newest { Mode::Drill } else { mode };
            let id = match (name, k) {
                ("rb03", 10) => "rb03-truncated-registered".to_string(),
                ("rb03", 11) => "rb03-truncated-cut".to_string(),
                ("rb04", 12) if mode == Mode::Drill => "rb04-unsigned".to_string(),
                ("rb05", 13) if mode == Mode::Drill => "rb05-unreviewed".to_string(),
                _ => format!("{name}-{k:05}"),
            };
            let spec = RunSpec {
                mode,
                target: "staging",
                operator,
                answered_by,
                started: now - Duration::days(age_days),
                // One paused drill: unfinished, but nothing is wrong with its record.
                outcome: if name == "rb07" && k == 20 {
                    None
                } else {
                    Some(if k % 7 == 3 && !newest {
                        RunOutcome::Failed
                    } else {
                        RunOutcome::Succeeded
                    })
                },
                rto_minutes: 20 + (k % 30) as u64,
                signed: match id.as_str() {
                    "rb04-unsigned" => Signed::Not,
                    "rb03-truncated-cut" => Signed::BeyondTheEnd,
                    _ => Signed::Whole,
                },
                reviewed: id != "rb05-unreviewed",
                registered_only: id == "rb03-truncated-registered",
                runbook,
                id,
            };
            write_run(stores[(r + k) % stores.len()], &spec);
        }
    }
    let mut files: Vec<GeneratedRunbook> = names
        .iter()
        .map(|n| GeneratedRunbook::new(n, if n == "rb02" { 2 } else { 1 }))
        .collect();
    files.push(GeneratedRunbook::new("rb20", 1));
    files
}
