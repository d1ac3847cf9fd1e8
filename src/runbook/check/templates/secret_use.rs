//! Secrets are used whole. The masker finds a secret's value (and common encodings of
//! it) in text; `{{ secrets.token | upper }}`, `{{ secrets.token[2:] }}` or
//! `{{ secrets.token ~ 'x' }}` print text it cannot recognise, so every use of a secret
//! other than `{{ secrets.<name> }}` is refused where it is written, with why.

use std::ops::Range;

use super::TemplateSite;
use crate::runbook::check::Checker;
use crate::source::diagnostic::Diagnostic;
use crate::source::span::Spanned;
use crate::template::{Analysis, SecretHow};

impl Checker<'_> {
    /// Refuses every use of a secret but printing it whole; `offset` is where the
    /// analysed part starts inside the text, `reported` holds `secrets.a-b` spellings
    /// already reported as such.
    pub(super) fn secret_uses(
        &mut self,
        text: &Spanned<String>,
        analysis: &Analysis,
        offset: usize,
        site: &TemplateSite,
        reported: &[Range<usize>],
    ) {
        // A template that is shown may not read a secret at all, which is reported
        // already, whatever it does with it.
        if site.shown {
            return;
        }
        for secret_use in &analysis.secrets {
            if reported.iter().any(|r| r.contains(&secret_use.range.start)) {
                continue;
            }
            let what = &site.what;
            let Some(name) = &secret_use.name else {
                let diagnostic = Diagnostic::new(
                    Default::default(),
                    format!("{what} reads `secrets` without naming one secret"),
                )
                .with_help("a secret can only be masked when it is used whole and by name: `{{ secrets.<name> }}`");
                self.error_at(text, secret_use.range.clone(), offset, diagnostic);
                continue;
            };
            // An undeclared secret is reported as such by the reference check.
            if !self.is_secret(name) {
                continue;
            }
            let whole = format!("`{{{{ secrets.{name} }}}}`");
            let diagnostic = match (&secret_use.how, site.foreach) {
                (SecretHow::Whole, false) => continue,
                (SecretHow::Whole, true) => Diagnostic::new(
                    Default::default(),
                    format!("{what} {}", SecretHow::Loop.describe(name)),
                )
                .with_help(format!(
                    "each character would become an item, shown unmasked; pass the secret whole ({whole}) to an action parameter, e.g. `env:` of a shell step"
                )),
                (how, _) => Diagnostic::new(
                    Default::default(),
                    format!("{what} {}", how.describe(name)),
                )
                .with_help(format!(
                    "a transformed secret cannot be masked; pass it whole ({whole}), e.g. through `env:` of a shell step"
                )),
            };
            self.error_at(text, secret_use.range.clone(), offset, diagnostic);
        }
    }

    /// Reports `diagnostic` at bytes `range` of the analysed part, which starts at
    /// `offset` inside the text.
    fn error_at(
        &mut self,
        text: &Spanned<String>,
        range: Range<usize>,
        offset: usize,
        diagnostic: Diagnostic,
    ) {
        let span = self.span_in(text, range.start + offset..range.end + offset);
        self.error(Diagnostic { span, ..diagnostic });
    }

    fn is_secret(&self, name: &str) -> bool {
        self.runbook
            .spec
            .secrets
            .iter()
            .any(|s| s.name.value == name)
    }
}
