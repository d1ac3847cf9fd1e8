//! Errors about a source file, and the one renderer that draws them.
//!
//! Every runbook mistake becomes a `Diagnostic` with a span; `render` draws it the way
//! compilers do, so an operator sees the file, line and column, the line itself and a
//! caret under the offending part:
//!
//! ```text
//! error: unknown key `acton` in step `drain`
//!   --> runbooks/x.yaml:12:5
//!    |
//! 12 |     acton: shell
//!    |     ^^^^^
//!    = help: did you mean `action`?
//! ```

use std::fmt::Write as _;

use console::Style;

use crate::source::source_file::SourceFile;
use crate::source::span::Span;

/// One problem found in a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Draws the diagnostic against its file. `color` adds terminal colours; the text is
    /// the same either way.
    pub fn render(&self, file: &SourceFile, color: bool) -> String {
        let paint = |style: &Style, text: &str| -> String {
            if color {
                style.apply_to(text).to_string()
            } else {
                text.to_string()
            }
        };
        let red = Style::new().red().bold();
        let blue = Style::new().blue().bold();
        let bold = Style::new().bold();

        let Span { start, end } = self.span;
        let line_text = file.line(start.line).unwrap_or("");
        let gutter = start.line.to_string().len();
        let pad = " ".repeat(gutter);
        let line_chars = line_text.chars().count();
        // A span over several lines is underlined to the end of its first line; an empty
        // span (a YAML syntax error is a point) gets one caret.
        let caret_end = if end.line == start.line && end.col > start.col {
            end.col
        } else if end.line > start.line {
            line_chars.max(start.col) + 1
        } else {
            start.col + 1
        };
        let caret_len = caret_end.saturating_sub(start.col).max(1);
        // Tabs in the prefix are kept so the caret lines up in any terminal.
        let prefix: String = line_text
            .chars()
            .take(start.col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();

        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}{}",
            paint(&red, "error"),
            paint(&bold, &format!(": {}", self.message))
        );
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            paint(&blue, "-->"),
            file.path().display(),
            start.line,
            start.col
        );
        let _ = writeln!(out, "{pad} {}", paint(&blue, "|"));
        let row = format!(
            "{} {} {line_text}",
            paint(&blue, &start.line.to_string()),
            paint(&blue, "|"),
        );
        // No trailing space after the bar when the line is empty.
        let _ = writeln!(out, "{}", row.trim_end());
        let _ = writeln!(
            out,
            "{pad} {} {prefix}{}",
            paint(&blue, "|"),
            paint(&red, &"^".repeat(caret_len))
        );
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{pad} {} help: {help}", paint(&blue, "="));
        }
        out
    }
}
