//! `drbook runs list` and `drbook runs show RUN_ID`: what the state directory holds,
//! read from the journals alone, as text or (`--output json`) as the versioned JSON
//! documented in docs/run-record.md ("`drbook runs` as JSON").

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::app_error::AppError;
use crate::cli::OutputFormat;
use crate::journal::Journal;
use crate::journal::event::{Achieved, AnsweredBy, Event, FailureDecision, Outcome, Record};
use crate::run_dir::StateDir;
use crate::verdict::{Measured, all_met};
use crate::view::terminal::format_ms;
use crate::view::{cluster_line, item_label};

/// The version of the JSON that `runs list` and `runs show` print, `MAJOR.MINOR`: a
/// field added is a minor change, one renamed or removed a major one.
const JSON_FORMAT: &str = "1.1";

/// The status of a run as its journal (and its lock) tell it.
pub(crate) fn status(journal: &Journal, locked: bool) -> String {
    let last = journal.records.last().map(|r| &r.event);
    match last {
        Some(Event::RunFinished { outcome, .. }) => outcome.name().into(),
        _ if locked => "running".into(),
        Some(Event::RunPaused {
            stopped_at: Some(_),
            ..
        }) => "stopped".into(),
        Some(Event::RunPaused { .. }) => "paused".into(),
        _ => "interrupted".into(),
    }
}

/// Every run in the state directory, oldest first.
pub fn list(state: &StateDir, output: OutputFormat) -> Result<String, AppError> {
    if output == OutputFormat::Text {
        return list_text(state);
    }
    let mut runs = Vec::new();
    for id in state.run_ids()? {
        match state.run(&id)?.inspect(state) {
            Ok((journal, locked)) => runs.extend(run_json(&id, &journal, locked)),
            Err(e) => runs.push(json!({"id": id, "status": "damaged", "error": e.to_string()})),
        }
    }
    Ok(pretty(&json!({"format": JSON_FORMAT, "runs": runs})))
}

fn list_text(state: &StateDir) -> Result<String, AppError> {
    let ids = state.run_ids()?;
    let mut out = String::new();
    if ids.is_empty() {
        let _ = writeln!(out, "no runs in {}", state.path.display());
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "{:<26} {:<11} {:<8} {:<12} {:<14} runbook",
        "RUN", "STATUS", "MODE", "TARGET", "RTO"
    );
    for id in ids {
        let dir = state.run(&id)?;
        match dir.inspect(state) {
            Ok((journal, locked)) => {
                let Some(Event::RunStarted {
                    mode,
                    runbook,
                    target,
                    ..
                }) = journal.records.first().map(|r| &r.event)
                else {
                    continue;
                };
                let rto = journal.records.iter().find_map(|r| match &r.event {
                    Event::RunFinished { achieved, .. } => {
                        Some(achieved.rto_ms.map_or("not reached".into(), format_ms))
                    }
                    _ => None,
                });
                let mode = mode.name();
                let _ = writeln!(
                    out,
                    "{id:<26} {:<11} {mode:<8} {:<12} {:<14} {} {}",
                    status(&journal, locked),
                    target.as_deref().unwrap_or("-"),
                    rto.unwrap_or_else(|| "-".into()),
                    runbook.name,
                    runbook.version
                );
            }
            Err(e) => {
                let _ = writeln!(out, "{id:<26} damaged     {e}");
            }
        }
    }
    Ok(out)
}

/// One run's record, event by event, ending with its RTO and RPO against the objectives.
pub fn show(state: &StateDir, id: &str, output: OutputFormat) -> Result<String, AppError> {
    let (journal, locked) = state.run(id)?.inspect(state)?;
    match output {
        OutputFormat::Text => Ok(show_text(&journal, locked)),
        OutputFormat::Json => {
            let run = run_json(id, &journal, locked).unwrap_or_else(|| json!({"id": id}));
            let events: Vec<Value> = journal.records.iter().filter_map(event_json).collect();
            Ok(pretty(&json!({
                "format": JSON_FORMAT,
                "run": run,
                "events": events,
                "verified": true,
            })))
        }
    }
}

/// One record of `runs show --output json`; `None` for command output.
fn event_json(record: &Record) -> Option<Value> {
    let summary = summary(record)?;
    let event = serde_json::to_value(&record.event).unwrap_or(Value::Null);
    let mut out = json!({
        "seq": record.seq,
        "time": millis(&record.time),
        "type": event.get("type").cloned().unwrap_or(Value::Null),
        "summary": summary,
    });
    if let Some(step) = event.get("step") {
        out["step"] = step.clone();
    }
    if let Event::StepStarted {
        item: Some(item),
        label,
        ..
    } = &record.event
    {
        out["item"] = json!(item);
        out["label"] = json!(item_label::short(label.as_deref(), Some(*item)));
    }
    Some(out)
}

fn show_text(journal: &Journal, locked: bool) -> String {
    let mut out = String::new();
    for record in &journal.records {
        let Some(line) = summary(record) else {
            continue;
        };
        let time = record.time.format("%H:%M:%S%.3f");
        let _ = writeln!(out, "{time}  {line}");
    }
    let _ = writeln!(
        out,
        "status: {}; record verified ({} events, hash chain intact)",
        status(journal, locked),
        journal.records.len()
    );
    match finished(journal) {
        Some(achieved) => {
            let _ = writeln!(out, "{}", Measured::rto(achieved).line("RTO"));
            let _ = writeln!(out, "{}", Measured::rpo(achieved).line("RPO"));
        }
        None => {
            let _ = writeln!(
                out,
                "RTO and RPO: not measured yet, the run has not finished"
            );
        }
    }
    out
}

/// What the run achieved, once it finished.
fn finished(journal: &Journal) -> Option<&Achieved> {
    journal.records.iter().rev().find_map(|r| match &r.event {
        Event::RunFinished { achieved, .. } => Some(achieved),
        _ => None,
    })
}

fn millis(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The run's header and results: one object of `runs list`, and `runs show`'s `run`;
/// `None` when the journal does not start with `run_started`.
fn run_json(id: &str, journal: &Journal, locked: bool) -> Option<Value> {
    let first = journal.records.first()?;
    let Event::RunStarted {
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
    let achieved = finished(journal);
    let rto = achieved.map(Measured::rto);
    let rpo = achieved.map(Measured::rpo);
    let objectives_met = match (&rto, &rpo) {
        (Some(rto), Some(rpo)) => all_met(rto, rpo),
        _ => None,
    };
    Some(json!({
        "id": id,
        "status": status(journal, locked),
        "mode": mode.name(),
        "target": target,
        "clusters": clusters(journal),
        "operator": operator,
        "runbook": {
            "name": runbook.name,
            "version": runbook.version,
            "sha256": runbook.sha256,
            "path": runbook.path,
        },
        "started": millis(&first.time),
        "declared_at": millis(declared_at),
        "rto_ms": achieved.and_then(|a| a.rto_ms),
        "rpo_ms": achieved.and_then(|a| a.rpo_ms),
        "rto": rto,
        "rpo": rpo,
        "objectives_met": objectives_met,
        "achieved": achieved,
    }))
}

/// The clusters the run reached (`cluster_reached`), in order: format 1.1.
fn clusters(journal: &Journal) -> Vec<Value> {
    journal
        .records
        .iter()
        .filter_map(|r| match &r.event {
            Event::ClusterReached {
                server,
                uid,
                context,
                via,
            } => Some(json!({"server": server, "uid": uid, "context": context, "via": via})),
            _ => None,
        })
        .collect()
}

fn pretty(value: &Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    )
}

/// One record as a line of `runs show`; `None` for command output, which the record
/// keeps but the summary leaves out.
fn summary(record: &Record) -> Option<String> {
    let line = match &record.event {
        Event::RunStarted {
            run_id,
            mode,
            runbook,
            target,
            operator,
            declared_at,
            ..
        } => format!(
            "run {run_id}: {} {} (sha256 {}), mode {}, target {}, operator {operator}, declared {}",
            runbook.name,
            runbook.version,
            &runbook.sha256[..12.min(runbook.sha256.len())],
            mode.name(),
            target.as_deref().unwrap_or("none"),
            declared_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        Event::FailureDecided {
            step, decision, by, ..
        } => format!(
            "  {step}: {by} decided to {}",
            match decision {
                FailureDecision::Retry => "retry it",
                FailureDecision::Continue => "continue without it",
                FailureDecision::Abort => "abort the run",
            }
        ),
        Event::ClusterReached {
            server,
            uid,
            context,
            via,
        } => format!(
            "{}, {}",
            cluster_line::cluster_line(server, uid),
            cluster_line::how_reached(context.as_deref(), via, record.session)
        ),
        Event::RecoveryStarted { declared_at } => format!(
            "drill: failure injected; incident declared {}, recovery begins",
            declared_at.format("%Y-%m-%d %H:%M:%S%.3f UTC")
        ),
        Event::SessionStarted {
            operator,
            accepted_changed_runbook,
            runbook_sha256,
        } => format!(
            "resumed by {operator}{}",
            if *accepted_changed_runbook {
                format!(
                    ", changed runbook accepted (sha256 {})",
                    &runbook_sha256[..12.min(runbook_sha256.len())]
                )
            } else {
                String::new()
            }
        ),
        Event::StepStarted {
            step,
            attempt,
            label,
            item,
        } => format!(
            "▶ {step}{}{}",
            item_label::short(label.as_deref(), *item)
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default(),
            if *attempt > 1 {
                format!(" attempt {attempt}")
            } else {
                String::new()
            }
        ),
        Event::StepOutput { .. } => return None,
        Event::CheckpointAnswered { step, answer, by } => format!(
            "  {step} answered {answer} {}",
            match by {
                AnsweredBy::Operator { name } => format!("by {name}"),
                AnsweredBy::AnswersFile { path } => format!("from answers file {path}"),
                AnsweredBy::TimeoutDefault => "by timeout (default)".into(),
            }
        ),
        Event::StepFinished { step, outcome, .. } => match outcome {
            Outcome::Succeeded { outputs } if outputs.is_empty() => format!("✔ {step}"),
            Outcome::Succeeded { outputs } => format!(
                "✔ {step} outputs {}",
                serde_json::Value::Object(outputs.clone())
            ),
            Outcome::MarkedDone { by } => format!("✔ {step} marked done by {by}"),
            Outcome::Failed { error } => format!("✖ {step}: {error}"),
            Outcome::TimedOut { after_ms } => {
                format!("✖ {step} timed out after {}", format_ms(*after_ms))
            }
            Outcome::Cancelled { reason } => format!("■ {step} cancelled: {reason}"),
        },
        Event::StepSkipped { step, reason } => format!("↷ {step} skipped: {reason}"),
        Event::RunPaused {
            reason,
            stopped_at: None,
        } => format!("■ paused: {reason}"),
        Event::RunPaused {
            reason,
            stopped_at: Some(step),
        } => format!("■ stopped by the operator at `{step}`: {reason}"),
        Event::RunFinished { outcome, achieved } => format!(
            "run {}: RTO {}, RPO {} (machine {}, operator {}, idle {})",
            outcome.name(),
            achieved.rto_ms.map_or("not reached".into(), format_ms),
            achieved.rpo_ms.map_or("not measured".into(), format_ms),
            format_ms(achieved.machine_ms),
            format_ms(achieved.operator_ms),
            format_ms(achieved.idle_ms)
        ),
    };
    Some(line)
}
