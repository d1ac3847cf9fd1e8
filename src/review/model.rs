//! The review of a run, as `review.yaml` in its run directory: lessons learned,
//! corrective actions (owner, due date, ticket) and the scenario owner's sign-off, bound
//! to the journal it reviews by its line count and SHA-256. `review.sig` beside it is
//! the SSH signature (namespace `drbook-review`) of the file's exact bytes.
//!
//! `ReviewInput` is what a person writes (`drbook review --from FILE`, or the answers
//! to the prompts); drbook adds the run, the journal binding and the time. Unknown keys
//! are errors in both, so a misspelt field never silently drops a corrective action.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The review file in a run directory.
pub const REVIEW_FILE: &str = "review.yaml";
/// Its signature.
pub const REVIEW_SIGNATURE: &str = "review.sig";
/// The namespace of review signatures (`ssh-keygen -Y ... -n drbook-review`).
pub const REVIEW_NAMESPACE: &str = "drbook-review";
/// The format of `review.yaml`, `MAJOR.MINOR`.
pub const REVIEW_FORMAT: &str = "1.0";

/// What the reviewer writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub lessons_learned: String,
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveAction>,
    pub sign_off: SignOff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectiveAction {
    pub action: String,
    pub owner: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// The scenario owner's sign-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    /// Who signs off: the scenario's owner.
    pub by: String,
}

/// The journal a review reviewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewedJournal {
    pub lines: usize,
    /// SHA-256 (hex) of the journal's first `lines` lines.
    pub sha256: String,
}

/// `review.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub format: String,
    pub run_id: String,
    pub journal: ReviewedJournal,
    /// RFC 3339 UTC.
    pub reviewed_at: String,
    pub lessons_learned: String,
    #[serde(default)]
    pub corrective_actions: Vec<CorrectiveAction>,
    pub sign_off: SignOff,
}

impl ReviewInput {
    /// Every problem of the input, in words naming the field; empty when it is usable.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.lessons_learned.trim().is_empty() {
            problems.push("`lessons_learned` is empty: write what the drill taught".into());
        }
        if self.sign_off.by.trim().is_empty() {
            problems.push("`sign_off.by` is empty: name the scenario owner who signs off".into());
        }
        for (index, action) in self.corrective_actions.iter().enumerate() {
            let at = format!("corrective_actions[{index}]");
            if action.action.trim().is_empty() {
                problems.push(format!("`{at}.action` is empty"));
            }
            if action.owner.trim().is_empty() {
                problems.push(format!(
                    "`{at}.owner` is empty: every action needs an owner"
                ));
            }
            if let Err(why) = due_date(&action.due) {
                problems.push(format!("`{at}.due` {why}"));
            }
        }
        problems
    }
}

/// A due date as `YYYY-MM-DD`.
pub fn due_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date: write YYYY-MM-DD, e.g. 2027-01-31"))
}

impl Review {
    /// Reads `review.yaml` text.
    pub fn parse(text: &str) -> Result<Review, String> {
        let review: Review = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let major = review.format.split('.').next().unwrap_or_default();
        if major != REVIEW_FORMAT.split('.').next().unwrap_or_default() {
            return Err(format!(
                "review format `{}` is not one this drbook reads ({REVIEW_FORMAT})",
                review.format
            ));
        }
        Ok(review)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_with_a_bad_date_and_no_owner_lists_both() {
        let input: ReviewInput = serde_saphyr::from_str(
            "lessons_learned: restic password was in the wrong vault\ncorrective_actions:\n  - action: move it\n    owner: ''\n    due: 31.01.2027\nsign_off: {by: carol}\n",
        )
        .unwrap();
        let problems = input.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("corrective_actions[0].owner"),
            "{problems:?}"
        );
        assert!(problems[1].contains("is not a date"), "{problems:?}");
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let error = serde_saphyr::from_str::<ReviewInput>(
            "lessons_learned: x\nsign_off: {by: carol}\ncorective_actions: []\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("corective_actions"), "{error}");
    }
}
