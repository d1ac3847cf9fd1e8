//! Named canned journals: what the journal of a run of `RECOVERY` holds after something
//! happened to it, built event by event as drbook writes them (after `run_started`, which
//! replay does not read). Each is replayed to the prior state a resume starts from.

use chrono::Utc;
use serde_json::{Value, json};

use crate::journal::Event;
use crate::journal::event::{AnsweredBy, FailureDecision, Outcome, Record};

/// Five steps: a lookup whose output a later step reads, a restore, a checkpoint whose
/// answer steers the verification, a verification the operator decides about when it
/// fails, and a report.
pub const RECOVERY: &str = r#"  steps:
    - id: prepare
      action: shell
      with: {run: "find the snapshot"}
    - id: restore
      action: shell
      with: {run: "restore {{ steps.prepare.outputs.snapshot }}"}
    - id: approve
      checkpoint: {prompt: "Which snapshot?", type: choice, choices: [latest, yesterday]}
    - id: verify
      action: shell
      on_failure: ask
      with: {run: "verify {{ steps.approve.answer }}"}
    - id: report
      action: shell
      with: {run: report}
"#;

/// drbook died (SIGKILL) while `restore`, the second step, ran: `prepare` finished with
/// its output, `restore`'s first attempt started and never ended.
pub fn crashed_during_second_step() -> Vec<Record> {
    records([
        started("prepare", 1),
        succeeded("prepare", 1, json!({"snapshot": "s-0300"})),
        started("restore", 1),
    ])
}

/// The run reached `approve` with no terminal to ask on (`drbook resume` from cron): the
/// question's attempt was recorded as cancelled and the run paused.
pub fn paused_at_checkpoint() -> Vec<Record> {
    records([
        started("prepare", 1),
        succeeded("prepare", 1, json!({"snapshot": "s-0300"})),
        started("restore", 1),
        succeeded("restore", 1, json!({})),
        started("approve", 1),
        Event::StepFinished {
            step: "approve".into(),
            item: None,
            attempt: 1,
            outcome: Outcome::Cancelled {
                reason: "checkpoint `approve` needs an answer, but there is no terminal to ask on"
                    .into(),
            },
        },
        Event::RunPaused {
            reason: "checkpoint `approve` needs an answer, but there is no terminal to ask on"
                .into(),
            stopped_at: None,
        },
    ])
}

/// The operator answered `approve` with "yesterday"; drbook died while `verify` ran.
pub fn answered_checkpoint_before_crash() -> Vec<Record> {
    let mut events = until_approved();
    events.push(started("verify", 1));
    records(events)
}

/// `verify` failed (`on_failure: ask`), the operator chose to continue without it, and
/// drbook died before `report` started.
pub fn failed_then_decided_continue() -> Vec<Record> {
    let mut events = until_approved();
    events.extend([
        started("verify", 1),
        failed("verify", 1),
        Event::FailureDecided {
            step: "verify".into(),
            item: None,
            decision: FailureDecision::Continue,
            by: "alice".into(),
        },
    ]);
    records(events)
}

/// `verify` failed (`on_failure: ask`) and drbook died while the operator was being
/// asked what now: nothing was decided.
pub fn failed_before_the_decision() -> Vec<Record> {
    let mut events = until_approved();
    events.extend([started("verify", 1), failed("verify", 1)]);
    records(events)
}

/// A journal of another runbook: it names a step `drain` that `RECOVERY` does not have.
pub fn of_another_runbook() -> Vec<Record> {
    records([
        started("prepare", 1),
        succeeded("prepare", 1, json!({})),
        started("drain", 1),
    ])
}

/// A journal whose `restore` finished an attempt that never started.
pub fn finished_without_starting() -> Vec<Record> {
    records([
        started("prepare", 1),
        succeeded("prepare", 1, json!({})),
        succeeded("restore", 1, json!({})),
    ])
}

/// A journal that records a decision about `restore`, which did not fail.
pub fn decided_without_a_failure() -> Vec<Record> {
    records([
        started("prepare", 1),
        succeeded("prepare", 1, json!({})),
        started("restore", 1),
        succeeded("restore", 1, json!({})),
        Event::FailureDecided {
            step: "restore".into(),
            item: None,
            decision: FailureDecision::Retry,
            by: "alice".into(),
        },
    ])
}

/// The three steps before `verify`, done, with "yesterday" as the answer.
fn until_approved() -> Vec<Event> {
    vec![
        started("prepare", 1),
        succeeded("prepare", 1, json!({"snapshot": "s-0300"})),
        started("restore", 1),
        succeeded("restore", 1, json!({})),
        started("approve", 1),
        Event::CheckpointAnswered {
            step: "approve".into(),
            answer: json!("yesterday"),
            by: AnsweredBy::Operator {
                name: "alice".into(),
            },
        },
        succeeded("approve", 1, json!({})),
    ]
}

pub fn started(step: &str, attempt: u32) -> Event {
    Event::StepStarted {
        step: step.into(),
        item: None,
        attempt,
        label: None,
    }
}

pub fn succeeded(step: &str, attempt: u32, outputs: Value) -> Event {
    let Value::Object(outputs) = outputs else {
        panic!("outputs are a map")
    };
    Event::StepFinished {
        step: step.into(),
        item: None,
        attempt,
        outcome: Outcome::Succeeded { outputs },
    }
}

pub fn failed(step: &str, attempt: u32) -> Event {
    Event::StepFinished {
        step: step.into(),
        item: None,
        attempt,
        outcome: Outcome::Failed {
            error: "command exited with status 1".into(),
        },
    }
}

/// Records as one session of drbook writes them (the envelope is not replayed).
pub fn records(events: impl IntoIterator<Item = Event>) -> Vec<Record> {
    events
        .into_iter()
        .enumerate()
        .map(|(seq, event)| Record {
            seq: seq as u64 + 1,
            session: 0,
            time: Utc::now(),
            mono_ms: 0,
            prev: String::new(),
            event,
        })
        .collect()
}

/// `records` followed by the start of a new session, as `drbook resume` writes it.
pub fn resumed(mut records: Vec<Record>) -> Vec<Record> {
    let seq = records.last().map_or(0, |r| r.seq + 1);
    records.push(Record {
        seq,
        session: 1,
        time: Utc::now(),
        mono_ms: 0,
        prev: String::new(),
        event: Event::SessionStarted {
            operator: "bob".into(),
            accepted_changed_runbook: false,
            runbook_sha256: String::new(),
        },
    });
    records
}
