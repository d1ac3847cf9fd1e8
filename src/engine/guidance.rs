//! What the operator is told when a step starts: its `title` and `description`, rendered
//! with the run's context (and the `foreach` item), handed to the observers beside the
//! step's `step_started` record. The journal does not keep it: the runbook in the run
//! directory holds the text, and the records hold everything it was rendered from.
//!
//! Shown once per step instance and session (a retry is not introduced again; a resumed
//! session introduces the steps it starts, for an operator who may not have seen them).
//! A description is shown once per step: a `foreach` step shows it with its first item,
//! and again only for an item whose rendered text differs (a description that reads
//! `item`).

use serde_json::Value;

use super::Engine;
use super::scheduler::SectionRun;
use crate::runbook::model::Step;
use crate::source::span::Spanned;
use crate::template::render;

/// A step's guidance as shown when one of its instances starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepGuidance {
    pub step: String,
    /// The `foreach` item's index, as `step_started` counts it.
    pub item: Option<usize>,
    /// The rendered `title`.
    pub title: Option<String>,
    /// The rendered `description` (markdown); `None` when the step has none or it was
    /// already shown in this session.
    pub description: Option<String>,
}

/// The title and description of a step, rendered for one item. A text that cannot be
/// rendered (a value missing at run time) is shown as written, with why: guidance is
/// for reading and never stops a run, the step's own parameters are held to the
/// strict rules.
pub(super) fn rendered(
    engine: &Engine,
    step: &Step,
    item: Option<&Value>,
) -> (Option<String>, Option<String>) {
    if step.title.is_none() && step.description.is_none() {
        return (None, None);
    }
    let context = engine.context.template(item);
    let render = |text: &Spanned<String>| {
        let shown = match render::text(&engine.env, &text.value, &context) {
            Ok(shown) => shown,
            Err(e) => format!(
                "{}\n\n(drbook could not fill in this text: {e})",
                text.value.trim_end()
            ),
        };
        // Validation keeps secrets out of these texts; masked all the same.
        engine.masker.mask(&shown)
    };
    (
        step.title.as_ref().map(render),
        step.description.as_ref().map(render),
    )
}

impl SectionRun<'_> {
    /// Tells the observers what step `index` (item `item`) is about, before its start is
    /// recorded, unless this session already did.
    pub(super) fn guide(
        &mut self,
        engine: &mut Engine,
        index: usize,
        item: usize,
        item_value: Option<&Value>,
    ) {
        let step = &self.steps[index];
        let track = &mut self.tracks[index];
        let instance = &mut track.instances[item];
        if instance.guided {
            return;
        }
        instance.guided = true;
        let (title, description) = rendered(engine, step, item_value);
        let description = match description {
            Some(text) if track.description_shown.as_ref() != Some(&text) => {
                track.description_shown = Some(text.clone());
                Some(text)
            }
            _ => None,
        };
        if title.is_none() && description.is_none() {
            return;
        }
        engine.recorder.guidance(&StepGuidance {
            step: step.id.value.clone(),
            item: item_value.map(|_| item),
            title,
            description,
        });
    }
}
