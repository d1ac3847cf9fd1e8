//! The runbook format: its model, the parser that reads it with spans, the semantic
//! checks, the step graph (`needs`, order, `foreach` bounds), and its JSON Schema. It knows nothing of how runbooks are executed.

pub mod check;
pub mod graph;
pub mod model;
pub mod parse;
pub mod schema;
pub mod target_reads;

use crate::source::diagnostic::Diagnostic;
pub use check::Graphs;
pub use model::Runbook;

/// A runbook that parsed and passed every check, with its step graphs.
#[derive(Debug, Clone)]
pub struct ValidRunbook {
    pub runbook: Runbook,
    pub graphs: Graphs,
    /// Every `target.*` value its templates read, for checking against a target.
    pub target_reads: Vec<target_reads::TargetRead>,
}

/// Parses and checks runbook text. All diagnostics of the file come back at once.
pub fn load(text: &str) -> Result<ValidRunbook, Vec<Diagnostic>> {
    let runbook = parse::parse(text)?;
    let (graphs, target_reads) = check::check(&runbook, text)?;
    Ok(ValidRunbook {
        runbook,
        graphs,
        target_reads,
    })
}
