//! `drbook review RUN_ID`: the part of a drill's record machines cannot write — lessons
//! learned, corrective actions and the scenario owner's sign-off — signed by someone
//! other than the operator, and read back by `verify` and `report`.

mod command;
pub mod model;
mod prompt;

pub(crate) use command::{ReviewRequest, review};
pub use model::Review;
