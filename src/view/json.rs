//! `--output json`: every journal record as one JSON line on stdout, exactly as recorded,
//! and the runbook's guidance as `{"type":"guidance",…}` lines: the run's after its
//! `run_started` record, a step's after its `step_started`, each only when there is
//! something to say (a title or a description; see docs/run-record.md).
//! Guidance is not journaled (the runbook in the run directory holds it), so a line
//! without `seq` is guidance, never a record.
//!
//! When stdout is the terminal a question is asked on, lines written while it is open
//! are held until it closes, so they cannot break the prompt.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::engine::{Observer, QuestionScreen, StepGuidance};
use crate::journal::Record;
use crate::journal::event::{Event, Mode};
use crate::runbook::Runbook;

pub struct JsonView {
    /// The run's guidance line, without the drill's description.
    run: GuidanceLine,
    drill_description: Option<String>,
    /// The guidance of step instances about to start, written after their start.
    guidance: HashMap<(String, Option<usize>), StepGuidance>,
    out: Arc<Out>,
}

impl JsonView {
    pub fn new(runbook: &Runbook) -> Self {
        JsonView {
            run: GuidanceLine {
                kind: "guidance",
                about: "run",
                runbook: Some(runbook.metadata.name.value.clone()),
                title: runbook.metadata.title.as_ref().map(|t| t.value.clone()),
                description: runbook.spec.description.as_ref().map(|d| d.value.clone()),
                ..GuidanceLine::default()
            },
            drill_description: runbook
                .spec
                .drill
                .as_ref()
                .and_then(|d| d.description.as_ref())
                .map(|d| d.value.clone()),
            guidance: HashMap::new(),
            out: Arc::new(Out {
                held: Mutex::new(None),
                terminal: console::Term::stdout().is_term(),
            }),
        }
    }
}

/// One guidance line, its fields in this order; absent ones are left out.
#[derive(Debug, Clone, Default, Serialize)]
struct GuidanceLine {
    #[serde(rename = "type")]
    kind: &'static str,
    /// `run` or `step`.
    about: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    runbook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    /// A drill's `description`, in drill mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    drill: Option<String>,
}

impl GuidanceLine {
    fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Observer for JsonView {
    fn on_record(&mut self, record: &Record) {
        if let Ok(line) = serde_json::to_string(record) {
            self.out.write(line);
        }
        match &record.event {
            Event::RunStarted { mode, .. } => {
                let mut run = self.run.clone();
                if *mode == Mode::Drill {
                    run.drill = self.drill_description.clone();
                }
                if run.title.is_some() || run.description.is_some() || run.drill.is_some() {
                    self.out.write(run.to_line());
                }
            }
            Event::StepStarted { step, item, .. } => {
                if let Some(guidance) = self.guidance.remove(&(step.clone(), *item)) {
                    let line = GuidanceLine {
                        kind: "guidance",
                        about: "step",
                        step: Some(guidance.step),
                        item: guidance.item,
                        title: guidance.title,
                        description: guidance.description,
                        ..GuidanceLine::default()
                    };
                    self.out.write(line.to_line());
                }
            }
            _ => {}
        }
    }

    fn on_guidance(&mut self, guidance: &StepGuidance) {
        self.guidance
            .insert((guidance.step.clone(), guidance.item), guidance.clone());
    }

    fn question_screen(&self) -> Option<Arc<dyn QuestionScreen>> {
        let screen: Arc<dyn QuestionScreen> = self.out.clone();
        self.out.terminal.then_some(screen)
    }
}

/// Stdout, held while a question is open on the same terminal.
struct Out {
    /// `Some` while a question is open: the lines to write when it closes.
    held: Mutex<Option<Vec<String>>>,
    terminal: bool,
}

impl Out {
    fn write(&self, line: String) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *held {
            Some(lines) => lines.push(line),
            None => write_lines(&[line]),
        }
    }
}

fn write_lines(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

impl QuestionScreen for Out {
    fn question_opened(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get_or_insert_with(Vec::new);
    }

    fn question_closed(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lines) = held.take() {
            write_lines(&lines);
        }
    }
}
