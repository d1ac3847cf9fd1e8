//! The review command: checks the run can be reviewed (it exists, its journal verifies,
//! it has finished, it has no review yet), takes the review from `--from FILE` or the
//! terminal, signs it, refuses a signature by a key that signed the journal (the
//! operator cannot review their own drill), and only then writes `review.yaml` and
//! `review.sig`, never over existing ones.

use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use ssh_key::{HashAlg, PublicKey, SshSig};

use super::model::{
    REVIEW_FILE, REVIEW_FORMAT, REVIEW_NAMESPACE, REVIEW_SIGNATURE, Review, ReviewInput,
    ReviewedJournal,
};
use super::prompt;
use crate::app_error::AppError;
use crate::journal::RunLock;
use crate::journal::event::Event;
use crate::run_dir::StateDir;
use crate::signing::Signer;
use crate::signing::journal_signature::{self, write_new};

/// What `drbook review` was asked to do.
pub(crate) struct ReviewRequest {
    pub run_id: String,
    pub from: Option<PathBuf>,
    pub sign_key: Option<PathBuf>,
    pub sign_program: Option<String>,
}

/// Writes the signed review of a finished run; returns what to tell the reviewer.
pub(crate) fn review(request: ReviewRequest, state: &StateDir) -> Result<String, AppError> {
    let dir = state.run(&request.run_id)?;
    let (journal, _) = dir.inspect(state)?;
    let id = &dir.id;
    if !matches!(
        journal.records.last().map(|r| &r.event),
        Some(Event::RunFinished { .. })
    ) {
        return Err(AppError::refused(format!(
            "run `{id}` has not finished; review it once it has (`drbook runs show {id}` shows where it is)"
        )));
    }
    if dir.path.join(REVIEW_FILE).exists() {
        return Err(AppError::refused(format!(
            "run `{id}` already has a review ({}); a signed review is never replaced",
            dir.path.join(REVIEW_FILE).display()
        )));
    }
    let signer = Signer::resolve(request.sign_key.as_deref(), request.sign_program.as_deref())?
        .ok_or_else(|| {
            AppError::usage(
                "a review is signed: pass `--sign-key FILE` (or set $DRBOOK_SIGN_KEY) with the reviewer's own key",
            )
        })?;
    let input = match &request.from {
        Some(path) => read_input(path)?,
        None if crate::operator::terminal_available() => {
            prompt::ask().map_err(|e| AppError::failed(format!("the review prompt failed: {e}")))?
        }
        None => {
            return Err(AppError::refused(
                "no terminal to ask for the review on: write it in a YAML file and pass `--from FILE` (docs/signing.md shows one)",
            ));
        }
    };
    let problems = input.problems();
    if !problems.is_empty() {
        return Err(AppError::refused(format!(
            "the review cannot be written: {}",
            problems.join("; ")
        )));
    }
    let operators: Vec<&str> = journal
        .records
        .iter()
        .filter_map(|r| match &r.event {
            Event::RunStarted { operator, .. } | Event::SessionStarted { operator, .. } => {
                Some(operator.as_str())
            }
            _ => None,
        })
        .collect();
    if operators.contains(&input.sign_off.by.trim()) {
        return Err(AppError::refused(format!(
            "`{}` operated run `{id}` and cannot sign off its review: the scenario owner, someone other than the operator, signs off",
            input.sign_off.by
        )));
    }
    let bytes =
        std::fs::read(dir.journal()).map_err(|e| AppError::unreadable(dir.journal(), &e))?;
    let lines = journal.records.len();
    let signed = journal_signature::prefix(&bytes, lines).unwrap_or(&bytes);
    let review = Review {
        format: REVIEW_FORMAT.into(),
        run_id: id.clone(),
        journal: ReviewedJournal {
            lines,
            sha256: base16ct::lower::encode_string(&Sha256::digest(signed)),
        },
        reviewed_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        lessons_learned: input.lessons_learned,
        corrective_actions: input.corrective_actions,
        sign_off: input.sign_off,
    };
    let text = serde_saphyr::to_string(&review)
        .map_err(|e| AppError::failed(format!("cannot write the review as YAML: {e}")))?;
    let what = format!("the review of run `{id}`");
    let armored = signer.sign(REVIEW_NAMESPACE, text.as_bytes(), &what)?;
    let key = SshSig::from_pem(armored.as_bytes())
        .map_err(|e| AppError::failed(format!("cannot read back the review's signature: {e}")))?
        .public_key()
        .clone();
    if journal_signature::signing_keys(&dir.path).contains(&key) {
        return Err(AppError::refused(format!(
            "the review of run `{id}` is refused: it was signed with {}, the key that signed the run's journal. The operator cannot review their own drill; the scenario owner signs the review with their own key",
            PublicKey::new(key, "").fingerprint(HashAlg::Sha256)
        )));
    }
    let _lock = RunLock::acquire(&dir.path, id)?;
    let review_path = dir.path.join(REVIEW_FILE);
    write_new(&review_path, text.as_bytes()).map_err(AppError::from)?;
    write_new(&dir.path.join(REVIEW_SIGNATURE), armored.as_bytes()).map_err(AppError::from)?;
    Ok(format!(
        "review of run {id} written: {} and {REVIEW_SIGNATURE} (signed by {}); `drbook verify {id} --allowed-signers FILE` checks it\n",
        review_path.display(),
        PublicKey::new(key, "").fingerprint(HashAlg::Sha256)
    ))
}

fn read_input(path: &std::path::Path) -> Result<ReviewInput, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| AppError::unreadable(path, &e))?;
    serde_saphyr::from_str(&text).map_err(|e| {
        AppError::refused(format!(
            "`{}` is not a review: {e}; it has `lessons_learned`, `corrective_actions` (each with `action`, `owner`, `due`, `ticket`) and `sign_off: {{by: NAME}}`",
            path.display()
        ))
    })
}
