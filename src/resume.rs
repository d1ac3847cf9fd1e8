//! `drbook resume RUN_ID`: continue a run under the same id, from its journal, through
//! the session layer.

use crate::app_error::AppError;
use crate::run_dir::StateDir;
use crate::session::{ResumeRequest, Session};

pub fn resume(request: ResumeRequest, state: &StateDir) -> Result<(), AppError> {
    Session::resume(request, state)?.drive()
}
