//! `verify_record`: everything an auditor needs to know about one run record — the hash
//! chain, each journal signature and who made it against the journal's operator, the
//! lines no signature covers, and the review. The `verify` command prints it and `audit`
//! calls it for every record; it reads only the run directory and the allowed signers.
//!
//! This is a stable library interface (`drbook::signing::verify_record`); its JSON form
//! (`drbook verify --output json`) is documented in docs/signing.md.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use ssh_key::public::KeyData;
use ssh_key::{HashAlg, PublicKey, SshSig};

use super::allowed_signers::{self, AllowedSigners, Lookup};
use super::chain::{self, ChainCheck};
use super::journal_signature::{self, JOURNAL_NAMESPACE, SIGNATURES_DIR};
use crate::review::model::{REVIEW_FILE, REVIEW_NAMESPACE, REVIEW_SIGNATURE, Review};

/// The version of `Verification`'s JSON, `MAJOR.MINOR`.
pub const VERIFICATION_FORMAT: &str = "1.0";

/// What `verify_record` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub format: &'static str,
    pub dir: PathBuf,
    /// From `run_started`, when the first line can be read.
    pub run_id: Option<String>,
    /// Why the journal could not be read at all (then nothing else was checked).
    pub unreadable: Option<String>,
    pub chain: ChainCheck,
    /// One per `signatures/*.sig`, by the number of lines they cover.
    pub signatures: Vec<SignedPart>,
    /// Lines after the last signature: recorded, but nobody vouched for them yet.
    pub unsigned_tail: Option<LineRange>,
    pub review: Option<ReviewCheck>,
}

/// 1-based, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineRange {
    pub first: usize,
    pub last: usize,
}

/// One journal signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignedPart {
    /// `signatures/17.sig`.
    pub file: String,
    /// It covers lines 1 to `lines`.
    pub lines: usize,
    /// The lines this signature added to the earlier ones (`first` is 1 after the
    /// previous signature).
    pub part: LineRange,
    /// The operator of the session that ended at this signature (run_started's or the
    /// last session_started's within its lines).
    pub operator: Option<String>,
    #[serde(flatten)]
    pub status: SignatureStatus,
}

/// `review.yaml` and `review.sig`.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewCheck {
    pub file: String,
    /// Who signed off, as the review says.
    pub sign_off_by: Option<String>,
    #[serde(flatten)]
    pub status: SignatureStatus,
}

/// What one signature turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureStatus {
    /// Valid, by a key the allowed signers list for this namespace (and, for the
    /// journal, as the session's operator).
    Verified {
        principals: Vec<String>,
        fingerprint: String,
    },
    /// Valid, by a listed key, but none of its principals is the session's operator:
    /// signed with someone else's key.
    SignerNotOperator {
        principals: Vec<String>,
        fingerprint: String,
    },
    /// A review validly signed by an allowed reviewer whose principals do not include
    /// the person the review says signs off.
    SignerNotSignOff {
        principals: Vec<String>,
        fingerprint: String,
    },
    /// Valid, but the key is in no line of the allowed signers file.
    UnknownSigner {
        fingerprint: String,
    },
    /// Valid, but the allowed signers file lists the key only for other namespaces.
    NotAllowedForNamespace {
        principals: Vec<String>,
        fingerprint: String,
    },
    /// Made for another purpose (namespace) than this file.
    WrongNamespace {
        found: String,
    },
    /// Does not match the signed bytes: they were changed, or the signature was.
    BadSignature {
        fingerprint: String,
    },
    /// Covers more lines than the journal has: the journal was cut below a signed point.
    BeyondJournal {
        journal_lines: usize,
    },
    /// The review was signed with a key that signed the journal: operators cannot
    /// review their own drill.
    SignedWithJournalKey {
        fingerprint: String,
    },
    /// The review is of another run, or of a journal that is not this one's first lines.
    ReviewsAnotherJournal {
        reason: String,
    },
    /// No `review.sig` beside `review.yaml`.
    Unsigned,
    Unreadable {
        reason: String,
    },
}

impl SignatureStatus {
    pub fn is_verified(&self) -> bool {
        matches!(self, SignatureStatus::Verified { .. })
    }

    /// One phrase for people.
    pub fn describe(&self) -> String {
        let who = |principals: &[String]| principals.join(", ");
        match self {
            SignatureStatus::Verified {
                principals,
                fingerprint,
            } => format!("verified: signed by {} ({fingerprint})", who(principals)),
            SignatureStatus::SignerNotOperator {
                principals,
                fingerprint,
            } => format!(
                "WRONG KEY: signed by {} ({fingerprint}), which is not the session's operator",
                who(principals)
            ),
            SignatureStatus::SignerNotSignOff {
                principals,
                fingerprint,
            } => format!(
                "WRONG KEY: signed by {} ({fingerprint}), who is not the person the review says signs off",
                who(principals)
            ),
            SignatureStatus::UnknownSigner { fingerprint } => format!(
                "SIGNER NOT ALLOWED: the key {fingerprint} is in no line of the allowed signers file"
            ),
            SignatureStatus::NotAllowedForNamespace {
                principals,
                fingerprint,
            } => format!(
                "SIGNER NOT ALLOWED: the key of {} ({fingerprint}) is listed only for other namespaces",
                who(principals)
            ),
            SignatureStatus::WrongNamespace { found } => {
                format!("WRONG NAMESPACE: signed for `{found}`, not for this file")
            }
            SignatureStatus::BadSignature { fingerprint } => format!(
                "BAD SIGNATURE: does not match the signed bytes (key {fingerprint}): they were changed"
            ),
            SignatureStatus::BeyondJournal { journal_lines } => format!(
                "TRUNCATED: the journal has only {journal_lines} lines; it was cut below this signed point"
            ),
            SignatureStatus::SignedWithJournalKey { fingerprint } => format!(
                "SELF-REVIEW: signed with {fingerprint}, a key that signed the journal; the operator cannot review their own drill"
            ),
            SignatureStatus::ReviewsAnotherJournal { reason } => {
                format!("WRONG RECORD: {reason}")
            }
            SignatureStatus::Unsigned => format!("UNSIGNED: there is no {REVIEW_SIGNATURE}"),
            SignatureStatus::Unreadable { reason } => format!("UNREADABLE: {reason}"),
        }
    }
}

impl Verification {
    /// The journal has no signature at all.
    pub fn is_unsigned(&self) -> bool {
        self.signatures.is_empty()
    }

    /// Some signature covers more lines than the journal has: it was cut.
    pub fn is_truncated(&self) -> bool {
        self.signatures
            .iter()
            .any(|s| matches!(s.status, SignatureStatus::BeyondJournal { .. }))
    }

    /// There is a review and it verified.
    pub fn is_reviewed(&self) -> bool {
        self.review.as_ref().is_some_and(|r| r.status.is_verified())
    }

    /// True when everything checked out: the chain is intact, every signature is valid
    /// and made by an allowed signer (the session's operator), no line is unsigned, and
    /// the review, when there is one, is verified too.
    pub fn is_verified(&self) -> bool {
        self.unreadable.is_none()
            && self.chain.broken.is_none()
            && !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.status.is_verified())
            && self.unsigned_tail.is_none()
            && self.review.as_ref().is_none_or(|r| r.status.is_verified())
    }
}

/// Verifies the run record in the run directory `dir` against `allowed`. Never fails:
/// whatever cannot be read is reported in the result.
pub fn verify_record(dir: &Path, allowed: &AllowedSigners) -> Verification {
    let journal_path = dir.join("journal.jsonl");
    let bytes = match std::fs::read(&journal_path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Verification {
                format: VERIFICATION_FORMAT,
                dir: dir.to_path_buf(),
                run_id: None,
                unreadable: Some(format!(
                    "cannot read `{}`: {}",
                    journal_path.display(),
                    crate::source::source_file::describe_io(&e)
                )),
                chain: ChainCheck {
                    lines: 0,
                    broken: None,
                    torn_last_line: false,
                },
                signatures: Vec::new(),
                unsigned_tail: None,
                review: None,
            };
        }
    };
    let values = chain::parse_lines(&bytes);
    let chain = chain::check_parsed(&journal_path, &bytes, &values);
    let run_id = values
        .first()
        .and_then(|v| v.as_ref())
        .and_then(|v| v["event"]["run_id"].as_str())
        .map(String::from);
    let signatures = journal_signatures(dir, &bytes, chain.lines, &values, allowed);
    let signed = signatures.iter().map(|s| s.lines).max().unwrap_or(0);
    let unsigned_tail = (signed < chain.lines).then_some(LineRange {
        first: signed + 1,
        last: chain.lines,
    });
    let journal_keys = journal_signature::signing_keys(dir);
    let review = check_review(dir, run_id.as_deref(), &bytes, &journal_keys, allowed);
    Verification {
        format: VERIFICATION_FORMAT,
        dir: dir.to_path_buf(),
        run_id,
        unreadable: None,
        chain,
        signatures,
        unsigned_tail,
        review,
    }
}

/// `signatures/<N>.sig` files by N; files not named so are listed with N = 0.
fn signature_files(dir: &Path) -> Vec<(Option<usize>, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir.join(SIGNATURES_DIR)) else {
        return Vec::new();
    };
    let mut files: Vec<(Option<usize>, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sig"))
        .map(|p| {
            let lines = p
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|&n| n > 0);
            (lines, p)
        })
        .collect();
    files.sort();
    files
}

fn journal_signatures(
    dir: &Path,
    bytes: &[u8],
    journal_lines: usize,
    values: &[Option<Value>],
    allowed: &AllowedSigners,
) -> Vec<SignedPart> {
    let mut parts = Vec::new();
    let mut previous = 0;
    for (lines, path) in signature_files(dir) {
        let file = format!(
            "{SIGNATURES_DIR}/{}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let Some(lines) = lines else {
            parts.push(SignedPart {
                file,
                lines: 0,
                part: LineRange { first: 0, last: 0 },
                operator: None,
                status: SignatureStatus::Unreadable {
                    reason: "its name is not `<number of lines>.sig`".into(),
                },
            });
            continue;
        };
        let operator = operator_within(values, lines);
        let status =
            match journal_signature::prefix(bytes, lines).filter(|_| lines <= journal_lines) {
                None => SignatureStatus::BeyondJournal { journal_lines },
                Some(signed) => match std::fs::read(&path) {
                    Err(e) => SignatureStatus::Unreadable {
                        reason: crate::source::source_file::describe_io(&e),
                    },
                    Ok(armored) => {
                        let status = check_signature(&armored, signed, JOURNAL_NAMESPACE, allowed);
                        match (status, &operator) {
                            (
                                SignatureStatus::Verified {
                                    principals,
                                    fingerprint,
                                },
                                Some(operator),
                            ) if !allowed_signers::names(&principals, operator) => {
                                SignatureStatus::SignerNotOperator {
                                    principals,
                                    fingerprint,
                                }
                            }
                            (status, _) => status,
                        }
                    }
                },
            };
        parts.push(SignedPart {
            file,
            lines,
            part: LineRange {
                first: previous + 1,
                last: lines,
            },
            operator,
            status,
        });
        previous = lines;
    }
    parts
}

/// The operator of the last session that started within the first `lines` lines.
fn operator_within(values: &[Option<Value>], lines: usize) -> Option<String> {
    values
        .iter()
        .take(lines)
        .flatten()
        .filter(|v| {
            matches!(
                v["event"]["type"].as_str(),
                Some("run_started" | "session_started")
            )
        })
        .filter_map(|v| v["event"]["operator"].as_str())
        .next_back()
        .map(String::from)
}

/// Checks one armored signature of `message` in `namespace`, then who its key is.
fn check_signature(
    armored: &[u8],
    message: &[u8],
    namespace: &str,
    allowed: &AllowedSigners,
) -> SignatureStatus {
    let sig = match SshSig::from_pem(armored) {
        Ok(sig) => sig,
        Err(e) => {
            return SignatureStatus::Unreadable {
                reason: format!("not an SSH signature: {e}"),
            };
        }
    };
    if sig.namespace() != namespace {
        return SignatureStatus::WrongNamespace {
            found: sig.namespace().to_string(),
        };
    }
    let key = PublicKey::new(sig.public_key().clone(), "");
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    if let Err(e) = key.verify(namespace, message, &sig) {
        return match e {
            ssh_key::Error::AlgorithmUnsupported { .. } => SignatureStatus::Unreadable {
                reason: format!(
                    "signed with a {} key, which drbook cannot check; check it with `ssh-keygen -Y verify`",
                    key.algorithm()
                ),
            },
            _ => SignatureStatus::BadSignature { fingerprint },
        };
    }
    match allowed.lookup(key.key_data(), namespace) {
        Lookup::Allowed(principals) => SignatureStatus::Verified {
            principals,
            fingerprint,
        },
        Lookup::NotForNamespace(principals) => SignatureStatus::NotAllowedForNamespace {
            principals,
            fingerprint,
        },
        Lookup::Unknown => SignatureStatus::UnknownSigner { fingerprint },
    }
}

fn check_review(
    dir: &Path,
    run_id: Option<&str>,
    journal: &[u8],
    journal_keys: &[KeyData],
    allowed: &AllowedSigners,
) -> Option<ReviewCheck> {
    let text = std::fs::read(dir.join(REVIEW_FILE)).ok()?;
    let review = std::str::from_utf8(&text)
        .map_err(|e| e.to_string())
        .and_then(Review::parse);
    let sign_off_by = review.as_ref().ok().map(|r| r.sign_off.by.clone());
    let status = match (review, std::fs::read(dir.join(REVIEW_SIGNATURE))) {
        (Err(reason), _) => SignatureStatus::Unreadable { reason },
        (Ok(_), Err(_)) => SignatureStatus::Unsigned,
        (Ok(review), Ok(armored)) => {
            let status = check_signature(&armored, &text, REVIEW_NAMESPACE, allowed);
            let signer = SshSig::from_pem(&armored)
                .map(|s| s.public_key().clone())
                .ok();
            // A valid signature by a key that signed the journal is a self-review,
            // whether or not the allowed signers list that key for reviews.
            match status {
                SignatureStatus::Verified { fingerprint, .. }
                | SignatureStatus::UnknownSigner { fingerprint }
                | SignatureStatus::NotAllowedForNamespace { fingerprint, .. }
                    if signer.as_ref().is_some_and(|k| journal_keys.contains(k)) =>
                {
                    SignatureStatus::SignedWithJournalKey { fingerprint }
                }
                SignatureStatus::Verified {
                    principals,
                    fingerprint,
                } => match binding_problem(&review, run_id, journal) {
                    Some(reason) => SignatureStatus::ReviewsAnotherJournal { reason },
                    None if !allowed_signers::names(&principals, review.sign_off.by.trim()) => {
                        SignatureStatus::SignerNotSignOff {
                            principals,
                            fingerprint,
                        }
                    }
                    None => SignatureStatus::Verified {
                        principals,
                        fingerprint,
                    },
                },
                other => other,
            }
        }
    };
    Some(ReviewCheck {
        file: REVIEW_FILE.into(),
        sign_off_by,
        status,
    })
}

/// Why the review is not of this journal, if it is not.
pub(crate) fn binding_problem(
    review: &Review,
    run_id: Option<&str>,
    journal: &[u8],
) -> Option<String> {
    if Some(review.run_id.as_str()) != run_id {
        return Some(format!(
            "the review is of run `{}`, this record is of run `{}`",
            review.run_id,
            run_id.unwrap_or("?")
        ));
    }
    let Some(prefix) = journal_signature::prefix(journal, review.journal.lines) else {
        return Some(format!(
            "the review is of the first {} lines, and the journal has fewer",
            review.journal.lines
        ));
    };
    let sha256 = base16ct::lower::encode_string(&Sha256::digest(prefix));
    (sha256 != review.journal.sha256).then(|| {
        format!(
            "the journal's first {} lines are not the ones reviewed (sha256 {} reviewed, {} now)",
            review.journal.lines,
            &review.journal.sha256[..review.journal.sha256.len().min(12)],
            &sha256[..12]
        )
    })
}
