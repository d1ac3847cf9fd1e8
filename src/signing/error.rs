//! What can go wrong while signing a record, and how each case reaches the user: a key
//! that cannot be read is a missing input, a key drbook cannot sign with is a refusal
//! (both before a run starts), a failure at a session's end is a failure of the work.

use std::path::PathBuf;

use crate::app_error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot read the signing key `{}`: {why}", path.display())]
    KeyUnreadable { path: PathBuf, why: String },
    #[error(
        "the signing key `{}` is protected by a passphrase, and drbook never asks for one: load it into ssh-agent (`ssh-add {}`) and sign through it with `--sign-program ssh-keygen --sign-key {}.pub`, or give drbook a key without a passphrase that only this job can read",
        path.display(), path.display(), path.display()
    )]
    KeyEncrypted { path: PathBuf },
    #[error(
        "the signing key `{}` is an {algorithm} key; drbook signs with ed25519 keys itself: make one with `ssh-keygen -t ed25519 -f FILE`, or sign with this key through `--sign-program ssh-keygen`",
        path.display()
    )]
    KeyUnsupported { path: PathBuf, algorithm: String },
    #[error(
        "`{}` is not an OpenSSH private key ({reason}); pass the private key file (`ssh-keygen -t ed25519` writes one), or its `.pub` with `--sign-program ssh-keygen` when ssh-agent holds the key",
        path.display()
    )]
    KeyInvalid { path: PathBuf, reason: String },
    #[error(
        "`--sign-program {program}` is not a program on the PATH; install OpenSSH's ssh-keygen (Debian: `apt-get install openssh-client`) or name it by its path"
    )]
    ProgramMissing { program: String },
    #[error(
        "`--sign-program` needs `--sign-key FILE` (or $DRBOOK_SIGN_KEY): the key {program} signs with"
    )]
    ProgramWithoutKey { program: String },
    #[error("`{program} -Y sign` failed to sign {what}: {why}")]
    ProgramFailed {
        program: String,
        what: String,
        why: String,
    },
    #[error("failed to make the signature of {what}: {why}")]
    Sign { what: String, why: String },
    #[error("failed to {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SigningError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> SigningError {
        let path = path.into();
        move |source| SigningError::Io {
            action,
            path,
            source,
        }
    }
}

/// The exit code follows the kind: an unreadable key file is a missing input (66), a
/// key drbook will not sign with a refusal (4), the rest a failure of the work (1).
impl From<SigningError> for AppError {
    fn from(error: SigningError) -> AppError {
        match error {
            SigningError::KeyUnreadable { path, why } => AppError::Unreadable {
                path,
                why: format!(
                    "{why} (the signing key named by `--sign-key` or $DRBOOK_SIGN_KEY; `ssh-keygen -t ed25519 -f FILE` makes one)"
                ),
            },
            SigningError::KeyEncrypted { .. }
            | SigningError::KeyUnsupported { .. }
            | SigningError::KeyInvalid { .. }
            | SigningError::ProgramMissing { .. } => AppError::refused(error.to_string()),
            SigningError::ProgramWithoutKey { .. } => AppError::usage(error.to_string()),
            SigningError::ProgramFailed { .. }
            | SigningError::Sign { .. }
            | SigningError::Io { .. } => AppError::failed(error.to_string()),
        }
    }
}
