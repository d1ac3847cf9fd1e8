//! Gathers the `target.*` reads of every template while the templates are checked, so
//! the list has the same sites and carets as every other template diagnostic.

use super::Checker;
use super::templates::TemplateSite;
use crate::runbook::target_reads::TargetRead;
use crate::source::span::Spanned;
use crate::template::Analysis;

impl Checker<'_> {
    /// Records the target reads of one analysed template; `offset` is where the analysed
    /// part starts inside the text.
    pub(super) fn target_reads(
        &mut self,
        text: &Spanned<String>,
        analysis: &Analysis,
        offset: usize,
        site: &TemplateSite,
    ) {
        for reference in &analysis.references {
            if reference.path.first().map(String::as_str) != Some("target") {
                continue;
            }
            let range = reference.range.start + offset..reference.range.end + offset;
            let read = TargetRead {
                path: reference.path[1..].to_vec(),
                required: reference.required().len().saturating_sub(1),
                span: self.span_in(text, range),
                site: site.what.clone(),
                // The recovery section is `spec.steps`; any other is `drill.inject`.
                inject: !std::ptr::eq(site.steps, self.runbook.spec.steps.as_slice()),
            };
            if !self.reads.contains(&read) {
                self.reads.push(read);
            }
        }
    }
}
