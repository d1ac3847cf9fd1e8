//! Reads a runbook file named by the user and validates it, for every command that
//! takes one (`validate`, `plan`, `render`, `run`, `drill`).

use std::path::Path;

use crate::app_error::{AppError, FileKind};
use crate::diagnostic::Diagnostic;
use crate::runbook::{self, ValidRunbook};
use crate::source_file::SourceFile;
use crate::span::{Pos, Span};

/// A runbook as read: its exact bytes (recorded with a run), its text and the result of
/// validating it.
pub struct LoadedRunbook {
    pub bytes: Vec<u8>,
    pub file: SourceFile,
    pub valid: ValidRunbook,
}

/// Reads and validates one runbook file.
pub fn runbook(path: &Path) -> Result<LoadedRunbook, AppError> {
    let bytes = std::fs::read(path).map_err(|e| AppError::unreadable(path, &e))?;
    let file = utf8(path, &bytes)?;
    match runbook::load(&file.text) {
        Ok(valid) => Ok(LoadedRunbook { bytes, file, valid }),
        Err(diagnostics) => Err(AppError::Invalid {
            kind: FileKind::Runbook,
            file,
            diagnostics,
        }),
    }
}

/// The file as text, or an invalid-file error at its first byte that is not UTF-8.
pub fn utf8(path: &Path, bytes: &[u8]) -> Result<SourceFile, AppError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let file = SourceFile::new(path, text);
            let offset = e.valid_up_to().min(file.text.len());
            let prefix = &file.text[..offset];
            let line = prefix.matches('\n').count() + 1;
            let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let pos = Pos { line, col };
            let diagnostic = Diagnostic::new(
                Span {
                    start: pos,
                    end: pos,
                },
                "the file is not UTF-8 text",
            )
            .with_help("save the runbook as UTF-8");
            Err(AppError::Invalid {
                kind: FileKind::Runbook,
                file,
                diagnostics: vec![diagnostic],
            })
        }
    }
}
