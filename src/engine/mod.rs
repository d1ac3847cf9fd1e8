//! The run engine: interprets a validated runbook step by step, records every transition
//! in the journal before acting on it, and ends with the RTO/RPO the run achieved.
//!
//! It never prints: observers (the terminal view, `--output json`) see the records.
//!
//! The files, in the order a run meets them: `seams` (the action catalogue, the answerer
//! and the clock the engine is built with), `replay` (the journal of earlier sessions
//! turned into each step's prior state), `scheduler` (one section's steps in dependency
//! order) with `items` (a step's items and their attempts), `checkpoint` and `failure`, `attempt` (one action attempt: start, output,
//! timeout, cancel, back-off), `step_state` and `step_phase` (the explicit machines every
//! step moves through), `recorder` (journal first, then the observers), `context` and
//! `masker` (what templates read, what must never be shown), `clock` (RTO/RPO).

mod attempt;
mod checkpoint;
pub mod clock;
pub mod context;
mod failure;
pub mod guidance;
mod items;
pub mod manual_clock;
pub mod masker;
mod questions;
pub mod recorder;
pub mod replay;
pub mod scheduler;
pub mod seams;
pub mod step_phase;
pub mod step_state;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use minijinja::Environment;
use tokio_util::sync::CancellationToken;

use crate::actions::kube::ClientCache;
use crate::journal::JournalError;
use crate::journal::event::{Achieved, Event, Mode, RunOutcome};
use crate::runbook::ValidRunbook;
use crate::runbook::model::StepBody;

pub use context::RunContext;
pub use guidance::StepGuidance;
pub use masker::Masker;
pub use questions::{PromptLock, QuestionScreen};
pub use recorder::{Observer, Recorder};
pub use replay::{Prior, PriorStep};
pub use scheduler::SectionEnd;
pub use seams::{Answerer, Catalog, Clock, Registry, Seams, SystemClock};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal and the runbook disagree about what happened (resume).
    #[error("the record of this run does not fit the runbook: {0}")]
    Divergence(String),
    #[error("the record of this run does not fit the runbook: {0}")]
    Transition(#[from] step_state::TransitionError),
    #[error("the record of this run does not fit the runbook: {0}")]
    Phase(#[from] step_phase::PhaseError),
}

/// Everything a run needs while it executes.
pub struct Engine {
    pub recorder: Recorder,
    pub context: RunContext,
    /// Starts actions (`seams::Registry` in a real run).
    pub catalog: Arc<dyn Catalog>,
    /// Answers checkpoints and the questions after a failure or Ctrl-C.
    pub answerer: Arc<dyn Answerer>,
    pub clock: Arc<dyn Clock>,
    pub prompt_lock: PromptLock,
    pub masker: Masker,
    pub workdir: PathBuf,
    pub env: Environment<'static>,
    /// Cancelled by Ctrl-C: running actions stop and the run pauses.
    pub interrupt: CancellationToken,
    /// The Kubernetes clients of this run, handed to every action: one per cluster
    /// source, built on the engine's runtime by the first step that needs it.
    pub kube_clients: ClientCache,
}

impl Engine {
    /// The one way to build an engine: its journal (`recorder`, with the records of
    /// earlier sessions), the template context, the masker of its secrets, the work
    /// directory commands run in, and its seams (`Seams::real(operator)` for a real run).
    pub fn new(
        recorder: Recorder,
        context: RunContext,
        masker: Masker,
        workdir: PathBuf,
        seams: Seams,
    ) -> Engine {
        // The views that draw on the terminal step aside while a question is asked.
        let prompt_lock = PromptLock::new(recorder.question_screens());
        Engine {
            recorder,
            context,
            catalog: seams.catalog,
            answerer: seams.answerer,
            clock: seams.clock,
            prompt_lock,
            masker,
            workdir,
            env: crate::template::environment(),
            interrupt: CancellationToken::new(),
            kube_clients: ClientCache::default(),
        }
    }
}

/// How a run ended, as printed and recorded.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub outcome: Option<RunOutcome>,
    /// Why it failed or paused.
    pub reason: Option<String>,
    /// Paused because the operator answered "no" at this confirm checkpoint.
    pub stopped_at: Option<String>,
    pub achieved: Achieved,
}

/// What the clock needs from the run's start.
pub struct RunFacts {
    pub mode: Mode,
    pub declared_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
    /// A drill whose incident is declared when recovery begins (no `--declared-at`, and
    /// no `recovery_started` recorded yet): the RTO measures the recovery, not the
    /// injection of the failure.
    pub declare_at_recovery: bool,
}

impl RunFacts {
    /// The facts of a run as its journal records them.
    pub fn from_records(records: &[crate::journal::Record]) -> Option<RunFacts> {
        let Event::RunStarted {
            mode,
            declared_at,
            declared_at_given,
            failed_at,
            ..
        } = &records.first()?.event
        else {
            return None;
        };
        let recovery = records.iter().find_map(|r| match r.event {
            Event::RecoveryStarted { declared_at } => Some(declared_at),
            _ => None,
        });
        Some(RunFacts {
            mode: *mode,
            declared_at: recovery.unwrap_or(*declared_at),
            failed_at: *failed_at,
            declare_at_recovery: *mode == Mode::Drill && !declared_at_given && recovery.is_none(),
        })
    }
}

/// Runs (or continues) the sections of a run and records how it ended. A paused run gets
/// a `run_paused` event and no `run_finished`: `drbook resume` continues it.
pub async fn drive(
    engine: &mut Engine,
    valid: &ValidRunbook,
    facts: &mut RunFacts,
    prior: &Prior,
) -> Result<RunEnd, EngineError> {
    let runbook = &valid.runbook;
    let mut end = SectionEnd::Completed;
    if facts.mode == Mode::Drill
        && let Some(drill) = &runbook.spec.drill
    {
        end = scheduler::run_section(engine, &drill.inject, &valid.graphs.inject, &prior.inject)
            .await?;
    }
    if end == SectionEnd::Completed && facts.declare_at_recovery {
        let now = engine.clock.now();
        engine
            .recorder
            .record(Event::RecoveryStarted { declared_at: now })?;
        facts.declared_at = now;
        facts.declare_at_recovery = false;
        engine.context.set_declared_at(now);
    }
    if end == SectionEnd::Completed {
        end = scheduler::run_section(
            engine,
            &runbook.spec.steps,
            &valid.graphs.recovery,
            &prior.recovery,
        )
        .await?;
    }
    let achieved = achieved(engine, valid, facts);
    let (outcome, reason) = match end {
        SectionEnd::Completed => (RunOutcome::Succeeded, None),
        SectionEnd::Failed(reason) => (RunOutcome::Failed, Some(reason)),
        SectionEnd::Paused(reason) => return paused(engine, reason, None, achieved),
        SectionEnd::Stopped { step, reason } => {
            return paused(engine, reason, Some(step), achieved);
        }
    };
    engine.recorder.record(Event::RunFinished {
        outcome,
        achieved: achieved.clone(),
    })?;
    engine.recorder.sync()?;
    Ok(RunEnd {
        outcome: Some(outcome),
        reason,
        stopped_at: None,
        achieved,
    })
}

/// Records a pause (or a stop by the operator, which is resumable like a pause) and
/// ends the session there: no `run_finished`.
fn paused(
    engine: &mut Engine,
    reason: String,
    stopped_at: Option<String>,
    achieved: Achieved,
) -> Result<RunEnd, EngineError> {
    engine.recorder.record(Event::RunPaused {
        reason: reason.clone(),
        stopped_at: stopped_at.clone(),
    })?;
    engine.recorder.sync()?;
    Ok(RunEnd {
        outcome: None,
        reason: Some(reason),
        stopped_at,
        achieved,
    })
}

/// RTO/RPO so far, from the records of this run.
pub fn achieved(engine: &Engine, valid: &ValidRunbook, facts: &RunFacts) -> Achieved {
    let runbook = &valid.runbook;
    let checkpoints: HashSet<String> = runbook
        .all_steps()
        .filter(|s| matches!(s.body, StepBody::Checkpoint(_)))
        .map(|s| s.id.value.clone())
        .collect();
    let recovered = runbook
        .spec
        .steps
        .iter()
        .find(|s| s.marks.is_some())
        .map(|s| s.id.value.as_str());
    let objectives = runbook.spec.objectives.as_ref();
    clock::achieved(
        &engine.recorder.records,
        &clock::ClockInputs {
            declared_at: facts.declared_at,
            failed_at: facts.failed_at,
            recovered_step: recovered,
            checkpoint_steps: &checkpoints,
            rto_objective: objectives.map(|o| o.rto.value),
            rpo_objective: objectives.map(|o| o.rpo.value),
        },
    )
}
