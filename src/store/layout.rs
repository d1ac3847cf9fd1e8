//! Where a run's objects live in a store, fixed so that other code (the audit, scripts,
//! an auditor with `aws s3 cp`) can rely on it:
//!
//! ```text
//! runs/<run-id>/registration.json        written when the run starts
//! runs/<run-id>/journal.<N>.jsonl        the journal's first N lines, at every session end
//! runs/<run-id>/signatures/<N>.sig       each file of the run directory's signatures/
//! runs/<run-id>/review.<ext>             the review, when there is one
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The file name of a run's registration.
pub const REGISTRATION: &str = "registration.json";

/// The version of `registration.json`, `MAJOR.MINOR`.
pub const REGISTRATION_FORMAT: &str = "1.0";

/// What a run says of itself when it starts, before any step ran: so a run whose record
/// never arrives (a failed drill whose run directory was deleted) still shows, as
/// "registered, never finished".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub format: String,
    pub run_id: String,
    pub runbook: RegisteredRunbook,
    /// `incident` or `drill`.
    pub mode: String,
    pub target: Option<String>,
    pub operator: String,
    pub started_at: DateTime<Utc>,
    pub drbook_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredRunbook {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

impl Registration {
    /// The registration of the run that `run_started` begins.
    pub fn of(event: &crate::journal::Event, started_at: DateTime<Utc>) -> Option<Registration> {
        let crate::journal::Event::RunStarted {
            drbook_version,
            run_id,
            mode,
            runbook,
            target,
            operator,
            ..
        } = event
        else {
            return None;
        };
        Some(Registration {
            format: REGISTRATION_FORMAT.into(),
            run_id: run_id.clone(),
            runbook: RegisteredRunbook {
                name: runbook.name.clone(),
                version: runbook.version.clone(),
                sha256: runbook.sha256.clone(),
            },
            mode: mode.name().into(),
            target: target.clone(),
            operator: operator.clone(),
            started_at,
            drbook_version: drbook_version.clone(),
        })
    }
}

/// `runs/<run-id>/<name>`.
pub(crate) fn key(run_id: &str, name: &str) -> String {
    format!("runs/{run_id}/{name}")
}

/// `journal.<N>.jsonl`.
pub(crate) fn journal_name(lines: usize) -> String {
    format!("journal.{lines}.jsonl")
}

/// N of `journal.<N>.jsonl`, or `None` for any other name.
pub(crate) fn journal_lines(name: &str) -> Option<usize> {
    name.strip_prefix("journal.")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

/// N of `signatures/<N>.sig` (or a bare `<N>.sig`), or `None` for any other name.
pub(crate) fn signature_lines(name: &str) -> Option<usize> {
    let name = name.strip_prefix("signatures/").unwrap_or(name);
    name.strip_suffix(".sig")?.parse().ok()
}

/// Whether `name` is a review (`review.<ext>`).
pub(crate) fn is_review(name: &str) -> bool {
    name.strip_prefix("review.")
        .is_some_and(|ext| !ext.is_empty())
}
