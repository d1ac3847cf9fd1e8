//! A clock that moves only when told to: tests hand it to the engine and advance it by
//! hand, so a retry's back-off or a step's timeout passes at once, deterministically,
//! and how long the engine waited is exactly what the test says.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, oneshot};

use super::seams::{Clock, Sleep};

/// A hand-driven `Clock`.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<State>,
    /// Woken whenever a new wait begins.
    slept: Notify,
}

#[derive(Debug)]
struct State {
    start: DateTime<Utc>,
    elapsed: Duration,
    /// Waits not over yet: when they end (as `elapsed`), and how to end them.
    sleepers: Vec<(Duration, oneshot::Sender<()>)>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            state: Mutex::new(State {
                start,
                elapsed: Duration::ZERO,
                sleepers: Vec::new(),
            }),
            slept: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves time forward and ends every wait whose time has come.
    pub fn advance(&self, by: Duration) {
        let mut state = self.state();
        state.elapsed += by;
        let now = state.elapsed;
        let (due, waiting): (Vec<_>, Vec<_>) =
            state.sleepers.drain(..).partition(|(at, _)| *at <= now);
        state.sleepers = waiting;
        for (_, tx) in due {
            let _ = tx.send(());
        }
    }

    /// When the earliest wait still pending ends (a wait nobody awaits any more, such as
    /// the timeout of an attempt that finished, is not pending).
    pub fn next_deadline(&self) -> Option<Duration> {
        let mut state = self.state();
        state.sleepers.retain(|(_, tx)| !tx.is_closed());
        state.sleepers.iter().map(|(at, _)| *at).min()
    }

    /// Waits until the engine waits for the clock, then moves time to the end of the
    /// earliest wait; returns by how much time moved.
    pub async fn advance_to_next_wait(&self) -> Duration {
        let deadline = loop {
            let notified = self.slept.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(deadline) = self.next_deadline() {
                break deadline;
            }
            notified.await;
        };
        let by = deadline.saturating_sub(self.monotonic());
        self.advance(by);
        by
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let state = self.state();
        state.start + chrono::Duration::from_std(state.elapsed).unwrap_or_default()
    }

    fn monotonic(&self) -> Duration {
        self.state().elapsed
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        if duration.is_zero() {
            return Box::pin(std::future::ready(()));
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.state();
            let at = state.elapsed + duration;
            state.sleepers.push((at, tx));
        }
        self.slept.notify_waiters();
        Box::pin(async move {
            // A dropped clock ends every wait rather than leaving it hanging.
            let _ = rx.await;
        })
    }
}
