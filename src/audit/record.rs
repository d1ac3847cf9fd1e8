//! One record checked: its journal's chain (the journal reader verifies it), whether it
//! is whole (registered runs have a journal; no signature covers more lines than the
//! journal has; an uploaded journal ends at a pause or a finish), signed and reviewed,
//! and the facts the history is built from.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::signatures::{SignatureCheck, check_signatures};
use super::source::RawRecord;
use crate::journal::event::{Achieved, AnsweredBy, Event, Mode, RunOutcome};
use crate::journal::reader;
use crate::signing::AllowedSigners;
use crate::store::Registration;

/// A problem with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub(crate) enum RecordProblem {
    /// The chain does not verify, or the record cannot be read at all.
    Broken(String),
    /// Registered and never finished, or cut below a signed length.
    Truncated(String),
    /// No signature covers the whole journal.
    Unsigned(String),
    /// A finished drill without a review.
    Unreviewed,
}

impl RecordProblem {
    /// Broken and truncated records fail verification: `audit` exits non-zero.
    pub(crate) fn fails_verification(&self) -> bool {
        matches!(self, RecordProblem::Broken(_) | RecordProblem::Truncated(_))
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            RecordProblem::Broken(_) => "broken",
            RecordProblem::Truncated(_) => "truncated",
            RecordProblem::Unsigned(_) => "unsigned",
            RecordProblem::Unreviewed => "unreviewed",
        }
    }

    pub(crate) fn detail(&self) -> &str {
        match self {
            RecordProblem::Broken(d) | RecordProblem::Truncated(d) | RecordProblem::Unsigned(d) => {
                d
            }
            RecordProblem::Unreviewed => "a finished drill without a review (`drbook review`)",
        }
    }
}

/// What the audit knows of one run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuditedRun {
    pub run_id: String,
    pub location: String,
    pub runbook: String,
    /// The runbook's SHA-256 the run last ran (a changed runbook accepted on resume
    /// counts).
    pub runbook_sha256: String,
    pub mode: Mode,
    pub target: Option<String>,
    /// Everyone who operated a session, in order, without repeats.
    pub operators: Vec<String>,
    /// People who answered a checkpoint.
    pub answered_by: Vec<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<RunOutcome>,
    pub achieved: Option<Achieved>,
    pub lines: usize,
    pub signatures: Vec<usize>,
    pub signature_check: SignatureCheck,
    pub problems: Vec<RecordProblem>,
}

impl AuditedRun {
    /// A record whose chain verified (its facts can be trusted).
    pub(crate) fn verified(&self) -> bool {
        !self.problems.iter().any(RecordProblem::fails_verification)
    }
}

/// Checks one raw record. A record without a readable start has no facts: it comes
/// back as an error text, to be listed as broken on its own.
pub(crate) fn check(
    raw: &RawRecord,
    allowed_signers: Option<&AllowedSigners>,
) -> Result<AuditedRun, (String, RecordProblem)> {
    let registration: Option<Registration> = match &raw.registration {
        Some(bytes) => Some(serde_json::from_slice(bytes).map_err(|e| {
            (
                raw.run_id.clone(),
                RecordProblem::Broken(format!("registration.json cannot be read: {e}")),
            )
        })?),
        None => None,
    };
    let Some((name, bytes)) = &raw.journal else {
        return match registration {
            Some(registration) => Ok(registered_only(raw, registration)),
            None => Err((
                raw.run_id.clone(),
                RecordProblem::Broken("neither a journal nor a registration".into()),
            )),
        };
    };
    let journal = reader::parse(Path::new(name), bytes)
        .map_err(|e| (raw.run_id.clone(), RecordProblem::Broken(e.to_string())))?;
    let Some(Event::RunStarted {
        run_id,
        mode,
        runbook,
        target,
        operator,
        ..
    }) = journal.records.first().map(|r| &r.event)
    else {
        return Err((
            raw.run_id.clone(),
            RecordProblem::Broken("the journal has no `run_started`".into()),
        ));
    };
    let mut run = AuditedRun {
        run_id: raw.run_id.clone(),
        location: raw.location.clone(),
        runbook: runbook.name.clone(),
        runbook_sha256: runbook.sha256.clone(),
        mode: *mode,
        target: target.clone(),
        operators: vec![operator.clone()],
        answered_by: Vec::new(),
        started_at: journal.records[0].time,
        finished_at: None,
        outcome: None,
        achieved: None,
        lines: journal.records.len(),
        signatures: raw.signatures.clone(),
        signature_check: SignatureCheck::NotChecked,
        problems: Vec::new(),
    };
    if run_id != &raw.run_id {
        run.problems.push(RecordProblem::Broken(format!(
            "the journal is of run `{run_id}`, filed as `{}`",
            raw.run_id
        )));
    }
    let mut answered = BTreeSet::new();
    let mut ended = false;
    for record in &journal.records {
        match &record.event {
            Event::SessionStarted {
                operator,
                runbook_sha256,
                ..
            } => {
                if !run.operators.contains(operator) {
                    run.operators.push(operator.clone());
                }
                run.runbook_sha256 = runbook_sha256.clone();
                ended = false;
            }
            Event::CheckpointAnswered {
                by: AnsweredBy::Operator { name },
                ..
            } => {
                answered.insert(name.clone());
            }
            Event::RunPaused { .. } => ended = true,
            Event::RunFinished { outcome, achieved } => {
                run.outcome = Some(*outcome);
                run.achieved = Some(achieved.clone());
                run.finished_at = Some(record.time);
                ended = true;
            }
            _ => ended = false,
        }
    }
    run.answered_by = answered.into_iter().collect();
    if journal.torn_tail_at.is_some() && !raw.running {
        run.problems.push(RecordProblem::Truncated(
            "the journal's last line was cut short".into(),
        ));
    } else if !ended && !raw.running {
        run.problems.push(RecordProblem::Truncated(format!(
            "registered, never finished: the journal ends after {} lines without a pause or a finish",
            run.lines
        )));
    }
    if let Some(why) = &raw.rewritten {
        run.problems.push(RecordProblem::Broken(why.clone()));
    }
    if let Some(registration) = &registration
        && registration.run_id != raw.run_id
    {
        run.problems.push(RecordProblem::Broken(format!(
            "registration.json is of run `{}`",
            registration.run_id
        )));
    }
    let longest_signed = raw.signatures.iter().copied().max();
    if let Some(n) = longest_signed.filter(|&n| n > run.lines) {
        run.problems.push(RecordProblem::Truncated(format!(
            "a signature covers {n} lines but the journal has {}",
            run.lines
        )));
    }
    match longest_signed {
        None => run
            .problems
            .push(RecordProblem::Unsigned("no signature".into())),
        Some(n) if n < run.lines => run.problems.push(RecordProblem::Unsigned(format!(
            "lines {}..{} are not signed",
            n + 1,
            run.lines
        ))),
        Some(_) => {}
    }
    if run.mode == Mode::Drill && run.outcome.is_some() && !raw.reviewed {
        run.problems.push(RecordProblem::Unreviewed);
    }
    if let Some(allowed) = allowed_signers
        && !raw.signatures.is_empty()
    {
        run.signature_check = check_signatures(raw, allowed);
        if let SignatureCheck::Failed(why) = &run.signature_check {
            run.problems.push(RecordProblem::Broken(why.clone()));
        }
    }
    Ok(run)
}

/// A run that registered and never uploaded a journal.
fn registered_only(raw: &RawRecord, registration: Registration) -> AuditedRun {
    let mode = if registration.mode == "drill" {
        Mode::Drill
    } else {
        Mode::Incident
    };
    AuditedRun {
        run_id: raw.run_id.clone(),
        location: raw.location.clone(),
        runbook: registration.runbook.name,
        runbook_sha256: registration.runbook.sha256,
        mode,
        target: registration.target,
        operators: vec![registration.operator],
        answered_by: Vec::new(),
        started_at: registration.started_at,
        finished_at: None,
        outcome: None,
        achieved: None,
        lines: 0,
        signatures: raw.signatures.clone(),
        signature_check: SignatureCheck::NotChecked,
        problems: vec![RecordProblem::Truncated(
            "registered, never finished: no journal was uploaded".into(),
        )],
    }
}
