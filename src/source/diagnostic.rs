//! Errors about a source file, and the one renderer that draws them.
//!
//! Every runbook mistake becomes a `Diagnostic` with a span; `render` draws it the way
//! compilers do, so an operator sees the file, line and column, the line itself and a
//! caret under the offending part, and, for a thing written twice, where it was first:
//!
//! ```text
//! error: duplicate step id `restore`
//!   --> runbooks/x.yaml:12:11
//!    |
//!  8 |     - id: restore
//!    |           ------- first written here
//! ...
//! 12 |     - id: restore
//!    |           ^^^^^^^
//!    |
//!    = help: every step id must be unique
//! ```
//!
//! The drawing is `annotate-snippets` (rustc's renderer): it measures columns by display
//! width, so a caret after wide characters (Japanese text in a description) still lands
//! under its character, which counting characters did not.

use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use crate::source::source_file::{self, SourceFile};
use crate::source::span::{Pos, Span};

/// One problem found in a source file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// Another place that explains this one: the first of two keys or ids written
    /// twice. Boxed, as it is rare and every `Result<_, Diagnostic>` carries its size.
    pub secondary: Option<Box<Secondary>>,
}

/// A place shown beside a diagnostic's own, with what to say there.
#[derive(Debug, Clone, PartialEq)]
pub struct Secondary {
    pub span: Span,
    pub label: String,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            message: message.into(),
            help: None,
            secondary: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Also marks `span` in the quoted source, labelled `label` ("first written here").
    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary = Some(Box::new(Secondary {
            span,
            label: label.into(),
        }));
        self
    }

    /// Draws the diagnostic against its file, ending with a newline. `color` adds
    /// terminal colours; the text is the same either way.
    pub fn render(&self, file: &SourceFile, color: bool) -> String {
        let source = Excerpt::new(file, self.span, self.secondary.as_ref().map(|s| s.span));
        let path = file.path().display().to_string();
        let mut snippet = Snippet::source(source.text.as_str())
            .line_start(source.first_line)
            .path(path.as_str())
            .fold(true)
            .annotation(AnnotationKind::Primary.span(source.range(self.span)));
        if let Some(secondary) = &self.secondary {
            snippet = snippet.annotation(
                AnnotationKind::Context
                    .span(source.range(secondary.span))
                    .label(secondary.label.as_str()),
            );
        }
        let mut group = Level::ERROR
            .primary_title(self.message.as_str())
            .element(snippet);
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        // A runbook line is quoted whole however long it is, as before: the operator
        // may need its end to recognise it.
        let mut out = renderer.term_width(usize::MAX / 4).render(&[group]);
        out.push('\n');
        out
    }
}

/// The lines of a file a diagnostic quotes, joined with `\n` (the file may end lines
/// with `\r\n` or a lone `\r`, as YAML allows), and where they start.
struct Excerpt<'f> {
    first_line: usize,
    lines: Vec<&'f str>,
    text: String,
}

impl<'f> Excerpt<'f> {
    fn new(file: &'f SourceFile, primary: Span, secondary: Option<Span>) -> Self {
        let spans = std::iter::once(primary).chain(secondary);
        let first_line = spans
            .clone()
            .map(|s| s.start.line)
            .min()
            .unwrap_or(1)
            .max(1);
        let last_line = spans
            .map(|s| s.start.line)
            .max()
            .unwrap_or(1)
            .max(first_line);
        let lines: Vec<&str> = source_file::lines(&file.text)
            .skip(first_line - 1)
            .take(last_line - first_line + 1)
            .collect();
        let text = lines.join("\n");
        Excerpt {
            first_line,
            lines,
            text,
        }
    }

    /// The bytes of the excerpt a span marks. A span over several lines is marked to
    /// the end of its first line; an empty span (a YAML syntax error is a point) gets
    /// one caret.
    fn range(&self, span: Span) -> Range<usize> {
        let Span { start, end } = span;
        let begin = self.offset(start);
        let finish = if end.line == start.line && end.col > start.col {
            self.offset(end)
        } else if end.line > start.line {
            self.offset(Pos {
                line: start.line,
                col: usize::MAX,
            })
        } else {
            begin
        };
        begin..finish.max(begin)
    }

    /// The byte offset in `text` of a 1-based line and character column; a column past
    /// the end of its line is the end of the line.
    fn offset(&self, pos: Pos) -> usize {
        let index = pos.line.saturating_sub(self.first_line);
        let Some(line) = self.lines.get(index) else {
            return self.text.len();
        };
        let line_start: usize = self.lines[..index].iter().map(|l| l.len() + 1).sum();
        let in_line = line
            .char_indices()
            .nth(pos.col.saturating_sub(1))
            .map_or(line.len(), |(at, _)| at);
        line_start + in_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, col: usize, len: usize) -> Span {
        Span {
            start: Pos { line, col },
            end: Pos {
                line,
                col: col + len,
            },
        }
    }

    #[test]
    fn the_caret_lands_under_its_character_after_wide_text() {
        // Seven wide characters, each two terminal columns, before `inptus`.
        let before = "description: 日本語での説明 {{ ";
        let file = SourceFile::new("r.yaml", format!("a: 1\n{before}inptus.x }}}}\n"));
        let col = before.chars().count() + 1;
        let rendered =
            Diagnostic::new(at(2, col, 6), "unknown variable `inptus`").render(&file, false);
        let lines: Vec<&str> = rendered.lines().collect();
        assert_eq!(lines[1], format!(" --> r.yaml:2:{col}"), "{rendered}");
        let quoted = lines[3].find("description").unwrap();
        let caret = lines[4].find('^').unwrap();
        assert_eq!(caret, quoted + before.chars().count() + 7, "{rendered}");
        assert_eq!(&lines[4][caret..], "^^^^^^", "{rendered}");
    }

    #[test]
    fn a_secondary_place_is_labelled_and_lines_between_are_folded() {
        let text = "steps:\n  - id: a\n  - x\n  - x\n  - x\n  - x\n  - id: a\n";
        let file = SourceFile::new("r.yaml", text);
        let rendered = Diagnostic::new(at(7, 9, 1), "duplicate step id `a`")
            .with_secondary(at(2, 9, 1), "first written here")
            .with_help("every step id must be unique")
            .render(&file, false);
        assert_eq!(
            rendered,
            "\
error: duplicate step id `a`
 --> r.yaml:7:9
  |
2 |   - id: a
  |         - first written here
...
7 |   - id: a
  |         ^
  |
  = help: every step id must be unique
"
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines_and_a_point_gets_one_caret() {
        let file = SourceFile::new("r.yaml", "a: 1\rb: [\r");
        let point = Span {
            start: Pos { line: 2, col: 5 },
            end: Pos { line: 2, col: 5 },
        };
        let rendered = Diagnostic::new(point, "unclosed list").render(&file, false);
        assert!(rendered.contains("2 | b: [\n  |     ^\n"), "{rendered}");
    }

    #[test]
    fn a_long_line_is_quoted_whole() {
        let line = format!("run: {} {{{{ inptus.x }}}}", "echo x; ".repeat(40));
        let file = SourceFile::new("r.yaml", line.as_str());
        let col = line.find("inptus").unwrap() + 1;
        let rendered = Diagnostic::new(at(1, col, 6), "unknown variable").render(&file, false);
        assert!(rendered.contains(&format!("1 | {line}\n")), "{rendered}");
    }

    #[test]
    fn colour_changes_only_the_escapes() {
        let file = SourceFile::new("r.yaml", "acton: shell\n");
        let diagnostic =
            Diagnostic::new(at(1, 1, 5), "unknown key `acton`").with_help("did you mean `action`?");
        let plain = diagnostic.render(&file, false);
        let coloured = diagnostic.render(&file, true);
        assert_ne!(plain, coloured);
        assert_eq!(console::strip_ansi_codes(&coloured), plain);
    }
}
