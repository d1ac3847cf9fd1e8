//! The session layer: binds a run (target, answers, inputs, secrets, operator),
//! records or reopens it, assembles its engine and drives it to its end. `run`,
//! `drill` and `resume` are thin commands over it; `plan` binds through it too.

mod assemble;
pub mod binding;
mod cluster_check;
mod driver;
mod new_run;
mod preflight;
mod preflight_answers;
mod resumed;

pub use driver::Session;
pub use new_run::StartRequest;
pub use resumed::ResumeRequest;
