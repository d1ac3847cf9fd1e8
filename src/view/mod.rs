//! How a run looks while it happens: the terminal view for people, or one JSON record
//! per line for machines (`--output json`). Both only observe the records.

pub(crate) mod cluster_line;
pub(crate) mod item_label;
pub mod json;
mod live;
pub(crate) mod plain_text;
pub mod terminal;

pub use json::JsonView;
pub use terminal::TerminalView;
