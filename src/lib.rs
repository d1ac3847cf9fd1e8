//! drbook: a disaster-recovery runbook engine for Kubernetes platforms.
//!
//! The pipeline is the one `just` taught us: a file is read into a spanned YAML tree
//! (`source::yaml_tree`), decoded into the model (`runbook::parse`), checked as a whole
//! (`runbook::check`), ordered into a step graph (`runbook::graph`), and then either
//! dry-run (`dry_run`), printed (`printable`) or bound and run by the session layer
//! (`session`) through the engine (`engine`), which records every transition in the
//! journal (`journal`) and runs actions (`actions`). docs/architecture.md draws it.

pub mod actions;
pub mod app_error;
pub mod audit;
pub mod cli;
pub mod dry_run;
pub mod engine;
pub mod exit_code;
pub mod input_values;
pub mod journal;
mod load;
pub mod operator;
pub mod printable;
pub mod report;
mod resume;
pub mod review;
mod run;
pub mod run_dir;
pub mod runbook;
mod runs;
pub mod session;
pub mod signing;
pub mod source;
mod start;
pub mod store;
pub mod targets;
pub mod template;
mod validate;
mod validate_targets;
mod verdict;
mod verify;
pub mod view;

pub use run::run;

/// The runbook `apiVersion`s this build understands, newest last.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["drbook.io/v1"];

/// The `kind` of a runbook.
pub const RUNBOOK_KIND: &str = "Runbook";

/// The `kind` of a targets file (`targets.rs`).
pub const TARGETS_KIND: &str = "Targets";

/// The `kind` of a drill answers file (`operator/answers.rs`), which may leave it out.
pub const ANSWERS_KIND: &str = "Answers";
