//! The single path every event takes: into the journal first, then to the observers
//! (the terminal view or `--output json`). The engine never prints; it records.
//!
//! `record` writes; `sync` makes the record durable. The scheduler syncs right before
//! it starts any effect, so what announces an effect is on disk before it begins.

use std::sync::Arc;

use super::guidance::StepGuidance;
use super::questions::QuestionScreen;
use crate::journal::{Event, JournalError, JournalWriter, Record};

/// Something that wants to see the run as it happens.
pub trait Observer: Send {
    fn on_record(&mut self, record: &Record);
    /// The records of earlier sessions, once, before a resumed run goes on.
    fn on_history(&mut self, _records: &[Record]) {}
    /// Transient news that is not worth a journal line (a probe retry).
    fn on_progress(&mut self, _step: &str, _item: Option<usize>, _message: &str) {}
    /// What a step is about, just before its `step_started` is recorded (see
    /// `guidance`). Not journaled: the runbook holds the text.
    fn on_guidance(&mut self, _guidance: &StepGuidance) {}
    /// What must step aside while a question is on the terminal (the spinners).
    fn question_screen(&self) -> Option<Arc<dyn QuestionScreen>> {
        None
    }
}

/// Journal writer plus observers, and the records of this run so far.
pub struct Recorder {
    writer: JournalWriter,
    observers: Vec<Box<dyn Observer>>,
    pub records: Vec<Record>,
}

impl Recorder {
    pub fn new(
        writer: JournalWriter,
        records: Vec<Record>,
        observers: Vec<Box<dyn Observer>>,
    ) -> Self {
        let mut observers = observers;
        if !records.is_empty() {
            for observer in &mut observers {
                observer.on_history(&records);
            }
        }
        Recorder {
            writer,
            observers,
            records,
        }
    }

    /// Writes the event to the journal, then shows it. Durable after the next `sync`.
    pub fn record(&mut self, event: Event) -> Result<&Record, JournalError> {
        let record = self.writer.append(event)?;
        for observer in &mut self.observers {
            observer.on_record(&record);
        }
        self.records.push(record);
        Ok(self.records.last().expect("just pushed"))
    }

    /// True when this run has recorded reaching the cluster with this `kube-system` UID.
    pub fn reached(&self, uid: &str) -> bool {
        self.records
            .iter()
            .any(|r| matches!(&r.event, Event::ClusterReached { uid: seen, .. } if seen == uid))
    }

    /// Makes everything recorded so far durable (fsync). Called before any effect starts
    /// and when a run ends or pauses.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.writer.sync()
    }

    pub fn progress(&mut self, step: &str, item: Option<usize>, message: &str) {
        for observer in &mut self.observers {
            observer.on_progress(step, item, message);
        }
    }

    pub fn guidance(&mut self, guidance: &StepGuidance) {
        for observer in &mut self.observers {
            observer.on_guidance(guidance);
        }
    }

    /// The observers' screens, for the prompt lock.
    pub fn question_screens(&self) -> Vec<Arc<dyn QuestionScreen>> {
        self.observers
            .iter()
            .filter_map(|o| o.question_screen())
            .collect()
    }
}
