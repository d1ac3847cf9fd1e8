//! `drbook validate`: checks runbooks, targets files and drill answers files, each by its
//! own rules, so all three can live in one directory and be checked in one go (in CI,
//! before the night they are needed).
//!
//! A file's kind is read before anything else, as `apiVersion` is for runbooks: its
//! `kind:` decides when it has one (`Runbook`, `Targets`, `Answers`). A file without
//! `kind` is a targets file when it is named `drbook.targets.yaml` (the name `run` looks
//! for), an answers file when its name ends in `answers.yaml` (`drill-answers.yaml`),
//! and a runbook otherwise. Every mistake is drawn by the one diagnostic renderer and
//! the command exits 2, whatever the kind.

use std::path::{Path, PathBuf};

use crate::app_error::{AppError, FileKind};
use crate::operator::answers::Answers;
use crate::source::diagnostic::Diagnostic;
use crate::source::source_file::SourceFile;
use crate::source::span::Spanned;
use crate::source::yaml_tree;
use crate::{ANSWERS_KIND, RUNBOOK_KIND, SUPPORTED_API_VERSIONS, TARGETS_KIND, load, targets};

/// The kind a file without `kind:` has, by its name.
fn kind_by_name(path: &Path) -> FileKind {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == targets::DEFAULT_FILE {
        FileKind::Targets
    } else if name.ends_with("answers.yaml") || name.ends_with("answers.yml") {
        FileKind::Answers
    } else {
        FileKind::Runbook
    }
}

/// Checks every file named, and every *.yaml / *.yml file under every directory named;
/// a runbook's `target.*` values also against the targets file (`targets`, else found
/// as `run` finds it). Valid files are listed on stdout; every error is returned for
/// `run.rs` to print.
pub(crate) fn validate(paths: &[PathBuf], targets: Option<&Path>) -> Result<(), AppError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_yaml(path, &mut files).map_err(|e| AppError::unreadable(path, &e))?;
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(AppError::NothingFound(format!(
            "no *.yaml files found in {}\n  = help: name runbook files directly or a directory that holds them",
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut errors = Vec::new();
    let mut kinds = Vec::new();
    for path in &files {
        let (kind, checked) = check(path, targets);
        kinds.push(kind);
        match checked {
            Ok(summary) => println!("ok: {} ({summary})", path.display()),
            Err(error) => errors.push(error),
        }
    }
    if files.len() > 1 {
        println!(
            "{} of {} files valid{}",
            files.len() - errors.len(),
            files.len(),
            kinds_note(&kinds)
        );
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(AppError::Several(errors)),
    }
}

/// Reads one file, decides its kind and checks it by that kind's rules; what `ok:`
/// says about it when it is valid.
fn check(path: &Path, targets: Option<&Path>) -> (FileKind, Result<String, AppError>) {
    let file = match load::text(path, kind_by_name(path)) {
        Ok(file) => file,
        Err(error) => return (kind_by_name(path), Err(error)),
    };
    let kind = match kind_of(&file) {
        Ok(kind) => kind,
        Err(diagnostic) => {
            let error = AppError::Invalid {
                kind: FileKind::Runbook,
                file,
                diagnostics: vec![diagnostic],
            };
            return (FileKind::Runbook, Err(error));
        }
    };
    let invalid = |file: SourceFile, diagnostics| AppError::Invalid {
        kind,
        file,
        diagnostics,
    };
    let checked = match kind {
        FileKind::Runbook => load::validated(file).and_then(|loaded| {
            crate::validate_targets::check(&loaded, path, targets)?;
            let runbook = &loaded.valid.runbook;
            let meta = &runbook.metadata;
            Ok(format!(
                "{} {}, {}",
                meta.name.value,
                meta.version.value,
                count(runbook.all_steps().count(), "step", "steps")
            ))
        }),
        FileKind::Targets => match targets::check(&file) {
            Ok(targets) => Ok(format!(
                "targets: {}",
                count(targets.len(), "environment", "environments")
            )),
            Err(diagnostics) => Err(invalid(file, diagnostics)),
        },
        FileKind::Answers => match Answers::parse(&file) {
            Ok(answers) => Ok(format!(
                "answers: {}",
                count(answers.steps().count(), "checkpoint", "checkpoints")
            )),
            Err(diagnostics) => Err(invalid(file, diagnostics)),
        },
    };
    (kind, checked)
}

/// The kind a file says it is, or by its name when it says none. A `kind` drbook does
/// not know is an error listing the known ones, unless `apiVersion` is one this build
/// does not read: then the runbook rules report that version first, because the kinds
/// of another version are not ours to judge.
fn kind_of(file: &SourceFile) -> Result<FileKind, Diagnostic> {
    // A file that is not YAML gets its syntax error from its kind's own rules.
    let Ok(root) = yaml_tree::parse(&file.text) else {
        return Ok(kind_by_name(file.path()));
    };
    let top = |key: &str| match &root.value {
        yaml_tree::Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    };
    let Some(kind) = top("kind") else {
        return Ok(kind_by_name(file.path()));
    };
    match kind.as_str() {
        Some(RUNBOOK_KIND) => Ok(FileKind::Runbook),
        Some(TARGETS_KIND) => Ok(FileKind::Targets),
        Some(ANSWERS_KIND) => Ok(FileKind::Answers),
        Some(other) => {
            let foreign_version = top("apiVersion")
                .and_then(|v| v.as_str())
                .is_some_and(|v| !SUPPORTED_API_VERSIONS.contains(&v));
            if foreign_version {
                return Ok(FileKind::Runbook);
            }
            Err(unknown_kind(&Spanned::new(other.to_string(), kind.span)))
        }
        // `kind: 3`: the runbook rules say what `kind` must be.
        None => Ok(FileKind::Runbook),
    }
}

fn unknown_kind(kind: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(kind.span, format!("unsupported kind `{}`", kind.value)).with_help(format!(
        "drbook reads `kind: {RUNBOOK_KIND}`, `kind: {TARGETS_KIND}` and `kind: {ANSWERS_KIND}` documents"
    ))
}

/// ` (2 runbooks, 1 targets file, 1 answers file)` when other kinds than runbooks were
/// checked; nothing for runbooks alone, whose summary has always read the same.
fn kinds_note(kinds: &[FileKind]) -> String {
    if kinds.iter().all(|k| *k == FileKind::Runbook) {
        return String::new();
    }
    let of = |kind: FileKind| kinds.iter().filter(|k| **k == kind).count();
    let parts: Vec<String> = [
        count(of(FileKind::Runbook), "runbook", "runbooks"),
        count(of(FileKind::Targets), "targets file", "targets files"),
        count(of(FileKind::Answers), "answers file", "answers files"),
    ]
    .into_iter()
    .filter(|part| !part.starts_with("0 "))
    .collect();
    format!(" ({})", parts.join(", "))
}

/// Every *.yaml / *.yml file under `dir`, sorted, so output is stable.
fn collect_yaml(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_yaml(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    Ok(())
}

/// `1 step`, `3 steps`.
fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str, text: &str) -> Result<FileKind, String> {
        kind_of(&SourceFile::new(name, text)).map_err(|d| d.message)
    }

    #[test]
    fn the_kind_key_decides_over_the_file_name() {
        let targets = "apiVersion: drbook.io/v1\nkind: Targets\ntargets: {}\n";
        assert_eq!(kind("any.yaml", targets), Ok(FileKind::Targets));
        let answers = "apiVersion: drbook.io/v1\nkind: Answers\ndeclare: true\n";
        assert_eq!(kind("drbook.targets.yaml", answers), Ok(FileKind::Answers));
        let runbook = "apiVersion: drbook.io/v1\nkind: Runbook\n";
        assert_eq!(kind("drill-answers.yaml", runbook), Ok(FileKind::Runbook));
    }

    #[test]
    fn without_a_kind_the_documented_names_decide() {
        assert_eq!(
            kind("x/drbook.targets.yaml", "targets: {}\n"),
            Ok(FileKind::Targets)
        );
        assert_eq!(
            kind("drill-answers.yaml", "declare: true\n"),
            Ok(FileKind::Answers)
        );
        assert_eq!(
            kind("answers.yml", "declare: true\n"),
            Ok(FileKind::Answers)
        );
        assert_eq!(
            kind("restore.yaml", "declare: true\n"),
            Ok(FileKind::Runbook)
        );
        assert_eq!(kind("targets.yaml", "targets: {}\n"), Ok(FileKind::Runbook));
    }

    #[test]
    fn an_unknown_kind_is_refused_unless_its_version_is_foreign() {
        assert_eq!(
            kind("d.yaml", "apiVersion: drbook.io/v1\nkind: Deployment\n"),
            Err("unsupported kind `Deployment`".to_string())
        );
        assert_eq!(
            kind("d.yaml", "apiVersion: drbook.io/v9\nkind: Deployment\n"),
            Ok(FileKind::Runbook)
        );
    }

    #[test]
    fn the_summary_names_kinds_only_when_there_is_more_than_runbooks() {
        assert_eq!(kinds_note(&[FileKind::Runbook, FileKind::Runbook]), "");
        assert_eq!(
            kinds_note(&[
                FileKind::Runbook,
                FileKind::Targets,
                FileKind::Answers,
                FileKind::Answers
            ]),
            " (1 runbook, 1 targets file, 2 answers files)"
        );
    }
}
