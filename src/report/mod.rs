//! `drbook report RUN_ID`: a run's record as evidence to hand over — HTML to read and
//! print, Markdown for tickets, versioned JSON, JUnit XML for CI systems — made from the
//! verified journal alone (docs/reports.md).

mod clusters;
mod command;
mod model;
mod render;
mod review;
mod timeline;

pub(crate) use command::report;
pub use render::ReportFormat;
