//! A resumed run (`drbook resume RUN_ID`): the same run id, continued from its journal.
//!
//! The journal is verified and replayed through the step state machine. A step that was
//! running when drbook died is re-run when its action is safe to re-run (or the step
//! promises `idempotent: true`); otherwise the operator says whether it finished. Every
//! refusal happens before the journal is written to.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::assemble::{EngineParts, build_engine};
use super::binding;
use super::driver::Session;
use super::{cluster_check, preflight, preflight_answers};
use crate::app_error::{AppError, FileKind};
use crate::cli::OutputFormat;
use crate::engine::step_state::StepState;
use crate::engine::{self, RunFacts};
use crate::journal::JournalWriter;
use crate::journal::event::{Event, Outcome, VIA_PREFLIGHT};
use crate::operator::{self, InterruptedChoice, Operator};
use crate::run_dir::{OpenRun, StateDir};
use crate::runbook::model::{Step, StepBody};
use crate::signing::Signer;
use crate::store::{Store, StoreSpec};

/// What `resume` was asked to do.
pub struct ResumeRequest {
    pub run_id: String,
    pub accept_changed_runbook: bool,
    pub targets: Option<PathBuf>,
    pub operator: Option<String>,
    pub output: OutputFormat,
    /// Signs the journal at the end of the session, the lines of a session that died
    /// before its end included.
    pub signer: Option<Signer>,
    /// The record store to upload the run to when this session ends (`--store`).
    pub store: Option<StoreSpec>,
}

impl Session {
    /// Opens, checks and replays a run so that driving it continues where it stopped.
    pub fn resume(request: ResumeRequest, state: &StateDir) -> Result<Session, AppError> {
        let store = request.store.as_ref().map(Store::open).transpose()?;
        let OpenRun { dir, lock, journal } = state.run(&request.run_id)?.open(state)?;
        let no_start = || {
            AppError::refused(format!(
                "the journal of run `{}` has no start event; the record is damaged",
                dir.id
            ))
        };
        let Some(Event::RunStarted {
            mode,
            runbook: recorded,
            target,
            targets_file,
            answers_file,
            inputs,
            ..
        }) = journal.records.first().map(|r| r.event.clone())
        else {
            return Err(no_start());
        };
        if let Some(Event::RunFinished { outcome, .. }) = journal
            .records
            .iter()
            .map(|r| &r.event)
            .find(|e| matches!(e, Event::RunFinished { .. }))
        {
            return Err(AppError::refused(format!(
                "run `{}` already finished ({}); start a new run instead",
                dir.id,
                outcome.name()
            )));
        }
        // The runbook at its original path is what the operator may have fixed; the
        // copy in the run directory is what the run started with.
        let original = Path::new(&recorded.path);
        let (runbook_path, bytes) = match std::fs::read(original) {
            Ok(bytes) => (original.to_path_buf(), bytes),
            Err(_) => (
                dir.runbook(),
                std::fs::read(dir.runbook())
                    .map_err(|e| AppError::unreadable(dir.runbook(), &e))?,
            ),
        };
        let sha256 = base16ct::lower::encode_string(&Sha256::digest(&bytes));
        let changed = sha256 != recorded.sha256;
        if changed && !request.accept_changed_runbook {
            return Err(AppError::refused(format!(
                "runbook `{}` changed since run `{}` started (sha256 {} then, {} now); resume refuses to mix two versions. Restore the file, or pass `--accept-changed-runbook` to continue with the new one (this is recorded)",
                runbook_path.display(),
                dir.id,
                &recorded.sha256[..12.min(recorded.sha256.len())],
                &sha256[..12]
            )));
        }
        let file = match String::from_utf8(bytes) {
            Ok(text) => crate::source::source_file::SourceFile::new(&runbook_path, text),
            Err(_) => crate::load::text(&runbook_path, FileKind::Runbook)?,
        };
        let valid = crate::load::validated(file)?.valid;
        let runbook = &valid.runbook;
        let prior = engine::replay::replay(runbook, &journal.records)
            .map_err(|e| AppError::refused(e.to_string()))?;
        let targets_flag = request.targets.clone().or(targets_file.map(PathBuf::from));
        let bound = binding::bind_target(
            mode,
            target.as_deref(),
            targets_flag.as_deref(),
            &runbook_path,
        )?;
        preflight::check_target_reads(&valid, mode, &runbook_path, bound.as_ref())?;
        let answers = binding::load_answers(mode, answers_file.as_deref().map(Path::new), runbook)?;
        let interactive = operator::terminal_available();
        preflight_answers::check(runbook, mode, answers.as_ref(), interactive, &prior)?;
        let secrets = binding::resolve_secrets(runbook)?;
        let operator_name = binding::operator_name(request.operator.as_deref());
        let operator = Operator {
            name: operator_name.clone(),
            answers,
            interactive,
        };
        // The target may have been pointed elsewhere since the last session: the
        // cluster is checked again before the journal is written to, and before the
        // operator is asked about interrupted steps of a resume that would be refused.
        let cluster = cluster_check::check(runbook, mode, bound.as_ref(), &dir.workdir())?;
        let decisions = decide_interrupted(runbook, &prior, &operator, &dir.id)?;
        // Declared-at as the record has it: a drill's recovery may have declared it later.
        let facts = RunFacts::from_records(&journal.records).ok_or_else(no_start)?;
        let writer = JournalWriter::resume(&dir.journal(), &journal)?;
        let mut engine = build_engine(EngineParts {
            runbook,
            file: &runbook_path,
            dir: &dir,
            mode: facts.mode,
            declared_at: facts.declared_at,
            operator,
            inputs,
            secrets,
            target_facts: bound.as_ref().map_or(json!({}), |b| b.target.facts.clone()),
            output: request.output,
            writer,
            records: journal.records.clone(),
        });
        let record = |engine: &mut engine::Engine, event| {
            engine
                .recorder
                .record(event)
                .map(|_| ())
                .map_err(|e| AppError::failed(e.to_string()))
        };
        record(
            &mut engine,
            Event::SessionStarted {
                operator: operator_name.clone(),
                accepted_changed_runbook: changed,
                runbook_sha256: sha256,
            },
        )?;
        // Recorded once per cluster in a run: a resumed session on the same cluster adds
        // nothing.
        if let Some(cluster) = cluster
            && !engine.recorder.reached(&cluster.uid)
        {
            record(
                &mut engine,
                Event::ClusterReached {
                    server: cluster.server,
                    uid: cluster.uid,
                    context: cluster.context,
                    via: VIA_PREFLIGHT.into(),
                },
            )?;
        }
        // Steps the operator confirmed as finished are recorded as such and not run again.
        for decision in decisions {
            if decision.choice == InterruptedChoice::Done {
                record(
                    &mut engine,
                    Event::StepFinished {
                        step: decision.step,
                        item: decision.item,
                        attempt: decision.attempt,
                        outcome: Outcome::MarkedDone {
                            by: operator_name.clone(),
                        },
                    },
                )?;
            }
        }
        let prior = engine::replay::replay(runbook, &engine.recorder.records)
            .map_err(|e| AppError::refused(e.to_string()))?;
        Ok(Session {
            engine,
            valid,
            facts,
            prior,
            first: Vec::new(),
            resume_command: state.resume_command(&dir.id),
            run_id: dir.id.clone(),
            dir,
            signer: request.signer,
            _lock: lock,
            store,
        })
    }
}

/// What happens to one step instance that was running when drbook stopped.
struct Decision {
    step: String,
    item: Option<usize>,
    attempt: u32,
    choice: InterruptedChoice,
}

/// Decides, before anything is written, about every step instance that was running when
/// drbook stopped: re-run it when that is safe, else ask the operator.
fn decide_interrupted(
    runbook: &crate::runbook::Runbook,
    prior: &engine::replay::Prior,
    operator: &Operator,
    run_id: &str,
) -> Result<Vec<Decision>, AppError> {
    let inject = runbook
        .spec
        .drill
        .as_ref()
        .map_or(&[][..], |d| &d.inject[..]);
    let mut decisions = Vec::new();
    for (section, steps) in [
        (&prior.inject, inject),
        (&prior.recovery, &runbook.spec.steps[..]),
    ] {
        for (step, prior_step) in steps.iter().zip(section.iter()) {
            for (item, prior_item) in prior_step.items.iter().enumerate() {
                let StepState::Interrupted { attempt } = &prior_item.state else {
                    continue;
                };
                let choice = if rerun_safe(step) {
                    InterruptedChoice::Rerun
                } else {
                    operator
                        .interrupted(&step.id.value)
                        .map_err(|e| AppError::refused(e.to_string()))?
                };
                if choice == InterruptedChoice::Abort {
                    return Err(AppError::refused(format!(
                        "resume of run `{run_id}` aborted at the operator's word: step `{}` needs attention first; nothing was changed",
                        step.id.value
                    )));
                }
                decisions.push(Decision {
                    step: step.id.value.clone(),
                    item: step.foreach.as_ref().map(|_| item),
                    attempt: *attempt,
                    choice,
                });
            }
        }
    }
    Ok(decisions)
}

/// Re-running after a crash is safe when the action says so or the author promised it.
fn rerun_safe(step: &Step) -> bool {
    if step.idempotent.as_ref().is_some_and(|i| i.value) {
        return true;
    }
    match &step.body {
        StepBody::Action(call) => {
            crate::actions::lookup(&call.name).is_some_and(|a| a.rerun_safe())
        }
        // A checkpoint is simply asked again.
        StepBody::Checkpoint(_) => true,
    }
}
