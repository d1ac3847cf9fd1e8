//! `drbook runs list` and `drbook runs show RUN_ID`: what the state directory holds,
//! read from the journals alone.

use crate::app_error::AppError;
use crate::journal::Journal;
use crate::journal::event::{AnsweredBy, Event, FailureDecision, Outcome};
use crate::run_dir::StateDir;
use crate::view::terminal::format_ms;
use std::fmt::Write as _;

/// The status of a run as its journal (and its lock) tell it.
fn status(journal: &Journal, locked: bool) -> String {
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

pub fn list(state: &StateDir) -> Result<String, AppError> {
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

pub fn show(state: &StateDir, id: &str) -> Result<String, AppError> {
    let (journal, locked) = state.run(id)?.inspect(state)?;
    let mut out = String::new();
    for record in &journal.records {
        let time = record.time.format("%H:%M:%S%.3f");
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
                ..
            } => format!(
                "▶ {step}{}{}",
                label
                    .as_ref()
                    .map(|l| format!(" [{l}]"))
                    .unwrap_or_default(),
                if *attempt > 1 {
                    format!(" attempt {attempt}")
                } else {
                    String::new()
                }
            ),
            Event::StepOutput { .. } => continue,
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
        let _ = writeln!(out, "{time}  {line}");
    }
    let _ = writeln!(
        out,
        "status: {}; record verified ({} events, hash chain intact)",
        status(&journal, locked),
        journal.records.len()
    );
    Ok(out)
}
