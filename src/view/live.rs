//! The moving part of the terminal view: a spinner with elapsed time for every running
//! step, and a last line with the clock: the RTO so far against the objective, or a
//! drill's inject clock before its incident is declared. Shown only when
//! stdout is a terminal; elsewhere (pipes, CI logs) the view prints plain lines.
//!
//! While a checkpoint waits for the operator the spinners are taken off the screen, so
//! they cannot draw over the question.

use std::collections::HashMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Spinners of running step instances, keyed like the view keys them.
pub struct Live<K> {
    multi: MultiProgress,
    bars: HashMap<K, ProgressBar>,
    status: Option<ProgressBar>,
    /// Drawing is paused (a checkpoint is on screen).
    paused: bool,
}

const TICK: Duration = Duration::from_millis(120);

impl<K: std::hash::Hash + Eq + Clone> Live<K> {
    /// `None` when stdout is not a terminal.
    pub fn new() -> Option<Self> {
        if !console::Term::stdout().is_term() {
            return None;
        }
        Some(Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            bars: HashMap::new(),
            status: None,
            paused: false,
        })
    }

    /// Prints a line above the spinners.
    pub fn println(&self, text: &str) {
        if self.paused {
            println!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    /// The clock line: `label` (`RTO so far`, `inject`) counting from `since`, and the
    /// objective when there is one.
    fn start_status(&mut self, label: &str, since: Duration, objective: Option<Duration>) {
        let objective = objective
            .map(|o| format!(" / objective {}", humantime::format_duration(o)))
            .unwrap_or_default();
        let style = ProgressStyle::with_template(&format!("{label} {{elapsed}}{objective}"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::new_spinner()
            .with_style(style)
            .with_elapsed(since);
        let bar = self.multi.add(bar);
        bar.enable_steady_tick(TICK);
        self.status = Some(bar);
    }

    /// Starts the clock line, replacing the one shown (a drill's recovery begins).
    pub fn restart_status(&mut self, label: &str, since: Duration, objective: Option<Duration>) {
        if let Some(status) = self.status.take() {
            status.finish_and_clear();
            self.multi.remove(&status);
        }
        self.start_status(label, since, objective);
    }

    pub fn start(&mut self, key: K, name: String) {
        let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = ProgressBar::new_spinner()
            .with_style(style)
            .with_message(name);
        let bar = match &self.status {
            Some(status) => self.multi.insert_before(status, bar),
            None => self.multi.add(bar),
        };
        bar.enable_steady_tick(TICK);
        self.bars.insert(key, bar);
    }

    pub fn finish(&mut self, key: &K) {
        if let Some(bar) = self.bars.remove(key) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    /// Takes the spinners off the screen while the operator is asked something.
    pub fn pause(&mut self) {
        if !self.paused {
            let _ = self.multi.clear();
            self.multi.set_draw_target(ProgressDrawTarget::hidden());
            self.paused = true;
        }
    }

    pub fn resume(&mut self) {
        if self.paused {
            self.multi.set_draw_target(ProgressDrawTarget::stdout());
            self.paused = false;
        }
    }

    /// Removes every spinner, before the summary is printed.
    pub fn clear(&mut self) {
        for (_, bar) in self.bars.drain() {
            bar.finish_and_clear();
        }
        if let Some(status) = self.status.take() {
            status.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
