//! RTO and RPO, computed from the journal alone (so reports and audits get the same
//! numbers the run printed).
//!
//! RTO achieved = declared_at → the end of the step marked `recovered`, split into time
//! an operator was being asked (checkpoints), machine time (actions running) and idle time
//! (everything else: before the run started, between sessions, between steps). Where an
//! action runs while an operator is being asked, the time counts as the operator's: the
//! recovery was waiting for a person. RPO achieved = (failed_at or declared_at) − the
//! oldest `restored_point` a step reported.
//!
//! Wall-clock times are used throughout because a run may span several drbook processes
//! (resume), whose monotonic clocks cannot be compared; the journal keeps the monotonic
//! offsets too, for checking a single session.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

use crate::journal::event::{Achieved, Event, Outcome, Record};

/// What the clock needs to know about the runbook.
pub struct ClockInputs<'a> {
    pub declared_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
    /// The step marked `marks: recovered`, if any.
    pub recovered_step: Option<&'a str>,
    pub checkpoint_steps: &'a HashSet<String>,
    pub rto_objective: Option<Duration>,
    pub rpo_objective: Option<Duration>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Machine,
    Operator,
}

/// A time as the journal keeps it: whole milliseconds. The live run has nanoseconds in
/// memory; cutting them here makes the figures it prints the same as those computed
/// later from the journal (resume, reports, audit).
fn ms(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(3)
}

/// Computes what a run achieved so far from its records.
pub fn achieved(records: &[Record], inputs: &ClockInputs) -> Achieved {
    let declared_at = ms(inputs.declared_at);
    let recovered_at = inputs
        .recovered_step
        .and_then(|id| recovered_at(records, id));
    let end = recovered_at.unwrap_or_else(|| records.last().map_or(declared_at, |r| ms(r.time)));
    let (machine_ms, operator_ms) = split(records, inputs, declared_at, end);
    let span_ms = millis(end - declared_at);
    let restored_point = oldest_restored_point(records);
    let rpo_ms = restored_point
        .map(|point| millis(ms(inputs.failed_at.unwrap_or(inputs.declared_at)) - point));
    Achieved {
        rto_ms: recovered_at.map(|_| span_ms),
        rto_objective_ms: inputs.rto_objective.map(|d| d.as_millis() as u64),
        machine_ms,
        operator_ms,
        idle_ms: span_ms.saturating_sub(machine_ms + operator_ms),
        rpo_ms,
        rpo_objective_ms: inputs.rpo_objective.map(|d| d.as_millis() as u64),
        restored_point: restored_point
            .map(|p| p.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    }
}

/// When the last successful attempt of the recovered step (every item of it) finished.
fn recovered_at(records: &[Record], id: &str) -> Option<DateTime<Utc>> {
    let mut finished = None;
    for record in records {
        match &record.event {
            Event::StepFinished {
                step,
                outcome: Outcome::Succeeded { .. },
                ..
            } if step == id => finished = Some(ms(record.time)),
            Event::StepStarted { step, .. } if step == id => finished = None,
            _ => {}
        }
    }
    // A foreach step has finished when no item started after the last finish.
    finished
}

/// Milliseconds of machine and operator time inside [from, to].
fn split(
    records: &[Record],
    inputs: &ClockInputs,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (u64, u64) {
    let mut open: Vec<(String, Option<usize>, DateTime<Utc>, Kind)> = Vec::new();
    let mut intervals: Vec<(DateTime<Utc>, DateTime<Utc>, Kind)> = Vec::new();
    // The time of the record before the current one.
    let mut last = from;
    for record in records {
        match &record.event {
            Event::StepStarted { step, item, .. } => {
                let kind = if inputs.checkpoint_steps.contains(step) {
                    Kind::Operator
                } else {
                    Kind::Machine
                };
                open.push((step.clone(), *item, ms(record.time), kind));
            }
            Event::StepFinished { step, item, .. } => {
                close(&mut open, &mut intervals, step, *item, ms(record.time));
            }
            Event::CheckpointAnswered { step, .. } => {
                close(&mut open, &mut intervals, step, None, ms(record.time))
            }
            // A new session means the previous process died: whatever it had open ended
            // at its last record, which we cannot know better than this. The time until
            // the resume is idle: nothing recorded was working on the recovery.
            Event::SessionStarted { .. } => {
                for (_, _, start, kind) in open.drain(..) {
                    intervals.push((start, last.max(start), kind));
                }
            }
            // A pause stopped everything that was running, and recorded when.
            Event::RunPaused { .. } => {
                for (_, _, start, kind) in open.drain(..) {
                    intervals.push((start, ms(record.time), kind));
                }
            }
            _ => {}
        }
        last = ms(record.time);
    }
    // Still open at the end of the record: count up to the end of the measured span.
    for (_, _, start, kind) in open {
        intervals.push((start, to, kind));
    }
    // Sweep the timeline; operator time wins where both overlap.
    let mut points: Vec<DateTime<Utc>> = vec![from, to];
    for (start, end, _) in &intervals {
        points.push((*start).clamp(from, to));
        points.push((*end).clamp(from, to));
    }
    points.sort();
    points.dedup();
    let (mut machine, mut operator) = (0u64, 0u64);
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let kind = intervals
            .iter()
            .filter(|(start, end, _)| *start <= a && *end >= b)
            .map(|(_, _, kind)| *kind)
            .max();
        match kind {
            Some(Kind::Operator) => operator += millis(b - a),
            Some(Kind::Machine) => machine += millis(b - a),
            None => {}
        }
    }
    (machine, operator)
}

fn close(
    open: &mut Vec<(String, Option<usize>, DateTime<Utc>, Kind)>,
    intervals: &mut Vec<(DateTime<Utc>, DateTime<Utc>, Kind)>,
    step: &str,
    item: Option<usize>,
    at: DateTime<Utc>,
) {
    if let Some(index) = open.iter().position(|(s, i, _, _)| s == step && *i == item) {
        let (_, _, start, kind) = open.remove(index);
        intervals.push((start, at, kind));
    }
}

/// The oldest `restored_point` any successful step reported: the worst case is the
/// honest RPO when several artifacts were restored.
fn oldest_restored_point(records: &[Record]) -> Option<DateTime<Utc>> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::StepFinished {
                outcome: Outcome::Succeeded { outputs },
                ..
            } => outputs.get("restored_point")?.as_str(),
            _ => None,
        })
        .filter_map(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| ms(t.with_timezone(&Utc)))
        .min()
}

fn millis(d: chrono::TimeDelta) -> u64 {
    d.num_milliseconds().max(0) as u64
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::journal::event::{Mode, RunbookRef};

    fn record(seq: u64, at: DateTime<Utc>, event: Event) -> Record {
        Record {
            seq,
            session: 0,
            time: at,
            mono_ms: 0,
            prev: String::new(),
            event,
        }
    }

    #[test]
    fn the_time_between_a_crash_and_the_resume_is_idle() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-24T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |s: i64| t0 + TimeDelta::seconds(s);
        let started = |attempt| Event::StepStarted {
            step: "restore".into(),
            item: None,
            attempt,
            label: None,
        };
        let records = vec![
            record(
                0,
                at(0),
                Event::RunStarted {
                    format: "1.0".into(),
                    drbook_version: "test".into(),
                    run_id: "r".into(),
                    mode: Mode::Incident,
                    runbook: RunbookRef {
                        path: "r.yaml".into(),
                        name: "r".into(),
                        version: "1.0.0".into(),
                        sha256: String::new(),
                    },
                    target: None,
                    targets_file: None,
                    answers_file: None,
                    operator: "alice".into(),
                    declared_at: at(0),
                    declared_at_given: false,
                    failed_at: None,
                    inputs: Default::default(),
                },
            ),
            record(1, at(1), started(1)),
            // drbook died here; it was resumed a minute later.
            record(
                2,
                at(60),
                Event::SessionStarted {
                    operator: "bob".into(),
                    accepted_changed_runbook: false,
                    runbook_sha256: String::new(),
                },
            ),
            record(3, at(61), started(2)),
            record(
                4,
                at(63),
                Event::StepFinished {
                    step: "restore".into(),
                    item: None,
                    attempt: 2,
                    outcome: Outcome::Succeeded {
                        outputs: Default::default(),
                    },
                },
            ),
        ];
        let achieved = achieved(
            &records,
            &ClockInputs {
                declared_at: at(0),
                failed_at: None,
                recovered_step: Some("restore"),
                checkpoint_steps: &HashSet::new(),
                rto_objective: None,
                rpo_objective: None,
            },
        );
        assert_eq!(achieved.rto_ms, Some(63_000));
        assert_eq!(achieved.machine_ms, 2_000);
        assert_eq!(achieved.operator_ms, 0);
        assert_eq!(achieved.idle_ms, 61_000);
    }
}
