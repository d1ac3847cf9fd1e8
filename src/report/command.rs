//! The report command: reads a run's verified journal (and the checkpoint questions from
//! the runbook copy the journal pinned by its hash), builds the report and renders it.

use sha2::{Digest, Sha256};

use super::model::{self, RunbookCopy};
use super::render::{self, ReportFormat};
use super::review;
use crate::app_error::AppError;
use crate::journal::Journal;
use crate::journal::event::Event;
use crate::run_dir::{RunDir, StateDir};
use crate::runbook::model::StepBody;
use crate::runs;

/// The report of run `id` in `format`.
pub(crate) fn report(state: &StateDir, id: &str, format: ReportFormat) -> Result<String, AppError> {
    let dir = state.run(id)?;
    let (journal, locked) = dir.inspect(state)?;
    let copy = runbook_copy(&dir, &journal);
    let status = runs::status(&journal, locked);
    let (mut report, span) = model::build(id, &journal, status, &copy).ok_or_else(|| {
        AppError::refused(format!(
            "the journal of run `{id}` does not start with `run_started`; there is nothing to report"
        ))
    })?;
    report.review = review::read(&dir);
    render::render(&report, &span, format).map_err(|e| AppError::failed(e.to_string()))
}

/// The checkpoint prompts of the run directory's runbook copy, when its SHA-256 is one
/// the journal recorded (at the start, or accepted on resume); nothing otherwise, so the
/// report never quotes a question the run did not ask.
fn runbook_copy(dir: &RunDir, journal: &Journal) -> RunbookCopy {
    let Ok(bytes) = std::fs::read(dir.runbook()) else {
        return RunbookCopy::default();
    };
    let sha256 = base16ct::lower::encode_string(&Sha256::digest(&bytes));
    let pinned = journal.records.iter().any(|r| match &r.event {
        Event::RunStarted { runbook, .. } => runbook.sha256 == sha256,
        Event::SessionStarted { runbook_sha256, .. } => *runbook_sha256 == sha256,
        _ => false,
    });
    let Ok(text) = String::from_utf8(bytes) else {
        return RunbookCopy::default();
    };
    let Some(valid) = pinned.then(|| crate::runbook::load(&text).ok()).flatten() else {
        return RunbookCopy::default();
    };
    let prompts = valid
        .runbook
        .all_steps()
        .filter_map(|step| match &step.body {
            StepBody::Checkpoint(c) => Some((step.id.value.clone(), c.prompt.value.clone())),
            StepBody::Action(_) => None,
        })
        .collect();
    RunbookCopy { prompts }
}
