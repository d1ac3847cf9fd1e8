//! One attempt of an action, from its start to its outcome: the action is started through
//! the catalogue with its rendered request, its output and progress are forwarded to the
//! scheduler as they come, and it ends as succeeded, failed, timed out (the step's
//! `timeout` passed: the action is cancelled and awaited until it has cleaned up) or
//! cancelled (Ctrl-C paused the run). Also the wait before a retry.
//!
//! Time comes from the engine's clock, so tests pass a timeout or a back-off at once.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use super::scheduler::Msg;
use super::seams::Clock;
use super::{Engine, EngineError};
use crate::actions::ActionRequest;
use crate::journal::event::Outcome;

/// Which attempt of which item, and how long it may take.
pub(super) struct Attempt {
    pub step: usize,
    pub item: usize,
    pub attempt: u32,
    pub timeout: Option<Duration>,
}

/// Why a cancelled attempt ended, as the journal records it.
pub(crate) const CANCELLED_BY_CTRL_C: &str = "the run was interrupted (Ctrl-C)";

/// Starts `action` with `params` and spawns the task that follows it to its end; the
/// outcome arrives as `Msg::Finished`. Returns the token that cancels this attempt alone.
/// Everything recorded so far must be durable before this is called: the action may
/// begin its effect at once.
pub(super) fn start(
    engine: &Engine,
    step_id: &str,
    action: &str,
    params: Map<String, Value>,
    attempt: Attempt,
    tx: &UnboundedSender<Msg>,
) -> Result<CancellationToken, EngineError> {
    let cancel = engine.interrupt.child_token();
    let (events_tx, mut events_rx) = unbounded_channel();
    let request = ActionRequest {
        step: step_id.to_string(),
        run_id: engine.context.run_id().to_string(),
        params,
        workdir: engine.workdir.clone(),
        target: engine.context.target().clone(),
        kube_clients: engine.kube_clients.clone(),
        cancel: cancel.clone(),
        events: events_tx,
    };
    let mut future = engine
        .catalog
        .start(action, request)
        .ok_or_else(|| EngineError::Divergence(format!("unknown action `{action}`")))?;
    let interrupt = engine.interrupt.clone();
    let clock = engine.clock.clone();
    let tx = tx.clone();
    let token = cancel.clone();
    let Attempt {
        step,
        item,
        attempt,
        timeout,
    } = attempt;
    tokio::spawn(async move {
        let started = clock.monotonic();
        let forwarder = {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(event) = events_rx.recv().await {
                    let _ = tx.send(Msg::Action { step, item, event });
                }
            })
        };
        let result = match timeout {
            None => Some(future.as_mut().await),
            Some(limit) => tokio::select! {
                r = future.as_mut() => Some(r),
                () = clock.sleep(limit) => None,
            },
        };
        let outcome = match result {
            Some(Ok(outputs)) => Outcome::Succeeded { outputs },
            Some(Err(_)) if interrupt.is_cancelled() => Outcome::Cancelled {
                reason: CANCELLED_BY_CTRL_C.into(),
            },
            Some(Err(e)) => Outcome::Failed {
                error: e.to_string(),
            },
            None => {
                // Out of time: stop the action and wait until it has cleaned up.
                cancel.cancel();
                let _ = future.await;
                Outcome::TimedOut {
                    after_ms: elapsed_ms(clock.as_ref(), started),
                }
            }
        };
        let _ = forwarder.await;
        let _ = tx.send(Msg::Finished {
            step,
            item,
            attempt,
            outcome,
        });
    });
    Ok(token)
}

fn elapsed_ms(clock: &dyn Clock, since: Duration) -> u64 {
    clock.monotonic().saturating_sub(since).as_millis() as u64
}

/// Waits out a retry's back-off (cut short by Ctrl-C), then reports `Msg::RetryDue`.
pub(super) fn back_off(
    clock: Arc<dyn Clock>,
    interrupt: CancellationToken,
    backoff: Duration,
    step: usize,
    item: usize,
    tx: &UnboundedSender<Msg>,
) {
    let tx = tx.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = clock.sleep(backoff) => {}
            () = interrupt.cancelled() => {}
        }
        let _ = tx.send(Msg::RetryDue { step, item });
    });
}
