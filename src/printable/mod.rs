//! `drbook render`: the runbook as a printable document, to carry the procedure out by
//! hand when drbook itself is unavailable.

mod by_hand;
mod document;
mod markdown;
mod view;
mod yaml;

pub use document::{RenderError, render};
