//! What is checked against the bound target before the first step: every `target.*`
//! value the runbook can reach must be there. A misspelt key used to render as an
//! empty command half-way through a recovery; now the run is refused before its run
//! directory exists (a resumed run, before its journal is written to), naming each
//! missing value and where the runbook reads it.

use std::collections::BTreeMap;
use std::path::Path;

use super::binding::BoundTarget;
use crate::app_error::AppError;
use crate::journal::event::Mode;
use crate::runbook::ValidRunbook;
use crate::runbook::target_reads::TargetRead;

/// Refuses a run whose target lacks a value the runbook reads, or that has no target
/// although the runbook reads one. A drill also reaches `drill.inject`; an incident
/// does not. Reads guarded by `| default(...)` or `is defined` need only what they are
/// read from.
pub fn check_target_reads(
    valid: &ValidRunbook,
    mode: Mode,
    runbook_path: &Path,
    bound: Option<&BoundTarget>,
) -> Result<(), AppError> {
    let reachable = valid
        .target_reads
        .iter()
        .filter(|r| mode == Mode::Drill || !r.inject);
    let Some(bound) = bound else {
        let needed: Vec<&TargetRead> = reachable.filter(|r| r.required > 0).collect();
        if needed.is_empty() {
            return Ok(());
        }
        return Err(AppError::refused(format!(
            "runbook `{}` reads the target, but no target is bound; nothing was run:\n{}\n  pass `--target NAME` to name the environment (the targets file, `--targets FILE` or `{}`, lists them)",
            runbook_path.display(),
            lines(needed.into_iter().map(|r| (r, String::new()))),
            crate::targets::DEFAULT_FILE
        )));
    };
    let facts = &bound.target.facts;
    let missing: Vec<(&TargetRead, String)> = reachable
        .filter_map(|r| r.missing_in(facts).map(|why| (r, format!(": {why}"))))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AppError::refused(format!(
        "target `{}` lacks values runbook `{}` reads; nothing was run:\n{}\n  add them to the entry of `{}` in `{}`, or give the read a fallback with `| default(...)`",
        bound.target.name,
        runbook_path.display(),
        lines(missing.into_iter()),
        bound.target.name,
        bound.file.display()
    )))
}

/// One line per value read, at the first place it is read (`and N more places`).
fn lines<'r>(reads: impl Iterator<Item = (&'r TargetRead, String)>) -> String {
    let mut by_path: BTreeMap<String, (&TargetRead, String, usize)> = BTreeMap::new();
    for (read, why) in reads {
        by_path
            .entry(read.written())
            .and_modify(|(_, _, more)| *more += 1)
            .or_insert((read, why, 0));
    }
    let mut rows: Vec<_> = by_path.into_iter().collect();
    rows.sort_by_key(|(_, (read, _, _))| read.span.start);
    rows.into_iter()
        .map(|(written, (read, why, more))| {
            let more = match more {
                0 => String::new(),
                1 => " and 1 more place".to_string(),
                n => format!(" and {n} more places"),
            };
            format!(
                "  - `{written}`{why} (read in {}, line {}{more})",
                read.site, read.span.start.line
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
