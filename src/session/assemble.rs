//! Assembles the engine of a run, new or resumed, from what the session bound: the
//! template context (`run.*` facts included), the masker of its secrets, the view
//! chosen with `--output`, and the journal writer.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::cli::OutputFormat;
use crate::engine::{Engine, Masker, Observer, Recorder, RunContext, Seams};
use crate::journal::JournalWriter;
use crate::journal::event::Mode;
use crate::operator::Operator;
use crate::run_dir::RunDir;
use crate::runbook::model::Runbook;
use crate::view::{JsonView, TerminalView};

/// What a new run and a resumed one both need to assemble their engine.
pub(crate) struct EngineParts<'a> {
    pub runbook: &'a Runbook,
    /// The runbook's file as the operator named it (the view says how to print it).
    pub file: &'a std::path::Path,
    pub dir: &'a RunDir,
    pub mode: Mode,
    pub declared_at: DateTime<Utc>,
    pub operator: Operator,
    pub inputs: Map<String, Value>,
    pub secrets: Map<String, Value>,
    pub target_facts: Value,
    pub output: OutputFormat,
    pub writer: JournalWriter,
    /// The records of earlier sessions (empty for a new run).
    pub records: Vec<crate::journal::Record>,
}

/// The engine of a run.
pub(crate) fn build_engine(parts: EngineParts) -> Engine {
    let EngineParts {
        runbook,
        file,
        dir,
        mode,
        declared_at,
        operator,
        inputs,
        secrets,
        target_facts,
        output,
        writer,
        records,
    } = parts;
    let masker = Masker::new(
        secrets
            .values()
            .filter_map(|v| v.as_str().map(String::from)),
    );
    let run_facts = json!({
        "id": dir.id,
        "mode": mode.name(),
        "declared_at": declared_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "workdir": dir.workdir().display().to_string(),
        "operator": operator.name,
    });
    let observers: Vec<Box<dyn Observer>> = match output {
        OutputFormat::Text => vec![Box::new(TerminalView::new(runbook, file))],
        OutputFormat::Json => vec![Box::new(JsonView::new(runbook))],
    };
    Engine::new(
        Recorder::new(writer, records, observers),
        RunContext::new(inputs, secrets, target_facts, run_facts),
        masker,
        dir.workdir(),
        Seams::real(operator),
    )
}
