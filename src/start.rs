//! `drbook run` and `drbook drill`: everything that can refuse a run is checked before
//! the run directory exists; only then is the run recorded and driven.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::cli::OutputFormat;
use crate::engine::{self, Engine, Masker, Observer, Recorder, RunContext, RunFacts};
use crate::exit_code;
use crate::input_values;
use crate::journal::event::{Event, FORMAT_MAJOR, FORMAT_MINOR, Mode, RunOutcome, RunbookRef};
use crate::journal::{JournalWriter, RunLock};
use crate::operator::{self, Answers, Operator};
use crate::runbook::ValidRunbook;
use crate::runbook::model::{InputKind, Runbook, SecretSource, StepBody};
use crate::state_dir::{self, RunDir};
use crate::targets::{self, Target};
use crate::view::{JsonView, TerminalView};

/// What `run` and `drill` were asked to do.
pub struct StartOptions {
    pub file: PathBuf,
    pub mode: Mode,
    pub inputs: Vec<String>,
    pub answers: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub run_id: Option<String>,
    pub declared_at: Option<String>,
    pub failed_at: Option<String>,
    pub target: Option<String>,
    pub targets: Option<PathBuf>,
    pub operator: Option<String>,
    pub output: OutputFormat,
}

/// Why a run did not start; nothing was changed.
pub struct Refusal {
    pub code: i32,
    pub message: String,
}

impl Refusal {
    pub fn new(message: impl Into<String>) -> Self {
        Refusal {
            code: exit_code::REFUSED,
            message: message.into(),
        }
    }
}

/// The operator's name: `--operator`, `$DRBOOK_OPERATOR`, else the login name.
pub fn operator_name(flag: Option<&str>) -> String {
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    flag.map(String::from)
        .or_else(|| env("DRBOOK_OPERATOR"))
        .or_else(|| env("LOGNAME"))
        .or_else(|| env("USER"))
        // cron and CronJobs often set neither variable; the account is still known.
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| format!("uid {}", nix::unistd::getuid()))
}

fn parse_time(flag: &str, text: &str) -> Result<DateTime<Utc>, Refusal> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Refusal {
            code: exit_code::USAGE,
            message: format!(
                "{flag} `{text}` is not an RFC 3339 time ({e}); write e.g. 2026-11-24T03:12:00Z"
            ),
        })
}

/// The target a run is bound to, checked against the mode.
pub fn bind_target(
    mode: Mode,
    name: Option<&str>,
    targets_flag: Option<&Path>,
    runbook_path: &Path,
) -> Result<Option<(Target, PathBuf)>, Refusal> {
    let Some(name) = name else {
        if mode == Mode::Drill {
            return Err(Refusal::new(
                "a drill needs `--target NAME`, naming a target whose entry says `drill: allowed`; drills never run against an unnamed environment",
            ));
        }
        return Ok(None);
    };
    let Some(path) = targets::locate(targets_flag, runbook_path) else {
        return Err(Refusal::new(format!(
            "`--target {name}` needs a targets file: pass `--targets FILE` or put `{}` beside the runbook or in the current directory",
            targets::DEFAULT_FILE
        )));
    };
    let target = targets::load(&path, name).map_err(|e| match e {
        targets::TargetError::Invalid(file, diagnostics) => {
            let color = console::colors_enabled_stderr();
            let rendered: Vec<String> =
                diagnostics.iter().map(|d| d.render(&file, color)).collect();
            Refusal {
                code: exit_code::INVALID_RUNBOOK,
                message: format!(
                    "{}the targets file `{}` is not valid",
                    rendered.join("\n"),
                    path.display()
                ),
            }
        }
        targets::TargetError::Other(message) => Refusal::new(message),
    })?;
    if mode == Mode::Drill && !target.drill_allowed {
        return Err(Refusal::new(format!(
            "target `{name}` ({} environment) does not allow drills: its entry in `{}` must say `drill: allowed`; nothing was changed",
            target.environment,
            path.display()
        )));
    }
    Ok(Some((target, path)))
}

/// Reads a drill answers file and checks every answer names a checkpoint.
pub fn load_answers(
    mode: Mode,
    path: Option<&Path>,
    runbook: &Runbook,
) -> Result<Option<Answers>, Refusal> {
    let Some(path) = path else { return Ok(None) };
    if mode == Mode::Incident {
        return Err(Refusal::new(
            "`--answers` is refused in incident mode: during an incident every checkpoint is answered by a person, who is recorded as having answered it; answers files are for `drbook drill`",
        ));
    }
    let answers = Answers::load(path).map_err(|(file, diagnostics)| {
        let rendered: Vec<String> = diagnostics.iter().map(|d| d.render(&file, false)).collect();
        Refusal {
            code: exit_code::INVALID_RUNBOOK,
            message: format!(
                "{}the answers file `{}` is not valid",
                rendered.join("\n"),
                path.display()
            ),
        }
    })?;
    let checkpoints: Vec<&str> = runbook
        .all_steps()
        .filter(|s| matches!(s.body, StepBody::Checkpoint(_)))
        .map(|s| s.id.value.as_str())
        .collect();
    if let Some(unknown) = answers.steps().find(|s| !checkpoints.contains(s)) {
        return Err(Refusal::new(format!(
            "the answers file `{}` answers `{unknown}`, which is not a checkpoint of this runbook (its checkpoints: {})",
            path.display(),
            checkpoints.join(", ")
        )));
    }
    Ok(Some(answers))
}

/// Input values: `-i` first, then defaults, then asked at the terminal; without a
/// terminal a missing input refuses the run.
pub fn resolve_inputs(
    runbook: &Runbook,
    args: &[String],
    interactive: bool,
) -> Result<Map<String, Value>, Refusal> {
    let mut values = input_values::parse_args(runbook, args).map_err(|message| Refusal {
        code: exit_code::USAGE,
        message,
    })?;
    let mut missing = Vec::new();
    for input in &runbook.spec.inputs {
        let name = &input.name.value;
        if values.contains_key(name) {
            continue;
        }
        if let Some(default) = &input.default {
            values.insert(name.clone(), default.value.clone());
        } else {
            missing.push(input);
        }
    }
    if missing.is_empty() {
        return Ok(values);
    }
    if !interactive {
        let names: Vec<String> = missing
            .iter()
            .map(|i| format!("-i {}=...", i.name.value))
            .collect();
        return Err(Refusal::new(format!(
            "inputs without a value and no terminal to ask: {}",
            names.join(" ")
        )));
    }
    for input in missing {
        let prompt = match &input.description {
            Some(d) => format!("{} ({})", input.name.value, d.value),
            None => input.name.value.clone(),
        };
        let hint = match input.kind {
            InputKind::List => " [comma-separated]",
            InputKind::Bool => " [true/false]",
            _ => "",
        };
        loop {
            let text: String =
                dialoguer::Input::with_theme(&dialoguer::theme::ColorfulTheme::default())
                    .with_prompt(format!("{prompt}{hint}"))
                    .interact_text()
                    .map_err(|e| {
                        Refusal::new(format!("cannot ask for input `{}`: {e}", input.name.value))
                    })?;
            match input_values::typed(input, &text) {
                Ok(value) => {
                    values.insert(input.name.value.clone(), value);
                    break;
                }
                Err(message) => eprintln!("{message}"),
            }
        }
    }
    Ok(values)
}

/// Secret values from the environment or files. A missing secret refuses the run
/// before anything happens; its value never appears in a message.
pub fn resolve_secrets(runbook: &Runbook) -> Result<Map<String, Value>, Refusal> {
    let mut secrets = Map::new();
    for secret in &runbook.spec.secrets {
        let name = &secret.name.value;
        let value = match &secret.source {
            SecretSource::Env(var) => std::env::var(&var.value).map_err(|_| {
                Refusal::new(format!("secret `{name}`: environment variable `{}` is not set; export it before the run", var.value))
            })?,
            SecretSource::File(path) => std::fs::read_to_string(&path.value)
                .map(|v| v.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| Refusal::new(format!("secret `{name}`: cannot read `{}`: {e}", path.value)))?,
        };
        if value.is_empty() {
            return Err(Refusal::new(format!(
                "secret `{name}` is empty; set its value before the run"
            )));
        }
        secrets.insert(name.clone(), Value::String(value));
    }
    Ok(secrets)
}

/// Starts a new run and drives it to its end; returns the exit code.
pub fn start(
    options: StartOptions,
    valid: ValidRunbook,
    runbook_bytes: &[u8],
) -> Result<i32, Refusal> {
    let runbook = &valid.runbook;
    let mode = options.mode;
    // Absolute, so answers are recorded with the same path in every session.
    let answers_path = options
        .answers
        .as_deref()
        .map(|p| PathBuf::from(absolute(p)));
    let answers = load_answers(mode, answers_path.as_deref(), runbook)?;
    let bound = bind_target(
        mode,
        options.target.as_deref(),
        options.targets.as_deref(),
        &options.file,
    )?;
    let interactive = operator::terminal_available();
    let inputs = resolve_inputs(runbook, &options.inputs, interactive)?;
    let secrets = resolve_secrets(runbook)?;
    let operator_name = operator_name(options.operator.as_deref());
    let now = Utc::now();
    let declared_at = match &options.declared_at {
        Some(text) => parse_time("--declared-at", text)?,
        None => now,
    };
    let failed_at = options
        .failed_at
        .as_deref()
        .map(|t| parse_time("--failed-at", t))
        .transpose()?;
    if declared_at > now {
        return Err(Refusal::new(
            "--declared-at is in the future; give the time the incident was declared",
        ));
    }
    let run_id = match options.run_id {
        Some(id) => {
            state_dir::check_run_id(&id).map_err(|m| Refusal {
                code: exit_code::USAGE,
                message: m,
            })?;
            id
        }
        None => state_dir::new_run_id(),
    };
    let state = state_dir::resolve(options.state_dir.as_deref()).map_err(Refusal::new)?;
    let dir = state_dir::run_dir(&state, &run_id);
    if dir.path.exists() {
        return Err(Refusal::new(format!(
            "run `{run_id}` already exists in {}; choose another `--run-id`, or continue it with `drbook resume {run_id}`",
            state.display()
        )));
    }
    let sha256 = base16ct::lower::encode_string(&Sha256::digest(runbook_bytes));
    let (lock, writer) = create_run_dir(&dir, runbook_bytes, &sha256).map_err(Refusal::new)?;
    let (target_name, target_facts, targets_file) = match &bound {
        Some((t, path)) => (Some(t.name.clone()), t.facts.clone(), Some(absolute(path))),
        None => (None, json!({}), None),
    };
    let mut engine = build_engine(EngineParts {
        runbook,
        dir: &dir,
        mode,
        declared_at,
        operator: Operator {
            name: operator_name.clone(),
            answers,
            interactive,
        },
        inputs: inputs.clone(),
        secrets,
        target_facts,
        output: options.output,
        writer,
        records: Vec::new(),
    });
    let started = Event::RunStarted {
        format: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
        drbook_version: env!("CARGO_PKG_VERSION").into(),
        run_id: run_id.clone(),
        mode,
        runbook: RunbookRef {
            // Absolute, so `drbook resume` from another directory checks the same file.
            path: std::path::absolute(&options.file)
                .unwrap_or_else(|_| options.file.clone())
                .display()
                .to_string(),
            name: runbook.metadata.name.value.clone(),
            version: runbook.metadata.version.value.to_string(),
            sha256,
        },
        target: target_name,
        targets_file,
        answers_file: answers_path.as_deref().map(absolute),
        operator: operator_name,
        declared_at,
        declared_at_given: options.declared_at.is_some(),
        failed_at,
        inputs,
    };
    let mut facts = RunFacts {
        mode,
        declared_at,
        failed_at,
        declare_at_recovery: mode == Mode::Drill && options.declared_at.is_none(),
    };
    let code = drive_to_end(
        &mut engine,
        &valid,
        &mut facts,
        &engine::replay::Prior::default(),
        Some(started),
        &run_id,
    );
    drop(lock);
    Ok(code)
}

/// What a new run and a resumed one both need to assemble their engine.
pub(crate) struct EngineParts<'a> {
    pub runbook: &'a Runbook,
    pub dir: &'a RunDir,
    pub mode: Mode,
    pub declared_at: DateTime<Utc>,
    pub operator: Operator,
    pub inputs: Map<String, Value>,
    pub secrets: Map<String, Value>,
    pub target_facts: Value,
    pub output: OutputFormat,
    pub writer: JournalWriter,
    /// The records of earlier sessions (empty for a new run).
    pub records: Vec<crate::journal::Record>,
}

/// The engine of a run: its template context (`run.*` facts included), the masker of
/// its secrets, the view chosen with `--output`, and the journal writer.
pub(crate) fn build_engine(parts: EngineParts) -> Engine {
    let EngineParts {
        runbook,
        dir,
        mode,
        declared_at,
        operator,
        inputs,
        secrets,
        target_facts,
        output,
        writer,
        records,
    } = parts;
    let masker = Masker::new(
        secrets
            .values()
            .filter_map(|v| v.as_str().map(String::from)),
    );
    let run_facts = json!({
        "id": dir.id,
        "mode": mode.name(),
        "declared_at": declared_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "workdir": dir.workdir().display().to_string(),
        "operator": operator.name,
    });
    let observers: Vec<Box<dyn Observer>> = match output {
        OutputFormat::Text => vec![Box::new(TerminalView::new(runbook))],
        OutputFormat::Json => vec![Box::new(JsonView)],
    };
    Engine {
        recorder: Recorder::new(writer, records, observers),
        context: RunContext::new(inputs, secrets, target_facts, run_facts),
        operator: Arc::new(operator),
        prompt_lock: Arc::new(Mutex::new(())),
        masker,
        workdir: dir.workdir(),
        env: crate::template::environment(),
        interrupt: tokio_util::sync::CancellationToken::new(),
    }
}

/// Creates `<state>/runs/<id>/` with the runbook's exact bytes, its hash, the work
/// directory, the lock and an empty journal.
fn create_run_dir(
    dir: &RunDir,
    bytes: &[u8],
    sha256: &str,
) -> Result<(RunLock, JournalWriter), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("cannot {what} in `{}`: {e}", dir.path.display())
    };
    std::fs::create_dir_all(&dir.path).map_err(|e| fail("create the run directory", &e))?;
    let lock = RunLock::acquire(&dir.path, &dir.id).map_err(|e| e.to_string())?;
    write_durably(&dir.runbook(), bytes).map_err(|e| fail("copy the runbook", &e))?;
    write_durably(
        &dir.runbook_sha256(),
        format!("{sha256}  runbook.yaml\n").as_bytes(),
    )
    .map_err(|e| fail("write the runbook hash", &e))?;
    std::fs::create_dir_all(dir.workdir()).map_err(|e| fail("create the work directory", &e))?;
    // The journal syncs the run directory when it creates its file; the `runs/<id>`
    // entry itself lives in `runs/`, which is synced here.
    if let Some(runs) = dir.path.parent() {
        std::fs::File::open(runs)
            .and_then(|d| d.sync_all())
            .map_err(|e| fail("sync the runs directory", &e))?;
    }
    let writer = JournalWriter::create(&dir.journal()).map_err(|e| e.to_string())?;
    Ok((lock, writer))
}

/// Writes a file and fsyncs it: the record must keep the runbook it ran after a crash.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A path as recorded in the journal: absolute, so `resume` finds the same file from
/// any directory.
fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Records the first event (if any), drives the run on a tokio runtime with Ctrl-C
/// wired to the engine's interrupt, and maps the end to an exit code.
pub fn drive_to_end(
    engine: &mut Engine,
    valid: &ValidRunbook,
    facts: &mut RunFacts,
    prior: &engine::replay::Prior,
    first: Option<Event>,
    run_id: &str,
) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_code::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if let Some(event) = first {
            engine.recorder.record(event)?;
        }
        // Without a wake-up (no socket pair), Ctrl-C pauses without asking.
        let wake = operator::Wake::new().ok().map(Arc::new);
        let aborted = Arc::new(AtomicBool::new(false));
        // Listening before the first step starts: a Ctrl-C from then on is never lost
        // (nor kills drbook with the default action).
        let sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        let ctrl_c = tokio::spawn(watch_ctrl_c(
            sigint,
            engine.interrupt.clone(),
            engine.operator.clone(),
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
            // The running steps were stopped and the pause recorded; the operator
            // asked for more: the run ends here and cannot be resumed.
            engine.recorder.record(Event::RunFinished {
                outcome: RunOutcome::Aborted,
                achieved: paused.achieved.clone(),
            })?;
            engine.recorder.sync()?;
            paused.outcome = Some(RunOutcome::Aborted);
        }
        end
    });
    match result {
        Ok(end) => match end.outcome {
            Some(RunOutcome::Succeeded) => exit_code::SUCCESS,
            Some(RunOutcome::Aborted) => {
                eprintln!("run {run_id} aborted by the operator (Ctrl-C)");
                exit_code::FAILURE
            }
            Some(_) => {
                if let Some(reason) = end.reason {
                    eprintln!(
                        "error: run {run_id} failed: {}",
                        engine.masker.mask(&reason)
                    );
                }
                exit_code::FAILURE
            }
            None => {
                eprintln!(
                    "run {run_id} paused: {}; its state is recorded. Continue with `drbook resume {run_id}`",
                    end.reason.unwrap_or_default()
                );
                exit_code::PAUSED
            }
        },
        Err(e) => {
            eprintln!(
                "error: run {run_id} stopped: {}",
                engine.masker.mask(&e.to_string())
            );
            exit_code::FAILURE
        }
    }
}

/// Ctrl-C during a run asks the operator: pause here, abort, or carry on (a slip).
/// Pause and abort cancel the engine's interrupt (running actions are stopped, the
/// pause is recorded); abort also sets `aborted`. A second Ctrl-C while the question is
/// open, a failed question, or no terminal: pause, the stop that loses nothing.
async fn watch_ctrl_c(
    sigint: std::io::Result<tokio::signal::unix::Signal>,
    interrupt: tokio_util::sync::CancellationToken,
    operator: Arc<Operator>,
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
            // One question on the terminal at a time (a checkpoint may be open).
            let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
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
