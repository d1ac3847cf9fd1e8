//! The one seam where the audit checks a record's SSH signatures.
//!
//! MERGE NOTE (for the lead): signature verification is built by the `signing` work
//! (`drbook verify`, a library function roughly `verify_record(dir, allowed_signers) ->
//! Verification`). Until it is wired here, `check_signatures` verifies nothing and says
//! so (`NotChecked`): the audit still detects signed/unsigned records by the presence of
//! `signatures/<N>.sig`, and truncation below a signed N, on its own. Wiring it means:
//! map the record (a run directory, or the store objects of `RawRecord`) to what
//! `verify_record` reads, and map its verdict to `Verified` / `Failed(why)`.

use std::path::Path;

use serde::Serialize;

use super::source::RawRecord;

/// What checking a record's signatures said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub(crate) enum SignatureCheck {
    /// Not checked: no `--allowed-signers`, or no verifier in this build.
    NotChecked,
    /// Every signature verified against the allowed signers.
    #[allow(
        dead_code,
        reason = "made by the verifier wired in at merge, see the module comment"
    )]
    Verified,
    /// A signature did not verify; why, naming the signature.
    #[allow(
        dead_code,
        reason = "made by the verifier wired in at merge, see the module comment"
    )]
    Failed(String),
}

/// Checks every signature of `record` against `allowed_signers`. NOT WIRED YET: see the
/// module comment.
pub(crate) fn check_signatures(_record: &RawRecord, _allowed_signers: &Path) -> SignatureCheck {
    SignatureCheck::NotChecked
}
