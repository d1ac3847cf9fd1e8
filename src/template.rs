//! Templates in runbooks: the one minijinja environment drbook uses, and the analysis
//! that lets `validate` check every template before anything runs.
//!
//! Templates are compiled at validation time, so a syntax error or a reference to an
//! unknown input or step is found at the desk, not at 3 a.m. Strict undefined behaviour
//! makes a missing value an error at run time too, never an empty string in a command.

use std::collections::BTreeSet;
use std::ops::Range;

use minijinja::{Environment, UndefinedBehavior};

/// The roots a template may read; anything else is a typo.
pub const CONTEXT_ROOTS: &[&str] = &["inputs", "secrets", "steps", "target", "run", "item"];

/// The environment every runbook template is compiled and rendered with.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env
}

/// The environment drbook's own documents (`templates/`) are rendered with. Templates
/// named `*.html` escape every value (minijinja chooses by the name's suffix); a value
/// the view model lacks is an error, never an empty string on the page.
pub fn document_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env
}

/// A template that does not compile, with where in its text the problem is.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub message: String,
    /// Byte range inside the template text, when minijinja knows it.
    pub range: Option<Range<usize>>,
}

/// True when the text holds template syntax at all; plain strings are left alone.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// If `text` is exactly one `{{ expression }}`, the expression inside.
pub fn single_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner)
}

/// Compiles a template and returns the dotted variable paths it reads
/// (`inputs.members`, `steps.snapshot.outputs.id`).
pub fn template_references(
    env: &Environment<'static>,
    text: &str,
) -> Result<BTreeSet<String>, TemplateError> {
    let template = env.template_from_str(text).map_err(convert)?;
    Ok(template.undeclared_variables(true).into_iter().collect())
}

/// Compiles an expression (the inside of `when` or `foreach`) and returns the paths it
/// reads.
pub fn expression_references(
    env: &Environment<'static>,
    expression: &str,
) -> Result<BTreeSet<String>, TemplateError> {
    let compiled = env.compile_expression(expression).map_err(convert)?;
    Ok(compiled.undeclared_variables(true).into_iter().collect())
}

fn convert(error: minijinja::Error) -> TemplateError {
    let message = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    TemplateError {
        message,
        range: error.range(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_references() {
        let env = environment();
        let refs =
            template_references(&env, "{{ inputs.repo }}/{{ steps.snap.outputs.id }}").unwrap();
        assert!(refs.contains("inputs.repo"));
        assert!(refs.contains("steps.snap.outputs.id"));
    }

    #[test]
    fn reports_syntax_errors_with_a_range() {
        let env = environment();
        let error = template_references(&env, "echo {{ inputs.x ").unwrap_err();
        assert!(error.message.contains("syntax error"), "{}", error.message);
    }

    #[test]
    fn recognises_single_expressions() {
        assert_eq!(single_expression("{{ inputs.a }}"), Some(" inputs.a "));
        assert_eq!(single_expression("{{ a }} and {{ b }}"), None);
        assert_eq!(single_expression("plain"), None);
    }
}
