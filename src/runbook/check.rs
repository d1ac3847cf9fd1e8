//! Semantic checks of a parsed runbook: everything that needs the whole file in view.
//!
//! Step ids, `needs`, actions and their parameters, templates and what they reference,
//! checkpoints, inputs and the `marks: recovered` milestone. All problems are collected;
//! the caller reports them together.

mod answers;
mod deletes;
mod member_table;
mod one_per_step;
mod outputs;
mod reads;
mod templates;

use std::collections::HashMap;

use minijinja::Environment;

use crate::actions::{self, ActionSpec, ParamKind, ParamSpec};
use crate::runbook::graph::StepGraph;
use crate::runbook::model::*;
use crate::runbook::target_reads::TargetRead;
use crate::source::decode::{DURATION_HELP, closest, parse_duration, zero_duration};
use crate::source::diagnostic::Diagnostic;
use crate::source::span::Spanned;
use crate::source::yaml_tree::{Node, Value};
use crate::template;

/// The fields of `run` a template may read.
pub const RUN_FIELDS: &[&str] = &["id", "mode", "declared_at", "workdir", "operator"];

/// Global functions minijinja provides; templates may call them.
const BUILTIN_FUNCTIONS: &[&str] = &["range", "dict", "namespace", "debug"];

/// The step graphs of a runbook that passed every check.
#[derive(Debug, Clone)]
pub struct Graphs {
    pub recovery: StepGraph,
    pub inject: StepGraph,
}

/// Runs every semantic check. `source` is the text the runbook was parsed from, so a
/// problem inside a template can be pointed at where it is written. Returns the step
/// graphs and the `target.*` reads when the runbook is valid.
pub fn check(
    runbook: &Runbook,
    source: &str,
) -> Result<(Graphs, Vec<TargetRead>), Vec<Diagnostic>> {
    let mut checker = Checker {
        runbook,
        lines: crate::source::source_file::lines(source).collect(),
        env: template::environment(),
        diagnostics: Vec::new(),
        reads: Vec::new(),
    };
    checker.unique_names();
    checker.inputs();
    let inject_steps: &[Step] = runbook.spec.drill.as_ref().map_or(&[], |d| &d.inject);
    let recovery_ids: Vec<(&str, &str)> = runbook
        .spec
        .steps
        .iter()
        .map(|s| {
            (
                s.id.value.as_str(),
                "drill inject steps run before recovery starts and cannot wait for its steps",
            )
        })
        .collect();
    let inject_ids: Vec<(&str, &str)> = inject_steps
        .iter()
        .map(|s| (s.id.value.as_str(), "it is a drill inject step, which never runs in incident mode; recovery steps cannot depend on it"))
        .collect();
    let recovery = StepGraph::build(&runbook.spec.steps, "`spec.steps`", &inject_ids)
        .map_err(|d| checker.diagnostics.extend(d))
        .ok();
    let inject = StepGraph::build(inject_steps, "`drill.inject`", &recovery_ids)
        .map_err(|d| checker.diagnostics.extend(d))
        .ok();
    for step in runbook.all_steps() {
        checker.step_shape(step);
    }
    // Templates are checked even when a section's `needs` are wrong, so one mistake
    // does not hide the others; only the ordering checks need the graph.
    checker.templates(&runbook.spec.steps, recovery.as_ref());
    checker.templates(inject_steps, inject.as_ref());
    checker.milestones(inject_steps);
    checker.deletes_allowed();
    checker.one_object_per_step(&runbook.spec.steps);
    checker.one_object_per_step(inject_steps);
    let mut diagnostics = checker.diagnostics;
    if diagnostics.is_empty()
        && let (Some(recovery), Some(inject)) = (recovery, inject)
    {
        return Ok((Graphs { recovery, inject }, checker.reads));
    }
    diagnostics.sort_by_key(|d| d.span.start);
    diagnostics.dedup();
    Err(diagnostics)
}

struct Checker<'r> {
    runbook: &'r Runbook,
    /// The lines of the runbook's file.
    lines: Vec<&'r str>,
    env: Environment<'static>,
    diagnostics: Vec<Diagnostic>,
    /// The `target.*` reads found in the templates.
    reads: Vec<TargetRead>,
}

impl Checker<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn unique_names(&mut self) {
        let spec = &self.runbook.spec;
        let steps = self.runbook.all_steps().map(|s| &s.id);
        let inputs = spec.inputs.iter().map(|i| &i.name);
        let secrets = spec.secrets.iter().map(|s| &s.name);
        for (kind, names) in [
            ("step id", steps.collect::<Vec<_>>()),
            ("input", inputs.collect()),
            ("secret", secrets.collect()),
        ] {
            let mut seen: HashMap<&str, &Spanned<String>> = HashMap::new();
            for name in names {
                if let Some(first) = seen.insert(name.value.as_str(), name) {
                    self.error(
                        Diagnostic::new(name.span, format!("duplicate {kind} `{}`", name.value))
                            .with_secondary(first.span, "first written here")
                            .with_help(format!("every {kind} must be unique")),
                    );
                    seen.insert(first.value.as_str(), first);
                }
            }
        }
    }

    fn inputs(&mut self) {
        for input in &self.runbook.spec.inputs {
            let what = format!("input `{}`", input.name.value);
            if !input.choices.is_empty() && input.kind != InputKind::String {
                self.error(
                    Diagnostic::new(
                        input.choices[0].span,
                        format!(
                            "{what} has `choices` but is of type `{}`",
                            input.kind.name()
                        ),
                    )
                    .with_help("choices apply to `type: string` inputs"),
                );
            }
            let Some(default) = &input.default else {
                continue;
            };
            let fits = match input.kind {
                InputKind::String => default.value.is_string(),
                InputKind::Number => default.value.is_number(),
                InputKind::Bool => default.value.is_boolean(),
                InputKind::List => default.value.is_array(),
            };
            if !fits {
                self.error(
                    Diagnostic::new(
                        default.span,
                        format!("the default of {what} is not a {}", input.kind.name()),
                    )
                    .with_help(format!(
                        "write a {} value or change `type`",
                        input.kind.name()
                    )),
                );
            } else if let Some(text) = default.value.as_str()
                && !input.choices.is_empty()
                && !input.choices.iter().any(|c| c.value == text)
            {
                self.error(Diagnostic::new(
                    default.span,
                    format!("the default `{text}` of {what} is not one of its choices"),
                ));
            }
        }
    }

    /// Checks of one step that need no other step: action and parameters, checkpoint.
    fn step_shape(&mut self, step: &Step) {
        let what = format!("step `{}`", step.id.value);
        if let (Some(concurrency), None) = (&step.concurrency, &step.foreach) {
            self.error(
                Diagnostic::new(
                    concurrency.span,
                    format!("{what} sets `concurrency` without `foreach`"),
                )
                .with_help("`concurrency` bounds how many `foreach` items run at once"),
            );
        }
        if let (Some(foreach), StepBody::Checkpoint(_)) = (&step.foreach, &step.body) {
            let span = match foreach {
                Foreach::Template(text) => text.span,
                Foreach::List(node) => node.span,
            };
            self.error(
                Diagnostic::new(span, format!("{what} is a checkpoint and cannot fan out with `foreach`"))
                    .with_help("ask once and list the items in the prompt, e.g. `{{ inputs.members | join(', ') }}`"),
            );
        }
        match &step.body {
            StepBody::Action(call) => self.action_call(call, &what),
            StepBody::Checkpoint(checkpoint) => self.checkpoint(checkpoint, &what),
        }
    }

    fn action_call(&mut self, call: &ActionCall, what: &str) {
        let Some(spec) = actions::lookup(&call.name) else {
            let names = actions::names();
            let diagnostic = Diagnostic::new(
                call.name.span,
                format!("unknown action `{}` in {what}", call.name.value),
            );
            let suggestion = actions::suggest(&call.name).or_else(|| closest(&call.name, &names));
            self.error(match suggestion {
                Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                None => diagnostic.with_help(format!("known actions: {}", names.join(", "))),
            });
            return;
        };
        for (name, value) in &call.with {
            match spec.param(&name.value) {
                Some(param) => self.param_type(spec, param, value, what),
                None => {
                    let known: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                    let diagnostic = Diagnostic::new(
                        name.span,
                        format!(
                            "action `{}` in {what} has no parameter `{}`",
                            spec.name, name.value
                        ),
                    );
                    self.error(match closest(&name.value, &known) {
                        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                        None => diagnostic.with_help(format!(
                            "`{}` takes: {}",
                            spec.name,
                            known.join(", ")
                        )),
                    });
                }
            }
        }
        for param in spec.params.iter().filter(|p| p.required) {
            if !call.with.iter().any(|(n, _)| n.value == param.name) {
                self.error(
                    Diagnostic::new(
                        call.name.span,
                        format!(
                            "action `{}` in {what} is missing the required parameter `{}`",
                            spec.name, param.name
                        ),
                    )
                    .with_help(format!(
                        "add `{}: ...` under `with:`. {}",
                        param.name, param.doc
                    )),
                );
            }
        }
    }

    fn param_type(&mut self, spec: &ActionSpec, param: &ParamSpec, value: &Node, what: &str) {
        // A template can produce any type; it is checked when rendered.
        if value.as_str().is_some_and(template::is_template) {
            return;
        }
        let name = param.name;
        let problem = match (param.kind, &value.value) {
            (ParamKind::String, Value::String(_))
            | (ParamKind::Integer, Value::Int(_))
            | (ParamKind::Bool, Value::Bool(_)) => None,
            (ParamKind::Duration, Value::String(text)) => {
                let what = format!("parameter `{name}` of {what}");
                match parse_duration(text) {
                    Ok(duration) if duration.is_zero() => {
                        Some(zero_duration(value.span, &what, false))
                    }
                    Ok(_) => None,
                    Err(bad) => Some(bad.diagnostic(value.span, &what)),
                }
            }
            (ParamKind::Duration, Value::Int(i)) => Some(
                Diagnostic::new(
                    value.span,
                    format!(
                        "parameter `{name}` of {what} needs a unit: `{i}` could be seconds or minutes"
                    ),
                )
                .with_help(DURATION_HELP),
            ),
            (ParamKind::StringList, Value::Seq(items)) => {
                items.iter().find(|i| i.as_str().is_none()).map(|item| {
                    Diagnostic::new(
                        item.span,
                        format!(
                            "the items of parameter `{name}` of {what} must be strings, found {}",
                            item.kind_name()
                        ),
                    )
                    .with_help(self.quote_help(item, None))
                })
            }
            // etcd member tables: see `check/member_table.rs`.
            (ParamKind::MemberTable, Value::Seq(rows)) => {
                self.member_table(name, what, value, rows);
                None
            }
            (ParamKind::StringMap, Value::Map(entries)) => {
                entries.iter().find_map(|(key, entry)| {
                    if key.as_str().is_none() {
                        Some(Diagnostic::new(
                            key.span,
                            format!(
                                "the names in parameter `{name}` of {what} must be strings, found {}",
                                key.kind_name()
                            ),
                        )
                        .with_help(self.quote_help(key, None)))
                    } else if entry.as_str().is_none() {
                        let key = key.scalar_text();
                        Some(Diagnostic::new(
                            entry.span,
                            format!(
                                "`{key}` in parameter `{name}` of {what} must be a string, found {}",
                                entry.kind_name()
                            ),
                        )
                        .with_help(self.quote_help(entry, Some(&key))))
                    } else {
                        None
                    }
                })
            }
            _ => {
                let help = match (param.kind, &value.value) {
                    (ParamKind::StringMap, Value::Seq(_)) => {
                        "write one `NAME: value` per line instead of list items".to_string()
                    }
                    (ParamKind::String, Value::Seq(_)) => {
                        "write one string; several commands can be joined with `&&` or written as a `|` block".to_string()
                    }
                    (ParamKind::String, Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
                        self.quote_help(value, Some(name))
                    }
                    _ => format!("`{name}`: {}", param.doc),
                };
                Some(
                    Diagnostic::new(
                        value.span,
                        format!(
                            "parameter `{name}` of action `{}` in {what} must be {}, found {}",
                            spec.name,
                            param.kind.describe(),
                            value.kind_name()
                        ),
                    )
                    .with_help(help),
                )
            }
        };
        if let Some(diagnostic) = problem {
            self.error(diagnostic);
        }
    }

    fn checkpoint(&mut self, checkpoint: &Checkpoint, what: &str) {
        let kind = checkpoint.kind;
        if kind == CheckpointKind::Choice && checkpoint.choices.is_empty() {
            self.error(
                Diagnostic::new(
                    checkpoint.kind_span,
                    format!("the choice checkpoint of {what} has no `choices`"),
                )
                .with_help("add `choices: [a, b]`, or use `type: confirm`, `text` or `number`"),
            );
        }
        if kind != CheckpointKind::Choice && !checkpoint.choices.is_empty() {
            self.error(
                Diagnostic::new(
                    checkpoint.choices[0].span,
                    format!(
                        "{what} lists `choices` but its checkpoint is of type `{}`",
                        kind.name()
                    ),
                )
                .with_help("set `type: choice` or remove `choices`"),
            );
        }
        if let Some(on_no) = &checkpoint.on_no
            && kind != CheckpointKind::Confirm
        {
            self.error(
                Diagnostic::new(
                    on_no.span,
                    format!(
                        "{what} has `on_no` but its checkpoint is of type `{}`",
                        kind.name()
                    ),
                )
                .with_help("only a confirm is answered \"no\"; remove `on_no`"),
            );
        }
        let Some(default) = &checkpoint.default else {
            return;
        };
        let fits = match (kind, &default.value) {
            (CheckpointKind::Confirm, Value::Bool(_)) => true,
            (CheckpointKind::Number, Value::Int(_) | Value::Float(_)) => true,
            (CheckpointKind::Text, Value::String(_)) => true,
            (CheckpointKind::Choice, Value::String(s)) => {
                if !checkpoint.choices.is_empty()
                    && !checkpoint.choices.iter().any(|c| &c.value == s)
                {
                    let choices: Vec<&str> = checkpoint
                        .choices
                        .iter()
                        .map(|c| c.value.as_str())
                        .collect();
                    self.error(with_suggestion(
                        Diagnostic::new(
                            default.span,
                            format!("the default `{s}` of {what} is not one of its choices"),
                        ),
                        s,
                        &choices,
                        &format!("its choices: {}", choices.join(", ")),
                    ));
                }
                true
            }
            _ => false,
        };
        if !fits {
            let (expected, help) = match kind {
                CheckpointKind::Confirm => (
                    "true or false",
                    "write `default: true` or `default: false`; YAML 1.2 reads `yes` and `no` as text"
                        .to_string(),
                ),
                CheckpointKind::Number => ("a number", "write a number, like `default: 3`".to_string()),
                CheckpointKind::Text | CheckpointKind::Choice => {
                    ("a string", self.quote_help(default, Some("default")))
                }
            };
            self.error(
                Diagnostic::new(
                    default.span,
                    format!(
                        "the default of {what} must be {expected} for a `{}` checkpoint, found {}",
                        kind.name(),
                        default.kind_name()
                    ),
                )
                .with_help(help),
            );
        }
    }

    /// How to write a scalar so it reads as text: `key: "value"`, as it is written.
    fn quote_help(&self, node: &Node, key: Option<&str>) -> String {
        let span = node.span;
        let written = (span.start.line == span.end.line)
            .then(|| span.start.line.checked_sub(1))
            .flatten()
            .and_then(|i| self.lines.get(i))
            .map(|l| {
                l.chars()
                    .skip(span.start.col.saturating_sub(1))
                    .take(span.end.col.saturating_sub(span.start.col))
                    .collect::<String>()
            })
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| node.scalar_text());
        match (&node.value, key) {
            (Value::Seq(_) | Value::Map(_), _) => "write a single string".to_string(),
            (Value::Null, _) => "write a value; `\"\"` is an empty string".to_string(),
            (_, Some(key)) => format!("quote it to pass it as text: `{key}: \"{written}\"`"),
            (_, None) => format!("quote it to pass it as text: `\"{written}\"`"),
        }
    }

    /// At most one step stops the RTO clock, and it is a recovery step.
    fn milestones(&mut self, inject_steps: &[Step]) {
        for step in inject_steps {
            if let Some(mark) = &step.marks {
                self.error(
                    Diagnostic::new(
                        mark.span,
                        format!(
                            "drill inject step `{}` cannot mark `recovered`",
                            step.id.value
                        ),
                    )
                    .with_help("the RTO clock stops on a recovery step in `spec.steps`"),
                );
            }
        }
        let marked: Vec<&Step> = self
            .runbook
            .spec
            .steps
            .iter()
            .filter(|s| s.marks.is_some())
            .collect();
        if let [first, rest @ ..] = marked.as_slice() {
            for step in rest {
                let span = step.marks.as_ref().map_or(step.span, |m| m.span);
                self.error(
                    Diagnostic::new(
                        span,
                        format!("step `{}` also marks `recovered`", step.id.value),
                    )
                    .with_help(format!(
                        "only one step stops the RTO clock; `{}` already does (line {})",
                        first.id.value, first.span.start.line
                    )),
                );
            }
        }
    }
}

fn with_suggestion(
    diagnostic: Diagnostic,
    word: &str,
    candidates: &[&str],
    otherwise: &str,
) -> Diagnostic {
    match closest(word, candidates) {
        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
        None => diagnostic.with_help(otherwise.to_string()),
    }
}
