//! Where something stands in a source file, and values that remember it.

use std::fmt;
use std::ops::Deref;

/// A position in a source file: 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A range in a source file, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    /// A span that starts `offset` characters after this one on the same line and is
    /// `len` characters long; used to point inside a one-line scalar.
    pub fn sub(self, offset: usize, len: usize) -> Span {
        let start = Pos {
            line: self.start.line,
            col: self.start.col + offset,
        };
        Span {
            start,
            end: Pos {
                line: start.line,
                col: start.col + len.max(1),
            },
        }
    }
}

/// A value decoded from a runbook, with the span it came from, so that checks that run
/// long after parsing can still point at the exact place.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}
