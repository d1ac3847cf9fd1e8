//! The review in a report: read from the run directory's `review.yaml` when it reviews
//! this very journal (its run id, and the SHA-256 of the lines it reviewed). Whether its
//! signature is by an allowed reviewer is `drbook verify`'s question, which needs the
//! auditor's allowed signers; the report says only whether `review.sig` is there.

use serde::Serialize;

use crate::review::model::{CorrectiveAction, REVIEW_FILE, REVIEW_SIGNATURE, Review};
use crate::run_dir::RunDir;

/// The review as a report shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReviewReport {
    pub reviewed_at: String,
    pub lessons_learned: String,
    pub corrective_actions: Vec<CorrectiveAction>,
    pub sign_off_by: String,
    /// `review.sig` is there (`drbook verify` checks who made it).
    pub signed: bool,
}

/// The review of the run in `dir`, when there is one of this journal.
pub(crate) fn read(dir: &RunDir) -> Option<ReviewReport> {
    let text = std::fs::read_to_string(dir.path.join(REVIEW_FILE)).ok()?;
    let review = Review::parse(&text).ok()?;
    let journal = std::fs::read(dir.journal()).ok()?;
    if crate::signing::verification::binding_problem(&review, Some(&dir.id), &journal).is_some() {
        return None;
    }
    Some(ReviewReport {
        reviewed_at: review.reviewed_at,
        lessons_learned: review.lessons_learned,
        corrective_actions: review.corrective_actions,
        sign_off_by: review.sign_off.by,
        signed: dir.path.join(REVIEW_SIGNATURE).is_file(),
    })
}
