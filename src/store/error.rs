//! What can go wrong with a record store.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "store `{location}` is not usable: {problem}; give a directory or `s3://bucket/prefix`"
    )]
    BadLocation { location: String, problem: String },
    #[error(
        "the S3 store `{location}` needs credentials: set {missing} (drbook reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optionally AWS_SESSION_TOKEN and AWS_REGION)"
    )]
    MissingCredentials {
        location: String,
        missing: &'static str,
    },
    #[error("failed to {action} `{}`: {why}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("failed to {action} `{key}` in the S3 store `{location}`: {detail}")]
    S3 {
        action: &'static str,
        location: String,
        key: String,
        detail: String,
    },
    /// The one refusal a store exists for: a record's object is never replaced.
    #[error(
        "`{key}` already exists in the store `{location}` with other bytes; the store keeps what was uploaded first and nothing was overwritten (a record that differs from its uploaded copy was changed after it was uploaded, or two runs share an id)"
    )]
    Differs { location: String, key: String },
}

impl From<StoreError> for crate::app_error::AppError {
    /// A store named wrongly is a mistake on the command line; one that fails while
    /// working is a failure of the work.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::BadLocation { .. } | StoreError::MissingCredentials { .. } => {
                crate::app_error::AppError::Usage(error.to_string())
            }
            _ => crate::app_error::AppError::Failed(error.to_string()),
        }
    }
}
