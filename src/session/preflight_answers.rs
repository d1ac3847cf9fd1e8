//! Before the first step of a run (new or resumed): can every checkpoint it may reach
//! be answered? An answer of the wrong type in a drill's answers file is an invalid
//! file (exit 2, at the answer's line), whether or not a person is there; without a
//! terminal, every checkpoint the run can still reach needs an answer in the file, or
//! the run is refused (exit 4) before anything runs: an unattended run never stops
//! half-way, after destructive steps, at a question nobody is there to answer.
//!
//! "Can reach" is deliberately generous: a checkpoint behind a `when` counts, because
//! whether it is skipped is only known once earlier steps ran. Only checkpoints an
//! earlier session already settled (answered, or skipped) do not count on resume.

use crate::app_error::{AppError, FileKind};
use crate::engine::replay::{Prior, PriorStep};
use crate::journal::event::Mode;
use crate::operator::Answers;
use crate::operator::answers::fit;
use crate::runbook::model::{Checkpoint, CheckpointKind, Runbook, Step, StepBody};
use crate::source::diagnostic::Diagnostic;

/// Checks the answers file against the runbook's checkpoints and, without a terminal,
/// that every checkpoint still ahead has an answer. `prior` is the replayed journal on
/// resume (empty for a new run).
pub(crate) fn check(
    runbook: &Runbook,
    mode: Mode,
    answers: Option<&Answers>,
    interactive: bool,
    prior: &Prior,
) -> Result<(), AppError> {
    if let Some(answers) = answers {
        check_types(runbook, answers)?;
    }
    if interactive {
        return Ok(());
    }
    let missing: Vec<(&Step, &Checkpoint)> = ahead(runbook, mode, prior)
        .filter(|(step, _)| answers.is_none_or(|a| a.get(&step.id.value).is_none()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|(s, _)| format!("`{}`", s.id.value))
        .collect();
    let lines: Vec<String> = missing
        .iter()
        .map(|(s, c)| format!("{}: {}", s.id.value, example(c)))
        .collect();
    let (they, plural) = match missing.len() {
        1 => ("checkpoint", ""),
        _ => ("checkpoints", "s"),
    };
    let message = match (answers, mode) {
        (Some(answers), _) => format!(
            "there is no terminal to ask on, and the answers file `{}` has no answer for {they} {}, which this run can reach; add the answer{plural} (e.g. {}) and start again. Nothing was run",
            answers.path.display(),
            names.join(", "),
            lines.join(", "),
        ),
        (None, Mode::Drill) => format!(
            "there is no terminal to ask on and no answers file, but this run asks the operator at {they} {}; run it from a terminal, or pass `--answers FILE` answering each (e.g. {}). Nothing was run",
            names.join(", "),
            lines.join(", "),
        ),
        (None, Mode::Incident) => format!(
            "there is no terminal to ask on, but this run asks the operator at {they} {}; during an incident a person answers every checkpoint, so run it from a terminal. Nothing was run",
            names.join(", "),
        ),
    };
    Err(AppError::refused(message))
}

/// Every answer in the file fits its checkpoint's type (and choices); all wrong ones
/// are reported at once, each at its line.
fn check_types(runbook: &Runbook, answers: &Answers) -> Result<(), AppError> {
    let mut diagnostics = Vec::new();
    for step in runbook.all_steps() {
        let StepBody::Checkpoint(checkpoint) = &step.body else {
            continue;
        };
        let Some((answer, span)) = answers.get(&step.id.value) else {
            continue;
        };
        let choices: Vec<String> = checkpoint.choices.iter().map(|c| c.value.clone()).collect();
        if let Err(reason) = fit(checkpoint.kind, &choices, answer) {
            diagnostics.push(
                Diagnostic::new(
                    span,
                    format!(
                        "the answer to checkpoint `{}` does not fit it: {reason}",
                        step.id.value
                    ),
                )
                .with_help(format!(
                    "answer a `{}` checkpoint with {}",
                    checkpoint.kind.name(),
                    example(checkpoint)
                )),
            );
        }
    }
    if diagnostics.is_empty() {
        return Ok(());
    }
    diagnostics.sort_by_key(|d| d.span.start);
    Err(AppError::Invalid {
        kind: FileKind::Answers,
        file: answers.file.clone(),
        diagnostics,
    })
}

/// The checkpoints this run can still reach, in the order they run: the inject
/// section's in a drill, then the recovery's, less those an earlier session settled.
fn ahead<'a>(
    runbook: &'a Runbook,
    mode: Mode,
    prior: &'a Prior,
) -> impl Iterator<Item = (&'a Step, &'a Checkpoint)> {
    let inject = match (&runbook.spec.drill, mode) {
        (Some(drill), Mode::Drill) => &drill.inject[..],
        _ => &[][..],
    };
    let sections = [
        (inject, &prior.inject[..]),
        (&runbook.spec.steps[..], &prior.recovery[..]),
    ];
    sections.into_iter().flat_map(|(steps, prior)| {
        steps.iter().enumerate().filter_map(move |(i, step)| {
            let StepBody::Checkpoint(checkpoint) = &step.body else {
                return None;
            };
            let settled = prior
                .get(i)
                .is_some_and(|p: &PriorStep| p.phase(step).finished());
            (!settled).then_some((step, checkpoint))
        })
    })
}

/// An answers-file line's value that fits the checkpoint, for the help text.
fn example(checkpoint: &Checkpoint) -> String {
    match checkpoint.kind {
        CheckpointKind::Confirm => "`true` or `false`".into(),
        CheckpointKind::Number => "a number, like `3`".into(),
        CheckpointKind::Text => "a string, like `\"done\"`".into(),
        CheckpointKind::Choice => {
            let choices: Vec<&str> = checkpoint
                .choices
                .iter()
                .map(|c| c.value.as_str())
                .collect();
            format!("one of: {}", choices.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::source_file::SourceFile;

    const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: t, version: 1.0.0}
spec:
  steps:
    - {id: approve, checkpoint: {prompt: "Go?"}}
    - {id: how, checkpoint: {prompt: "How?", type: choice, choices: [fast, slow]}}
    - {id: size, when: "{{ steps.approve.answer }}", checkpoint: {prompt: "Size?", type: number}}
  drill:
    inject:
      - {id: break, checkpoint: {prompt: "Break it?"}}
"#;

    fn runbook() -> Runbook {
        crate::runbook::load(RUNBOOK)
            .expect("the test runbook is valid")
            .runbook
    }

    fn answers(text: &str) -> Answers {
        Answers::parse(&SourceFile::new("answers.yaml", text)).expect("answers parse")
    }

    fn message(result: Result<(), AppError>) -> String {
        match result.expect_err("refused") {
            AppError::Invalid { diagnostics, .. } => diagnostics
                .iter()
                .map(|d| format!("{:?}: {}", d.span.start, d.message))
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.to_string(),
        }
    }

    #[test]
    fn a_wrong_answer_type_is_an_invalid_file_at_its_line_even_with_a_terminal() {
        let text = "break: true\napprove: \"yes\"\nhow: quick\nsize: 3\n";
        let m = message(check(
            &runbook(),
            Mode::Drill,
            Some(&answers(text)),
            true,
            &Prior::default(),
        ));
        assert!(
            m.contains("the answer to checkpoint `approve` does not fit it: a `confirm` checkpoint cannot take \"yes\""),
            "{m}"
        );
        assert!(m.contains("`quick` is not one of: fast, slow"), "{m}");
    }

    #[test]
    fn an_unattended_drill_names_every_checkpoint_it_cannot_answer_behind_a_when_too() {
        let m = message(check(
            &runbook(),
            Mode::Drill,
            Some(&answers("break: true\nhow: fast\n")),
            false,
            &Prior::default(),
        ));
        assert!(
            m.contains("has no answer for checkpoints `approve`, `size`"),
            "{m}"
        );
    }

    #[test]
    fn a_complete_answers_file_lets_an_unattended_drill_start() {
        let all = answers("break: true\napprove: false\nhow: slow\nsize: 2\n");
        check(
            &runbook(),
            Mode::Drill,
            Some(&all),
            false,
            &Prior::default(),
        )
        .unwrap();
    }

    #[test]
    fn no_terminal_and_no_answers_is_refused_unless_a_person_is_there() {
        let m = message(check(
            &runbook(),
            Mode::Incident,
            None,
            false,
            &Prior::default(),
        ));
        // The inject section does not run in an incident.
        assert!(
            m.contains("checkpoints `approve`, `how`, `size`; during an incident"),
            "{m}"
        );
        check(&runbook(), Mode::Incident, None, true, &Prior::default()).unwrap();
    }
}
