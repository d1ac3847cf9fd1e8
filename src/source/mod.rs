//! The source wing: what every file drbook reads from a person shares — the file and
//! its lines, spans, diagnostics drawn with a caret, the spanned YAML tree and the
//! collecting decoder. Runbooks, targets files and answers files are all read through
//! it, so each of their errors points at its line and column the same way.

pub mod decode;
pub mod diagnostic;
pub mod source_file;
pub mod span;
pub mod yaml_tree;
