//! A new run (`drbook run`, `drbook drill`): everything that can refuse it is checked
//! before its run directory exists; only then is the run recorded.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::assemble::{EngineParts, build_engine};
use super::binding::{self, BoundTarget};
use super::driver::Session;
use super::{cluster_check, preflight, preflight_answers};
use crate::app_error::AppError;
use crate::cli::OutputFormat;
use crate::engine::{self, RunFacts};
use crate::journal::event::{Event, FORMAT_MAJOR, FORMAT_MINOR, Mode, RunbookRef, VIA_PREFLIGHT};
use crate::load::LoadedRunbook;
use crate::operator::{self, Operator};
use crate::run_dir::{self, StateDir};
use crate::signing::Signer;
use crate::store::{Store, StoreSpec};

/// What `run` and `drill` were asked to do.
pub struct StartRequest {
    pub file: PathBuf,
    pub mode: Mode,
    pub inputs: Vec<String>,
    pub answers: Option<PathBuf>,
    pub run_id: Option<String>,
    pub declared_at: Option<String>,
    pub failed_at: Option<String>,
    pub target: Option<String>,
    pub targets: Option<PathBuf>,
    pub operator: Option<String>,
    pub output: OutputFormat,
    /// Signs the journal at the end of the session (checked before it starts).
    pub signer: Option<Signer>,
    /// The record store to register the run in and upload it to (`--store`).
    pub store: Option<StoreSpec>,
}

impl Session {
    /// Binds and records a new run; its steps run when the session is driven.
    pub fn start(
        request: StartRequest,
        loaded: LoadedRunbook,
        state: &StateDir,
    ) -> Result<Session, AppError> {
        let LoadedRunbook { bytes, valid, .. } = loaded;
        let runbook = &valid.runbook;
        let mode = request.mode;
        // Absolute, so answers are recorded with the same path in every session.
        let answers_path = request.answers.as_deref().map(absolute);
        let answers = binding::load_answers(mode, answers_path.as_deref(), runbook)?;
        let bound = binding::bind_target(
            mode,
            request.target.as_deref(),
            request.targets.as_deref(),
            &request.file,
        )?;
        preflight::check_target_reads(&valid, mode, &request.file, bound.as_ref())?;
        let interactive = operator::terminal_available();
        preflight_answers::check(
            runbook,
            mode,
            answers.as_ref(),
            interactive,
            &engine::replay::Prior::default(),
        )?;
        let inputs = binding::resolve_inputs(runbook, &request.inputs, interactive)?;
        let secrets = binding::resolve_secrets(runbook)?;
        let operator_name = binding::operator_name(request.operator.as_deref());
        let now = Utc::now();
        let declared_at = match &request.declared_at {
            Some(text) => binding::parse_time("--declared-at", text)?,
            None => now,
        };
        let failed_at = request
            .failed_at
            .as_deref()
            .map(|t| binding::parse_time("--failed-at", t))
            .transpose()?;
        if declared_at > now {
            return Err(AppError::refused(
                "--declared-at is in the future; give the time the incident was declared",
            ));
        }
        // An unusable store (a bad location, no credentials) refuses the run before
        // anything exists; one that cannot be reached only warns (see `register`).
        let store = request.store.as_ref().map(Store::open).transpose()?;
        let run_id = request.run_id.unwrap_or_else(run_dir::new_run_id);
        let dir = state.run(&run_id)?;
        // The last check, as it is the one that reaches out: the cluster the run would
        // change is the one the target names, or nothing is started.
        let cluster = cluster_check::check(runbook, mode, bound.as_ref(), &dir.workdir())?;
        let sha256 = base16ct::lower::encode_string(&Sha256::digest(&bytes));
        let (lock, writer) = dir.create(&bytes, &sha256)?;
        let (target_name, target_facts, targets_file) = match &bound {
            Some(BoundTarget { target, file }) => (
                Some(target.name.clone()),
                target.facts.clone(),
                Some(absolute(file).display().to_string()),
            ),
            None => (None, json!({}), None),
        };
        let engine = build_engine(EngineParts {
            runbook,
            file: &request.file,
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
            output: request.output,
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
                path: absolute(&request.file).display().to_string(),
                name: runbook.metadata.name.value.clone(),
                version: runbook.metadata.version.value.to_string(),
                sha256,
            },
            target: target_name,
            targets_file,
            answers_file: answers_path.as_deref().map(|p| p.display().to_string()),
            operator: operator_name,
            declared_at,
            declared_at_given: request.declared_at.is_some(),
            failed_at,
            inputs,
        };
        if let Some(store) = &store {
            register(store, &started);
        }
        let facts = RunFacts {
            mode,
            declared_at,
            failed_at,
            declare_at_recovery: mode == Mode::Drill && request.declared_at.is_none(),
        };
        Ok(Session {
            engine,
            valid,
            facts,
            prior: engine::replay::Prior::default(),
            first: std::iter::once(started)
                .chain(cluster.map(|c| Event::ClusterReached {
                    server: c.server,
                    uid: c.uid,
                    context: c.context,
                    via: VIA_PREFLIGHT.into(),
                }))
                .collect(),
            resume_command: state.resume_command(&run_id),
            run_id,
            dir,
            signer: request.signer,
            _lock: lock,
            store,
        })
    }
}

/// A path as recorded in the journal: absolute, so `resume` finds the same file from
/// any directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Registers the run in the store. A store that cannot be reached does not stop an
/// incident or a drill: the run goes on, warned, and its upload at the session's end
/// writes the registration then.
fn register(store: &Store, started: &Event) {
    if let Err(error) = crate::store::register(store, started) {
        eprintln!(
            "warning: the run was not registered in the store: {error}; it runs on and its record is uploaded when the session ends"
        );
    }
}
