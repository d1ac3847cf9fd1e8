//! What a run is bound to before its first step: the target, the drill answers, the
//! input values, the secrets and the operator's name. Every check here can refuse a
//! run, so all of them happen before a run directory exists; `plan` binds a target
//! through the same functions, so it shows what a run there would do.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::app_error::{AppError, FileKind};
use crate::input_values;
use crate::journal::event::Mode;
use crate::operator::{self, Answers};
use crate::runbook::model::{Runbook, SecretSource, StepBody};
use crate::targets::{self, Target};

/// A target and the file it was read from.
pub struct BoundTarget {
    pub target: Target,
    pub file: std::path::PathBuf,
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

/// An RFC 3339 time given on the command line.
pub fn parse_time(flag: &str, text: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            AppError::usage(format!(
                "{flag} `{text}` is not an RFC 3339 time ({e}); write e.g. 2026-11-24T03:12:00Z"
            ))
        })
}

/// The target a run (or a plan of one) is bound to, checked against the mode: a drill
/// needs a named target that allows drills.
pub fn bind_target(
    mode: Mode,
    name: Option<&str>,
    targets_flag: Option<&Path>,
    runbook_path: &Path,
) -> Result<Option<BoundTarget>, AppError> {
    let Some(name) = name else {
        if mode == Mode::Drill {
            return Err(AppError::refused(
                "a drill needs `--target NAME`, naming a target whose entry says `drill: allowed`; drills never run against an unnamed environment",
            ));
        }
        return Ok(None);
    };
    let Some(path) = targets::locate(targets_flag, runbook_path) else {
        return Err(AppError::refused(format!(
            "`--target {name}` needs a targets file: pass `--targets FILE` or put `{}` beside the runbook or in the current directory",
            targets::DEFAULT_FILE
        )));
    };
    let target = targets::load(&path, name).map_err(|e| match e {
        targets::TargetError::Invalid(file, diagnostics) => AppError::Invalid {
            kind: FileKind::Targets,
            file,
            diagnostics,
        },
        targets::TargetError::Other(message) => AppError::refused(message),
    })?;
    if mode == Mode::Drill && !target.drill_allowed {
        return Err(AppError::refused(format!(
            "target `{name}` ({} environment) does not allow drills: its entry in `{}` must say `drill: allowed`; nothing was changed",
            target.environment,
            path.display()
        )));
    }
    Ok(Some(BoundTarget { target, file: path }))
}

/// Reads a drill answers file and checks every answer names a checkpoint.
pub fn load_answers(
    mode: Mode,
    path: Option<&Path>,
    runbook: &Runbook,
) -> Result<Option<Answers>, AppError> {
    let Some(path) = path else { return Ok(None) };
    if mode == Mode::Incident {
        return Err(AppError::refused(
            "`--answers` is refused in incident mode: during an incident every checkpoint is answered by a person, who is recorded as having answered it; answers files are for `drbook drill`",
        ));
    }
    let answers = Answers::load(path).map_err(|(file, diagnostics)| AppError::Invalid {
        kind: FileKind::Answers,
        file,
        diagnostics,
    })?;
    let checkpoints: Vec<&str> = runbook
        .all_steps()
        .filter(|s| matches!(s.body, StepBody::Checkpoint(_)))
        .map(|s| s.id.value.as_str())
        .collect();
    if let Some(unknown) = answers.steps().find(|s| !checkpoints.contains(s)) {
        return Err(AppError::refused(format!(
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
) -> Result<Map<String, Value>, AppError> {
    let mut values = input_values::parse_args(runbook, args).map_err(AppError::Usage)?;
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
        return Err(AppError::refused(format!(
            "inputs without a value and no terminal to ask: {}",
            names.join(" ")
        )));
    }
    for input in missing {
        let value = operator::ask_input(input).map_err(|e| AppError::refused(e.to_string()))?;
        values.insert(input.name.value.clone(), value);
    }
    Ok(values)
}

/// Secret values from the environment or files. A missing secret refuses the run
/// before anything happens; its value never appears in a message.
pub fn resolve_secrets(runbook: &Runbook) -> Result<Map<String, Value>, AppError> {
    let mut secrets = Map::new();
    for secret in &runbook.spec.secrets {
        let name = &secret.name.value;
        let value = match &secret.source {
            SecretSource::Env(var) => std::env::var(&var.value).map_err(|_| {
                AppError::refused(format!(
                    "secret `{name}`: environment variable `{}` is not set; export it before the run",
                    var.value
                ))
            })?,
            SecretSource::File(path) => std::fs::read_to_string(&path.value)
                .map(|v| v.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| {
                    AppError::refused(format!(
                        "secret `{name}`: cannot read `{}`: {}",
                        path.value,
                        crate::source::source_file::describe_io(&e)
                    ))
                })?,
        };
        if value.is_empty() {
            return Err(AppError::refused(format!(
                "secret `{name}` is empty; set its value before the run"
            )));
        }
        secrets.insert(name.clone(), Value::String(value));
    }
    Ok(secrets)
}
