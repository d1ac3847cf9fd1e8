//! The stand-ins the engine's tests build it with: actions that follow a script, an
//! answerer that gives scripted answers, and a harness that runs a runbook (or resumes
//! one from a canned journal) in-process on a manual clock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};
use tokio::sync::{Notify, Semaphore};

use crate::actions::{ActionError, ActionFuture, ActionRequest};
use crate::engine::manual_clock::ManualClock;
use crate::engine::seams::{Answerer, Catalog, Clock, Seams};
use crate::engine::{self, Engine, Masker, Recorder, RunContext, RunEnd, RunFacts};
use crate::journal::event::{AnsweredBy, Mode, Record};
use crate::journal::{Event, JournalWriter};
use crate::operator::{
    CtrlCChoice, FailureChoice, InterruptedChoice, OperatorError, Question, Timeout, Wake,
};
use crate::runbook::ValidRunbook;

/// What one attempt of a scripted action does.
#[derive(Debug, Clone)]
pub enum Act {
    Succeed(Value),
    Fail(&'static str),
    /// Runs until it is cancelled (a timeout, Ctrl-C).
    Hang,
    /// Waits for a permit from `ScriptedCatalog::release`, then succeeds.
    Hold,
}

/// One attempt the catalogue started.
#[derive(Debug, Clone)]
pub struct Start {
    pub step: String,
    pub params: Map<String, Value>,
    /// The manual clock's time when it started.
    pub at: Duration,
}

/// Actions whose every attempt follows a per-step script; a step without a script (or
/// past its end) succeeds with no outputs.
pub struct ScriptedCatalog {
    clock: Arc<ManualClock>,
    scripts: Mutex<HashMap<String, VecDeque<Act>>>,
    starts: Mutex<Vec<Start>>,
    started: Notify,
    permits: Arc<Semaphore>,
    running: Arc<Mutex<(usize, usize)>>,
}

impl ScriptedCatalog {
    pub fn new(clock: Arc<ManualClock>) -> ScriptedCatalog {
        ScriptedCatalog {
            clock,
            scripts: Mutex::new(HashMap::new()),
            starts: Mutex::new(Vec::new()),
            started: Notify::new(),
            permits: Arc::new(Semaphore::new(0)),
            running: Arc::new(Mutex::new((0, 0))),
        }
    }

    pub fn script(&self, step: &str, acts: impl IntoIterator<Item = Act>) {
        self.scripts
            .lock()
            .unwrap()
            .insert(step.into(), acts.into_iter().collect());
    }

    pub fn starts(&self) -> Vec<Start> {
        self.starts.lock().unwrap().clone()
    }

    /// The steps started, in order (one entry per attempt or item).
    pub fn started_steps(&self) -> Vec<String> {
        self.starts().into_iter().map(|s| s.step).collect()
    }

    /// Waits until at least `count` attempts have started.
    pub async fn wait_started(&self, count: usize) {
        loop {
            let notified = self.started.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.starts.lock().unwrap().len() >= count {
                return;
            }
            notified.await;
        }
    }

    /// Lets `count` held attempts finish.
    pub fn release(&self, count: usize) {
        self.permits.add_permits(count);
    }

    /// The most attempts that ran at the same time.
    pub fn most_at_once(&self) -> usize {
        self.running.lock().unwrap().1
    }
}

impl Catalog for ScriptedCatalog {
    fn start(&self, name: &str, request: ActionRequest) -> Option<ActionFuture> {
        if name != "shell" {
            return None;
        }
        let act = self
            .scripts
            .lock()
            .unwrap()
            .get_mut(&request.step)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Act::Succeed(Value::Object(Map::new())));
        self.starts.lock().unwrap().push(Start {
            step: request.step.clone(),
            params: request.params.clone(),
            at: self.clock.monotonic(),
        });
        self.started.notify_waiters();
        let (permits, running) = (self.permits.clone(), self.running.clone());
        {
            let mut r = running.lock().unwrap();
            r.0 += 1;
            r.1 = r.1.max(r.0);
        }
        Some(Box::pin(async move {
            let result = match act {
                Act::Succeed(Value::Object(outputs)) => Ok(outputs),
                Act::Succeed(_) => Ok(Map::new()),
                Act::Fail(error) => Err(ActionError::Io {
                    source: std::io::Error::other(error),
                }),
                Act::Hang => {
                    request.cancel.cancelled().await;
                    Err(ActionError::Cancelled)
                }
                Act::Hold => {
                    tokio::select! {
                        permit = permits.acquire() => {
                            permit.expect("the semaphore stays open").forget();
                            Ok(Map::new())
                        }
                        () = request.cancel.cancelled() => Err(ActionError::Cancelled),
                    }
                }
            };
            running.lock().unwrap().0 -= 1;
            result
        }))
    }
}

/// A scripted answer to a checkpoint.
#[derive(Debug, Clone)]
pub enum Reply {
    Answer(Value),
    NoTerminal,
    CtrlC,
    /// The timeout passed and there is no default.
    NoAnswer,
}

/// Answers from a script, per step, in order; a question without a scripted answer
/// fails the test.
#[derive(Default)]
pub struct ScriptedAnswerer {
    checkpoints: Mutex<HashMap<String, VecDeque<Reply>>>,
    /// `None`: Ctrl-C at the question.
    failures: Mutex<VecDeque<Option<FailureChoice>>>,
    /// Every question asked: `checkpoint <step>` or `failure <step>`.
    pub asked: Mutex<Vec<String>>,
}

impl ScriptedAnswerer {
    pub fn reply(&self, step: &str, replies: impl IntoIterator<Item = Reply>) {
        self.checkpoints
            .lock()
            .unwrap()
            .entry(step.into())
            .or_default()
            .extend(replies);
    }

    pub fn decide(&self, choices: impl IntoIterator<Item = FailureChoice>) {
        self.failures
            .lock()
            .unwrap()
            .extend(choices.into_iter().map(Some));
    }

    /// The next question after a failure is ended with Ctrl-C.
    pub fn ctrl_c_at_the_decision(&self) {
        self.failures.lock().unwrap().push_back(None);
    }

    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Answerer for ScriptedAnswerer {
    fn name(&self) -> &str {
        "tester"
    }

    fn checkpoint(
        &self,
        question: &Question,
        _timeout: Option<Timeout>,
    ) -> Result<(Value, AnsweredBy), OperatorError> {
        let step = question.step.clone();
        self.asked
            .lock()
            .unwrap()
            .push(format!("checkpoint {step}"));
        let reply = self
            .checkpoints
            .lock()
            .unwrap()
            .get_mut(&step)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| panic!("checkpoint `{step}` was asked, but no answer is scripted"));
        let what = format!("checkpoint `{step}`");
        match reply {
            Reply::Answer(value) => Ok((
                value,
                AnsweredBy::Operator {
                    name: "tester".into(),
                },
            )),
            Reply::NoTerminal => Err(OperatorError::NoTerminal {
                what,
                hint: "; run at a terminal".into(),
            }),
            Reply::CtrlC => Err(OperatorError::Interrupted { what }),
            Reply::NoAnswer => Err(OperatorError::NoAnswer {
                what,
                after: "1s".into(),
            }),
        }
    }

    fn after_failure(&self, step: &str, _error: &str) -> Result<FailureChoice, OperatorError> {
        self.asked.lock().unwrap().push(format!("failure {step}"));
        let what = format!("the failure of step `{step}`");
        match self.failures.lock().unwrap().pop_front() {
            Some(Some(choice)) => Ok(choice),
            Some(None) => Err(OperatorError::Interrupted { what }),
            None => Err(OperatorError::NoTerminal {
                what,
                hint: String::new(),
            }),
        }
    }

    fn interrupted(&self, step: &str) -> Result<InterruptedChoice, OperatorError> {
        panic!("the engine never asks about interrupted step `{step}` (resume does)")
    }

    fn after_ctrl_c(&self, _wake: Option<&Wake>) -> Result<Option<CtrlCChoice>, OperatorError> {
        Ok(Some(CtrlCChoice::Pause))
    }
}

/// When every test run starts, on the manual clock.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap()
}

/// A runbook with its scripted world: one engine per session, sharing the catalogue,
/// the answerer and the clock.
pub struct Harness {
    pub valid: ValidRunbook,
    pub catalog: Arc<ScriptedCatalog>,
    pub answerer: Arc<ScriptedAnswerer>,
    pub clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
    sessions: usize,
}

impl Harness {
    /// `steps` is the YAML under `spec:` (indented by two spaces).
    pub fn new(spec: &str) -> Harness {
        let text = format!(
            "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: t, version: 1.0.0}}\nspec:\n{spec}"
        );
        let valid = crate::runbook::load(&text)
            .unwrap_or_else(|d| panic!("the test runbook is not valid: {d:?}"));
        let clock = Arc::new(ManualClock::new(epoch()));
        Harness {
            valid,
            catalog: Arc::new(ScriptedCatalog::new(clock.clone())),
            answerer: Arc::new(ScriptedAnswerer::default()),
            clock,
            dir: tempfile::tempdir().unwrap(),
            sessions: 0,
        }
    }

    /// An engine for a new session after `history` (empty for a new run).
    pub fn engine(&mut self, history: Vec<Record>) -> Engine {
        self.engine_observed(history, Vec::new())
    }

    /// `engine`, with `observers` watching it.
    pub fn engine_observed(
        &mut self,
        history: Vec<Record>,
        observers: Vec<Box<dyn crate::engine::Observer>>,
    ) -> Engine {
        self.sessions += 1;
        let path = self
            .dir
            .path()
            .join(format!("journal-{}.jsonl", self.sessions));
        let writer = JournalWriter::create(&path).unwrap();
        let run = serde_json::json!({"id": "r1", "mode": "incident"});
        Engine::new(
            Recorder::new(writer, history, observers),
            RunContext::new(Map::new(), Map::new(), Value::Object(Map::new()), run),
            Masker::default(),
            self.dir.path().to_path_buf(),
            Seams {
                catalog: self.catalog.clone(),
                answerer: self.answerer.clone(),
                clock: self.clock.clone(),
            },
        )
    }

    /// Drives `engine` from the state `history` replays to, alongside `script` (what the
    /// test does while the run goes on); returns how the run ended.
    pub async fn drive(
        &self,
        engine: &mut Engine,
        script: impl std::future::Future<Output = ()>,
    ) -> RunEnd {
        let prior = engine::replay::replay(&self.valid.runbook, &engine.recorder.records)
            .expect("the history replays");
        let mut facts = RunFacts {
            mode: Mode::Incident,
            declared_at: epoch(),
            failed_at: None,
            declare_at_recovery: false,
        };
        let run = engine::drive(engine, &self.valid, &mut facts, &prior);
        // Bounded, so a broken engine fails the test instead of hanging it.
        let both = async { tokio::join!(run, script).0 };
        tokio::time::timeout(Duration::from_secs(20), both)
            .await
            .expect("the run ended")
            .expect("the engine did not fail")
    }

    /// Runs a new session after `history` to its end with nothing else going on.
    pub async fn run(&mut self, history: Vec<Record>) -> (RunEnd, Vec<Record>) {
        let (end, engine) = self.run_engine(history).await;
        (end, engine.recorder.records)
    }

    /// `run`, returning the engine as the session left it (its template context).
    pub async fn run_engine(&mut self, history: Vec<Record>) -> (RunEnd, Engine) {
        let mut engine = self.engine(history);
        let end = self.drive(&mut engine, async {}).await;
        (end, engine)
    }
}

/// `steps.<id>.status` as later templates see it: succeeded, failed or skipped.
pub fn status(engine: &Engine, step: &str) -> String {
    engine
        .context
        .step(step)
        .and_then(|s| s["status"].as_str())
        .unwrap_or("(not finished)")
        .to_string()
}

/// A one-line summary of each step event, for comparing whole histories:
/// `started a 1`, `finished a 1 failed`, `answered approve`, `decided a continue`,
/// `skipped a`, `paused`, `finished run succeeded`.
pub fn story(records: &[Record]) -> Vec<String> {
    use crate::journal::event::Outcome;
    let item = |i: &Option<usize>| i.map(|i| format!("[{i}]")).unwrap_or_default();
    records
        .iter()
        .filter_map(|r| {
            Some(match &r.event {
                Event::StepStarted {
                    step,
                    item: i,
                    attempt,
                    ..
                } => format!("started {step}{} {attempt}", item(i)),
                Event::StepFinished {
                    step,
                    item: i,
                    attempt,
                    outcome,
                } => {
                    let result = match outcome {
                        Outcome::Succeeded { .. } => "succeeded",
                        Outcome::Failed { .. } => "failed",
                        Outcome::TimedOut { .. } => "timed_out",
                        Outcome::Cancelled { .. } => "cancelled",
                        Outcome::MarkedDone { .. } => "marked_done",
                    };
                    format!("finished {step}{} {attempt} {result}", item(i))
                }
                Event::CheckpointAnswered { step, .. } => format!("answered {step}"),
                Event::FailureDecided {
                    step,
                    item: i,
                    decision,
                    ..
                } => format!("decided {step}{} {decision:?}", item(i)).to_lowercase(),
                Event::StepSkipped { step, .. } => format!("skipped {step}"),
                Event::RunPaused { .. } => "paused".into(),
                Event::SessionStarted { .. } => "session".into(),
                _ => return None,
            })
        })
        .collect()
}
