//! The moving part of the terminal view: a spinner with elapsed time for every running
//! step, and a last line with the clock: the RTO so far against the objective, or a
//! drill's inject clock before its incident is declared. Shown only when
//! stdout is a terminal; elsewhere (pipes, CI logs) the view prints plain lines.
//!
//! While a question is on the terminal (a checkpoint, the Ctrl-C menu, a failure's
//! decision) nothing here draws: the engine's prompt lock tells this view's
//! `QuestionScreen` when a question opens, the spinners stop ticking and leave the
//! screen, and the lines printed meanwhile (other steps' output) are held and shown when
//! the question closes. The question runs on another thread than the view, so all of it
//! sits behind one mutex, held only for a draw.

use std::collections::HashMap;
use std::hash::Hash;
use std::io::Write as _;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use nix::sys::termios::{self, LocalFlags, SetArg, Termios};

use crate::engine::QuestionScreen;

/// Spinners of running step instances, keyed like the view keys them.
pub struct Live<K> {
    shared: Arc<Shared<K>>,
    _echo: QuietCtrlC,
}

/// While the spinners are shown, the terminal does not echo `^C`: the echo lands where
/// the cursor is, after the spinners' last line, and moves it a line down, so the
/// spinners could no longer be cleared for the Ctrl-C menu (one would stay behind,
/// frozen). The terminal's settings come back when the view ends.
struct QuietCtrlC {
    original: Option<Termios>,
}

impl QuietCtrlC {
    fn new() -> QuietCtrlC {
        let stdin = std::io::stdin();
        let Ok(original) = termios::tcgetattr(stdin.as_fd()) else {
            return QuietCtrlC { original: None };
        };
        let mut quiet = original.clone();
        quiet.local_flags.remove(LocalFlags::ECHOCTL);
        let set = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &quiet).is_ok();
        QuietCtrlC {
            original: set.then_some(original),
        }
    }
}

impl Drop for QuietCtrlC {
    fn drop(&mut self) {
        if let Some(original) = &self.original {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, original);
        }
    }
}

struct Shared<K> {
    state: Mutex<State<K>>,
}

struct State<K> {
    multi: MultiProgress,
    bars: HashMap<K, ProgressBar>,
    status: Option<ProgressBar>,
    /// `Some` while a question is on the terminal: the lines to print when it closes.
    held: Option<Vec<String>>,
}

const TICK: Duration = Duration::from_millis(120);

impl<K: Hash + Eq + Clone + Send + 'static> Live<K> {
    /// `None` when stdout is not a terminal.
    pub fn new() -> Option<Self> {
        if !console::Term::stdout().is_term() {
            return None;
        }
        Some(Live {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                    bars: HashMap::new(),
                    status: None,
                    held: None,
                }),
            }),
            _echo: QuietCtrlC::new(),
        })
    }

    /// What the prompt lock tells when a question opens and closes.
    pub fn screen(&self) -> Arc<dyn QuestionScreen> {
        self.shared.clone()
    }

    fn state(&self) -> MutexGuard<'_, State<K>> {
        self.shared.lock()
    }

    /// Prints a line above the spinners, or holds it while a question is open.
    pub fn println(&self, text: &str) {
        let mut state = self.state();
        match &mut state.held {
            Some(held) => held.push(text.to_string()),
            None => print_above(&state.multi, &[text]),
        }
    }

    /// Starts the clock line, replacing the one shown (a drill's recovery begins):
    /// `label` (`RTO so far`, `inject`) counting from `since`, and the objective when
    /// there is one.
    pub fn restart_status(&mut self, label: &str, since: Duration, objective: Option<Duration>) {
        let mut state = self.state();
        if let Some(status) = state.status.take() {
            status.finish_and_clear();
            state.multi.remove(&status);
        }
        let objective = objective
            .map(|o| format!(" / objective {}", humantime::format_duration(o)))
            .unwrap_or_default();
        let style = ProgressStyle::with_template(&format!("{label} {{elapsed}}{objective}"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::new_spinner()
            .with_style(style)
            .with_elapsed(since);
        let bar = state.multi.add(bar);
        state.tick(&bar);
        state.status = Some(bar);
    }

    pub fn start(&mut self, key: K, name: String) {
        let mut state = self.state();
        let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::new_spinner()
            .with_style(style)
            .with_message(name);
        let bar = match &state.status {
            Some(status) => state.multi.insert_before(status, bar),
            None => state.multi.add(bar),
        };
        state.tick(&bar);
        state.bars.insert(key, bar);
    }

    pub fn finish(&mut self, key: &K) {
        let mut state = self.state();
        if let Some(bar) = state.bars.remove(key) {
            bar.finish_and_clear();
            state.multi.remove(&bar);
        }
    }

    /// Removes every spinner, before the summary is printed.
    pub fn clear(&mut self) {
        let mut state = self.state();
        for (_, bar) in state.bars.drain() {
            bar.finish_and_clear();
        }
        if let Some(status) = state.status.take() {
            status.finish_and_clear();
        }
        let _ = state.multi.clear();
    }
}

/// Prints whole lines above the spinners: they step aside for the write and come back
/// under it. (`MultiProgress::println` would pad each line to the terminal's width
/// instead of ending it, which a copy from the terminal or a capture of it keeps.)
fn print_above(multi: &MultiProgress, lines: &[impl AsRef<str>]) {
    multi.suspend(|| {
        let mut out = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(out, "{}", line.as_ref());
        }
        let _ = out.flush();
    });
}

impl<K> Shared<K> {
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K> State<K> {
    /// Every spinner and the clock line.
    fn all_bars(&self) -> impl Iterator<Item = &ProgressBar> {
        self.bars.values().chain(self.status.iter())
    }

    /// Lets a new bar tick, unless a question is open (it ticks when that closes).
    fn tick(&self, bar: &ProgressBar) {
        if self.held.is_none() {
            bar.enable_steady_tick(TICK);
        }
    }
}

impl<K: Send + 'static> QuestionScreen for Shared<K> {
    fn question_opened(&self) {
        let mut state = self.lock();
        if state.held.is_some() {
            return;
        }
        // The tickers draw from their own threads: stopped (and joined) first, so none
        // can draw between the clearing and the hiding.
        for bar in state.all_bars() {
            bar.disable_steady_tick();
        }
        let _ = state.multi.clear();
        state.multi.set_draw_target(ProgressDrawTarget::hidden());
        state.held = Some(Vec::new());
    }

    fn question_closed(&self) {
        let mut state = self.lock();
        let Some(held) = state.held.take() else {
            return;
        };
        state.multi.set_draw_target(ProgressDrawTarget::stdout());
        print_above(&state.multi, &held);
        for bar in state.all_bars() {
            bar.enable_steady_tick(TICK);
        }
    }
}
