//! Templates in runbooks: the one minijinja environment drbook uses, and the analysis
//! that lets `validate` check every template before anything runs.
//!
//! Templates are compiled at validation time, so a syntax error or a reference to an
//! unknown input or step is found at the desk, not at 3 a.m. Strict undefined behaviour
//! makes a missing value an error at run time too, never an empty string in a command.

use std::collections::BTreeSet;
use std::ops::Range;

use minijinja::machinery;
use minijinja::{Environment, UndefinedBehavior};

pub use analysis::{Analysis, Hyphenated, NameUse, Reference};
pub use context::Context;
pub use secret_use::{SecretHow, SecretUse};

mod analysis;
pub mod comparisons;
mod context;
pub mod render;
mod secret_use;
mod undefined;

/// The roots a template may read; anything else is a typo.
pub const CONTEXT_ROOTS: &[&str] = &["inputs", "secrets", "steps", "target", "run", "item"];

/// The environment every runbook template is compiled and rendered with.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // A boolean prints in the format's own spelling (`true`, `false`, as YAML and shell
    // scripts write it), not Python's `True`: what a command receives and what `plan`
    // shows is what the runbook's author wrote.
    env.set_formatter(|out, state, value| {
        if value.kind() == minijinja::value::ValueKind::Bool {
            let text = if value.is_true() { "true" } else { "false" };
            return out.write_str(text).map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
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
/// (`inputs.members`, `steps.snapshot.outputs.id`; `steps['a-b'].answer` as
/// `steps.a-b.answer`). Every drbook environment uses minijinja's default syntax, which
/// is all the analysis needs of `_env`.
pub fn template_references(
    _env: &Environment<'static>,
    text: &str,
) -> Result<BTreeSet<String>, TemplateError> {
    Ok(analyse_template(text)?.dotted_paths())
}

/// Compiles an expression (the inside of `when` or `foreach`) and returns the paths it
/// reads.
pub fn expression_references(
    _env: &Environment<'static>,
    expression: &str,
) -> Result<BTreeSet<String>, TemplateError> {
    Ok(analyse_expression(expression)?.dotted_paths())
}

/// Compiles a template and reports what it reads and which filters and tests it applies,
/// each with where it is written.
///
/// Parsing is the only step of compiling that can fail, so the errors are those
/// `env.template_from_str` gives (a test holds the two together).
pub fn analyse_template(text: &str) -> Result<Analysis, TemplateError> {
    let ast = machinery::parse(
        text,
        "<string>",
        // drbook never changes the delimiters, and whitespace control does not change
        // what a template reads.
        Default::default(),
        machinery::WhitespaceConfig::default(),
    )
    .map_err(convert)?;
    Ok(analysis::walk_template(&ast, text))
}

/// `analyse_template` for an expression (the inside of `when` or `foreach`).
pub fn analyse_expression(expression: &str) -> Result<Analysis, TemplateError> {
    let ast = machinery::parse_expr(expression).map_err(convert)?;
    Ok(analysis::walk_expression(&ast, expression))
}

/// True when `env` has a filter called `name`.
pub fn has_filter(env: &Environment<'static>, name: &str) -> bool {
    probe(env, "name is filter", name)
}

/// True when `env` has a test called `name`.
pub fn has_test(env: &Environment<'static>, name: &str) -> bool {
    probe(env, "name is test", name)
}

/// Asks the environment itself, so filters drbook adds are known without a list here.
fn probe(env: &Environment<'static>, expression: &str, name: &str) -> bool {
    env.compile_expression(expression)
        .and_then(|e| e.eval(minijinja::context! { name }))
        .is_ok_and(|v| v.is_true())
}

/// minijinja's built-in filters, for "did you mean"; `has_filter` is the judge.
pub const BUILTIN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "trim",
    "unique",
    "upper",
    "zip",
];

/// minijinja's built-in tests, for "did you mean"; `has_test` is the judge.
pub const BUILTIN_TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

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
    fn sees_string_subscripts() {
        let env = environment();
        let refs = template_references(
            &env,
            "{{ steps['find-member'].outputs[\"ip\"] }} {{ inputs.list[0] }} {{ steps[inputs.k] }}",
        )
        .unwrap();
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        assert_eq!(
            refs,
            [
                "inputs.k",
                "inputs.list",
                "steps",
                "steps.find-member.outputs.ip"
            ]
        );
    }

    #[test]
    fn follows_scopes_like_minijinja() {
        let env = environment();
        for text in [
            "{% for m in inputs.members %}{{ m.name }}{{ loop.index }}{% endfor %}",
            "{% set x = inputs.a %}{{ x.b }}",
            "{% macro f(a) %}{{ a.b }}{{ caller }}{% endmacro %}{{ f(inputs.a) }}",
            "{% with y = item %}{{ y.c }}{% endwith %}{{ steps.s.outputs.o }}",
        ] {
            let ours = template_references(&env, text).unwrap();
            let theirs: BTreeSet<String> = env
                .template_from_str(text)
                .unwrap()
                .undeclared_variables(true)
                .into_iter()
                .collect();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn finds_filters_tests_and_hyphens_where_written() {
        let text = "{{ inputs.a | upper | uppercase(1) }}{% if x is not odd %}{{ steps.find-member-two.outputs.x }}{% endif %}{{ a - b }}";
        let analysis = analyse_template(text).unwrap();
        let names = |uses: &[NameUse]| -> Vec<(String, String)> {
            uses.iter()
                .map(|u| (u.name.clone(), text[u.range.clone()].to_string()))
                .collect()
        };
        assert_eq!(
            names(&analysis.filters),
            [
                ("uppercase".into(), "uppercase".into()),
                ("upper".into(), "upper".into())
            ]
        );
        assert_eq!(names(&analysis.tests), [("odd".into(), "odd".into())]);
        assert_eq!(analysis.hyphenated.len(), 1, "{:?}", analysis.hyphenated);
        let h = &analysis.hyphenated[0];
        assert_eq!(h.path, ["steps", "find"]);
        assert_eq!(h.minus, ["member", "two"]);
        assert_eq!(&text[h.range.clone()], "steps.find-member-two");
        let spans: Vec<&str> = analysis
            .references
            .iter()
            .map(|r| &text[r.range.clone()])
            .collect();
        assert!(spans.contains(&"inputs.a"), "{spans:?}");
        assert!(spans.contains(&"two.outputs.x"), "{spans:?}");
    }

    #[test]
    fn marks_what_a_guard_allows_to_be_missing() {
        let analysis = analyse_template(
            "{{ target.a.b | default('') }}{% if target.c is not defined %}x{% else %}{{ target.c.d }}{% endif %}{{ target.e }}{{ inputs.x | d }}",
        )
        .unwrap();
        let required: Vec<(String, String)> = analysis
            .references
            .iter()
            .map(|r| (r.path.join("."), r.required().join(".")))
            .collect();
        let expected = [
            ("target.a.b", "target.a"),
            ("target.c", "target"),
            ("target.c.d", "target"),
            ("target.e", "target.e"),
            ("inputs.x", "inputs"),
        ];
        assert_eq!(
            required,
            expected.map(|(p, r)| (p.to_string(), r.to_string()))
        );
    }

    #[test]
    fn knows_the_builtin_filters_and_tests() {
        let env = environment();
        for name in BUILTIN_FILTERS {
            assert!(has_filter(&env, name), "filter {name}");
        }
        for name in BUILTIN_TESTS {
            assert!(has_test(&env, name), "test {name}");
        }
        assert!(!has_filter(&env, "uppercase"));
        assert!(!has_test(&env, "oddd"));
    }

    /// The analysis parses on its own; its errors must be the ones compiling gives.
    #[test]
    fn analysis_errors_are_compile_errors() {
        let env = environment();
        for text in [
            "echo {{ inputs.x ",
            "echo ${#ARR}",
            "{{ a | }}",
            "{% if x %}",
            "{{.State}}",
            "{% endfor %}",
        ] {
            let ours = analyse_template(text).unwrap_err();
            let theirs = convert(env.template_from_str(text).unwrap_err());
            assert_eq!(ours, theirs, "{text}");
        }
        for expression in [" inputs.x and ", " a | ", " (a "] {
            let ours = analyse_expression(expression).unwrap_err();
            let theirs = convert(env.compile_expression(expression).unwrap_err());
            assert_eq!(ours, theirs, "{expression}");
        }
    }

    /// The help for `${#var}` and Go templates suggests these spellings.
    #[test]
    fn literal_braces_can_be_written() {
        let env = environment();
        let render = |t: &str| env.render_str(t, ()).unwrap();
        assert_eq!(render("echo ${{ '{#' }}ARR}"), "echo ${#ARR}");
        assert_eq!(render("-f '{{ '{{' }}.State}}'"), "-f '{{.State}}'");
        assert_eq!(
            render("{% raw %}echo ${#A} {{.B}}{% endraw %}"),
            "echo ${#A} {{.B}}"
        );
    }

    #[test]
    fn recognises_single_expressions() {
        assert_eq!(single_expression("{{ inputs.a }}"), Some(" inputs.a "));
        assert_eq!(single_expression("{{ a }} and {{ b }}"), None);
        assert_eq!(single_expression("plain"), None);
    }
}
