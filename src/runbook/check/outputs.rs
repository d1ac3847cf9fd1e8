//! Reads of a built-in action's outputs: `steps.snap.outputs.totalKeys` names an output
//! `etcd.snapshot.verify` never sets, which strict templates would only find at run
//! time, after the steps before it changed the cluster. A `shell` step's outputs are
//! whatever its command prints, so they are not judged.

use super::templates::TemplateSite;
use super::{Checker, with_suggestion};
use crate::actions;
use crate::runbook::model::{Step, StepBody};
use crate::source::diagnostic::Diagnostic;
use crate::source::span::Span;

impl Checker<'_> {
    /// The problem with `steps.<id>.outputs.<name>` (`parts`) when `step` is a built-in
    /// action that declares its outputs and `name` is not among them.
    pub(super) fn declared_output(
        &self,
        parts: &[&str],
        step: &Step,
        site: &TemplateSite,
    ) -> Option<Diagnostic> {
        let name = *parts.get(3)?;
        let StepBody::Action(call) = &step.body else {
            return None;
        };
        let spec = actions::lookup(&call.name.value)?;
        let declared = spec.outputs?;
        if declared.contains(&name) {
            return None;
        }
        let diagnostic = Diagnostic::new(
            Span::default(),
            format!(
                "{} reads output `{name}` of step `{}`, but `{}` has no output `{name}`",
                site.what, step.id.value, spec.name
            ),
        );
        let all = format!("`{}` sets: {}", spec.name, declared.join(", "));
        // `totalKeys` for `total_keys`: the same name in another spelling.
        let squash = |s: &str| s.to_lowercase().replace(['_', '-'], "");
        match declared.iter().find(|d| squash(d) == squash(name)) {
            Some(same) => Some(diagnostic.with_help(format!("did you mean `{same}`? {all}"))),
            None => Some(with_suggestion(diagnostic, name, declared, &all)),
        }
    }
}
