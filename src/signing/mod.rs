//! Signed run records: SSH signatures (the `sshsig` format of `ssh-keygen -Y sign`) over
//! a run's journal at every end of a session, and over its review, and the verification
//! an auditor runs with `drbook verify` — or with OpenSSH alone (docs/signing.md).

pub mod allowed_signers;
pub mod chain;
pub mod error;
pub mod journal_signature;
pub mod signer;
pub mod verification;

pub use allowed_signers::AllowedSigners;
pub use error::SigningError;
pub use journal_signature::{JOURNAL_NAMESPACE, sign_session_end};
pub use signer::Signer;
pub use verification::{Verification, verify_record};
