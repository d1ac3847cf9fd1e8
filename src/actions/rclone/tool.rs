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
                hold: None,
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
        program::run_rendered(
            &self.program,
            all,
            &env,
            &self.cwd,
            &self.reporter,
            false,
            &render_log_line,
        )
        .await
    }

    /// Posts a progress note to the step's log.
    pub(crate) fn progress(&self, text: impl Into<String>) {
        self.reporter.progress(text);
    }
}

/// One line of rclone's log as people read it: the JSON log (`--use-json-log`, which
/// the actions parse) becomes `Copied (new): <object>`, and a stats line becomes one
/// line of counts. Lines that are not JSON are shown as they are.
fn render_log_line(line: &str) -> Option<String> {
    let Ok(serde_json::Value::Object(entry)) = serde_json::from_str::<serde_json::Value>(line)
    else {
        return Some(line.to_string());
    };
    if let Some(stats) = entry.get("stats") {
        let number = |key: &str| stats.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
        return Some(format!(
            "stats: {} of {} files transferred ({} of {} bytes), {} checked, {} deleted, {} errors",
            number("transfers"),
            number("totalTransfers"),
            number("bytes"),
            number("totalBytes"),
            number("checks"),
            number("deletes"),
            number("errors"),
        ));
    }
    let text = |key: &str| entry.get(key).and_then(|v| v.as_str()).unwrap_or("");
    let message = text("msg").trim();
    let level = match text("level") {
        "" | "info" => String::new(),
        other => format!("{}: ", other.to_uppercase()),
    };
    Some(match text("object") {
        "" => format!("{level}{message}"),
        object => format!("{level}{message}: {object}"),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_log_is_shown_as_one_readable_line_per_entry() {
        assert_eq!(
            render_log_line(
                r#"{"level":"info","msg":"Copied (new)","object":"data/37/3757","objectType":"*s3.Object","source":"operations/operations.go:566","time":"2026-11-24T11:05:01Z"}"#
            )
            .as_deref(),
            Some("Copied (new): data/37/3757")
        );
        assert_eq!(
            render_log_line(
                r#"{"level":"warning","msg":"\nTransferred: 14 B / 14 B, 100%\n","stats":{"bytes":14,"checks":1,"deletes":2,"errors":0,"totalBytes":14,"totalTransfers":3,"transfers":3}}"#
            )
            .as_deref(),
            Some("stats: 3 of 3 files transferred (14 of 14 bytes), 1 checked, 2 deleted, 0 errors")
        );
        assert_eq!(
            render_log_line(r#"{"level":"error","msg":"Failed to copy: AccessDenied"}"#).as_deref(),
            Some("ERROR: Failed to copy: AccessDenied")
        );
        assert_eq!(
            render_log_line("2026/11/24 11:05:01 NOTICE: S3 bucket kkpbackup: 0 differences found")
                .as_deref(),
            Some("2026/11/24 11:05:01 NOTICE: S3 bucket kkpbackup: 0 differences found")
        );
    }
}
