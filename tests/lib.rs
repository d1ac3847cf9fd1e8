//! drbook's integration tests, compiled into one binary (as `just` does): each module
//! covers one feature and runs the real `drbook` executable or the library API.

mod cli;
mod error_messages;
mod fuzz;
mod run_engine;
mod shipped_runbooks;
mod support;
