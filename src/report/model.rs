//! What a drill or incident report says, built from a run's verified journal: who ran
//! which runbook where, how it ended, the RTO and RPO against the objectives, every step
//! attempt, every checkpoint answer and every deviation from the plan.
//!
//! The journal is the only source of facts. The one thing it does not hold is the
//! question a checkpoint asked; that is read from the run directory's copy of the runbook,
//! and only when the copy's SHA-256 is one the journal pinned (so an edited copy cannot
//! put words in the record). Every value is already masked: the journal never holds a
//! secret. This model is serialized as the JSON report (docs/reports.md) and is what the
//! Markdown, JUnit and HTML templates read.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::clusters::{ClusterReport, clusters};
use crate::journal::Journal;
use crate::journal::event::{Achieved, AnsweredBy, Event, FailureDecision, Outcome, Record};
use crate::verdict::{Measured, Verdict};
use crate::view::item_label;
use crate::view::terminal::format_ms;

/// The version of the JSON report, `MAJOR.MINOR`: a field added is a minor change, one
/// renamed or removed a major one.
pub(crate) const FORMAT: &str = "1.1";

/// The most output lines kept of one failed attempt: its end says why it failed.
const FAILED_OUTPUT_LINES: usize = 40;

/// A whole report.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub format: &'static str,
    pub run_id: String,
    /// As `runs list` says it: succeeded, failed, aborted, paused, stopped, running,
    /// interrupted.
    pub status: String,
    pub mode: String,
    pub drbook_version: String,
    pub runbook: RunbookFacts,
    pub target: Option<String>,
    /// The Kubernetes clusters the run reached, each once (report format 1.1).
    pub clusters: Vec<ClusterReport>,
    /// Everyone who operated a session of the run, in order, once each.
    pub operators: Vec<String>,
    /// Every person who answered a checkpoint or decided a failure, once each.
    pub answered_by: Vec<String>,
    pub started: String,
    /// The last event's time.
    pub last_event: String,
    pub declared_at: String,
    pub rto: Objective,
    pub rpo: Objective,
    /// `run_finished`'s measurements; absent while the run has not finished.
    pub achieved: Option<Achieved>,
    pub steps: Vec<StepReport>,
    pub checkpoints: Vec<CheckpointReport>,
    pub deviations: Vec<Deviation>,
    /// The review (`drbook review`), when there is one of this journal (format 1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<super::review::ReviewReport>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunbookFacts {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub path: String,
}

/// One objective (RTO or RPO) and how the run did against it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Objective {
    pub achieved_ms: Option<u64>,
    pub objective_ms: Option<u64>,
    /// met, missed, not_reached, not_measured, no_objective; `not_finished` while the
    /// run has not finished.
    pub verdict: String,
    /// How much later (RTO) or how much more data lost (RPO) than the objective.
    pub missed_by_ms: Option<u64>,
    /// The sentence `runs show` prints: "RTO 4m 12s — met (objective 1h)".
    pub text: String,
}

/// One step, or one `foreach` item of a step, with each of its attempts.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepReport {
    pub step: String,
    pub item: Option<usize>,
    /// The short name of the `foreach` item (`m0`), as the terminal shows it.
    pub label: Option<String>,
    /// `action`, or `checkpoint` when the step waited for a person.
    pub kind: &'static str,
    /// The last attempt's outcome, or `skipped`.
    pub outcome: String,
    pub retries: u32,
    /// The sum of the attempts' durations.
    pub duration_ms: u64,
    pub duration: String,
    /// Why the step was skipped, when it was.
    pub skipped_reason: Option<String>,
    pub attempts: Vec<Attempt>,
    /// Milliseconds from the chart's origin to the skip, for the timeline.
    #[serde(skip)]
    pub skipped_offset_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Attempt {
    pub attempt: u32,
    pub started: String,
    /// Absent when the attempt never finished (a crash or a pause).
    pub ended: Option<String>,
    pub duration_ms: u64,
    pub duration: String,
    /// succeeded, failed, timed_out, cancelled, marked_done or interrupted.
    pub outcome: String,
    /// Why it failed, timed out or was cancelled (masked).
    pub error: Option<String>,
    /// The last lines the attempt printed, kept only when it did not succeed (masked).
    pub output: Vec<String>,
    /// Milliseconds from the chart's origin, for the timeline.
    #[serde(skip)]
    pub start_offset_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CheckpointReport {
    pub step: String,
    /// The prompt, from the runbook copy the journal pinned; absent when it is not there.
    pub question: Option<String>,
    pub answer: String,
    /// A person's name, `answers file PATH`, or `timeout (default)`.
    pub by: String,
    /// operator, answers_file or timeout_default.
    pub by_kind: &'static str,
    pub time: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Deviation {
    pub time: String,
    pub step: Option<String>,
    /// retry, failed, failure_decided, marked_done, changed_runbook, skipped, paused,
    /// stopped, timeout_default.
    pub kind: &'static str,
    pub text: String,
}

/// Facts the timeline needs beyond the report's text: offsets from its origin.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// The earliest of the run's start and the declared incident, as milliseconds since
    /// the epoch.
    pub origin_ms: i64,
    pub declared_ms: i64,
    /// The run's first event.
    pub run_start_ms: i64,
    pub end_ms: i64,
}

/// What the runbook copy of the run directory tells about its steps.
#[derive(Debug, Default)]
pub(crate) struct RunbookCopy {
    /// Step id → checkpoint prompt.
    pub prompts: HashMap<String, String>,
}

pub(super) fn time_text(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ms_between(from: &DateTime<Utc>, to: &DateTime<Utc>) -> u64 {
    u64::try_from((*to - *from).num_milliseconds()).unwrap_or(0)
}

fn objective(measured: Option<Measured>, what: &str) -> Objective {
    let Some(m) = measured else {
        return Objective {
            achieved_ms: None,
            objective_ms: None,
            verdict: "not_finished".into(),
            missed_by_ms: None,
            text: format!("{what} not measured yet: the run has not finished"),
        };
    };
    let verdict = serde_json::to_value(m.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let missed_by_ms = match (m.verdict, m.achieved_ms, m.objective_ms) {
        (Verdict::Missed, Some(a), Some(o)) => Some(a.saturating_sub(o)),
        _ => None,
    };
    Objective {
        achieved_ms: m.achieved_ms,
        objective_ms: m.objective_ms,
        verdict,
        missed_by_ms,
        text: m.line(what),
    }
}

fn answer_text(answer: &Value) -> String {
    match answer {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_once(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

/// Builds the report of run `id` from its verified journal; `status` is what `runs`
/// says of it, `copy` what the pinned runbook copy adds.
pub(crate) fn build(
    id: &str,
    journal: &Journal,
    status: String,
    copy: &RunbookCopy,
) -> Option<(Report, Span)> {
    let first = journal.records.first()?;
    let Event::RunStarted {
        drbook_version,
        mode,
        runbook,
        target,
        operator,
        declared_at,
        ..
    } = &first.event
    else {
        return None;
    };
    let mut builder = Builder::new(copy);
    push_once(&mut builder.operators, operator);
    let mut declared = *declared_at;
    for record in &journal.records {
        if let Event::RecoveryStarted { declared_at } = &record.event {
            declared = *declared_at;
        }
        builder.record(record);
    }
    let last = journal.records.last().unwrap_or(first);
    let achieved = journal.records.iter().rev().find_map(|r| match &r.event {
        Event::RunFinished { achieved, .. } => Some(achieved.clone()),
        _ => None,
    });
    let origin = first.time.min(declared);
    let end = last.time;
    let steps = builder.steps(&origin, &last.time);
    builder.failures_gone_past(&steps);
    let report = Report {
        format: FORMAT,
        run_id: id.to_string(),
        status,
        mode: mode.name().into(),
        drbook_version: drbook_version.clone(),
        runbook: RunbookFacts {
            name: runbook.name.clone(),
            version: runbook.version.clone(),
            sha256: runbook.sha256.clone(),
            path: runbook.path.clone(),
        },
        target: target.clone(),
        clusters: clusters(journal),
        operators: builder.operators,
        answered_by: builder.answered_by,
        started: time_text(&first.time),
        last_event: time_text(&last.time),
        declared_at: time_text(&declared),
        rto: objective(achieved.as_ref().map(Measured::rto), "RTO"),
        rpo: objective(achieved.as_ref().map(Measured::rpo), "RPO"),
        achieved,
        steps,
        checkpoints: builder.checkpoints,
        deviations: builder.deviations,
        review: None,
    };
    let span = Span {
        origin_ms: origin.timestamp_millis(),
        declared_ms: declared.timestamp_millis(),
        run_start_ms: first.time.timestamp_millis(),
        end_ms: end.timestamp_millis(),
    };
    Some((report, span))
}

/// An attempt while its events are read.
struct Open {
    attempt: u32,
    started: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
    outcome: String,
    error: Option<String>,
    output: Vec<String>,
}

/// One step (or item) while its events are read.
struct StepAcc {
    step: String,
    item: Option<usize>,
    label: Option<String>,
    checkpoint: bool,
    skipped: Option<(DateTime<Utc>, String)>,
    attempts: Vec<Open>,
}

/// Reads records in order and collects the report's parts.
struct Builder<'a> {
    copy: &'a RunbookCopy,
    operators: Vec<String>,
    answered_by: Vec<String>,
    order: Vec<(String, Option<usize>)>,
    steps: BTreeMap<(String, Option<usize>), StepAcc>,
    checkpoints: Vec<CheckpointReport>,
    deviations: Vec<Deviation>,
}

impl<'a> Builder<'a> {
    fn new(copy: &'a RunbookCopy) -> Self {
        Builder {
            copy,
            operators: Vec::new(),
            answered_by: Vec::new(),
            order: Vec::new(),
            steps: BTreeMap::new(),
            checkpoints: Vec::new(),
            deviations: Vec::new(),
        }
    }

    fn step(&mut self, step: &str, item: Option<usize>) -> &mut StepAcc {
        let key = (step.to_string(), item);
        if !self.steps.contains_key(&key) {
            self.order.push(key.clone());
        }
        let checkpoint = self.copy.prompts.contains_key(step);
        self.steps.entry(key).or_insert_with(|| StepAcc {
            step: step.to_string(),
            item,
            label: None,
            checkpoint,
            skipped: None,
            attempts: Vec::new(),
        })
    }

    fn deviation(&mut self, record: &Record, step: Option<&str>, kind: &'static str, text: String) {
        self.deviations.push(Deviation {
            time: time_text(&record.time),
            step: step.map(str::to_string),
            kind,
            text,
        });
    }

    fn record(&mut self, record: &Record) {
        match &record.event {
            Event::SessionStarted {
                operator,
                accepted_changed_runbook,
                runbook_sha256,
            } => {
                push_once(&mut self.operators, operator);
                if *accepted_changed_runbook {
                    self.deviation(
                        record,
                        None,
                        "changed_runbook",
                        format!(
                            "resumed by {operator} with a changed runbook, accepted (sha256 {runbook_sha256})"
                        ),
                    );
                }
            }
            Event::StepStarted {
                step,
                item,
                attempt,
                label,
            } => {
                let acc = self.step(step, *item);
                acc.label = item_label::short(label.as_deref(), *item);
                acc.attempts.push(Open {
                    attempt: *attempt,
                    started: record.time,
                    ended: None,
                    outcome: "interrupted".into(),
                    error: None,
                    output: Vec::new(),
                });
                if *attempt > 1 {
                    let text = format!("`{step}` tried again (attempt {attempt})");
                    self.deviation(record, Some(step), "retry", text);
                }
            }
            Event::StepOutput {
                step, item, line, ..
            } => {
                if let Some(open) = self.step(step, *item).attempts.last_mut() {
                    if open.output.len() == FAILED_OUTPUT_LINES {
                        open.output.remove(0);
                    }
                    open.output.push(line.clone());
                }
            }
            Event::StepFinished {
                step,
                item,
                outcome,
                ..
            } => {
                let acc = self.step(step, *item);
                let Some(open) = acc.attempts.last_mut() else {
                    return;
                };
                open.ended = Some(record.time);
                let (name, error) = match outcome {
                    Outcome::Succeeded { .. } => ("succeeded", None),
                    Outcome::Failed { error } => ("failed", Some(error.clone())),
                    Outcome::TimedOut { after_ms } => (
                        "timed_out",
                        Some(format!("timed out after {}", format_ms(*after_ms))),
                    ),
                    Outcome::Cancelled { reason } => ("cancelled", Some(reason.clone())),
                    Outcome::MarkedDone { .. } => ("marked_done", None),
                };
                open.outcome = name.into();
                open.error = error;
                if name == "succeeded" || name == "marked_done" {
                    open.output.clear();
                }
                if let Outcome::MarkedDone { by } = outcome {
                    push_once(&mut self.answered_by, by);
                    let text = format!("`{step}` marked done by {by} after a crash, not re-run");
                    self.deviation(record, Some(step), "marked_done", text);
                }
            }
            Event::CheckpointAnswered { step, answer, by } => {
                self.step(step, None).checkpoint = true;
                let (who, kind) = match by {
                    AnsweredBy::Operator { name } => {
                        push_once(&mut self.answered_by, name);
                        (name.clone(), "operator")
                    }
                    AnsweredBy::AnswersFile { path } => {
                        (format!("answers file {path}"), "answers_file")
                    }
                    AnsweredBy::TimeoutDefault => ("timeout (default)".into(), "timeout_default"),
                };
                if kind == "timeout_default" {
                    let text = format!("`{step}` was not answered in time; its default was taken");
                    self.deviation(record, Some(step), "timeout_default", text);
                }
                self.checkpoints.push(CheckpointReport {
                    step: step.clone(),
                    question: self.copy.prompts.get(step).cloned(),
                    answer: answer_text(answer),
                    by: who,
                    by_kind: kind,
                    time: time_text(&record.time),
                });
            }
            Event::FailureDecided {
                step, decision, by, ..
            } => {
                push_once(&mut self.answered_by, by);
                let what = match decision {
                    FailureDecision::Retry => "retry it",
                    FailureDecision::Continue => "continue without it",
                    FailureDecision::Abort => "abort the run",
                };
                let text = format!("`{step}` failed; {by} decided to {what}");
                self.deviation(record, Some(step), "failure_decided", text);
            }
            Event::StepSkipped { step, reason } => {
                self.step(step, None).skipped = Some((record.time, reason.clone()));
                let text = format!("`{step}` skipped: {reason}");
                self.deviation(record, Some(step), "skipped", text);
            }
            Event::RunPaused { reason, stopped_at } => match stopped_at {
                Some(step) => {
                    let text = format!("stopped by the operator at `{step}`: {reason}");
                    self.deviation(record, Some(step), "stopped", text);
                }
                None => self.deviation(record, None, "paused", reason.clone()),
            },
            Event::RunStarted { .. }
            | Event::ClusterReached { .. }
            | Event::RecoveryStarted { .. }
            | Event::RunFinished { .. } => {}
        }
    }

    /// A deviation for each step whose last attempt did not succeed, in time order with
    /// the others: the run went on without it, or ended there.
    fn failures_gone_past(&mut self, steps: &[StepReport]) {
        for step in steps {
            let Some(last) = step.attempts.last() else {
                continue;
            };
            if matches!(last.outcome.as_str(), "succeeded" | "marked_done") {
                continue;
            }
            let error = last
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            let name = match &step.label {
                Some(label) => format!("{} [{label}]", step.step),
                None => step.step.clone(),
            };
            self.deviations.push(Deviation {
                time: last.ended.clone().unwrap_or_else(|| last.started.clone()),
                step: Some(step.step.clone()),
                kind: "failed",
                text: format!("`{name}` {}{error}", last.outcome.replace('_', " ")),
            });
        }
        // RFC 3339 UTC times with milliseconds sort as text; the sort is stable, so
        // events of the same millisecond keep their order.
        self.deviations.sort_by(|a, b| a.time.cmp(&b.time));
    }

    /// The steps in the order they first appeared; an attempt that never finished lasts
    /// until the journal's last event.
    fn steps(&mut self, origin: &DateTime<Utc>, last: &DateTime<Utc>) -> Vec<StepReport> {
        let mut out = Vec::new();
        for key in &self.order {
            let Some(acc) = self.steps.remove(key) else {
                continue;
            };
            let attempts: Vec<Attempt> = acc
                .attempts
                .into_iter()
                .map(|open| {
                    let end = open.ended.unwrap_or(*last);
                    let duration_ms = ms_between(&open.started, &end);
                    Attempt {
                        attempt: open.attempt,
                        started: time_text(&open.started),
                        ended: open.ended.as_ref().map(time_text),
                        duration_ms,
                        duration: format_ms(duration_ms),
                        outcome: open.outcome,
                        error: open.error,
                        output: open.output,
                        start_offset_ms: ms_between(origin, &open.started),
                    }
                })
                .collect();
            let duration_ms = attempts.iter().map(|a| a.duration_ms).sum();
            let outcome = match (&acc.skipped, attempts.last()) {
                (_, Some(a)) => a.outcome.clone(),
                (Some(_), None) => "skipped".into(),
                (None, None) => "not_started".into(),
            };
            out.push(StepReport {
                step: acc.step,
                item: acc.item,
                label: acc.label,
                kind: if acc.checkpoint {
                    "checkpoint"
                } else {
                    "action"
                },
                outcome,
                retries: u32::try_from(attempts.len().saturating_sub(1)).unwrap_or(u32::MAX),
                duration_ms,
                duration: format_ms(duration_ms),
                skipped_offset_ms: acc.skipped.as_ref().map(|(t, _)| ms_between(origin, t)),
                skipped_reason: acc.skipped.map(|(_, reason)| reason),
                attempts,
            });
        }
        out
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
pub(super) mod tests;
