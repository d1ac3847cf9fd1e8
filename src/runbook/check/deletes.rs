//! Deletes in recovery: `kube.delete` is what drills use to cause a failure, so it needs
//! no permission in `drill.inject`; a recovery step that deletes must say
//! `allow_delete: true`, literally (a template could turn it on by accident), so that a
//! delete never enters a recovery by a slip of the action name.

use super::Checker;
use crate::runbook::model::StepBody;
use crate::source::diagnostic::Diagnostic;
use crate::source::yaml_tree::Value;

/// The action that needs permission outside `drill.inject`.
const DELETE: &str = "kube.delete";

impl Checker<'_> {
    /// Every `kube.delete` in `spec.steps` says `allow_delete: true`.
    pub(super) fn deletes_allowed(&mut self) {
        let runbook = self.runbook;
        for step in &runbook.spec.steps {
            let StepBody::Action(call) = &step.body else {
                continue;
            };
            if call.name.value != DELETE {
                continue;
            }
            let allowed = call
                .with
                .iter()
                .find(|(name, _)| name.value == "allow_delete")
                .is_some_and(|(_, value)| matches!(value.value, Value::Bool(true)));
            if !allowed {
                self.error(
                    Diagnostic::new(
                        call.name.span,
                        format!(
                            "step `{}` deletes an object outside `drill.inject` without `allow_delete: true`",
                            step.id.value
                        ),
                    )
                    .with_help(
                        "a recovery that must delete says so: add `allow_delete: true` under `with:`; a drill that causes a failure deletes in `drill.inject`",
                    ),
                );
            }
        }
    }
}
