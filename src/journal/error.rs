//! What can go wrong with a run record.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("failed to {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` line {line} is damaged: {reason}; the record cannot be trusted past this point", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("`{}` was written in journal format {found}, newer than this drbook reads ({supported}); use a newer drbook", path.display())]
    NewerFormat {
        path: PathBuf,
        found: String,
        supported: String,
    },
    #[error(
        "run `{run_id}` is being written by another drbook process ({holder}); wait for it to finish or stop it first"
    )]
    Locked { run_id: String, holder: String },
}

impl JournalError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> JournalError {
        let path = path.into();
        move |source| JournalError::Io {
            action,
            path,
            source,
        }
    }
}
