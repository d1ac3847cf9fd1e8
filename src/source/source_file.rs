//! A file as read from disk, kept whole so that every diagnostic can quote its line.

use std::path::{Path, PathBuf};

use crate::source::span::Pos;

/// Why a file could not be read as text.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read at all: the reason in words (`describe_io`).
    Unreadable(String),
    /// The file is not UTF-8: its text with the bad bytes replaced, and where the first
    /// bad byte is, so the error can point at it.
    NotUtf8(SourceFile, Pos),
}

/// The text of one input file and the path it was read from, as the user wrote it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads a file as UTF-8 text.
    pub fn read(path: &Path) -> Result<SourceFile, ReadError> {
        let bytes = std::fs::read(path).map_err(|e| ReadError::Unreadable(describe_io(&e)))?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(path, text)),
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let file = SourceFile::new(path, String::from_utf8_lossy(e.as_bytes()));
                let prefix = &file.text[..offset.min(file.text.len())];
                let line = prefix.matches('\n').count() + 1;
                let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                Err(ReadError::NotUtf8(file, Pos { line, col }))
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text of 1-based line `line`, without its line terminator.
    pub fn line(&self, line: usize) -> Option<&str> {
        lines(&self.text).nth(line.checked_sub(1)?)
    }
}

/// An I/O error in words, without the `(os error N)` suffix people do not need.
pub fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => error.to_string(),
    }
}

/// The lines of a text as YAML counts them: `\r\n`, `\n` and a lone `\r` each end a
/// line, so a quoted line matches the line number the parser reported.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(at) => {
                let after = if current[at..].starts_with("\r\n") {
                    at + 2
                } else {
                    at + 1
                };
                rest = Some(&current[after..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_like_yaml() {
        let text = "a\r\nb\rc\nd";
        assert_eq!(lines(text).collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        let file = SourceFile::new("f", "x\r\ry\n");
        assert_eq!(file.line(3), Some("y"));
        assert_eq!(file.line(4), Some(""));
    }
}
