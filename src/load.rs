//! Reads the files a user names (runbooks, targets, answers) as text, and runbooks
//! validated, for every command that takes one (`validate`, `plan`, `render`, `run`,
//! `drill`, `resume`).

use std::path::Path;

use crate::app_error::{AppError, FileKind};
use crate::runbook::{self, ValidRunbook};
use crate::source::diagnostic::Diagnostic;
use crate::source::source_file::{ReadError, SourceFile};
use crate::source::span::{Pos, Span};

/// A runbook as read: its exact bytes (recorded with a run), its text and the result of
/// validating it.
pub struct LoadedRunbook {
    pub bytes: Vec<u8>,
    pub file: SourceFile,
    pub valid: ValidRunbook,
}

/// Reads and validates one runbook file.
pub fn runbook(path: &Path) -> Result<LoadedRunbook, AppError> {
    let file = text(path, FileKind::Runbook)?;
    validated(file)
}

/// Validates a runbook already read.
pub fn validated(file: SourceFile) -> Result<LoadedRunbook, AppError> {
    match runbook::load(&file.text) {
        Ok(valid) => Ok(LoadedRunbook {
            bytes: file.text.as_bytes().to_vec(),
            file,
            valid,
        }),
        Err(diagnostics) => Err(AppError::Invalid {
            kind: FileKind::Runbook,
            file,
            diagnostics,
        }),
    }
}

/// A file as UTF-8 text; a file that is not is invalid at its first bad byte.
pub fn text(path: &Path, kind: FileKind) -> Result<SourceFile, AppError> {
    SourceFile::read(path).map_err(|e| match e {
        ReadError::Unreadable(why) => AppError::Unreadable {
            path: path.to_path_buf(),
            why,
        },
        ReadError::NotUtf8(file, pos) => AppError::Invalid {
            kind,
            file,
            diagnostics: vec![not_utf8(pos, kind)],
        },
    })
}

/// The error for a file that is not UTF-8, at its first bad byte.
fn not_utf8(pos: Pos, kind: FileKind) -> Diagnostic {
    Diagnostic::new(
        Span {
            start: pos,
            end: pos,
        },
        "the file is not UTF-8 text",
    )
    .with_help(format!("save the {} as UTF-8", kind.noun()))
}
