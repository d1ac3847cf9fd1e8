//! The drill answers file: a YAML mapping of step id → answer, read with the same spanned
//! reader as runbooks so a wrong answer points at its line. It may start with
//! `apiVersion: drbook.io/v1` and `kind: Answers`, so `drbook validate` knows it by its
//! kind wherever it lives; those two keys are the header, never step ids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{OperatorError, Question};
use crate::runbook::model::CheckpointKind;
use crate::source::diagnostic::Diagnostic;
use crate::source::source_file::SourceFile;
use crate::source::span::Span;
use crate::source::yaml_tree::{self, Node, Value as Yaml};
use crate::{ANSWERS_KIND, SUPPORTED_API_VERSIONS};

/// Answers for checkpoints, by step id.
#[derive(Debug, Clone)]
pub struct Answers {
    pub path: PathBuf,
    answers: BTreeMap<String, Value>,
    /// Where each answer is written, so a check before the run can point at it.
    spans: BTreeMap<String, Span>,
    /// The file's text, for those diagnostics.
    pub file: SourceFile,
}

impl Answers {
    /// Reads an answers file. Errors are diagnostics against the file.
    pub fn load(path: &Path) -> Result<Answers, (SourceFile, Vec<Diagnostic>)> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            (
                SourceFile::new(path, ""),
                vec![Diagnostic::new(
                    Default::default(),
                    format!("cannot read the answers file: {e}"),
                )],
            )
        })?;
        let file = SourceFile::new(path, text);
        match Answers::parse(&file) {
            Ok(answers) => Ok(answers),
            Err(diagnostics) => Err((file, diagnostics)),
        }
    }

    /// Checks an answers file's text and reads it: a mapping of step id to one answer
    /// each, optionally headed by `apiVersion: drbook.io/v1` and `kind: Answers`.
    /// Diagnostics come in file order.
    pub fn parse(file: &SourceFile) -> Result<Answers, Vec<Diagnostic>> {
        let root = yaml_tree::parse(&file.text).map_err(|d| vec![d])?;
        let Yaml::Map(entries) = &root.value else {
            let d = Diagnostic::new(
                root.span,
                "an answers file is a mapping of step id to answer",
            )
            .with_help("write lines like `declare: true` or `snapshot: latest`");
            return Err(vec![d]);
        };
        let mut diagnostics = header(&root, entries);
        let mut answers = BTreeMap::new();
        let mut spans = BTreeMap::new();
        for (key, value) in entries {
            let step = key.scalar_text();
            if HEADER.contains(&step.as_str()) {
                continue;
            }
            if answers.contains_key(&step) {
                diagnostics.push(
                    Diagnostic::new(key.span, format!("`{step}` is answered twice"))
                        .with_help("keep one of them; YAML would silently use the last"),
                );
                continue;
            }
            if matches!(value.value, Yaml::Null | Yaml::Seq(_) | Yaml::Map(_)) {
                diagnostics.push(
                    Diagnostic::new(
                        value.span,
                        format!(
                            "the answer to `{step}` must be one value, found {}",
                            value.kind_name()
                        ),
                    )
                    .with_help(
                        "answer a confirm with `true` or `false`, a number with a number, a text or choice with a string",
                    ),
                );
                continue;
            }
            spans.insert(step.clone(), value.span);
            answers.insert(step, value.to_json());
        }
        if !diagnostics.is_empty() {
            diagnostics.sort_by_key(|d| d.span.start);
            return Err(diagnostics);
        }
        Ok(Answers {
            path: file.path().to_path_buf(),
            answers,
            spans,
            file: file.clone(),
        })
    }

    /// The step ids this file answers, to check them against the runbook.
    pub fn steps(&self) -> impl Iterator<Item = &str> {
        self.answers.keys().map(String::as_str)
    }

    /// The file's answer to a step, unchecked, with where it is written.
    pub fn get(&self, step: &str) -> Option<(&Value, Span)> {
        let answer = self.answers.get(step)?;
        Some((answer, self.spans.get(step).copied().unwrap_or_default()))
    }

    /// The file's answer to a checkpoint, checked against the checkpoint's type.
    pub fn answer(&self, question: &Question) -> Result<Option<Value>, OperatorError> {
        let Some(answer) = self.answers.get(&question.step) else {
            return Ok(None);
        };
        fit(question.kind, &question.choices, answer).map_err(|reason| {
            OperatorError::BadAnswer {
                step: question.step.clone(),
                path: self.path.display().to_string(),
                reason,
            }
        })?;
        Ok(Some(answer.clone()))
    }
}

/// Whether an answer fits a checkpoint of this kind (and, for a choice, its choices);
/// the reason when it does not. Used when the answer is taken and, before the run, for
/// every answer in the file.
pub fn fit(kind: CheckpointKind, choices: &[String], answer: &Value) -> Result<(), String> {
    let fits = match (kind, answer) {
        (CheckpointKind::Confirm, Value::Bool(_)) => true,
        (CheckpointKind::Number, Value::Number(_)) => true,
        (CheckpointKind::Text, Value::String(_)) => true,
        (CheckpointKind::Choice, Value::String(s)) => {
            if !choices.contains(s) {
                return Err(format!("`{s}` is not one of: {}", choices.join(", ")));
            }
            true
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "a `{}` checkpoint cannot take {answer}",
            kind.name()
        ))
    }
}

/// The keys of the optional header; never step ids.
const HEADER: &[&str] = &["apiVersion", "kind"];

/// Checks the optional header: `kind: Answers` and a supported `apiVersion` together, or
/// neither (an answers file may be only answers).
fn header(root: &Node, entries: &[(Node, Node)]) -> Vec<Diagnostic> {
    let get = |key: &str| entries.iter().find(|(k, _)| k.as_str() == Some(key));
    let mut diagnostics = Vec::new();
    match (get("apiVersion"), get("kind")) {
        (None, None) => {}
        (Some((key, _)), None) => diagnostics.push(
            Diagnostic::new(key.span, "the answers file has `apiVersion` but no `kind`")
                .with_help(format!("add `kind: {ANSWERS_KIND}`")),
        ),
        (None, Some(_)) => diagnostics.push(
            Diagnostic::new(root.span.sub(0, 1), "the answers file has no `apiVersion`")
                .with_help("add `apiVersion: drbook.io/v1`"),
        ),
        (Some((_, version)), Some(_)) => {
            if !version
                .as_str()
                .is_some_and(|v| SUPPORTED_API_VERSIONS.contains(&v))
            {
                diagnostics.push(
                    Diagnostic::new(
                        version.span,
                        format!("unsupported apiVersion `{}`", version.scalar_text()),
                    )
                    .with_help(format!(
                        "this drbook supports: {}",
                        SUPPORTED_API_VERSIONS.join(", ")
                    )),
                );
            }
        }
    }
    if let Some((_, kind)) = get("kind")
        && kind.as_str() != Some(ANSWERS_KIND)
    {
        diagnostics.push(
            Diagnostic::new(
                kind.span,
                format!("`kind: {}` is not an answers file", kind.scalar_text()),
            )
            .with_help(format!(
                "write `kind: {ANSWERS_KIND}`, or pass the drill's answers file"
            )),
        );
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<String>, Vec<String>> {
        Answers::parse(&SourceFile::new("answers.yaml", text))
            .map(|a| a.steps().map(str::to_string).collect())
            .map_err(|ds| ds.into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn the_header_is_optional_and_never_an_answer() {
        assert_eq!(parse("declare: true\n"), Ok(vec!["declare".into()]));
        assert_eq!(
            parse("apiVersion: drbook.io/v1\nkind: Answers\ndeclare: true\nsize: 3\n"),
            Ok(vec!["declare".into(), "size".into()])
        );
    }

    #[test]
    fn a_half_or_foreign_header_is_refused() {
        assert_eq!(
            parse("kind: Answers\ndeclare: true\n"),
            Err(vec!["the answers file has no `apiVersion`".into()])
        );
        assert_eq!(
            parse("apiVersion: drbook.io/v1\ndeclare: true\n"),
            Err(vec![
                "the answers file has `apiVersion` but no `kind`".into()
            ])
        );
        assert_eq!(
            parse("apiVersion: drbook.io/v1\nkind: Targets\n"),
            Err(vec!["`kind: Targets` is not an answers file".into()])
        );
        assert_eq!(
            parse("apiVersion: drbook.io/v2\nkind: Answers\n"),
            Err(vec!["unsupported apiVersion `drbook.io/v2`".into()])
        );
    }

    #[test]
    fn an_answer_is_one_value() {
        assert_eq!(
            parse("declare:\nsnapshot: {id: a}\n"),
            Err(vec![
                "the answer to `declare` must be one value, found nothing (null)".into(),
                "the answer to `snapshot` must be one value, found a mapping".into(),
            ])
        );
    }
}
