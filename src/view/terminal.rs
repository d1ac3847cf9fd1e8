//! The terminal view: a header, one line per step transition with output indented under
//! it, a clock, and the summary at the end. Colours follow the terminal (console honours
//! NO_COLOR and non-terminal output).
//!
//! The clock is the RTO so far against the objective once the incident is declared (run
//! start, `--declared-at`, or a drill's `recovery_started`); while a drill still injects
//! its failure it is the inject clock, because no RTO runs before there is an incident.
//!
//! The runbook's guidance is part of the run's text: `spec.description` under the header
//! (shortened, with the command that prints it whole), in a drill the drill's
//! description, and each step's title on its start line with its description indented
//! under it. A checkpoint's description is shown above its prompt by the question
//! itself; this view prints it too when the prompt is not on its screen (no one can be
//! asked, stdout is a log, or the answers file answered), so a log still says what the
//! checkpoint asked for. A resumed run
//! shows its title again, not the whole description.
//!
//! The header ends with the cluster the run's preflight reached (`cluster_reached`,
//! recorded right after `run_started`), so the description waits for it. Just over 600
//! lines: the header (the run's first lines, the held-back description, the resumed
//! header of `on_history`) is the next piece to move out.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use console::{Style, Term};

use super::cluster_line;
use super::item_label;
use super::live::Live;
use super::plain_text;
use crate::engine::{Observer, QuestionScreen, StepGuidance};
use crate::journal::Record;
use crate::journal::event::{
    AnsweredBy, Event, FailureDecision, Mode, Outcome, RunOutcome, Stream, VIA_PREFLIGHT,
};
use crate::runbook::Runbook;
use crate::runbook::model::StepBody;

/// A running step instance: (step id, foreach item).
type InstanceKey = (String, Option<usize>);

/// Lines of `spec.description` shown when a run starts; the rest is in `drbook render`.
const RUN_DESCRIPTION_LINES: usize = 12;
/// Lines of a drill's `description` shown when a drill starts.
const DRILL_DESCRIPTION_LINES: usize = 6;

pub struct TerminalView {
    term: Term,
    /// When the incident was declared: the RTO clock runs from here.
    declared_at: Option<DateTime<Utc>>,
    /// When a drill began injecting its failure, until the incident is declared.
    injecting_since: Option<DateTime<Utc>>,
    title: Option<String>,
    /// `spec.description`, as plain lines.
    description: Vec<String>,
    /// The drill's `description`, as plain lines.
    drill_description: Vec<String>,
    /// The runbook as given on the command line, for `drbook render`.
    file: String,
    /// A person is asked on the terminal this view prints to: a checkpoint's prompt
    /// shows its description there.
    interactive: bool,
    /// The guidance of step instances about to start, shown with their start line.
    guidance: HashMap<InstanceKey, StepGuidance>,
    /// Descriptions of checkpoints left to their prompt; shown here after all when the
    /// answer comes from the answers file and no prompt was drawn.
    left_to_prompt: HashMap<String, String>,
    rto_objective: Option<Duration>,
    rpo_objective: Option<Duration>,
    /// Checkpoint step ids: their description is the question's to show.
    checkpoints: HashSet<String>,
    /// Spinners and the live RTO line, when stdout is a terminal.
    live: Option<Live<InstanceKey>>,
    /// When each running step instance started, for its elapsed time.
    started: HashMap<InstanceKey, (DateTime<Utc>, Option<String>)>,
    /// Step instances whose last attempt failed, in the order they failed. In a run that
    /// succeeded these are the failures it went on past (`on_failure: continue`), which
    /// the summary names so a green run does not hide them.
    failed: Vec<InstanceKey>,
    /// The run's description, held back after the header lines until the cluster the
    /// preflight reached (recorded next) has been shown with them.
    guidance_due: Option<Mode>,
}

impl TerminalView {
    /// The view of a run of `runbook`, read from `file` (as the operator gave it).
    pub fn new(runbook: &Runbook, file: &std::path::Path) -> Self {
        let objectives = runbook.spec.objectives.as_ref();
        let plain = |text: Option<&crate::source::span::Spanned<String>>| {
            text.map_or_else(Vec::new, |t| plain_text::lines(&t.value))
        };
        TerminalView {
            term: Term::stdout(),
            declared_at: None,
            injecting_since: None,
            title: runbook.metadata.title.as_ref().map(|t| t.value.clone()),
            description: plain(runbook.spec.description.as_ref()),
            drill_description: plain(
                runbook
                    .spec
                    .drill
                    .as_ref()
                    .and_then(|d| d.description.as_ref()),
            ),
            file: file.display().to_string(),
            // The prompt's lines and these share one screen only when stdout is the
            // terminal too; a log (`> run.log`, `| tee`) keeps every description.
            interactive: crate::operator::terminal_available() && Term::stdout().is_term(),
            guidance: HashMap::new(),
            left_to_prompt: HashMap::new(),
            rto_objective: objectives.map(|o| o.rto.value),
            rpo_objective: objectives.map(|o| o.rpo.value),
            checkpoints: runbook
                .all_steps()
                .filter(|s| matches!(s.body, StepBody::Checkpoint(_)))
                .map(|s| s.id.value.clone())
                .collect(),
            live: Live::new(),
            started: HashMap::new(),
            failed: Vec::new(),
            guidance_due: None,
        }
    }

    fn line(&self, text: &str) {
        match &self.live {
            Some(live) => live.println(text),
            None => {
                let _ = self.term.write_line(text);
            }
        }
    }

    /// The clock after a finished step: the RTO so far once the incident is declared,
    /// the inject clock before; empty when neither runs.
    fn clock(&self, now: DateTime<Utc>) -> String {
        let since =
            |start: DateTime<Utc>| format_ms((now - start).num_milliseconds().max(0) as u64);
        if let Some(declared) = self.declared_at {
            let so_far = since(declared);
            return match self.rto_objective {
                Some(objective) => format!(
                    "RTO so far {so_far} / {}",
                    humantime::format_duration(objective)
                ),
                None => format!("RTO so far {so_far}"),
            };
        }
        match self.injecting_since {
            Some(start) => format!("inject {}", since(start)),
            None => String::new(),
        }
    }

    /// Sets the clocks from the run's start: a drill without `--declared-at` injects
    /// first and declares the incident when recovery begins.
    fn clock_from_start(&mut self, started: &Record) {
        let Event::RunStarted {
            mode,
            declared_at,
            declared_at_given,
            ..
        } = &started.event
        else {
            return;
        };
        if *mode == Mode::Drill && !declared_at_given {
            self.injecting_since = Some(started.time);
            self.declared_at = None;
        } else {
            self.declared_at = Some(*declared_at);
        }
    }

    fn declare(&mut self, declared_at: DateTime<Utc>) {
        self.declared_at = Some(declared_at);
        self.injecting_since = None;
    }

    /// The runbook's description under the header, shortened to its first blocks with
    /// the command that prints it whole; in a drill, the drill's description after it.
    fn run_guidance(&self, mode: Mode) {
        let mut cut = false;
        let mut block = |lines: &[String], max: usize, label: Option<&str>| {
            if lines.is_empty() {
                return;
            }
            self.line("");
            if let Some(label) = label {
                self.line(&format!("  {label}"));
            }
            let (shown, shortened) = plain_text::shortened(lines, max);
            cut |= shortened;
            for line in shown {
                self.line(&indented("  ", &line));
            }
        };
        block(&self.description, RUN_DESCRIPTION_LINES, None);
        if mode == Mode::Drill {
            block(
                &self.drill_description,
                DRILL_DESCRIPTION_LINES,
                Some("This drill:"),
            );
        }
        if cut {
            self.line(&format!(
                "  … (full text: {})",
                Style::new()
                    .bold()
                    .apply_to(format!("drbook render {}", self.file))
            ));
        }
        if !self.description.is_empty()
            || (mode == Mode::Drill && !self.drill_description.is_empty())
        {
            self.line("");
        }
    }

    /// The run's description, when the header held it back.
    fn show_due_guidance(&mut self) {
        if let Some(mode) = self.guidance_due.take() {
            self.run_guidance(mode);
        }
    }

    /// A step's description under its start line; a checkpoint's only when its
    /// question will not show it on this view's screen.
    fn step_description(&mut self, guidance: &StepGuidance) {
        let Some(description) = &guidance.description else {
            return;
        };
        if self.interactive && self.checkpoints.contains(&guidance.step) {
            self.left_to_prompt
                .insert(guidance.step.clone(), description.clone());
            return;
        }
        self.description_lines(description);
    }

    fn description_lines(&self, description: &str) {
        for line in plain_text::lines(description) {
            self.line(&indented("    ", &line));
        }
    }

    /// Starts the live clock line from the clocks as they stand.
    fn start_live_clock(&mut self) {
        let (label, start, objective) = match (self.declared_at, self.injecting_since) {
            (Some(declared), _) => ("RTO so far", declared, self.rto_objective),
            (None, Some(start)) => ("inject", start, None),
            (None, None) => return,
        };
        let since = (Utc::now() - start).to_std().unwrap_or_default();
        if let Some(live) = &mut self.live {
            live.restart_status(label, since, objective);
        }
    }
}

/// `line` after `indent`; an empty line stays empty.
fn indented(indent: &str, line: &str) -> String {
    if line.is_empty() {
        String::new()
    } else {
        format!("{indent}{line}")
    }
}

/// Milliseconds as `1m 12s` (whole seconds) or `850ms`.
pub fn format_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
    }
}

fn name(step: &str, label: Option<&str>) -> String {
    match label {
        Some(label) => format!("{step} [{label}]"),
        None => step.to_string(),
    }
}

impl Observer for TerminalView {
    fn on_record(&mut self, record: &Record) {
        let dim = Style::new().dim();
        let green = Style::new().green();
        let red = Style::new().red().bold();
        let bold = Style::new().bold();
        let yellow = Style::new().yellow();
        // Only the cluster the preflight reached belongs in the header before the
        // description; anything else comes after it.
        if !matches!(&record.event, Event::ClusterReached { via, .. } if via == VIA_PREFLIGHT) {
            self.show_due_guidance();
        }
        match &record.event {
            Event::RunStarted {
                run_id,
                mode,
                runbook,
                target,
                operator,
                declared_at,
                ..
            } => {
                self.clock_from_start(record);
                // Before a drill declares its incident, the time is only when it started.
                let declared = if self.declared_at.is_some() {
                    "declared"
                } else {
                    "started"
                };
                self.line(&format!("run {}", bold.apply_to(run_id)));
                let title = self
                    .title
                    .as_ref()
                    .map(|t| format!(" — {t}"))
                    .unwrap_or_default();
                self.line(&format!("{} {}{title}", runbook.name, runbook.version));
                self.line(
                    &dim.apply_to(format!(
                        "mode {} · target {} · operator {} · {declared} {}",
                        mode.name(),
                        target.as_deref().unwrap_or("none"),
                        operator,
                        declared_at.format("%Y-%m-%d %H:%M:%S UTC")
                    ))
                    .to_string(),
                );
                let objective = |o: Option<Duration>| {
                    o.map_or("none".to_string(), |o| {
                        humantime::format_duration(o).to_string()
                    })
                };
                self.line(&format!(
                    "objectives: RTO {} · RPO {}",
                    objective(self.rto_objective),
                    objective(self.rpo_objective)
                ));
                self.guidance_due = Some(*mode);
                self.start_live_clock();
            }
            Event::ClusterReached {
                server, uid, via, ..
            } => {
                let line = cluster_line::cluster_line(server, uid);
                if via == VIA_PREFLIGHT {
                    self.line(&line);
                    self.show_due_guidance();
                } else {
                    self.line(&dim.apply_to(format!("  {via}: {line}")).to_string());
                }
            }
            Event::FailureDecided {
                step, decision, by, ..
            } => {
                let what = match decision {
                    FailureDecision::Retry => "retry it",
                    FailureDecision::Continue => "continue without it",
                    FailureDecision::Abort => "abort the run",
                };
                self.line(&format!("  {step}: {by} decided to {what}"));
            }
            Event::RecoveryStarted { declared_at } => {
                self.declare(*declared_at);
                self.line(&format!(
                    "{} failure injected; incident declared {}: recovery begins, the RTO clock starts",
                    bold.apply_to("■"),
                    declared_at.format("%H:%M:%S UTC")
                ));
                self.start_live_clock();
            }
            Event::SessionStarted {
                operator,
                accepted_changed_runbook,
                ..
            } => {
                self.line(&format!(
                    "resumed by {operator}{}",
                    if *accepted_changed_runbook {
                        " (with a changed runbook, accepted)"
                    } else {
                        ""
                    }
                ));
            }
            Event::StepStarted {
                step,
                item,
                attempt,
                label,
            } => {
                let label = item_label::short(label.as_deref(), *item);
                let key = (step.clone(), *item);
                self.started
                    .insert(key.clone(), (record.time, label.clone()));
                // A checkpoint has no spinner: its question is on the screen.
                if let Some(live) = &mut self.live
                    && !self.checkpoints.contains(step)
                {
                    live.start(key.clone(), name(step, label.as_deref()));
                }
                let again = if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                let guidance = self.guidance.remove(&key);
                let title = guidance
                    .as_ref()
                    .and_then(|g| g.title.as_deref())
                    .map(|t| format!(" — {t}"))
                    .unwrap_or_default();
                self.line(&format!(
                    "{} {}{again}{title}",
                    bold.apply_to("▶"),
                    name(step, label.as_deref())
                ));
                if let Some(guidance) = &guidance {
                    self.step_description(guidance);
                }
            }
            Event::StepOutput { stream, line, .. } => {
                let text = format!("    │ {line}");
                self.line(&match stream {
                    Stream::Stdout => text,
                    Stream::Stderr => yellow.apply_to(text).to_string(),
                });
            }
            Event::CheckpointAnswered { step, answer, by } => {
                if let AnsweredBy::AnswersFile { .. } = by
                    && let Some(description) = self.left_to_prompt.remove(step)
                {
                    self.description_lines(&description);
                }
                let who = match by {
                    AnsweredBy::Operator { name } => format!("by {name}"),
                    AnsweredBy::AnswersFile { path } => format!("from answers file {path}"),
                    AnsweredBy::TimeoutDefault => "by timeout: the default".into(),
                };
                self.line(&format!("  {step}: {answer} ({who})"));
            }
            Event::StepFinished {
                step,
                item,
                outcome,
                ..
            } => {
                let key = (step.clone(), *item);
                self.left_to_prompt.remove(step);
                if let Some(live) = &mut self.live {
                    live.finish(&key);
                }
                self.failed.retain(|k| *k != key);
                if matches!(outcome, Outcome::Failed { .. } | Outcome::TimedOut { .. }) {
                    self.failed.push(key.clone());
                }
                let (start, label) = self.started.remove(&key).unwrap_or((record.time, None));
                let elapsed = format_ms((record.time - start).num_milliseconds().max(0) as u64);
                let who = name(step, label.as_deref());
                let clock = self.clock(record.time);
                let rto = if clock.is_empty() {
                    String::new()
                } else {
                    dim.apply_to(format!(" · {clock}")).to_string()
                };
                match outcome {
                    Outcome::Succeeded { .. } => self.line(&format!(
                        "{} {who} {}{rto}",
                        green.apply_to("✔"),
                        dim.apply_to(elapsed)
                    )),
                    Outcome::MarkedDone { by } => self.line(&format!(
                        "{} {who} marked done by {by}",
                        green.apply_to("✔")
                    )),
                    Outcome::Failed { error } => self.line(&format!(
                        "{} {who} {}: {error}",
                        red.apply_to("✖"),
                        dim.apply_to(elapsed)
                    )),
                    Outcome::TimedOut { after_ms } => self.line(&format!(
                        "{} {who} timed out after {}",
                        red.apply_to("✖"),
                        format_ms(*after_ms)
                    )),
                    Outcome::Cancelled { reason } => self.line(&format!(
                        "{} {who} cancelled: {reason}",
                        yellow.apply_to("■")
                    )),
                }
            }
            Event::StepSkipped { step, reason } => {
                self.line(&format!("{} {step} skipped: {reason}", dim.apply_to("↷")));
            }
            Event::RunPaused { reason, stopped_at } => {
                if let Some(live) = &mut self.live {
                    live.clear();
                }
                let how = match stopped_at {
                    Some(_) => "run stopped by the operator",
                    None => "run paused",
                };
                self.line(&format!("{} {how}: {reason}", yellow.apply_to("■")));
            }
            Event::RunFinished { outcome, achieved } => {
                if let Some(live) = &mut self.live {
                    live.clear();
                }
                let verdict = |value: Option<u64>, objective: Option<u64>| match (value, objective)
                {
                    (Some(v), Some(o)) if v <= o => green.apply_to("met").to_string(),
                    (Some(_), Some(_)) => red.apply_to("missed").to_string(),
                    _ => String::new(),
                };
                let objective = |o: Option<u64>| {
                    o.map(|o| format!(" / objective {}", format_ms(o)))
                        .unwrap_or_default()
                };
                self.line("");
                let outcome_text = match outcome {
                    RunOutcome::Succeeded => green.apply_to("succeeded").to_string(),
                    RunOutcome::Failed => red.apply_to("failed").to_string(),
                    RunOutcome::Aborted => red.apply_to("aborted").to_string(),
                };
                let mut went_on_past: Vec<&str> = Vec::new();
                for (step, _) in &self.failed {
                    if !went_on_past.contains(&step.as_str()) {
                        went_on_past.push(step);
                    }
                }
                if *outcome == RunOutcome::Succeeded && !went_on_past.is_empty() {
                    self.line(&format!(
                        "run {outcome_text}, but these steps failed and the run went on without them: {}",
                        went_on_past.join(", ")
                    ));
                } else {
                    self.line(&format!("run {outcome_text}"));
                }
                match achieved.rto_ms {
                    Some(rto) => self.line(&format!(
                        "RTO {}{} {} (machine {}, operator {}, idle {})",
                        format_ms(rto),
                        objective(achieved.rto_objective_ms),
                        verdict(achieved.rto_ms, achieved.rto_objective_ms),
                        format_ms(achieved.machine_ms),
                        format_ms(achieved.operator_ms),
                        format_ms(achieved.idle_ms)
                    )),
                    None => self.line("RTO not reached: no step marked `recovered` finished"),
                }
                match (achieved.rpo_ms, &achieved.restored_point) {
                    (Some(rpo), Some(point)) => self.line(&format!(
                        "RPO {}{} {} (restored point {point})",
                        format_ms(rpo),
                        objective(achieved.rpo_objective_ms),
                        verdict(achieved.rpo_ms, achieved.rpo_objective_ms)
                    )),
                    _ => self.line("RPO not measured: no step reported a `restored_point`"),
                }
            }
        }
        let _ = std::io::stdout().flush();
    }

    fn on_history(&mut self, records: &[Record]) {
        for record in records {
            match &record.event {
                Event::RunStarted {
                    run_id, runbook, ..
                } => {
                    self.clock_from_start(record);
                    self.line(&format!(
                        "run {} (resumed): {} {}, {} events recorded so far",
                        Style::new().bold().apply_to(run_id),
                        runbook.name,
                        runbook.version,
                        records.len()
                    ));
                    // The description was shown when the run started; its title
                    // reminds what the run is about.
                    if let Some(title) = &self.title {
                        self.line(title);
                    }
                }
                Event::RecoveryStarted { declared_at } => self.declare(*declared_at),
                Event::ClusterReached { server, uid, .. } => {
                    self.line(&cluster_line::cluster_line(server, uid));
                }
                _ => {}
            }
        }
        self.start_live_clock();
    }

    fn on_guidance(&mut self, guidance: &StepGuidance) {
        self.guidance
            .insert((guidance.step.clone(), guidance.item), guidance.clone());
    }

    fn question_screen(&self) -> Option<std::sync::Arc<dyn QuestionScreen>> {
        self.live.as_ref().map(Live::screen)
    }

    fn on_progress(&mut self, step: &str, _item: Option<usize>, message: &str) {
        self.line(
            &Style::new()
                .dim()
                .apply_to(format!("  {step}: {message}"))
                .to_string(),
        );
    }
}
