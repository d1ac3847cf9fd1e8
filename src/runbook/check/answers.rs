//! Checkpoint answers in expressions: `when: "{{ steps.approve.answer == 'yes' }}"` is
//! always false (a confirm's answer is a boolean), and a comparison with a choice the
//! checkpoint does not offer never matches; either silently skips the step it guards.
//! A comparison of an answer with a literal of the wrong type is therefore an error,
//! located at the literal.

use std::ops::Range;

use super::{Checker, with_suggestion};
use crate::runbook::model::{Checkpoint, CheckpointKind, StepBody};
use crate::source::diagnostic::Diagnostic;
use crate::source::span::Spanned;
use crate::template::Analysis;
use crate::template::comparisons::{Comparison, Literal};

impl Checker<'_> {
    /// Checks every comparison of a checkpoint's answer with a literal in one template;
    /// `offset` is where the analysed part starts inside the text, `what` names it.
    pub(super) fn answer_comparisons(
        &mut self,
        text: &Spanned<String>,
        analysis: &Analysis,
        offset: usize,
        what: &str,
    ) {
        let at = |r: &Range<usize>| r.start + offset..r.end + offset;
        for comparison in &analysis.comparisons {
            let [root, id, field] = &comparison.path[..] else {
                continue;
            };
            if root != "steps" || field != "answer" {
                continue;
            }
            let Some(checkpoint) = self.runbook.all_steps().find_map(|s| match &s.body {
                StepBody::Checkpoint(c) if &s.id.value == id => Some(c),
                _ => None,
            }) else {
                continue;
            };
            if let Some(diagnostic) = mismatch(id, checkpoint, comparison, what) {
                let span = self.span_in(text, at(&comparison.literal_range));
                self.error(Diagnostic { span, ..diagnostic });
            }
        }
    }
}

/// The problem with comparing checkpoint `id`'s answer with the literal, if any; its
/// span is set by the caller.
fn mismatch(
    id: &str,
    checkpoint: &Checkpoint,
    comparison: &Comparison,
    what: &str,
) -> Option<Diagnostic> {
    let shown = match &comparison.literal {
        Literal::Bool(b) => b.to_string(),
        Literal::Number(n) => n.to_string(),
        Literal::String(s) => format!("'{s}'"),
        // `none` and the like: not an answer type mistake this check knows.
        Literal::Other => return None,
    };
    let new = |message: String| Diagnostic::new(Default::default(), message);
    match (checkpoint.kind, &comparison.literal) {
        (CheckpointKind::Confirm, Literal::Bool(_))
        | (CheckpointKind::Number, Literal::Number(_))
        | (CheckpointKind::Text, Literal::String(_)) => None,
        (CheckpointKind::Confirm, _) => Some(
            new(format!(
                "{what} compares the answer of confirm `{id}` with {shown}, which it never is"
            ))
            .with_help(format!(
                "a confirm's answer is true or false; write `{{{{ steps.{id}.answer }}}}` (or `{{{{ not steps.{id}.answer }}}}` for no)"
            )),
        ),
        (CheckpointKind::Choice, Literal::String(s)) => {
            let choices: Vec<&str> = checkpoint
                .choices
                .iter()
                .map(|c| c.value.as_str())
                .collect();
            if choices.is_empty() || choices.contains(&s.as_str()) {
                return None;
            }
            Some(with_suggestion(
                new(format!(
                    "{what} compares the answer of checkpoint `{id}` with `{s}`, but `{s}` is not one of the choices of checkpoint `{id}`"
                )),
                s,
                &choices,
                &format!("its choices: {}", choices.join(", ")),
            ))
        }
        (kind, _) => {
            let (is, example) = match kind {
                CheckpointKind::Number => ("a number", "`== 3`".to_string()),
                CheckpointKind::Choice => (
                    "one of its choices",
                    format!(
                        "`== '{}'`",
                        checkpoint.choices.first().map_or("", |c| c.value.as_str())
                    ),
                ),
                _ => ("text", "`== 'done'`".to_string()),
            };
            Some(
                new(format!(
                    "{what} compares the answer of {} checkpoint `{id}` with {shown}, which it never is",
                    kind.name()
                ))
                .with_help(format!("its answer is {is}; compare with that, like {example}")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    fn messages(when: &str) -> Vec<String> {
        let text = format!(
            r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: t, version: 1.0.0}}
spec:
  steps:
    - {{id: ok, checkpoint: {{prompt: "Go?"}}}}
    - {{id: how, checkpoint: {{prompt: "How?", type: choice, choices: [snapshot, replay]}}}}
    - {{id: n, checkpoint: {{prompt: "How many?", type: number}}}}
    - {{id: note, checkpoint: {{prompt: "Note?", type: text}}}}
    - {{id: act, when: "{when}", action: shell, with: {{run: "true"}}}}
"#
        );
        match crate::runbook::load(&text) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics.into_iter().map(|d| d.message).collect(),
        }
    }

    #[test]
    fn answers_compared_as_their_own_type_are_accepted() {
        for when in [
            "{{ steps.ok.answer == true }}",
            "{{ steps.how.answer == 'replay' }}",
            "{{ steps.how.answer in ['snapshot', 'replay'] }}",
            "{{ steps.n.answer != 3 }}",
            "{{ steps.note.answer == 'x' }}",
            "{{ steps.ok.answer == none }}",
        ] {
            assert_eq!(messages(when), Vec::<String>::new(), "{when}");
        }
    }

    #[test]
    fn answers_compared_as_another_type_are_refused() {
        for (when, says) in [
            ("{{ 'no' != steps.ok.answer }}", "confirm `ok` with 'no'"),
            (
                "{{ steps.how.answer not in ['replay', 'snap'] }}",
                "`snap` is not one of the choices",
            ),
            (
                "{{ steps.how.answer == 1 }}",
                "choice checkpoint `how` with 1",
            ),
            (
                "{{ steps.n.answer == '3' }}",
                "number checkpoint `n` with '3'",
            ),
            (
                "{{ steps.note.answer == true }}",
                "text checkpoint `note` with true",
            ),
        ] {
            let found = messages(when);
            assert!(found.iter().any(|m| m.contains(says)), "{when}: {found:?}");
        }
    }
}
