//! The drill answers file: a YAML mapping of step id → answer, read with the same spanned
//! reader as runbooks so a wrong answer points at its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{OperatorError, Question};
use crate::diagnostic::Diagnostic;
use crate::runbook::model::CheckpointKind;
use crate::runbook::yaml_tree::{self, Value as Yaml};
use crate::source_file::SourceFile;

/// Answers for checkpoints, by step id.
#[derive(Debug, Clone)]
pub struct Answers {
    pub path: PathBuf,
    answers: BTreeMap<String, Value>,
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
        let root = match yaml_tree::parse(&file.text) {
            Ok(root) => root,
            Err(d) => return Err((file, vec![d])),
        };
        let Yaml::Map(entries) = &root.value else {
            let d = Diagnostic::new(
                root.span,
                "an answers file is a mapping of step id to answer",
            )
            .with_help("write lines like `declare: true` or `snapshot: latest`");
            return Err((file, vec![d]));
        };
        let mut answers = BTreeMap::new();
        for (key, value) in entries {
            answers.insert(key.scalar_text(), value.to_json());
        }
        Ok(Answers {
            path: path.to_path_buf(),
            answers,
        })
    }

    /// The step ids this file answers, to check them against the runbook.
    pub fn steps(&self) -> impl Iterator<Item = &str> {
        self.answers.keys().map(String::as_str)
    }

    /// The file's answer to a checkpoint, checked against the checkpoint's type.
    pub fn answer(&self, question: &Question) -> Result<Option<Value>, OperatorError> {
        let Some(answer) = self.answers.get(&question.step) else {
            return Ok(None);
        };
        let bad = |reason: String| OperatorError::BadAnswer {
            step: question.step.clone(),
            path: self.path.display().to_string(),
            reason,
        };
        let fits = match (question.kind, answer) {
            (CheckpointKind::Confirm, Value::Bool(_)) => true,
            (CheckpointKind::Number, Value::Number(_)) => true,
            (CheckpointKind::Text, Value::String(_)) => true,
            (CheckpointKind::Choice, Value::String(s)) => {
                if !question.choices.contains(s) {
                    return Err(bad(format!(
                        "`{s}` is not one of: {}",
                        question.choices.join(", ")
                    )));
                }
                true
            }
            _ => false,
        };
        if !fits {
            return Err(bad(format!(
                "a `{}` checkpoint cannot take {answer}",
                question.kind.name()
            )));
        }
        Ok(Some(answer.clone()))
    }
}
