//! `drbook validate` with a targets file: the `target.*` values a runbook reads, held
//! against every target of the file given with `--targets` (or found beside the runbook
//! or in the current directory, as `run` finds it).
//!
//! A value no target has is an error at the place it is read: no run of the runbook
//! could render it. A value only some targets lack is a warning naming them: the
//! runbook may be meant for the others, and a run against one that lacks it is refused
//! before its first step. Reads in `drill.inject` are held only against the targets
//! that allow drills, the only ones a drill can run against.

use std::path::Path;

use crate::app_error::{AppError, FileKind};
use crate::load::{self, LoadedRunbook};
use crate::runbook::target_reads::TargetRead;
use crate::source::diagnostic::Diagnostic;
use crate::targets::{self, Target};

/// Checks the runbook's target reads against the targets file, when there is one.
/// Warnings are printed on stderr; a value read that no target has is an error.
pub(crate) fn check(
    loaded: &LoadedRunbook,
    runbook_path: &Path,
    flag: Option<&Path>,
) -> Result<(), AppError> {
    let reads = &loaded.valid.target_reads;
    let Some(path) = targets::locate(flag, runbook_path) else {
        return Ok(());
    };
    if reads.is_empty() {
        return Ok(());
    }
    let file = load::text(&path, FileKind::Targets)?;
    let all = match targets::check(&file) {
        Ok(all) => all,
        Err(diagnostics) if flag.is_some() => {
            return Err(AppError::Invalid {
                kind: FileKind::Targets,
                file,
                diagnostics,
            });
        }
        Err(_) => {
            eprintln!(
                "warning: `{}` is not a valid targets file, so the target values `{}` reads were not checked; `drbook validate {}` shows why",
                path.display(),
                runbook_path.display(),
                path.display()
            );
            return Ok(());
        }
    };
    let mut errors = Vec::new();
    // One report per value read, at the first place it is read: a runbook reads the
    // same value in many steps, and one fix mends them all.
    let mut groups: Vec<(&TargetRead, usize)> = Vec::new();
    for read in reads {
        let same = |(first, _): &&mut (&TargetRead, usize)| {
            first.path[..first.required] == read.path[..read.required]
                && first.inject == read.inject
        };
        match groups.iter_mut().find(same) {
            Some((_, more)) => *more += 1,
            None => groups.push((read, 0)),
        }
    }
    for (read, more) in groups {
        let candidates: Vec<&Target> = all
            .iter()
            .filter(|t| !read.inject || t.drill_allowed)
            .collect();
        let lacking: Vec<(&Target, String)> = candidates
            .iter()
            .filter_map(|t| read.missing_in(&t.facts).map(|why| (*t, why)))
            .collect();
        if lacking.is_empty() {
            continue;
        }
        if lacking.len() == candidates.len() {
            errors.push(no_target_has(read, more, &lacking, &path));
        } else {
            eprintln!(
                "{}",
                some_targets_lack(read, more, &lacking, &path, runbook_path)
            );
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(AppError::Invalid {
        kind: FileKind::Runbook,
        file: loaded.file.clone(),
        diagnostics: errors,
    })
}

/// The error for a value no target has.
fn no_target_has(
    read: &TargetRead,
    more: usize,
    lacking: &[(&Target, String)],
    path: &Path,
) -> Diagnostic {
    let whose = if lacking.len() == 1 {
        format!("target `{}`", lacking[0].0.name)
    } else {
        format!("any of its {} targets", lacking.len())
    };
    let section = if read.inject {
        " that allows drills"
    } else {
        ""
    };
    Diagnostic::new(
        read.span,
        format!(
            "{} reads `{}`, which no target{section} in `{}` has{}",
            read.site,
            read.written(),
            path.display(),
            more_places(more)
        ),
    )
    .with_help(format!(
        "{whose} has {}; add it to the targets, or give the read a fallback with `| default(...)`",
        lacking[0].1
    ))
}

/// The warning for a value only some targets lack.
fn some_targets_lack(
    read: &TargetRead,
    more: usize,
    lacking: &[(&Target, String)],
    targets_file: &Path,
    runbook_path: &Path,
) -> String {
    let names: Vec<String> = lacking
        .iter()
        .map(|(t, _)| format!("`{}`", t.name))
        .collect();
    format!(
        "warning: {}:{}:{}: {} reads `{}`{}, which target{} {} in `{}` lack{} ({}); a run against {} is refused before its first step",
        runbook_path.display(),
        read.span.start.line,
        read.span.start.col,
        read.site,
        read.written(),
        more_places(more),
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        targets_file.display(),
        if names.len() == 1 { "s" } else { "" },
        lacking[0].1,
        if names.len() == 1 { "it" } else { "them" },
    )
}

/// ` (and 2 more places)`: where else the same value is read.
fn more_places(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more place)".to_string(),
        n => format!(" (and {n} more places)"),
    }
}
