//! The runbook format v1 as Rust types.
//!
//! These types hold only what the format says; every value that a later check may need to
//! point at keeps its span. The `*_KEYS` lists are the allowed keys of each mapping: the
//! decoder refuses any other key with them, and the JSON Schema lists the same ones, so
//! the two cannot drift apart (a unit test in `schema.rs` holds them together).

use std::time::Duration;

use crate::source::span::{Span, Spanned};
use crate::source::yaml_tree::Node;

pub const RUNBOOK_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
pub const METADATA_KEYS: &[&str] = &["name", "version", "title", "owners", "labels"];
pub const SPEC_KEYS: &[&str] = &[
    "description",
    "objectives",
    "inputs",
    "secrets",
    "steps",
    "drill",
];
pub const OBJECTIVES_KEYS: &[&str] = &["rto", "rpo"];
pub const INPUT_KEYS: &[&str] = &["name", "type", "default", "description", "choices"];
pub const SECRET_KEYS: &[&str] = &["name", "env", "file", "description"];
pub const STEP_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "checkpoint",
    "action",
    "with",
    "needs",
    "when",
    "foreach",
    "concurrency",
    "timeout",
    "retry",
    "on_failure",
    "marks",
    "idempotent",
];
pub const CHECKPOINT_KEYS: &[&str] = &["prompt", "type", "choices", "default", "timeout", "on_no"];
pub const RETRY_KEYS: &[&str] = &["attempts", "backoff"];
pub const DRILL_KEYS: &[&str] = &["description", "inject"];

/// A whole runbook file.
#[derive(Debug, Clone)]
pub struct Runbook {
    pub api_version: Spanned<String>,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Debug, Clone)]
pub struct Metadata {
    pub name: Spanned<String>,
    /// The runbook's own version (semver), recorded in every run.
    pub version: Spanned<semver::Version>,
    pub title: Option<Spanned<String>>,
    pub owners: Vec<Spanned<String>>,
    pub labels: Vec<(Spanned<String>, Spanned<String>)>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub description: Option<Spanned<String>>,
    pub objectives: Option<Objectives>,
    pub inputs: Vec<Input>,
    pub secrets: Vec<SecretDecl>,
    pub steps: Vec<Step>,
    pub drill: Option<Drill>,
}

/// Recovery time and recovery point objectives the run is measured against.
#[derive(Debug, Clone)]
pub struct Objectives {
    pub rto: Spanned<Duration>,
    pub rpo: Spanned<Duration>,
}

/// A typed value the operator provides (`-i name=value`, or asked for).
#[derive(Debug, Clone)]
pub struct Input {
    pub name: Spanned<String>,
    pub kind: InputKind,
    pub default: Option<Spanned<serde_json::Value>>,
    pub description: Option<Spanned<String>>,
    pub choices: Vec<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    String,
    Number,
    Bool,
    List,
}

impl InputKind {
    pub const NAMES: &[&str] = &["string", "number", "bool", "list"];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => InputKind::String,
            "number" => InputKind::Number,
            "bool" => InputKind::Bool,
            "list" => InputKind::List,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            InputKind::String => "string",
            InputKind::Number => "number",
            InputKind::Bool => "bool",
            InputKind::List => "list",
        }
    }
}

/// A secret: resolved at run time from the environment or a file, masked everywhere.
#[derive(Debug, Clone)]
pub struct SecretDecl {
    pub name: Spanned<String>,
    pub source: SecretSource,
    pub description: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    Env(Spanned<String>),
    File(Spanned<String>),
}

/// One step: either a checkpoint for the operator or an automated action.
#[derive(Debug, Clone)]
pub struct Step {
    pub id: Spanned<String>,
    pub title: Option<Spanned<String>>,
    /// Markdown instructions, shown when the step starts and in the printable runbook.
    pub description: Option<Spanned<String>>,
    pub body: StepBody,
    /// `None`: the step depends on the step written before it.
    pub needs: Option<Vec<Spanned<String>>>,
    pub when: Option<Spanned<String>>,
    pub foreach: Option<Foreach>,
    pub concurrency: Option<Spanned<u32>>,
    pub timeout: Option<Spanned<Duration>>,
    pub retry: Option<Retry>,
    pub on_failure: Option<Spanned<OnFailure>>,
    pub marks: Option<Spanned<Mark>>,
    /// The author's promise that re-running the step after a crash is safe.
    pub idempotent: Option<Spanned<bool>>,
    /// The span of the whole step mapping.
    pub span: Span,
}

// A checkpoint is larger than an action call, but a runbook holds a few dozen steps,
// read everywhere by pattern; boxing would only make every match clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum StepBody {
    Checkpoint(Checkpoint),
    Action(ActionCall),
}

#[derive(Debug, Clone)]
pub struct ActionCall {
    pub name: Spanned<String>,
    /// The `with:` parameters, kept as spanned YAML so every template inside can be
    /// checked and located.
    pub with: Vec<(Spanned<String>, Node)>,
}

#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub prompt: Spanned<String>,
    pub kind: CheckpointKind,
    /// Where `type:` is written; the checkpoint's first line when it is left out.
    pub kind_span: Span,
    pub choices: Vec<Spanned<String>>,
    pub default: Option<Node>,
    /// After this long without an answer the default is taken, or the run aborts when
    /// there is no default.
    pub timeout: Option<Spanned<Duration>>,
    /// What a confirm answered "no" does; `None` is `OnNo::Stop`.
    pub on_no: Option<Spanned<OnNo>>,
    pub span: Span,
}

impl Checkpoint {
    /// A confirm answered "no" stops the run, unless the author wrote `on_no: continue`
    /// (the answer only steers later steps through `when`).
    pub fn stops_on_no(&self) -> bool {
        self.kind == CheckpointKind::Confirm
            && self.on_no.as_ref().is_none_or(|o| o.value == OnNo::Stop)
    }
}

/// What a confirm checkpoint answered "no" does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnNo {
    /// The run stops as "stopped by the operator" (resumable; `resume` asks again).
    Stop,
    /// The run goes on; later steps read the answer (`when: "{{ not steps.x.answer }}"`).
    Continue,
}

impl OnNo {
    pub const NAMES: &[&str] = &["stop", "continue"];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "stop" => OnNo::Stop,
            "continue" => OnNo::Continue,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            OnNo::Stop => "stop",
            OnNo::Continue => "continue",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    Confirm,
    Choice,
    Text,
    Number,
}

impl CheckpointKind {
    pub const NAMES: &[&str] = &["confirm", "choice", "text", "number"];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "confirm" => CheckpointKind::Confirm,
            "choice" => CheckpointKind::Choice,
            "text" => CheckpointKind::Text,
            "number" => CheckpointKind::Number,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CheckpointKind::Confirm => "confirm",
            CheckpointKind::Choice => "choice",
            CheckpointKind::Text => "text",
            CheckpointKind::Number => "number",
        }
    }
}

/// What a step fans out over: a template that yields a list, or a literal list.
#[derive(Debug, Clone)]
pub enum Foreach {
    Template(Spanned<String>),
    List(Node),
}

#[derive(Debug, Clone)]
pub struct Retry {
    pub attempts: Spanned<u32>,
    pub backoff: Option<Spanned<Duration>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    Abort,
    Continue,
    Ask,
}

impl OnFailure {
    pub const NAMES: &[&str] = &["abort", "continue", "ask"];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "abort" => OnFailure::Abort,
            "continue" => OnFailure::Continue,
            "ask" => OnFailure::Ask,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            OnFailure::Abort => "abort",
            OnFailure::Continue => "continue",
            OnFailure::Ask => "ask",
        }
    }
}

/// Milestones a step can mark in the run's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The RTO clock stops when this step finishes.
    Recovered,
}

impl Mark {
    pub const NAMES: &[&str] = &["recovered"];

    pub fn from_name(name: &str) -> Option<Self> {
        (name == "recovered").then_some(Mark::Recovered)
    }
}

/// Drill-only part of a runbook: steps that cause the failure before recovery starts.
#[derive(Debug, Clone)]
pub struct Drill {
    pub description: Option<Spanned<String>>,
    pub inject: Vec<Step>,
}

impl Runbook {
    /// Every step in the order it runs in a drill: the inject steps, then the recovery.
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        self.spec
            .drill
            .iter()
            .flat_map(|d| d.inject.iter())
            .chain(self.spec.steps.iter())
    }
}
