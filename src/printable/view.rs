//! What the printed runbook says, built from the model: plain data that both templates
//! (`templates/runbook.md.j2`, `templates/runbook.html.j2`) lay out.
//!
//! Every value is the runbook's own text: templates stay verbatim (they are the
//! instructions an operator fills in by hand), and secrets appear only by name and by
//! where they come from. Nothing is resolved, so nothing secret can be printed.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Environment;
use serde::Serialize;

use crate::actions::{self, Rerun};
use crate::runbook::Runbook;
use crate::runbook::model::{ActionCall, Checkpoint, Foreach, Mark, SecretSource, Step, StepBody};
use crate::source::span::Spanned;
use crate::source::yaml_tree::{Node, Value};
use crate::template;

use super::by_hand::Fill;
use super::markdown;
use super::yaml;

/// Headings inside descriptions sit under the document's `##` sections...
const SECTION_SHIFT: usize = 2;
/// ...and under a step's `###` heading.
const STEP_SHIFT: usize = 3;

#[derive(Debug, Serialize)]
pub(crate) struct Document {
    pub title: String,
    pub name: String,
    pub version: String,
    pub owners: Vec<String>,
    pub labels: Vec<String>,
    pub description: Option<Markdown>,
    pub objectives: Option<Objectives>,
    pub inputs: Vec<InputRow>,
    pub secrets: Vec<SecretRow>,
    /// `target.*` paths the runbook reads: facts to look up before starting.
    pub target_facts: Vec<TargetFact>,
    /// `run.*` paths the runbook reads, with what to write for them by hand.
    pub run_facts: Vec<Fact>,
    pub steps: Vec<StepView>,
    pub drill: Option<DrillView>,
    /// The number of the step whose end stops the RTO clock.
    pub recovered_at: Option<String>,
    pub generator: String,
}

/// A markdown text: as written (headings moved down) and, for HTML, rendered.
#[derive(Debug, Serialize)]
pub(crate) struct Markdown {
    pub text: String,
    pub html: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Objectives {
    pub rto: String,
    pub rpo: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct InputRow {
    pub name: String,
    pub kind: &'static str,
    pub default: Option<String>,
    pub description: Option<String>,
    pub description_html: Option<String>,
    pub choices: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SecretRow {
    pub name: String,
    /// `env` or `file`.
    pub source: &'static str,
    /// The variable name or the file path; never the value.
    pub location: String,
    pub description: Option<String>,
    pub description_html: Option<String>,
}

/// A `target.*` path the runbook reads, with its value when `render --target` bound one.
#[derive(Debug, Serialize)]
pub(crate) struct TargetFact {
    pub path: String,
    pub value: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Fact {
    pub path: String,
    pub note: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct DrillView {
    pub description: Option<Markdown>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StepView {
    /// `3` for recovery steps, `D1` for the drill's inject steps.
    pub number: String,
    pub id: String,
    pub title: Option<String>,
    pub description: Option<Markdown>,
    pub start: Start,
    pub when: Option<String>,
    pub foreach: Option<String>,
    pub concurrency: Option<u32>,
    pub timeout: Option<String>,
    pub retry: Option<RetryView>,
    pub on_failure: Option<&'static str>,
    /// `marks: recovered`: the RTO clock stops when this step finishes.
    pub recovered: bool,
    pub checkpoint: Option<CheckpointView>,
    pub action: Option<ActionView>,
    /// Outputs of this step that later steps read: to be written down.
    pub outputs_used: Vec<String>,
}

/// When a step may start.
#[derive(Debug, Serialize)]
pub(crate) struct Start {
    /// `first`, `previous` (after the step written before it), `needs` or `anytime`
    /// (`needs: []`).
    pub kind: &'static str,
    pub after: Vec<StepRef>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StepRef {
    pub number: String,
    pub id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RetryView {
    pub attempts: u32,
    pub backoff: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CheckpointView {
    pub prompt: String,
    pub kind: &'static str,
    pub choices: Vec<String>,
    pub default: Option<String>,
    pub timeout: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ActionView {
    pub name: String,
    /// From the action registry; markdown, so also rendered for HTML.
    pub summary: Option<&'static str>,
    pub summary_html: Option<String>,
    /// The command of `shell` (`run`) or `wait` (`probe`), shown as a shell block.
    pub command: Option<String>,
    /// Which parameter `command` is.
    pub command_param: Option<&'static str>,
    /// Short parameters, one per line (`workdir`, `timeout`, `interval`).
    pub params: Vec<Param>,
    /// Structured parameters as YAML (`env`, or all of `with` for other actions).
    pub blocks: Vec<Param>,
    /// Whether doing it again after an interruption is safe, and why.
    pub rerun: Option<RerunView>,
    /// The commands to do the same without drbook, one per line; `None` for an action
    /// this build does not know, or when they are exactly `command`.
    pub by_hand: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Param {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RerunView {
    pub safe: bool,
    /// Markdown, from the action registry or written here.
    pub why: String,
    pub why_html: String,
}

impl Markdown {
    /// Headings move `shift` levels down; the HTML is made only when it is printed.
    fn new(text: &str, shift: usize, html: bool) -> Markdown {
        Markdown {
            text: markdown::demote_headings(text, shift),
            html: if html {
                markdown::to_html(text, shift)
            } else {
                String::new()
            },
        }
    }
}

/// A line of markdown as inline HTML, when HTML is printed.
fn inline_html(text: &str, html: bool) -> String {
    if html {
        markdown::inline_html(text)
    } else {
        String::new()
    }
}

impl Document {
    /// `target` is the bound target's facts, which fill `target.*` in the by-hand
    /// commands; without one they stay as written.
    pub(crate) fn new(
        runbook: &Runbook,
        html: bool,
        target: Option<&serde_json::Value>,
    ) -> Document {
        let meta = &runbook.metadata;
        let spec = &runbook.spec;
        let paths = Paths::of(runbook);
        let fill = Fill::new(runbook, target);
        let describe = |text: &str, shift| Markdown::new(text, shift, html);
        let inline = |text: &Spanned<String>| inline_html(text, html);
        let section = |steps: &[Step], prefix: &str| -> Vec<StepView> {
            (0..steps.len())
                .map(|i| step_view(steps, i, prefix, &paths, &fill, html))
                .collect()
        };
        let steps = section(&spec.steps, "");
        let recovered_at = steps.iter().find(|s| s.recovered).map(|s| s.number.clone());
        Document {
            title: meta
                .title
                .as_ref()
                .map_or_else(|| meta.name.value.clone(), |t| t.value.clone()),
            name: meta.name.value.clone(),
            version: meta.version.value.to_string(),
            owners: meta.owners.iter().map(|o| o.value.clone()).collect(),
            labels: meta
                .labels
                .iter()
                .map(|(k, v)| format!("{}={}", k.value, v.value))
                .collect(),
            description: spec
                .description
                .as_ref()
                .map(|d| describe(d, SECTION_SHIFT)),
            objectives: spec.objectives.as_ref().map(|o| Objectives {
                rto: duration(*o.rto),
                rpo: duration(*o.rpo),
            }),
            inputs: spec
                .inputs
                .iter()
                .map(|input| InputRow {
                    name: input.name.value.clone(),
                    kind: input.kind.name(),
                    default: input.default.as_ref().map(|d| yaml::inline_json(d)),
                    description: input.description.as_ref().map(|d| d.value.clone()),
                    description_html: input.description.as_ref().map(inline),
                    choices: input.choices.iter().map(|c| c.value.clone()).collect(),
                })
                .collect(),
            secrets: spec
                .secrets
                .iter()
                .map(|secret| {
                    let (source, location) = match &secret.source {
                        SecretSource::Env(var) => ("env", var.value.clone()),
                        SecretSource::File(path) => ("file", path.value.clone()),
                    };
                    SecretRow {
                        name: secret.name.value.clone(),
                        source,
                        location,
                        description: secret.description.as_ref().map(|d| d.value.clone()),
                        description_html: secret.description.as_ref().map(inline),
                    }
                })
                .collect(),
            target_facts: paths
                .with_root("target")
                .into_iter()
                .map(|path| TargetFact {
                    value: fill.target_text(&path),
                    path,
                })
                .collect(),
            run_facts: paths
                .with_root("run")
                .into_iter()
                .map(|path| Fact {
                    note: run_fact_note(&path),
                    path,
                })
                .collect(),
            drill: spec.drill.as_ref().map(|drill| DrillView {
                description: drill
                    .description
                    .as_ref()
                    .map(|d| describe(d, SECTION_SHIFT)),
                steps: section(&drill.inject, "D"),
            }),
            steps,
            recovered_at,
            generator: format!("drbook {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

fn step_view(
    steps: &[Step],
    i: usize,
    prefix: &str,
    paths: &Paths,
    fill: &Fill,
    html: bool,
) -> StepView {
    let step = &steps[i];
    let number = |j: usize| format!("{prefix}{}", j + 1);
    let refer = |j: usize| StepRef {
        number: number(j),
        id: steps[j].id.value.clone(),
    };
    let start = match &step.needs {
        None if i == 0 => Start {
            kind: "first",
            after: vec![],
        },
        None => Start {
            kind: "previous",
            after: vec![refer(i - 1)],
        },
        Some(needs) if needs.is_empty() => Start {
            kind: "anytime",
            after: vec![],
        },
        Some(needs) => Start {
            kind: "needs",
            after: needs
                .iter()
                .map(
                    |need| match steps.iter().position(|s| s.id.value == need.value) {
                        Some(j) => refer(j),
                        // `check` refuses unknown ids; print what is written all the same.
                        None => StepRef {
                            number: "?".into(),
                            id: need.value.clone(),
                        },
                    },
                )
                .collect(),
        },
    };
    let (checkpoint, action) = match &step.body {
        StepBody::Checkpoint(c) => (Some(checkpoint_view(c)), None),
        StepBody::Action(a) => (None, Some(action_view(a, step, fill, html))),
    };
    StepView {
        number: number(i),
        id: step.id.value.clone(),
        title: step.title.as_ref().map(|t| t.value.clone()),
        description: step
            .description
            .as_ref()
            .map(|d| Markdown::new(d, STEP_SHIFT, html)),
        start,
        when: step.when.as_ref().map(|w| w.value.clone()),
        foreach: step.foreach.as_ref().map(|f| match f {
            Foreach::Template(t) => t.value.clone(),
            Foreach::List(list) => yaml::inline(list),
        }),
        concurrency: step.concurrency.as_ref().map(|c| c.value),
        timeout: step.timeout.as_ref().map(|t| duration(t.value)),
        retry: step.retry.as_ref().map(|r| RetryView {
            attempts: r.attempts.value,
            backoff: r.backoff.as_ref().map(|b| duration(b.value)),
        }),
        on_failure: step.on_failure.as_ref().map(|o| o.name()),
        recovered: step
            .marks
            .as_ref()
            .is_some_and(|m| m.value == Mark::Recovered),
        checkpoint,
        action,
        outputs_used: paths
            .outputs
            .get(step.id.value.as_str())
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default(),
    }
}

fn checkpoint_view(checkpoint: &Checkpoint) -> CheckpointView {
    CheckpointView {
        prompt: checkpoint.prompt.value.clone(),
        kind: checkpoint.kind.name(),
        choices: checkpoint.choices.iter().map(|c| c.value.clone()).collect(),
        default: checkpoint.default.as_ref().map(yaml::inline),
        timeout: checkpoint.timeout.as_ref().map(|t| duration(t.value)),
    }
}

fn action_view(call: &ActionCall, step: &Step, fill: &Fill, html: bool) -> ActionView {
    let spec = actions::lookup(&call.name);
    let (command_param, short): (Option<&'static str>, &[&str]) = match call.name.as_str() {
        "shell" => (Some("run"), &["workdir"]),
        "wait" => (Some("probe"), &["timeout", "interval"]),
        _ => (None, &[]),
    };
    let mut command = None;
    let mut params = Vec::new();
    let mut rest: Vec<(&str, &Node)> = Vec::new();
    for (key, value) in &call.with {
        let key = key.value.as_str();
        match (&value.value, key) {
            (Value::String(text), k) if Some(k) == command_param => command = Some(text.clone()),
            (Value::String(text), k) if short.contains(&k) && !text.contains('\n') => {
                params.push(Param {
                    name: k.to_string(),
                    value: text.clone(),
                })
            }
            _ => rest.push((key, value)),
        }
    }
    // Known actions show each structured parameter under its own name (`env:`); the
    // others show their whole `with:` as the author wrote it.
    let blocks = if command_param.is_some() {
        rest.into_iter()
            .map(|(key, value)| Param {
                name: key.to_string(),
                value: yaml::entries([(key, value)]),
            })
            .collect()
    } else if rest.is_empty() {
        vec![]
    } else {
        vec![Param {
            name: "with".into(),
            value: yaml::entries(rest),
        }]
    };
    let rerun = match (step.idempotent.as_ref().map(|i| i.value), spec) {
        (Some(true), _) => Some((true, "the runbook says this step is idempotent")),
        (Some(false), _) => Some((false, "the runbook says this step is not idempotent")),
        (None, Some(spec)) => Some(match spec.rerun {
            Rerun::Safe(why) => (true, why),
            Rerun::AskFirst(why) => (false, why),
        }),
        (None, None) => None,
    };
    let inline = |text: &str| inline_html(text, html);
    let by_hand = spec.and_then(|spec| {
        let lines = spec.by_hand(&fill.given(call)).join("\n");
        without_command(lines, command.as_deref())
    });
    ActionView {
        name: call.name.value.clone(),
        summary: spec.map(|s| s.summary),
        summary_html: spec.map(|s| inline(s.summary)),
        command,
        command_param,
        params,
        blocks,
        rerun: rerun.map(|(safe, why)| RerunView {
            safe,
            why: why.to_string(),
            why_html: inline(why),
        }),
        by_hand,
    }
}

/// The by-hand lines, without the command the step already shows above them: a `shell`
/// step's script is printed once, and only what comes before it (`cd`, `export`) is
/// added. `None` when nothing would be left.
fn without_command(lines: String, command: Option<&str>) -> Option<String> {
    let Some(command) = command.map(|c| c.trim_end_matches('\n')) else {
        return Some(lines);
    };
    match lines.strip_suffix(command) {
        Some("") => None,
        Some(before) => Some(format!(
            "{before}# then the command above, in the same shell"
        )),
        None => Some(lines),
    }
}

/// What a `run.*` value is when the runbook is followed by hand.
fn run_fact_note(path: &str) -> &'static str {
    match path {
        "run.id" => "a name for this run, to quote in notes and the report",
        "run.mode" => "incident (or drill, when this is a drill)",
        "run.declared_at" => "the time written as \"Incident declared at\" above",
        "run.workdir" => "the directory you work in",
        "run.operator" => "your name",
        _ => "",
    }
}

fn duration(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The variable paths the runbook's templates read, for the fill-in lists.
struct Paths {
    all: BTreeSet<String>,
    /// Step id → names of its outputs that some template reads.
    outputs: BTreeMap<String, BTreeSet<String>>,
}

impl Paths {
    fn of(runbook: &Runbook) -> Paths {
        let env = template::environment();
        let mut all = BTreeSet::new();
        for step in runbook.all_steps() {
            step_paths(&env, step, &mut all);
        }
        let mut outputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for path in &all {
            if let ["steps", id, "outputs", name, ..] = path.split('.').collect::<Vec<_>>()[..] {
                outputs
                    .entry(id.to_string())
                    .or_default()
                    .insert(name.to_string());
            }
        }
        Paths { all, outputs }
    }

    fn with_root(&self, root: &str) -> Vec<String> {
        self.all
            .iter()
            .filter(|p| p.split('.').next() == Some(root) && p.contains('.'))
            .cloned()
            .collect()
    }
}

fn step_paths(env: &Environment<'static>, step: &Step, into: &mut BTreeSet<String>) {
    let mut text = |t: &str| {
        if template::is_template(t) {
            into.extend(template::template_references(env, t).unwrap_or_default());
        }
    };
    if let Some(description) = &step.description {
        text(description);
    }
    match &step.body {
        StepBody::Checkpoint(c) => text(&c.prompt),
        StepBody::Action(a) => {
            for (_, value) in &a.with {
                node_strings(value, &mut text);
            }
        }
    }
    if let Some(Foreach::Template(t)) = &step.foreach {
        text(t);
    }
    if let Some(when) = &step.when {
        text(when);
    }
}

fn node_strings(node: &Node, f: &mut impl FnMut(&str)) {
    match &node.value {
        Value::String(s) => f(s),
        Value::Seq(items) => items.iter().for_each(|n| node_strings(n, f)),
        Value::Map(entries) => entries.iter().for_each(|(_, v)| node_strings(v, f)),
        _ => {}
    }
}
