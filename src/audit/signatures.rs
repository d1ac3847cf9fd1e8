//! Where the audit checks a record's SSH signatures: the record (a run directory, a
//! store directory's `journal.<N>.jsonl`, or an S3 store's objects) is laid out as a run
//! directory in a temporary folder and checked by `signing::verify_record`, the same
//! check as `drbook verify`, so the two never disagree about a record.

use serde::Serialize;

use super::source::RawRecord;
use crate::signing::{AllowedSigners, verify_record};

/// What checking a record's signatures said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub(crate) enum SignatureCheck {
    /// Not checked: no `--allowed-signers`.
    NotChecked,
    /// Every signature (and the review's, when there is one) verified.
    Verified,
    /// A signature did not verify; why, naming the signature.
    Failed(String),
}

/// Checks every signature of `record` (and its review's) against `allowed`. Lines after
/// the last signature are not judged here: the audit reports them as unsigned itself.
pub(crate) fn check_signatures(record: &RawRecord, allowed: &AllowedSigners) -> SignatureCheck {
    let Some((_, journal)) = &record.journal else {
        return SignatureCheck::Failed("no journal to check the signatures against".into());
    };
    let laid_out = match lay_out(journal, &record.evidence) {
        Ok(dir) => dir,
        Err(e) => {
            return SignatureCheck::Failed(format!(
                "the record could not be laid out for checking: {e}"
            ));
        }
    };
    let verification = verify_record(laid_out.path(), allowed);
    let mut failures: Vec<String> = verification
        .signatures
        .iter()
        .filter(|s| !s.status.is_verified())
        .map(|s| format!("signatures/{}.sig: {}", s.lines, s.status.describe()))
        .collect();
    if let Some(review) = &verification.review
        && !review.status.is_verified()
    {
        failures.push(format!("review: {}", review.status.describe()));
    }
    match failures.is_empty() {
        true => SignatureCheck::Verified,
        false => SignatureCheck::Failed(failures.join("; ")),
    }
}

/// A temporary run directory holding the journal and the evidence files.
fn lay_out(journal: &[u8], evidence: &[(String, Vec<u8>)]) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix("drbook-audit-").tempdir()?;
    std::fs::create_dir(dir.path().join("signatures"))?;
    std::fs::write(dir.path().join("journal.jsonl"), journal)?;
    for (name, bytes) in evidence {
        // Names come from listings of the record: only `signatures/<N>.sig` and
        // `review.*`, never a path that leaves the folder.
        if name.contains("..") || name.starts_with('/') {
            continue;
        }
        std::fs::write(dir.path().join(name), bytes)?;
    }
    Ok(dir)
}
