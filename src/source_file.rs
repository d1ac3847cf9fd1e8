//! A file as read from disk, kept whole so that every diagnostic can quote its line.

use std::path::{Path, PathBuf};

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

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text of 1-based line `line`, without its line terminator.
    pub fn line(&self, line: usize) -> Option<&str> {
        lines(&self.text).nth(line.checked_sub(1)?)
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
