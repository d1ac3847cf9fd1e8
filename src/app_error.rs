//! Everything a command can end with other than success, as one typed error.
//!
//! Commands return `Result<(), AppError>`; `run::run` is the one place that prints an
//! `AppError` and maps it to an exit code, so the same mistake gets the same code and
//! the same words whichever command meets it.

use std::path::PathBuf;

use crate::journal::JournalError;
use crate::source::diagnostic::Diagnostic;
use crate::source::source_file::SourceFile;

/// Which kind of file failed validation; named in the closing line of its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Runbook,
    Targets,
    Answers,
}

impl FileKind {
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::Runbook => "runbook",
            FileKind::Targets => "targets file",
            FileKind::Answers => "answers file",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The command line is wrong: a flag, an argument, a `-i`, a run id.
    #[error("{0}")]
    Usage(String),
    /// A file or directory named by the user cannot be read.
    #[error("cannot read `{}`: {why}", path.display())]
    Unreadable { path: PathBuf, why: String },
    /// A directory holds nothing drbook could read.
    #[error("{0}")]
    NothingFound(String),
    /// A runbook, targets or answers file failed validation; nothing ran.
    #[error("{} is not a valid {}", file.path().display(), kind.noun())]
    Invalid {
        kind: FileKind,
        file: SourceFile,
        diagnostics: Vec<Diagnostic>,
    },
    /// `validate` of several files: every error found, in order.
    #[error("{} files are not valid", .0.len())]
    Several(Vec<AppError>),
    /// No run of that id in the state directory.
    #[error("there is no run `{id}` in {}; `drbook runs list` shows the runs there", state_dir.display())]
    NoSuchRun { id: String, state_dir: PathBuf },
    /// The run's record cannot be used: locked by another process, damaged, newer.
    #[error(transparent)]
    Record(#[from] JournalError),
    /// drbook refused to start or continue a run, and changed nothing.
    #[error("{0}")]
    Refused(String),
    /// The work itself failed (a plan whose steps would fail, output that cannot be
    /// written, a run directory that cannot be created).
    #[error("{0}")]
    Failed(String),
    /// The output pipe was closed by the reader (`drbook schema | head`): a failure to
    /// deliver, but nothing worth a message.
    #[error("the output was closed")]
    OutputClosed,
    /// A run ended failed; its record holds why. `reason` is already masked.
    #[error("run {run_id} failed: {reason}")]
    RunFailed { run_id: String, reason: String },
    /// A run was aborted by the operator (Ctrl-C, then "abort").
    #[error("run {run_id} aborted by the operator (Ctrl-C)")]
    RunAborted { run_id: String },
    /// The operator answered "no" at a confirm checkpoint: the run stopped there, its
    /// state recorded; `resume` asks the checkpoint again.
    #[error(
        "run {run_id} stopped by the operator: {reason}; no later step was started. If you change your mind, `{resume}` asks it again"
    )]
    RunStopped {
        run_id: String,
        reason: String,
        resume: String,
    },
    /// `verify` checked a record and something did not verify; what failed was printed.
    #[error("record `{record}` did not verify (see above)")]
    Unverified { record: String },
    /// `drbook audit` found records that fail verification (broken, truncated); what
    /// it found was printed.
    #[error("{failed} run record{} failed verification (listed under \"records\" above)", if *.failed == 1 { "" } else { "s" })]
    RecordsUnverified { failed: usize },
    /// A run paused with its state recorded; `resume` is the command that continues it.
    #[error("run {run_id} paused: {reason}; its state is recorded. Continue with `{resume}`")]
    RunPaused {
        run_id: String,
        reason: String,
        resume: String,
    },
}

impl AppError {
    pub fn refused(message: impl Into<String>) -> Self {
        AppError::Refused(message.into())
    }

    pub fn usage(message: impl Into<String>) -> Self {
        AppError::Usage(message.into())
    }

    pub fn failed(message: impl Into<String>) -> Self {
        AppError::Failed(message.into())
    }

    /// An I/O failure on a named path, in words people need (no `(os error N)`).
    pub fn unreadable(path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        AppError::Unreadable {
            path: path.into(),
            why: crate::source::source_file::describe_io(error),
        }
    }
}
