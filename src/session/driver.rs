//! One session of a run, new or resumed, ready to drive: it holds the run's lock and
//! its engine, drives the run on a tokio runtime with Ctrl-C wired to the engine's
//! interrupt, and ends with `Ok` or the `AppError` that says how the run ended. It
//! prints nothing: the views print the run, `run::run` prints how it ended.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app_error::AppError;
use crate::engine::{self, Answerer, Engine, RunEnd, RunFacts};
use crate::journal::RunLock;
use crate::journal::event::{Event, RunOutcome};
use crate::operator;
use crate::run_dir::RunDir;
use crate::runbook::ValidRunbook;
use crate::signing::{self, Signer};
use crate::store::{self, Store};

/// A run bound, recorded and locked, whose steps have not been driven yet in this
/// session.
pub struct Session {
    pub(crate) engine: Engine,
    pub(crate) valid: ValidRunbook,
    pub(crate) facts: RunFacts,
    pub(crate) prior: engine::replay::Prior,
    /// The first events of a new run (`run_started`, then the cluster its preflight
    /// reached), recorded when driving begins.
    pub(crate) first: Vec<Event>,
    pub(crate) run_id: String,
    /// The command that continues this run, for the paused message.
    pub(crate) resume_command: String,
    /// The run's directory, whose record is signed and uploaded when the session ends.
    pub(crate) dir: RunDir,
    /// Signs the journal when the session ends.
    pub(crate) signer: Option<Signer>,
    /// Held until the session ends: no other process writes the run meanwhile.
    pub(crate) _lock: RunLock,
    /// The record store (`--store`), if one was named.
    pub(crate) store: Option<Store>,
}

impl Session {
    /// Drives the run to its end (finished or paused) and says how it ended.
    pub fn drive(mut self) -> Result<(), AppError> {
        let ended = self.drive_to_end();
        // The record as this session leaves it is signed (with the lock still held), then
        // uploaded, so the store gets each signature with the lines it covers; a session
        // that died leaves its lines to the next one's signature.
        let ended = match &self.signer {
            Some(signer) => match signing::sign_session_end(&self.dir, signer) {
                Ok(_) => ended,
                Err(e) => Err(unsigned(&ended, e)),
            },
            None => ended,
        };
        store::at_session_end(self.store.as_ref(), &self.dir, ended)
    }

    fn drive_to_end(&mut self) -> Result<(), AppError> {
        // One thread drives the scheduler and every action: an action's work is waiting
        // on processes, pipes and the network, and what is CPU-bound runs on the
        // blocking pool (`spawn_blocking`). Handing each report from a worker thread to
        // the scheduler, and each process start to another thread, cost more per step
        // than the step's own fsync; on the main thread, processes start in place (see
        // `actions::lifeline`).
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AppError::failed(format!("cannot start the async runtime: {e}")))?;
        let result = runtime.block_on(drive_with_ctrl_c(
            &mut self.engine,
            &self.valid,
            &mut self.facts,
            &self.prior,
            std::mem::take(&mut self.first),
        ));
        let masker = &self.engine.masker;
        let run_id = self.run_id.clone();
        let end = result.map_err(|e| {
            AppError::failed(format!(
                "run {run_id} stopped: {}",
                masker.mask(&e.to_string())
            ))
        })?;
        match end.outcome {
            Some(RunOutcome::Succeeded) => Ok(()),
            Some(RunOutcome::Aborted) => Err(AppError::RunAborted { run_id }),
            Some(_) => Err(AppError::RunFailed {
                run_id,
                reason: masker.mask(&end.reason.unwrap_or_default()),
            }),
            None if end.stopped_at.is_some() => Err(AppError::RunStopped {
                run_id,
                reason: masker.mask(&end.reason.unwrap_or_default()),
                resume: self.resume_command.clone(),
            }),
            None => Err(AppError::RunPaused {
                run_id,
                reason: masker.mask(&end.reason.unwrap_or_default()),
                resume: self.resume_command.clone(),
            }),
        }
    }
}

/// The run ended as `ended` says, but its record could not be signed: both are said.
fn unsigned(ended: &Result<(), AppError>, error: signing::SigningError) -> AppError {
    let how = match ended {
        Ok(()) => "the run succeeded".to_string(),
        Err(e) => e.to_string(),
    };
    AppError::failed(format!("{how}; but its record was not signed: {error}"))
}

/// Records the first events (if any) and drives the run, with Ctrl-C listened for from
/// before the first step until the end.
async fn drive_with_ctrl_c(
    engine: &mut Engine,
    valid: &ValidRunbook,
    facts: &mut RunFacts,
    prior: &engine::replay::Prior,
    first: Vec<Event>,
) -> Result<RunEnd, engine::EngineError> {
    for event in first {
        engine.recorder.record(event)?;
    }
    // Without a wake-up (no socket pair), Ctrl-C pauses without asking.
    let wake = operator::Wake::new().ok().map(Arc::new);
    let aborted = Arc::new(AtomicBool::new(false));
    // Listening before the first step starts: a Ctrl-C from then on is never lost (nor
    // kills drbook with the default action).
    let sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    let ctrl_c = tokio::spawn(watch_ctrl_c(
        sigint,
        engine.interrupt.clone(),
        engine.answerer.clone(),
        engine.prompt_lock.clone(),
        wake.clone(),
        aborted.clone(),
    ));
    let mut end = engine::drive(engine, valid, facts, prior).await;
    // The run is over: take an open Ctrl-C question off the screen.
    if let Some(wake) = &wake {
        wake.wake();
    }
    ctrl_c.abort();
    if let Ok(paused) = &mut end
        && paused.outcome.is_none()
        && aborted.load(Ordering::SeqCst)
    {
        // The running steps were stopped and the pause recorded; the operator asked
        // for more: the run ends here and cannot be resumed.
        engine.recorder.record(Event::RunFinished {
            outcome: RunOutcome::Aborted,
            achieved: paused.achieved.clone(),
        })?;
        engine.recorder.sync()?;
        paused.outcome = Some(RunOutcome::Aborted);
    }
    end
}

/// Ctrl-C during a run asks the operator: pause here, abort, or carry on (a slip).
/// Pause and abort cancel the engine's interrupt (running actions are stopped, the
/// pause is recorded); abort also sets `aborted`. A second Ctrl-C while the question is
/// open, a failed question, or no terminal: pause, the stop that loses nothing.
async fn watch_ctrl_c(
    sigint: std::io::Result<tokio::signal::unix::Signal>,
    interrupt: tokio_util::sync::CancellationToken,
    operator: Arc<dyn Answerer>,
    lock: engine::PromptLock,
    wake: Option<Arc<operator::Wake>>,
    aborted: Arc<AtomicBool>,
) {
    let Ok(mut sigint) = sigint else { return };
    loop {
        if sigint.recv().await.is_none() {
            return;
        }
        let (operator, lock, wake) = (operator.clone(), lock.clone(), wake.clone());
        let choice = tokio::task::spawn_blocking(move || {
            // One question on the terminal at a time (a checkpoint may be open), and
            // nothing else drawing on it (the spinners).
            let _open = lock.open();
            operator.after_ctrl_c(wake.as_deref())
        })
        .await;
        match choice {
            Ok(Ok(Some(operator::CtrlCChoice::CarryOn))) => continue,
            // Woken: the run ended while the question was open.
            Ok(Ok(None)) => return,
            Ok(Ok(Some(operator::CtrlCChoice::Abort))) => {
                aborted.store(true, Ordering::SeqCst);
                interrupt.cancel();
                return;
            }
            _ => {
                interrupt.cancel();
                return;
            }
        }
    }
}
