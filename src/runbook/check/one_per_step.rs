//! Actions that make one named object per step: `velero.restore` names its Restore after
//! the run and the step (that is how a re-run after a crash finds its own Restore
//! instead of creating a second one), and every Restore lives in Velero's namespace. In
//! a `foreach`, every item would get the same name, and the second item would "find"
//! the first one's Restore and report it as its own. So such a step cannot fan out;
//! a runbook that needs several restores writes one step each.
//!
//! `kkp.etcd.restore` fans out safely: its EtcdRestore lives in the cluster's own
//! namespace, so one name per step is one object per cluster.

use super::Checker;
use crate::runbook::model::{Step, StepBody};
use crate::source::diagnostic::Diagnostic;

/// Actions whose step makes exactly one object, named after the step.
const ONE_PER_STEP: &[&str] = &["velero.restore"];

impl Checker<'_> {
    /// No step of an action in `ONE_PER_STEP` has a `foreach`.
    pub(super) fn one_object_per_step(&mut self, steps: &[Step]) {
        for step in steps {
            let StepBody::Action(call) = &step.body else {
                continue;
            };
            if step.foreach.is_none() || !ONE_PER_STEP.contains(&call.name.value.as_str()) {
                continue;
            }
            self.error(
                Diagnostic::new(
                    call.name.span,
                    format!(
                        "step `{}` runs `{}` in a `foreach`, but each of its items would create or follow the same Restore `drbook-<run id>-{}`",
                        step.id.value, call.name.value, step.id.value
                    ),
                )
                .with_help(
                    "Velero runs one restore at a time anyway: write one step per restore (each gets its own Restore), or restore several namespaces in one step with `namespaces: [a, b]`",
                ),
            );
        }
    }
}
