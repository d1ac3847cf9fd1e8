//! `drbook resume RUN_ID`: continue a run under the same id, from its journal.
//!
//! The journal is verified and replayed through the step state machine. A step that was
//! running when drbook died is re-run when its action is safe to re-run (or the step
//! promises `idempotent: true`); otherwise the operator says whether it finished.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cli::OutputFormat;
use crate::engine::step_state::StepState;
use crate::engine::{self, RunFacts};
use crate::exit_code;
use crate::journal::event::{Event, Outcome};
use crate::journal::{JournalWriter, RunLock, reader};
use crate::operator::{self, InterruptedChoice, Operator};
use crate::runbook::model::{Step, StepBody};
use crate::start::{self, Refusal};
use crate::state_dir;

pub struct ResumeOptions {
    pub run_id: String,
    pub state_dir: Option<PathBuf>,
    pub accept_changed_runbook: bool,
    pub targets: Option<PathBuf>,
    pub operator: Option<String>,
    pub output: OutputFormat,
}

pub fn resume(options: ResumeOptions) -> Result<i32, Refusal> {
    state_dir::check_run_id(&options.run_id).map_err(|message| Refusal {
        code: exit_code::USAGE,
        message,
    })?;
    let state = state_dir::resolve(options.state_dir.as_deref()).map_err(Refusal::new)?;
    let dir = state_dir::run_dir(&state, &options.run_id);
    if !dir.journal().is_file() {
        return Err(Refusal::new(format!(
            "there is no run `{}` in {}; `drbook runs list` shows the runs there",
            options.run_id,
            state.display()
        )));
    }
    let lock = RunLock::acquire(&dir.path, &dir.id).map_err(|e| Refusal::new(e.to_string()))?;
    let journal = reader::read(&dir.journal()).map_err(|e| Refusal::new(e.to_string()))?;
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
        return Err(Refusal::new(format!(
            "the journal of run `{}` has no start event",
            dir.id
        )));
    };
    if let Some(Event::RunFinished { outcome, .. }) = journal
        .records
        .iter()
        .map(|r| &r.event)
        .find(|e| matches!(e, Event::RunFinished { .. }))
    {
        return Err(Refusal::new(format!(
            "run `{}` already finished ({}); start a new run instead",
            dir.id,
            outcome.name()
        )));
    }
    // The runbook at its original path is what the operator may have fixed; the copy in
    // the run directory is what the run started with.
    let original = Path::new(&recorded.path);
    let (runbook_path, bytes) = match std::fs::read(original) {
        Ok(bytes) => (original.to_path_buf(), bytes),
        Err(_) => (
            dir.runbook(),
            std::fs::read(dir.runbook()).map_err(|e| {
                Refusal::new(format!("cannot read the run's copy of its runbook: {e}"))
            })?,
        ),
    };
    let sha256 = base16ct::lower::encode_string(&Sha256::digest(&bytes));
    let changed = sha256 != recorded.sha256;
    if changed && !options.accept_changed_runbook {
        return Err(Refusal::new(format!(
            "runbook `{}` changed since run `{}` started (sha256 {} then, {} now); resume refuses to mix two versions. Restore the file, or pass `--accept-changed-runbook` to continue with the new one (this is recorded)",
            runbook_path.display(),
            dir.id,
            &recorded.sha256[..12.min(recorded.sha256.len())],
            &sha256[..12]
        )));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| Refusal::new("the runbook is not UTF-8 text"))?;
    let valid = crate::runbook::load(&text).map_err(|diagnostics| {
        let file = crate::source_file::SourceFile::new(&runbook_path, text.clone());
        let rendered: Vec<String> = diagnostics.iter().map(|d| d.render(&file, false)).collect();
        Refusal {
            code: exit_code::INVALID_RUNBOOK,
            message: format!("{}the runbook is not valid any more", rendered.join("\n")),
        }
    })?;
    let runbook = &valid.runbook;
    let prior = engine::replay::replay(runbook, &journal.records)
        .map_err(|e| Refusal::new(e.to_string()))?;
    let targets_flag = options.targets.clone().or(targets_file.map(PathBuf::from));
    let bound = start::bind_target(
        mode,
        target.as_deref(),
        targets_flag.as_deref(),
        &runbook_path,
    )?;
    let answers = start::load_answers(mode, answers_file.as_deref().map(Path::new), runbook)?;
    let secrets = start::resolve_secrets(runbook)?;
    let operator_name = start::operator_name(options.operator.as_deref());
    let interactive = operator::terminal_available();
    let operator = Operator {
        name: operator_name.clone(),
        answers,
        interactive,
    };
    // Decide about interrupted steps before anything is written.
    let mut decisions = Vec::new();
    for (section, steps) in [
        (&prior.inject, inject_steps(runbook)),
        (&prior.recovery, &runbook.spec.steps[..]),
    ] {
        for (step, prior_step) in steps.iter().zip(section.iter()) {
            for (item, (state, _)) in prior_step.items.iter().enumerate() {
                if let StepState::Interrupted { attempt } = state {
                    let item = step.foreach.as_ref().map(|_| item);
                    let choice = if rerun_safe(step) {
                        InterruptedChoice::Rerun
                    } else {
                        operator
                            .interrupted(&step.id.value)
                            .map_err(|e| Refusal::new(e.to_string()))?
                    };
                    if choice == InterruptedChoice::Abort {
                        return Err(Refusal::new(format!(
                            "resume of run `{}` aborted at the operator's word: step `{}` needs attention first; nothing was changed",
                            dir.id, step.id.value
                        )));
                    }
                    decisions.push((step.id.value.clone(), item, *attempt, choice));
                }
            }
        }
    }
    // Declared-at as the record has it: a drill's recovery may have declared it later.
    let Some(mut facts) = RunFacts::from_records(&journal.records) else {
        return Err(Refusal::new(format!(
            "the journal of run `{}` has no start event",
            dir.id
        )));
    };
    let declared_at = facts.declared_at;
    let writer =
        JournalWriter::resume(&dir.journal(), &journal).map_err(|e| Refusal::new(e.to_string()))?;
    let target_facts = bound.as_ref().map_or(json!({}), |(t, _)| t.facts.clone());
    let mut engine = start::build_engine(start::EngineParts {
        runbook,
        dir: &dir,
        mode: facts.mode,
        declared_at,
        operator,
        inputs,
        secrets,
        target_facts,
        output: options.output,
        writer,
        records: journal.records.clone(),
    });
    let session = Event::SessionStarted {
        operator: operator_name.clone(),
        accepted_changed_runbook: changed,
        runbook_sha256: sha256,
    };
    engine
        .recorder
        .record(session)
        .map_err(|e| Refusal::new(e.to_string()))?;
    // Steps the operator confirmed as finished are recorded as such and not run again.
    for (step, item, attempt, choice) in decisions {
        if choice == InterruptedChoice::Done {
            let outcome = Outcome::MarkedDone {
                by: operator_name.clone(),
            };
            engine
                .recorder
                .record(Event::StepFinished {
                    step: step.clone(),
                    item,
                    attempt,
                    outcome,
                })
                .map_err(|e| Refusal::new(e.to_string()))?;
        }
    }
    let prior = engine::replay::replay(runbook, &engine.recorder.records)
        .map_err(|e| Refusal::new(e.to_string()))?;
    let code = start::drive_to_end(&mut engine, &valid, &mut facts, &prior, None, &dir.id);
    drop(lock);
    Ok(code)
}

fn inject_steps(runbook: &crate::runbook::Runbook) -> &[Step] {
    runbook
        .spec
        .drill
        .as_ref()
        .map_or(&[][..], |d| &d.inject[..])
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
