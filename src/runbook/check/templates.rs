//! Template checks: every template of a runbook is compiled, and what it reads, the
//! filters and tests it applies and the order of the steps it reads are judged where it
//! stands (a title may not show a secret; `item` exists only in `foreach` steps).
//! Secrets must be used whole; `secret_use.rs` holds that check.
//!
//! Over 600 lines because every template position of a step (title, description,
//! `when`, `foreach`, prompt, choices, `with`) is walked here with the one `TemplateSite`
//! that decides what it may read; the separate concerns (secrets, outputs, answers,
//! reads) already live in their own files beside it.

mod secret_use;

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use super::{BUILTIN_FUNCTIONS, Checker, RUN_FIELDS, with_suggestion};
use crate::runbook::graph::StepGraph;
use crate::runbook::model::*;
use crate::source::decode::closest;
use crate::source::diagnostic::Diagnostic;
use crate::source::span::{Pos, Span, Spanned};
use crate::source::yaml_tree::{Node, Value};
use crate::template::{self, Analysis, CONTEXT_ROOTS, Hyphenated, Reference};

/// Where a template stands, which decides what it may read.
pub(super) struct TemplateSite<'a> {
    pub(super) steps: &'a [Step],
    /// Step id → index in `steps` (the first of duplicates), so a reference is found
    /// without scanning every step: runbooks have thousands of references.
    ids: &'a HashMap<&'a str, usize>,
    /// `None` when the section's `needs` are wrong; ordering is then not judged.
    graph: Option<&'a StepGraph>,
    /// Index of the step the template belongs to.
    step: usize,
    /// `item` is bound (inside a `foreach` step's parameters, title and description).
    item: bool,
    /// The template's text is shown to people (titles, prompts): secrets are refused.
    shown: bool,
    /// The template is a `foreach` expression: its value is looped over.
    foreach: bool,
    /// What the template is, for messages: "`with.run` of step `drain`".
    pub(super) what: String,
}

impl Checker<'_> {
    /// Compiles every template of a section and checks what it references.
    pub(super) fn templates(&mut self, steps: &[Step], graph: Option<&StepGraph>) {
        let mut ids: HashMap<&str, usize> = HashMap::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            ids.entry(step.id.value.as_str()).or_insert(index);
        }
        for (index, step) in steps.iter().enumerate() {
            let id = &step.id.value;
            let site = |item: bool, shown: bool, what: String| TemplateSite {
                steps,
                ids: &ids,
                graph,
                step: index,
                item,
                shown,
                foreach: false,
                what,
            };
            let has_item = step.foreach.is_some();
            if let Some(title) = &step.title {
                self.template(
                    title,
                    &site(has_item, true, format!("the title of step `{id}`")),
                );
            }
            if let Some(description) = &step.description {
                self.template(
                    description,
                    &site(has_item, true, format!("the description of step `{id}`")),
                );
            }
            if let Some(when) = &step.when {
                self.expression(
                    when,
                    "when",
                    &site(false, false, format!("`when` of step `{id}`")),
                );
            }
            match &step.foreach {
                Some(Foreach::Template(t)) => self.expression(
                    t,
                    "foreach",
                    &TemplateSite {
                        foreach: true,
                        ..site(false, false, format!("`foreach` of step `{id}`"))
                    },
                ),
                Some(Foreach::List(list)) => self.node_templates(
                    list,
                    &site(false, false, format!("`foreach` of step `{id}`")),
                ),
                None => {}
            }
            match &step.body {
                StepBody::Checkpoint(c) => {
                    self.template(
                        &c.prompt,
                        &site(has_item, true, format!("the prompt of step `{id}`")),
                    );
                    for choice in &c.choices {
                        self.template(
                            choice,
                            &site(has_item, true, format!("a choice of step `{id}`")),
                        );
                    }
                }
                StepBody::Action(call) => {
                    for (name, value) in &call.with {
                        let what = format!("`with.{}` of step `{id}`", name.value);
                        self.node_templates(value, &site(has_item, false, what));
                    }
                }
            }
        }
    }

    fn node_templates(&mut self, node: &Node, site: &TemplateSite) {
        match &node.value {
            Value::String(text) => self.template(&Spanned::new(text.clone(), node.span), site),
            Value::Seq(items) => items.iter().for_each(|n| self.node_templates(n, site)),
            Value::Map(entries) => entries
                .iter()
                .for_each(|(_, v)| self.node_templates(v, site)),
            _ => {}
        }
    }

    fn template(&mut self, text: &Spanned<String>, site: &TemplateSite) {
        if !template::is_template(text) {
            return;
        }
        match template::analyse_template(text) {
            Ok(analysis) => self.analysis(text, &analysis, 0, site),
            Err(e) => self.template_error(text, e, 0, site),
        }
    }

    /// `when` and `foreach` hold one `{{ expression }}`; `key` is which of them.
    fn expression(&mut self, text: &Spanned<String>, key: &str, site: &TemplateSite) {
        let Some(expression) = template::single_expression(text) else {
            let help = if template::is_template(text) {
                "write the whole condition inside one pair of braces, like `\"{{ inputs.fresh_backup and not inputs.dry }}\"`".to_string()
            } else {
                format!(
                    "write `{key}: \"{{{{ {} }}}}\"`",
                    self.as_expression(text.trim())
                )
            };
            self.error(
                Diagnostic::new(
                    text.span,
                    format!("{} must be a single `{{{{ expression }}}}`", site.what),
                )
                .with_help(help),
            );
            return;
        };
        // The expression starts after the leading space and the `{{`.
        let offset = text.len() - text.trim_start().len() + 2;
        match template::analyse_expression(expression) {
            Ok(analysis) => self.analysis(text, &analysis, offset, site),
            Err(mut e) => {
                // A range past the expression's end (end of input) is shown on the
                // closing braces.
                e.range = e.range.map(|r| {
                    let start = r.start.min(expression.len());
                    start..r.end.clamp(start + 1, expression.len() + 1)
                });
                self.template_error(text, e, offset, site);
            }
        }
    }

    /// What a plain `when: fresh` most likely means: an input's name is read from
    /// `inputs`; anything else is kept as written.
    fn as_expression(&self, text: &str) -> String {
        let root = text.split('.').next().unwrap_or(text);
        let is_input = self
            .runbook
            .spec
            .inputs
            .iter()
            .any(|i| i.name.value == text);
        if is_input || (is_identifier(text) && !CONTEXT_ROOTS.contains(&root)) {
            format!("inputs.{text}")
        } else {
            text.to_string()
        }
    }

    /// Reports a template that does not compile; `offset` is where the compiled part
    /// starts inside the text.
    fn template_error(
        &mut self,
        text: &Spanned<String>,
        error: template::TemplateError,
        offset: usize,
        site: &TemplateSite,
    ) {
        let mut range = error
            .range
            .map(|r| r.start + offset..r.end + offset)
            .filter(|r| !r.is_empty());
        let before = range
            .as_ref()
            .and_then(|r| text.get(..r.start))
            .unwrap_or("");
        // The `{{` the error is inside of, and what follows it.
        let block = before.rfind("{{").map(|at| &text[at + 2..]);
        let help = if error.message.contains("end of comment") {
            // `${#ARR}` in a shell command: point at the `{#`, not the whole string.
            if let Some(at) = text.find("{#") {
                range = Some(at..at + 2);
            }
            "`{#` starts a template comment; write `{{ '{#' }}` for a literal `{#`, or wrap the command in `{% raw %}...{% endraw %}`"
        } else if block.is_some_and(looks_like_other_braces) {
            "`{{` starts a template expression; for a literal `{{` (Go templates, awk) write `{{ '{{' }}`, or wrap the command in `{% raw %}...{% endraw %}`"
        } else if before.trim_end().ends_with('|') {
            "a `|` is followed by a filter name, like `{{ inputs.name | upper }}`"
        } else if error.message.contains("expected end of variable block") {
            "is a closing `}}` missing?"
        } else if error.message.contains("expected end of block") {
            "is a closing `%}` missing?"
        } else {
            "templates use minijinja syntax: `{{ inputs.name }}`, `{% if ... %}`"
        };
        let span = range.map_or(text.span, |r| self.span_in(text, r));
        self.error(
            Diagnostic::new(
                span,
                format!("template error in {}: {}", site.what, error.message),
            )
            .with_help(help),
        );
    }

    /// Checks what a template reads and applies; `offset` is where the analysed part
    /// starts inside the text.
    fn analysis(
        &mut self,
        text: &Spanned<String>,
        analysis: &Analysis,
        offset: usize,
        site: &TemplateSite,
    ) {
        self.target_reads(text, analysis, offset, site);
        let at = |r: &Range<usize>| r.start + offset..r.end + offset;
        // `steps.find-member` is reported once, instead of as an unknown step `find`
        // and an unknown variable `member`.
        let mut hyphens: Vec<Range<usize>> = Vec::new();
        for hyphenated in &analysis.hyphenated {
            if let Some(diagnostic) = self.hyphenated(text, hyphenated, offset, site) {
                let span = self.span_in(text, at(&hyphenated.range));
                self.error(Diagnostic { span, ..diagnostic });
                hyphens.push(hyphenated.range.clone());
            }
        }
        // Each path once, where it is first written.
        let mut references: Vec<&Reference> = analysis.references.iter().collect();
        references.sort_by_key(|r| r.range.start);
        let mut seen = BTreeSet::new();
        for reference in references {
            if hyphens.iter().any(|h| h.contains(&reference.range.start))
                || !seen.insert(&reference.path)
            {
                continue;
            }
            let parts: Vec<&str> = reference.path.iter().map(String::as_str).collect();
            if let Some(diagnostic) = self.reference(&parts, site) {
                let span = self.span_in(text, at(&reference.range));
                self.error(Diagnostic { span, ..diagnostic });
            }
        }
        self.secret_uses(text, analysis, offset, site, &hyphens);
        for (uses, kind) in [(&analysis.filters, "filter"), (&analysis.tests, "test")] {
            for name_use in uses {
                let known = if kind == "filter" {
                    template::has_filter(&self.env, &name_use.name)
                } else {
                    template::has_test(&self.env, &name_use.name)
                };
                if !known {
                    let span = self.span_in(text, at(&name_use.range));
                    self.error(self.unknown_callable(&name_use.name, kind, span, site));
                }
            }
        }
        self.answer_comparisons(text, analysis, offset, &site.what);
    }

    fn unknown_callable(
        &self,
        name: &str,
        kind: &str,
        span: Span,
        site: &TemplateSite,
    ) -> Diagnostic {
        let (builtins, examples) = if kind == "filter" {
            (
                template::BUILTIN_FILTERS,
                "filters: `upper`, `lower`, `default`, `join`, `replace`, `trim`, `length`",
            )
        } else {
            (
                template::BUILTIN_TESTS,
                "tests: `defined`, `none`, `number`, `string`, `in`, `odd`, `even`",
            )
        };
        let known: Vec<&str> = builtins
            .iter()
            .copied()
            .filter(|n| {
                if kind == "filter" {
                    template::has_filter(&self.env, n)
                } else {
                    template::has_test(&self.env, n)
                }
            })
            .collect();
        let diagnostic =
            Diagnostic::new(span, format!("{} uses unknown {kind} `{name}`", site.what));
        // `uppercase` for `upper`: too far apart for a typo, but plainly meant.
        let stem = known
            .iter()
            .filter(|k| k.len() >= 3 && name.starts_with(**k))
            .max_by_key(|k| k.len());
        match (closest(name, &known), stem) {
            (Some(best), _) | (None, Some(&best)) => {
                diagnostic.with_help(format!("did you mean `{best}`?"))
            }
            (None, None) => diagnostic.with_help(format!("templates have minijinja's {examples}")),
        }
    }

    /// The problem with `steps.find-member`, which reads as `steps.find` minus `member`;
    /// `None` when it is a subtraction of two things a template can read.
    fn hyphenated(
        &self,
        text: &str,
        hyphenated: &Hyphenated,
        offset: usize,
        site: &TemplateSite,
    ) -> Option<Diagnostic> {
        let readable =
            |name: &str| CONTEXT_ROOTS.contains(&name) || BUILTIN_FUNCTIONS.contains(&name);
        if hyphenated.minus.iter().any(|m| readable(m)) {
            return None;
        }
        let range = &hyphenated.range;
        let written = text.get(range.start + offset..range.end + offset)?;
        let (last, prefix) = hyphenated.path.split_last()?;
        let joined = std::iter::once(last.as_str())
            .chain(hyphenated.minus.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("-");
        let minus: Vec<String> = hyphenated.minus.iter().map(|m| format!("`{m}`")).collect();
        let message = format!(
            "in {}, `{written}` reads as `{}` minus {}",
            site.what,
            hyphenated.path.join("."),
            minus.join(" minus ")
        );
        let subscript = format!("{}['{joined}']", prefix.join("."));
        let help = match (prefix, hyphenated.path.len()) {
            ([root], 2) if root == "steps" => {
                let ids: Vec<&str> = site.steps.iter().map(|s| s.id.value.as_str()).collect();
                if ids.contains(&joined.as_str()) {
                    format!("write `{subscript}` or rename the step with `_`")
                } else {
                    match closest(&joined, &ids) {
                        Some(best) => format!(
                            "there is no step `{joined}` either; did you mean `steps['{best}']`?"
                        ),
                        None => format!("there is no step `{joined}` either"),
                    }
                }
            }
            ([root], 2) if root == "inputs" || root == "secrets" => {
                let kind = if root == "inputs" { "input" } else { "secret" };
                let names: Vec<&str> = if root == "inputs" {
                    self.runbook
                        .spec
                        .inputs
                        .iter()
                        .map(|i| i.name.value.as_str())
                        .collect()
                } else {
                    self.runbook
                        .spec
                        .secrets
                        .iter()
                        .map(|s| s.name.value.as_str())
                        .collect()
                };
                let underscored = joined.replace('-', "_");
                if names.contains(&underscored.as_str()) {
                    format!("{kind} names cannot contain `-`; did you mean `{root}.{underscored}`?")
                } else {
                    format!(
                        "{kind} names cannot contain `-`; use the name declared under `spec.{root}`"
                    )
                }
            }
            _ => format!("write `{subscript}`"),
        };
        Some(Diagnostic::new(Span::default(), message).with_help(help))
    }

    /// Where bytes `range` of a scalar's value are written in the file, for the caret.
    /// A value on one line, or a `|` block, keeps its characters at known columns; the
    /// file is read to confirm (quotes, escapes and folded lines move them), and the
    /// whole scalar is the answer when it does not match.
    pub(super) fn span_in(&self, text: &Spanned<String>, range: Range<usize>) -> Span {
        let (Some(before), Some(inside)) = (text.get(..range.start), text.get(range)) else {
            return text.span;
        };
        let needle: Vec<char> = inside.split('\n').next().unwrap_or("").chars().collect();
        if needle.is_empty() {
            return text.span;
        }
        let line = text.span.start.line + before.matches('\n').count();
        let col = text.span.start.col + before.rsplit('\n').next().unwrap_or("").chars().count();
        let Some(written) = line.checked_sub(1).and_then(|i| self.lines.get(i)) else {
            return text.span;
        };
        // A quoted value starts one column after its quote.
        (col..=col + 1)
            .find(|&col| {
                written
                    .chars()
                    .skip(col.saturating_sub(1))
                    .take(needle.len())
                    .eq(needle.iter().copied())
            })
            .map_or(text.span, |col| {
                Span {
                    start: Pos { line, col },
                    end: Pos { line, col },
                }
                .sub(0, needle.len())
            })
    }

    /// Checks one path a template reads; returns the problem, located later.
    fn reference(&self, parts: &[&str], site: &TemplateSite) -> Option<Diagnostic> {
        let none = Span::default();
        let what = &site.what;
        match parts[0] {
            "inputs" => {
                let name = parts.get(1)?;
                let inputs: Vec<&str> = self
                    .runbook
                    .spec
                    .inputs
                    .iter()
                    .map(|i| i.name.value.as_str())
                    .collect();
                (!inputs.contains(name)).then(|| {
                    with_suggestion(
                        Diagnostic::new(none, format!("{what} uses unknown input `{name}`")),
                        name,
                        &inputs,
                        "declare it under `spec.inputs`",
                    )
                })
            }
            "secrets" => {
                let name = parts.get(1)?;
                let secrets: Vec<&str> = self
                    .runbook
                    .spec
                    .secrets
                    .iter()
                    .map(|s| s.name.value.as_str())
                    .collect();
                let shown_help = "secrets may only be passed to action parameters, never shown in titles, prompts or descriptions";
                if !secrets.contains(name) {
                    let diagnostic =
                        Diagnostic::new(none, format!("{what} uses unknown secret `{name}`"));
                    return Some(match (site.shown, closest(name, &secrets)) {
                        (false, _) => with_suggestion(
                            diagnostic,
                            name,
                            &secrets,
                            "declare it under `spec.secrets`",
                        ),
                        (true, Some(best)) => diagnostic.with_help(format!(
                            "did you mean `{best}`? Even so, it cannot be used here: {shown_help}"
                        )),
                        (true, None) => diagnostic.with_help(format!(
                            "declaring it under `spec.secrets` would not help: {shown_help}"
                        )),
                    });
                }
                site.shown.then(|| {
                    Diagnostic::new(none, format!("{what} would show secret `{name}` on screen and in the record"))
                        .with_help("secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions")
                })
            }
            "steps" => self.step_reference(parts, site),
            "run" => {
                let field = parts.get(1)?;
                (!RUN_FIELDS.contains(field)).then(|| {
                    with_suggestion(
                        Diagnostic::new(none, format!("{what} uses unknown field `run.{field}`")),
                        field,
                        RUN_FIELDS,
                        &format!("`run` has: {}", RUN_FIELDS.join(", ")),
                    )
                })
            }
            "target" => None,
            "item" => (!site.item).then(|| {
                Diagnostic::new(
                    none,
                    format!("{what} uses `item`, which only exists in a `foreach` step"),
                )
                .with_help("add `foreach:` to the step, or use a value from `inputs`")
            }),
            root if BUILTIN_FUNCTIONS.contains(&root) => None,
            root => Some(with_suggestion(
                Diagnostic::new(none, format!("{what} uses unknown variable `{root}`")),
                root,
                CONTEXT_ROOTS,
                &format!("templates can read: {}", CONTEXT_ROOTS.join(", ")),
            )),
        }
    }

    fn step_reference(&self, parts: &[&str], site: &TemplateSite) -> Option<Diagnostic> {
        let none = Span::default();
        let what = &site.what;
        let id = parts.get(1)?;
        let Some(&target) = site.ids.get(id) else {
            let ids: Vec<&str> = site.steps.iter().map(|s| s.id.value.as_str()).collect();
            return Some(with_suggestion(
                Diagnostic::new(none, format!("{what} uses unknown step `{id}`")),
                id,
                &ids,
                "`steps.<id>` reads a step of the same section",
            ));
        };
        if target == site.step {
            return Some(
                Diagnostic::new(
                    none,
                    format!("{what} reads the result of its own step `{id}`"),
                )
                .with_help(
                    "a step's outputs exist only after it finished; read them in a later step",
                ),
            );
        }
        if site
            .graph
            .is_some_and(|graph| graph.runs_before(site.step, target))
        {
            return Some(
                Diagnostic::new(
                    none,
                    format!("{what} reads step `{id}`, which runs after it"),
                )
                .with_help(format!(
                    "move step `{id}` above step `{}`, or read the value in a later step",
                    site.steps[site.step].id.value
                )),
            );
        }
        if site
            .graph
            .is_some_and(|graph| !graph.runs_before(target, site.step))
        {
            return Some(
                Diagnostic::new(
                    none,
                    format!("{what} reads step `{id}`, which is not guaranteed to run before it"),
                )
                .with_help(format!(
                    "add `{id}` to the `needs` of step `{}`",
                    site.steps[site.step].id.value
                )),
            );
        }
        let field = parts.get(2)?;
        let step = step_path(id);
        let is_checkpoint = matches!(site.steps[target].body, StepBody::Checkpoint(_));
        match (*field, is_checkpoint) {
            ("outputs", false) => self.declared_output(parts, &site.steps[target], site),
            ("answer", true) => None,
            ("outputs", true) => Some(
                Diagnostic::new(
                    none,
                    format!("{what} reads `{step}.outputs`, but `{id}` is a checkpoint"),
                )
                .with_help(format!("a checkpoint's result is `{step}.answer`")),
            ),
            ("answer", false) => Some(
                Diagnostic::new(
                    none,
                    format!("{what} reads `{step}.answer`, but `{id}` is an action"),
                )
                .with_help(format!("an action's results are `{step}.outputs.<name>`")),
            ),
            (other, _) => Some(
                Diagnostic::new(
                    none,
                    format!("{what} reads unknown field `{other}` of step `{id}`"),
                )
                .with_help(if is_checkpoint {
                    format!("use `{step}.answer`")
                } else {
                    format!("use `{step}.outputs.<name>`")
                }),
            ),
        }
    }
}

/// How a template reads step `id`: `steps.drain`, or `steps['find-member']` when the id
/// is not a name minijinja can read after a dot.
fn step_path(id: &str) -> String {
    if is_identifier(id) {
        format!("steps.{id}")
    } else {
        format!("steps['{id}']")
    }
}

fn is_identifier(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True when the text after a `{{` is not a template expression but braces of another
/// language: a Go template (`{{.Status}}`) or awk and shell code (`{{print $1}}`).
fn looks_like_other_braces(after: &str) -> bool {
    let inside = after.split("}}").next().unwrap_or(after);
    inside.trim_start().starts_with('.') || inside.contains('$')
}
