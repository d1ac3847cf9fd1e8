//! Running rclone for an action: the binary (the step's `rclone`, else the PATH), the
//! arguments every run gets, and turning a failed run into an `RcloneError`.
//!
//! Every run gets `--config /dev/null`, so no rclone.conf can define or shadow the
//! remotes, and the environment is only what `program` inherits plus the two sides'
//! `RCLONE_CONFIG_DRBOOK…` variables: an operator's `AWS_CA_BUNDLE`, `AWS_PROFILE` or
//! `RCLONE_*` variables never reach it.

use std::ffi::OsString;

use super::error::{RcloneError, Side};
use super::failure::classify;
use super::remotes::Location;
use crate::actions::execute::{ActionError, ActionRequest, optional_str};
use crate::actions::program::{self, Finished, Program, Reporter};

/// How to get rclone, for the error when it is missing.
const INSTALL: &str = "Debian: `apt-get install rclone`; others: https://rclone.org/install/";

/// A located rclone and where its runs report.
pub(crate) struct Rclone {
    program: Program,
    pub reporter: Reporter,
    cwd: std::path::PathBuf,
}

impl Rclone {
    /// The binary named by the step's `rclone`, else `rclone` on the PATH.
    pub(crate) fn for_request(request: &ActionRequest) -> Result<Rclone, ActionError> {
        let given = optional_str(&request.params, "rclone")?;
        let program = Program::locate("rclone", given, &request.workdir, INSTALL)?;
        Ok(Rclone {
            program,
            reporter: Reporter {
                cancel: request.cancel.clone(),
                events: request.events.clone(),
                prefix: String::new(),
            },
            cwd: request.workdir.clone(),
        })
    }

    /// Runs `rclone <command> <args…> <flags…>` with the environment of `sides`. A
    /// failure (non-zero exit) is returned as `Ok` for the caller to judge: `check`
    /// exits 1 when it finds differences.
    pub(crate) async fn run(
        &self,
        command: &'static str,
        args: Vec<OsString>,
        flags: &[String],
        sides: &[&Location],
    ) -> Result<Finished, ActionError> {
        let mut all = vec![
            OsString::from(command),
            OsString::from("--config"),
            OsString::from("/dev/null"),
        ];
        all.extend(args);
        all.extend(flags.iter().map(OsString::from));
        let env: Vec<(String, String)> = sides.iter().flat_map(|l| l.env()).cloned().collect();
        program::run(&self.program, all, &env, &self.cwd, &self.reporter, false).await
    }

    /// Posts a progress note to the step's log.
    pub(crate) fn progress(&self, text: impl Into<String>) {
        self.reporter.progress(text);
    }
}

/// The error for a failed run: a known failure when stderr shows one, else the exit
/// status and rclone's last lines.
pub(crate) fn failure(
    what: &'static str,
    finished: &Finished,
    sides: &[&Location],
    listed: Option<Side>,
) -> ActionError {
    classify(&finished.stderr, sides, listed)
        .unwrap_or_else(|| RcloneError::Failed {
            what,
            status: finished.status,
            stderr_tail: finished.stderr_tail.clone(),
        })
        .into()
}
