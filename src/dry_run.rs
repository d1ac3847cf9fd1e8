//! `drbook plan`: what a run would do, step by step, without executing anything.
//!
//! Every step is listed in execution order with its parameters rendered from the inputs
//! known now (given with `-i` or defaults). Whatever depends on something only a run can
//! know (an earlier step's output, an operator's answer, the target, a missing input) is
//! shown verbatim and marked "decided at run time", with the reason. Secrets are shown as
//! `***`: `plan` never resolves them.
//!
//! Slightly over 600 lines: the decisions (would run / skip / run time / fail) and the
//! partial rendering they need belong together; the text rendering of a plan is the
//! next piece to move out when it grows.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use minijinja::Environment;
use serde_json::{Map, Value, json};

use crate::runbook::ValidRunbook;
use crate::runbook::graph::{DEFAULT_FOREACH_CONCURRENCY, StepGraph};
use crate::runbook::model::{Foreach, Runbook, Step, StepBody};
use crate::source::yaml_tree::{Node, Value as Yaml};
use crate::targets::Target;
use crate::template::{self, render};

/// The dry run of a whole runbook.
#[derive(Debug, Clone)]
pub struct Plan {
    pub header: Vec<String>,
    pub steps: Vec<PlannedStep>,
}

/// What one step would do.
#[derive(Debug, Clone)]
pub struct PlannedStep {
    /// 1-based position in execution order.
    pub number: usize,
    pub section: Section,
    pub id: String,
    pub title: Option<String>,
    /// `checkpoint: confirm`, `shell`, ...
    pub kind: String,
    /// Ids of the steps it waits for, when that is not simply the step above.
    pub after: Option<Vec<String>>,
    pub decision: Decision,
    /// One entry per fan-out item (a single unnamed entry without `foreach`).
    pub instances: Vec<Instance>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Inject,
    Recovery,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    WouldRun,
    WouldSkip(String),
    AtRunTime(String),
    /// Rendering with the known values failed: the run would fail here.
    Problem(String),
}

/// One execution of a step: the whole step, or one `foreach` item.
#[derive(Debug, Clone)]
pub struct Instance {
    pub item: Option<String>,
    /// Parameter name (or "prompt") and its rendered text.
    pub lines: Vec<(String, String)>,
}

impl Plan {
    /// Steps whose rendering already fails with the known values.
    pub fn problems(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.decision, Decision::Problem(_)))
            .count()
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            let _ = writeln!(out, "{line}");
        }
        let mut section = None;
        for step in &self.steps {
            if section != Some(step.section) {
                section = Some(step.section);
                let heading = match step.section {
                    Section::Inject => "drill: inject the failure (only `drbook drill` runs these)",
                    Section::Recovery => "recovery",
                };
                let _ = writeln!(out, "\n{heading}");
            }
            let title = step
                .title
                .as_deref()
                .map(|t| format!(" — {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:>3}. {}{title}  [{}]",
                step.number, step.id, step.kind
            );
            match &step.after {
                Some(after) if after.is_empty() => {
                    let _ = writeln!(out, "     starts at once (needs: [])");
                }
                Some(after) => {
                    let _ = writeln!(out, "     starts after: {}", after.join(", "));
                }
                None => {}
            }
            let decision = match &step.decision {
                Decision::WouldRun => "would run".to_string(),
                Decision::WouldSkip(why) => format!("would skip: {why}"),
                Decision::AtRunTime(why) => format!("decided at run time: {why}"),
                Decision::Problem(why) => format!("would fail: {why}"),
            };
            let _ = writeln!(out, "     {decision}");
            for note in &step.notes {
                let _ = writeln!(out, "     {note}");
            }
            for instance in &step.instances {
                let indent = match &instance.item {
                    Some(item) => {
                        let _ = writeln!(out, "     - item {item}:");
                        "         "
                    }
                    None => "       ",
                };
                for (name, text) in &instance.lines {
                    write_value(&mut out, indent, name, text);
                }
            }
        }
        out
    }
}

/// `name: value`, with multi-line values indented below the name.
fn write_value(out: &mut String, indent: &str, name: &str, text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.contains('\n') {
        let _ = writeln!(out, "{indent}{name}: |");
        for line in text.lines() {
            let _ = writeln!(out, "{indent}  {line}");
        }
    } else {
        let _ = writeln!(out, "{indent}{name}: {text}");
    }
}

/// Dry-runs a validated runbook with the given input values (`-i`); `drill` includes the
/// inject steps as `drbook drill` would run them. With a bound target, `target.*` reads
/// show that environment's values instead of "bound at run time".
pub fn plan(
    valid: &ValidRunbook,
    given: &Map<String, Value>,
    drill: bool,
    target: Option<&Target>,
) -> Plan {
    let runbook = &valid.runbook;
    let planner = Planner::new(runbook, given, drill, target);
    let mut steps = Vec::new();
    if drill && let Some(d) = &runbook.spec.drill {
        planner.section(&d.inject, &valid.graphs.inject, Section::Inject, &mut steps);
    }
    planner.section(
        &runbook.spec.steps,
        &valid.graphs.recovery,
        Section::Recovery,
        &mut steps,
    );
    Plan {
        header: planner.header(runbook, given, drill, target),
        steps,
    }
}

struct Planner {
    env: Environment<'static>,
    /// The template context as far as it is known before a run.
    context: Value,
    /// Inputs without a value now: asked for when the run starts.
    missing_inputs: BTreeSet<String>,
    /// A target was bound (`--target`): its values are known now.
    target_bound: bool,
}

impl Planner {
    fn new(
        runbook: &Runbook,
        given: &Map<String, Value>,
        drill: bool,
        target: Option<&Target>,
    ) -> Self {
        let mut inputs = Map::new();
        let mut missing_inputs = BTreeSet::new();
        for input in &runbook.spec.inputs {
            let name = &input.name.value;
            match given.get(name).or(input.default.as_ref().map(|d| &d.value)) {
                Some(value) => {
                    inputs.insert(name.clone(), value.clone());
                }
                None => {
                    missing_inputs.insert(name.clone());
                }
            }
        }
        let secrets: Map<String, Value> = runbook
            .spec
            .secrets
            .iter()
            .map(|s| (s.name.value.clone(), json!("***")))
            .collect();
        let mode = if drill { "drill" } else { "incident" };
        let mut context = json!({"inputs": inputs, "secrets": secrets, "run": {"mode": mode}});
        if let Some(target) = target {
            context["target"] = target.facts.clone();
        }
        Planner {
            env: template::environment(),
            context,
            missing_inputs,
            target_bound: target.is_some(),
        }
    }

    fn header(
        &self,
        runbook: &Runbook,
        given: &Map<String, Value>,
        drill: bool,
        target: Option<&Target>,
    ) -> Vec<String> {
        let meta = &runbook.metadata;
        let mut header = vec![format!(
            "plan for {} {}{}",
            meta.name.value,
            meta.version.value,
            meta.title
                .as_ref()
                .map(|t| format!(" — {}", t.value))
                .unwrap_or_default()
        )];
        header.push(if drill {
            "mode: drill (inject steps first, then recovery); nothing is executed by `plan`".into()
        } else {
            "mode: incident (drill inject steps never run); nothing is executed by `plan`".into()
        });
        if let Some(t) = target {
            header.push(format!(
                "target: {} ({} environment, drills {})",
                t.name,
                t.environment,
                if t.drill_allowed {
                    "allowed"
                } else {
                    "forbidden"
                }
            ));
        }
        if let Some(o) = &runbook.spec.objectives {
            header.push(format!(
                "objectives: RTO {}, RPO {}",
                humantime::format_duration(o.rto.value),
                humantime::format_duration(o.rpo.value)
            ));
        }
        if !runbook.spec.inputs.is_empty() {
            header.push("inputs:".into());
            for input in &runbook.spec.inputs {
                let name = &input.name.value;
                let line = match (given.get(name), &input.default) {
                    (Some(v), _) => format!("  {name} = {} (given)", show(v)),
                    (None, Some(d)) => format!("  {name} = {} (default)", show(&d.value)),
                    (None, None) => format!("  {name}: asked for when the run starts (no default)"),
                };
                header.push(line);
            }
        }
        header
    }

    fn section(
        &self,
        steps: &[Step],
        graph: &StepGraph,
        section: Section,
        out: &mut Vec<PlannedStep>,
    ) {
        for &index in &graph.order {
            let step = &steps[index];
            let deps = &graph.deps[index];
            let after = step
                .needs
                .as_ref()
                .map(|_| deps.iter().map(|&d| steps[d].id.value.clone()).collect());
            let mut planned = PlannedStep {
                number: out.len() + 1,
                section,
                id: step.id.value.clone(),
                title: step.title.as_ref().map(|t| self.text(t)),
                kind: match &step.body {
                    StepBody::Checkpoint(c) => format!("checkpoint: {}", c.kind.name()),
                    StepBody::Action(a) => a.name.value.clone(),
                },
                after,
                decision: Decision::WouldRun,
                instances: Vec::new(),
                notes: Vec::new(),
            };
            planned.notes = limits(step);
            self.decide(step, &mut planned);
            out.push(planned);
        }
    }

    fn decide(&self, step: &Step, planned: &mut PlannedStep) {
        if let Some(when) = &step.when {
            let expression = template::single_expression(when).unwrap_or(when);
            match self.unknown(&refs_of_expression(&self.env, expression)) {
                Some(why) => {
                    planned.decision = Decision::AtRunTime(format!("`when: {}` {why}", when.value))
                }
                None => match render::condition(&self.env, when, &self.context) {
                    Ok(true) => {}
                    Ok(false) => {
                        planned.decision =
                            Decision::WouldSkip(format!("`when: {}` is false", when.value));
                        return;
                    }
                    Err(e) => {
                        planned.decision =
                            Decision::Problem(format!("`when` cannot be evaluated: {e}"));
                        return;
                    }
                },
            }
        }
        let items: Option<Vec<Value>> = match &step.foreach {
            None => None,
            Some(Foreach::List(node)) => Some(match self.node(node, &self.context) {
                Ok(Value::Array(items)) => items,
                Ok(_) | Err(_) => {
                    planned.decision = Decision::AtRunTime(
                        "its `foreach` list depends on values known only at run time".into(),
                    );
                    return self.instance(step, None, planned);
                }
            }),
            Some(Foreach::Template(t)) => {
                let expression = template::single_expression(t).unwrap_or(t);
                if let Some(why) = self.unknown(&refs_of_expression(&self.env, expression)) {
                    planned
                        .notes
                        .push(format!("fans out over `{}`, which {why}", t.value));
                    if planned.decision == Decision::WouldRun {
                        planned.decision = Decision::AtRunTime(
                            "the `foreach` list is known only at run time".into(),
                        );
                    }
                    return self.instance(step, None, planned);
                }
                match render::eval(&self.env, t, &self.context) {
                    Ok(v) => match serde_json::to_value(&v) {
                        Ok(Value::Array(items)) => Some(items),
                        _ => {
                            planned.decision = Decision::Problem(format!(
                                "`foreach: {}` is not a list (it is {v})",
                                t.value
                            ));
                            return;
                        }
                    },
                    Err(e) => {
                        planned.decision =
                            Decision::Problem(format!("`foreach` cannot be evaluated: {e}"));
                        return;
                    }
                }
            }
        };
        match items {
            None => self.instance(step, None, planned),
            Some(items) => {
                let limit = step
                    .concurrency
                    .as_ref()
                    .map_or(DEFAULT_FOREACH_CONCURRENCY, |c| c.value);
                planned.notes.push(format!(
                    "fans out over {} item(s), at most {limit} at once",
                    items.len()
                ));
                if items.is_empty() {
                    planned.decision = Decision::WouldSkip("the `foreach` list is empty".into());
                }
                for item in items {
                    self.instance(step, Some(item), planned);
                }
            }
        }
    }

    /// Renders the step's prompt or parameters for one item (or for the whole step).
    fn instance(&self, step: &Step, item: Option<Value>, planned: &mut PlannedStep) {
        let mut context = self.context.clone();
        if let Some(item) = &item {
            context["item"] = item.clone();
        }
        let mut lines = Vec::new();
        let render = |name: &str,
                      text: &str,
                      lines: &mut Vec<(String, String)>,
                      planned: &mut PlannedStep| {
            match self.render(text, &context, item.is_some()) {
                Rendered::Text(t) => lines.push((name.to_string(), t)),
                Rendered::RunTime(why) => {
                    // As far as it is known: each `{{ }}` that can be rendered now is.
                    let known = self.partly(text, &context, item.is_some());
                    lines.push((name.to_string(), format!("{known}  ({why})")));
                }
                Rendered::Failed(e) => {
                    lines.push((name.to_string(), text.to_string()));
                    planned.decision =
                        Decision::Problem(format!("`{name}` cannot be rendered: {e}"));
                }
            }
        };
        match &step.body {
            StepBody::Checkpoint(c) => {
                render("asks", &c.prompt, &mut lines, planned);
                if !c.choices.is_empty() {
                    let choices: Vec<&str> = c.choices.iter().map(|c| c.value.as_str()).collect();
                    lines.push(("choices".into(), choices.join(", ")));
                }
                if let Some(timeout) = &c.timeout {
                    let then = match &c.default {
                        Some(d) => format!("takes the default {}", show(&d.to_json())),
                        None => "aborts the run".into(),
                    };
                    lines.push((
                        "timeout".into(),
                        format!(
                            "{} (then {then})",
                            humantime::format_duration(timeout.value)
                        ),
                    ));
                }
            }
            StepBody::Action(call) => {
                for (name, node) in &call.with {
                    match &node.value {
                        Yaml::String(text) => render(&name.value, text, &mut lines, planned),
                        _ => match self.node(node, &context) {
                            Ok(v) => lines.push((name.value.clone(), show(&v))),
                            // Each value that is known now is shown rendered (a secret as
                            // `***`), the others as written.
                            Err(why) => lines.push((
                                name.value.clone(),
                                format!("{}  ({why})", show(&self.node_partly(node, &context))),
                            )),
                        },
                    }
                }
            }
        }
        planned.instances.push(Instance {
            item: item.as_ref().map(show),
            lines,
        });
    }

    /// A text with every `{{ expression }}` that can be rendered now rendered, and the
    /// others left as written. A text with `{% %}` blocks is left whole.
    fn partly(&self, text: &str, context: &Value, has_item: bool) -> String {
        if text.contains("{%") {
            return text.to_string();
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}") else {
                break;
            };
            let expression = &rest[start..start + len + 2];
            out.push_str(&rest[..start]);
            match self.render(expression, context, has_item) {
                Rendered::Text(t) => out.push_str(&t),
                _ => out.push_str(expression),
            }
            rest = &rest[start + len + 2..];
        }
        out.push_str(rest);
        out
    }

    /// A structured value with every string rendered as far as it is known.
    fn node_partly(&self, node: &Node, context: &Value) -> Value {
        let has_item = context.get("item").is_some();
        render::node_with(node, &mut |text| {
            Ok::<Value, String>(Value::String(self.partly(text, context, has_item)))
        })
        .unwrap_or_else(|_| node.to_json())
    }

    /// Renders every string inside a structured value; the reason when one cannot be.
    fn node(&self, node: &Node, context: &Value) -> Result<Value, String> {
        let has_item = context.get("item").is_some();
        render::node_with(
            node,
            &mut |text| match self.render(text, context, has_item) {
                Rendered::Text(t) => Ok(Value::String(t)),
                Rendered::RunTime(why) | Rendered::Failed(why) => Err(why),
            },
        )
    }

    fn render(&self, text: &str, context: &Value, has_item: bool) -> Rendered {
        if !template::is_template(text) {
            return Rendered::Text(text.to_string());
        }
        let refs = match template::template_references(&self.env, text) {
            Ok(refs) => refs,
            Err(e) => return Rendered::Failed(e.message),
        };
        let refs: BTreeSet<String> = refs
            .into_iter()
            .filter(|r| !(has_item && r.starts_with("item")))
            .collect();
        if let Some(why) = self.unknown(&refs) {
            return Rendered::RunTime(why);
        }
        match render::text(&self.env, text, context) {
            Ok(t) => Rendered::Text(t),
            Err(e) => Rendered::Failed(e.to_string()),
        }
    }

    /// Why a set of references cannot be resolved before the run, if it cannot.
    fn unknown(&self, refs: &BTreeSet<String>) -> Option<String> {
        let reasons: Vec<String> = refs
            .iter()
            .filter_map(|path| {
                let mut parts = path.split('.');
                match (parts.next()?, parts.next()) {
                    ("steps", Some(id)) => {
                        Some(format!("reads `{path}`, known once step `{id}` has run"))
                    }
                    ("target", _) if !self.target_bound => {
                        Some(format!("reads `{path}` from the target bound at run time"))
                    }
                    ("run", Some(field)) if field != "mode" => {
                        Some(format!("reads `{path}`, set when the run starts"))
                    }
                    ("inputs", Some(name)) if self.missing_inputs.contains(name) => Some(format!(
                        "reads input `{name}`, asked for when the run starts"
                    )),
                    // Only reached when the `foreach` list itself is not known yet.
                    ("item", _) => Some(format!(
                        "reads `{path}`, an item of the `foreach` list known only at run time"
                    )),
                    _ => None,
                }
            })
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// A title or other display text, rendered when possible, verbatim otherwise.
    fn text(&self, text: &str) -> String {
        match self.render(text, &self.context, false) {
            Rendered::Text(t) => t,
            _ => text.to_string(),
        }
    }
}

/// Timeout, retry, failure policy and milestone of a step, as plan notes.
fn limits(step: &Step) -> Vec<String> {
    let mut notes = Vec::new();
    let mut policy = Vec::new();
    if let Some(timeout) = &step.timeout {
        policy.push(format!(
            "timeout {}",
            humantime::format_duration(timeout.value)
        ));
    }
    if let Some(retry) = &step.retry {
        let backoff = retry
            .backoff
            .as_ref()
            .map(|b| format!(", {} apart", humantime::format_duration(b.value)))
            .unwrap_or_default();
        policy.push(format!("up to {} attempts{backoff}", retry.attempts.value));
    }
    if let Some(on_failure) = &step.on_failure {
        policy.push(format!("on failure: {}", on_failure.value.name()));
    }
    if !policy.is_empty() {
        notes.push(policy.join("; "));
    }
    if step.marks.is_some() {
        notes.push("the RTO clock stops when this step finishes".into());
    }
    notes
}

enum Rendered {
    Text(String),
    RunTime(String),
    Failed(String),
}

fn refs_of_expression(env: &Environment<'static>, expression: &str) -> BTreeSet<String> {
    template::expression_references(env, expression).unwrap_or_default()
}

/// A JSON value as an operator reads it: strings bare, the rest as compact JSON.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
