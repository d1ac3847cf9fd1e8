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

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::exit_code;
use crate::operator::answers::Answers;
use crate::runbook::{self, yaml_tree};
use crate::source_file::{ReadError, SourceFile};
use crate::span::{Pos, Span, Spanned};
use crate::{ANSWERS_KIND, RUNBOOK_KIND, SUPPORTED_API_VERSIONS, TARGETS_KIND, targets};

/// What a file is, and so which rules check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Runbook,
    Targets,
    Answers,
}

impl Kind {
    /// The file's kind in words, for `is not a valid …`.
    fn noun(self) -> &'static str {
        match self {
            Kind::Runbook => "runbook",
            Kind::Targets => "targets file",
            Kind::Answers => "answers file",
        }
    }

    /// The kind a file without `kind:` has, by its name.
    fn by_name(path: &Path) -> Kind {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == targets::DEFAULT_FILE {
            Kind::Targets
        } else if name.ends_with("answers.yaml") || name.ends_with("answers.yml") {
            Kind::Answers
        } else {
            Kind::Runbook
        }
    }
}

/// How one file fared.
enum Checked {
    /// Valid: what `ok:` says about it.
    Valid(String),
    Unreadable(String),
    Invalid(SourceFile, Vec<Diagnostic>),
}

/// Checks every file named, and every *.yaml / *.yml file under every directory named.
pub(crate) fn validate(paths: &[PathBuf]) -> Result<(), i32> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_yaml(path, &mut files).map_err(|e| {
                eprintln!(
                    "error: cannot list directory `{}`: {e}\n  = help: check the path and its permissions",
                    path.display()
                );
                exit_code::NO_INPUT
            })?;
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        eprintln!(
            "error: no *.yaml files found in {}\n  = help: name runbook files directly or a directory that holds them",
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(exit_code::NO_INPUT);
    }
    let mut worst = exit_code::SUCCESS;
    let mut valid = 0;
    let mut kinds = Vec::new();
    for path in &files {
        let (kind, checked) = check(path);
        kinds.push(kind);
        let code = match checked {
            Checked::Valid(summary) => {
                valid += 1;
                println!("ok: {} ({summary})", path.display());
                continue;
            }
            Checked::Unreadable(why) => {
                eprintln!(
                    "error: cannot read `{}`: {why}\n  = help: check the path and its permissions",
                    path.display()
                );
                exit_code::NO_INPUT
            }
            Checked::Invalid(file, diagnostics) => {
                report(&file, &diagnostics, kind);
                exit_code::INVALID_RUNBOOK
            }
        };
        // An invalid file outranks an unreadable one: it is the answer to the question
        // `validate` was asked.
        if worst != exit_code::INVALID_RUNBOOK {
            worst = code;
        }
    }
    if files.len() > 1 {
        println!(
            "{valid} of {} files valid{}",
            files.len(),
            kinds_note(&kinds)
        );
    }
    if worst == exit_code::SUCCESS {
        Ok(())
    } else {
        Err(worst)
    }
}

/// Reads one file, decides its kind and checks it by that kind's rules.
fn check(path: &Path) -> (Kind, Checked) {
    let file = match SourceFile::read(path) {
        Ok(file) => file,
        Err(ReadError::Unreadable(why)) => return (Kind::by_name(path), Checked::Unreadable(why)),
        Err(ReadError::NotUtf8(file, pos)) => {
            let kind = Kind::by_name(path);
            let diagnostic = not_utf8(pos, kind.noun());
            return (kind, Checked::Invalid(file, vec![diagnostic]));
        }
    };
    let kind = match kind_of(&file) {
        Ok(kind) => kind,
        Err(diagnostic) => return (Kind::Runbook, Checked::Invalid(file, vec![diagnostic])),
    };
    let checked = match kind {
        Kind::Runbook => match runbook::load(&file.text) {
            Ok(valid) => {
                let meta = &valid.runbook.metadata;
                Checked::Valid(format!(
                    "{} {}, {}",
                    meta.name.value,
                    meta.version.value,
                    count(valid.runbook.all_steps().count(), "step", "steps")
                ))
            }
            Err(diagnostics) => Checked::Invalid(file, diagnostics),
        },
        Kind::Targets => match targets::check(&file) {
            Ok(targets) => Checked::Valid(format!(
                "targets: {}",
                count(targets.len(), "environment", "environments")
            )),
            Err(diagnostics) => Checked::Invalid(file, diagnostics),
        },
        Kind::Answers => match Answers::parse(&file) {
            Ok(answers) => Checked::Valid(format!(
                "answers: {}",
                count(answers.steps().count(), "checkpoint", "checkpoints")
            )),
            Err(diagnostics) => Checked::Invalid(file, diagnostics),
        },
    };
    (kind, checked)
}

/// The kind a file says it is, or by its name when it says none. A `kind` drbook does
/// not know is an error listing the known ones, unless `apiVersion` is one this build
/// does not read: then the runbook rules report that version first, because the kinds
/// of another version are not ours to judge.
fn kind_of(file: &SourceFile) -> Result<Kind, Diagnostic> {
    // A file that is not YAML gets its syntax error from its kind's own rules.
    let Ok(root) = yaml_tree::parse(&file.text) else {
        return Ok(Kind::by_name(file.path()));
    };
    let top = |key: &str| match &root.value {
        yaml_tree::Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    };
    let Some(kind) = top("kind") else {
        return Ok(Kind::by_name(file.path()));
    };
    match kind.as_str() {
        Some(RUNBOOK_KIND) => Ok(Kind::Runbook),
        Some(TARGETS_KIND) => Ok(Kind::Targets),
        Some(ANSWERS_KIND) => Ok(Kind::Answers),
        Some(other) => {
            let foreign_version = top("apiVersion")
                .and_then(|v| v.as_str())
                .is_some_and(|v| !SUPPORTED_API_VERSIONS.contains(&v));
            if foreign_version {
                return Ok(Kind::Runbook);
            }
            Err(unknown_kind(&Spanned::new(other.to_string(), kind.span)))
        }
        // `kind: 3`: the runbook rules say what `kind` must be.
        None => Ok(Kind::Runbook),
    }
}

fn unknown_kind(kind: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(kind.span, format!("unsupported kind `{}`", kind.value)).with_help(format!(
        "drbook reads `kind: {RUNBOOK_KIND}`, `kind: {TARGETS_KIND}` and `kind: {ANSWERS_KIND}` documents"
    ))
}

/// The error for a file that is not UTF-8, at its first bad byte.
pub(crate) fn not_utf8(pos: Pos, noun: &str) -> Diagnostic {
    Diagnostic::new(
        Span {
            start: pos,
            end: pos,
        },
        "the file is not UTF-8 text",
    )
    .with_help(format!("save the {noun} as UTF-8"))
}

/// Draws every diagnostic of a file and the line that closes them.
fn report(file: &SourceFile, diagnostics: &[Diagnostic], kind: Kind) {
    let color = console::colors_enabled_stderr();
    let mut err = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = writeln!(err, "{}", diagnostic.render(file, color));
    }
    let _ = writeln!(
        err,
        "error: {} is not a valid {}: {}",
        file.path().display(),
        kind.noun(),
        count(diagnostics.len(), "error", "errors")
    );
}

/// ` (2 runbooks, 1 targets file, 1 answers file)` when other kinds than runbooks were
/// checked; nothing for runbooks alone, whose summary has always read the same.
fn kinds_note(kinds: &[Kind]) -> String {
    if kinds.iter().all(|k| *k == Kind::Runbook) {
        return String::new();
    }
    let of = |kind: Kind| kinds.iter().filter(|k| **k == kind).count();
    let parts: Vec<String> = [
        count(of(Kind::Runbook), "runbook", "runbooks"),
        count(of(Kind::Targets), "targets file", "targets files"),
        count(of(Kind::Answers), "answers file", "answers files"),
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

    fn kind(name: &str, text: &str) -> Result<Kind, String> {
        kind_of(&SourceFile::new(name, text)).map_err(|d| d.message)
    }

    #[test]
    fn the_kind_key_decides_over_the_file_name() {
        let targets = "apiVersion: drbook.io/v1\nkind: Targets\ntargets: {}\n";
        assert_eq!(kind("any.yaml", targets), Ok(Kind::Targets));
        let answers = "apiVersion: drbook.io/v1\nkind: Answers\ndeclare: true\n";
        assert_eq!(kind("drbook.targets.yaml", answers), Ok(Kind::Answers));
        let runbook = "apiVersion: drbook.io/v1\nkind: Runbook\n";
        assert_eq!(kind("drill-answers.yaml", runbook), Ok(Kind::Runbook));
    }

    #[test]
    fn without_a_kind_the_documented_names_decide() {
        assert_eq!(
            kind("x/drbook.targets.yaml", "targets: {}\n"),
            Ok(Kind::Targets)
        );
        assert_eq!(
            kind("drill-answers.yaml", "declare: true\n"),
            Ok(Kind::Answers)
        );
        assert_eq!(kind("answers.yml", "declare: true\n"), Ok(Kind::Answers));
        assert_eq!(kind("restore.yaml", "declare: true\n"), Ok(Kind::Runbook));
        assert_eq!(kind("targets.yaml", "targets: {}\n"), Ok(Kind::Runbook));
    }

    #[test]
    fn an_unknown_kind_is_refused_unless_its_version_is_foreign() {
        assert_eq!(
            kind("d.yaml", "apiVersion: drbook.io/v1\nkind: Deployment\n"),
            Err("unsupported kind `Deployment`".to_string())
        );
        assert_eq!(
            kind("d.yaml", "apiVersion: drbook.io/v9\nkind: Deployment\n"),
            Ok(Kind::Runbook)
        );
    }

    #[test]
    fn the_summary_names_kinds_only_when_there_is_more_than_runbooks() {
        assert_eq!(kinds_note(&[Kind::Runbook, Kind::Runbook]), "");
        assert_eq!(
            kinds_note(&[Kind::Runbook, Kind::Targets, Kind::Answers, Kind::Answers]),
            " (1 runbook, 1 targets file, 2 answers files)"
        );
    }
}
