//! `rclone.check`: do the source and the destination hold the same files? A gate after
//! a restore (S8: the off-site copy back into a rebuilt MinIO) or before trusting the
//! off-site copy.
//!
//! rclone compares sizes and hashes (`--download` in `flags` compares content where
//! the two sides share no hash) and prints one line per file with `--combined -`:
//! `=` same, `*` different, `+` only on the source, `-` only on the destination, `!`
//! could not be compared. drbook counts those marks; rclone's exit status (1 for
//! differences as for failures) decides nothing by itself.
//!
//! Safe to re-run after a crash: it only reads.

use std::ffi::OsString;

use serde_json::Value;

use super::error::{RcloneError, Side};
use super::params::{self, Command};
use super::remotes::Location;
use super::sync::{SIDES, TOOL};
use super::tool::{Rclone, failure};
use crate::actions::execute::{
    Action, ActionError, ActionFuture, ActionRequest, Outputs, optional_bool,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

/// How many differing files a failure names.
const EXAMPLES: usize = 5;

pub const SPEC: ActionSpec = ActionSpec {
    name: "rclone.check",
    by_hand: super::manual::check,
    outputs: Some(&[
        "matching",
        "differences",
        "missing_on_source",
        "missing_on_destination",
        "errors",
    ]),
    summary: "Compare the source and the destination with `rclone check` (sizes and hashes); fails on any difference unless `allow_differences: true`.",
    params: &[
        SIDES[0],
        SIDES[1],
        SIDES[2],
        SIDES[3],
        ParamSpec {
            name: "one_way",
            kind: ParamKind::Bool,
            required: false,
            doc: "Only check that every source file is on the destination; files only on the destination do not count (default false).",
        },
        ParamSpec {
            name: "allow_differences",
            kind: ParamKind::Bool,
            required: false,
            doc: "Succeed even when the trees differ, with the counts as outputs (default false: differences fail the step).",
        },
        TOOL[0],
        TOOL[1],
    ],
    rerun: Rerun::Safe("it only reads both sides"),
    executor: &CheckAction,
};

/// The executor of `rclone.check`.
pub struct CheckAction;

impl Action for CheckAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// The counts of `--combined` marks.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Report {
    pub matching: u64,
    pub differences: u64,
    pub missing_on_destination: u64,
    pub missing_on_source: u64,
    pub errors: u64,
    /// The first few files that are not `=`, with their mark.
    pub examples: Vec<String>,
}

impl Report {
    /// Counts the lines of `rclone check --combined -`.
    pub(crate) fn parse(stdout: &str) -> Report {
        let mut report = Report::default();
        for line in stdout.lines() {
            let Some((mark, path)) = line.split_at_checked(2) else {
                continue;
            };
            let counter = match mark {
                "= " => &mut report.matching,
                "* " => &mut report.differences,
                "+ " => &mut report.missing_on_destination,
                "- " => &mut report.missing_on_source,
                "! " => &mut report.errors,
                _ => continue,
            };
            *counter += 1;
            if mark != "= " && report.examples.len() < EXAMPLES {
                report.examples.push(format!(
                    "`{path}` ({})",
                    match mark {
                        "* " => "differs",
                        "+ " => "missing on the destination",
                        "- " => "missing on the source",
                        _ => "could not be compared",
                    }
                ));
            }
        }
        report
    }

    fn any(&self) -> bool {
        self.differences + self.missing_on_destination + self.missing_on_source + self.errors > 0
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let source = Location::from_params(params, Side::Source, &request.workdir)?;
    let destination = Location::from_params(params, Side::Destination, &request.workdir)?;
    let flags = params::flags(params, Command::Check)?;
    let one_way = optional_bool(params, "one_way")?.unwrap_or(false);
    let allow_differences = optional_bool(params, "allow_differences")?.unwrap_or(false);
    let rclone = Rclone::for_request(&request)?;
    let sides = [&source, &destination];

    let mut args = vec![
        source.arg.clone(),
        destination.arg.clone(),
        OsString::from("--combined"),
        OsString::from("-"),
    ];
    if one_way {
        args.push(OsString::from("--one-way"));
    }
    rclone.progress(format!(
        "rclone check of the source {} against the destination {}{}",
        source.describe(),
        destination.describe(),
        if one_way { " (one way)" } else { "" }
    ));
    let finished = rclone.run("check", args, &flags, &sides).await?;
    let report = Report::parse(&finished.stdout);
    // rclone exits 1 both for differences and for failures; its last line says which.
    let only_differences = finished
        .stderr
        .lines()
        .rev()
        .find(|l| l.contains("Failed to check"))
        .is_some_and(|l| l.ends_with("differences found"));
    let found_differences = only_differences && report.any();
    if !finished.success() && !found_differences {
        return Err(failure("check", &finished, &sides, None));
    }
    rclone.progress(format!(
        "check: {} matching, {} differing, {} missing on the destination, {} missing on the source, {} not comparable",
        report.matching,
        report.differences,
        report.missing_on_destination,
        report.missing_on_source,
        report.errors
    ));
    if report.any() && !allow_differences {
        return Err(RcloneError::Differences {
            differences: report.differences,
            missing_on_destination: report.missing_on_destination,
            missing_on_source: report.missing_on_source,
            errors: report.errors,
            examples: report.examples,
        }
        .into());
    }
    let mut outputs = Outputs::new();
    outputs.insert("matching".into(), Value::from(report.matching));
    outputs.insert("differences".into(), Value::from(report.differences));
    outputs.insert(
        "missing_on_destination".into(),
        Value::from(report.missing_on_destination),
    );
    outputs.insert(
        "missing_on_source".into(),
        Value::from(report.missing_on_source),
    );
    outputs.insert("errors".into(), Value::from(report.errors));
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_marks_are_counted() {
        let report = Report::parse("+ newsrc\n- onlydst\n* 2\n= 3\n= a/1\n! broken file\nnoise\n");
        assert_eq!(
            report,
            Report {
                matching: 2,
                differences: 1,
                missing_on_destination: 1,
                missing_on_source: 1,
                errors: 1,
                examples: vec![
                    "`newsrc` (missing on the destination)".into(),
                    "`onlydst` (missing on the source)".into(),
                    "`2` (differs)".into(),
                    "`broken file` (could not be compared)".into(),
                ],
            }
        );
        assert!(report.any());
        assert!(!Report::parse("= a\n= b\n").any());
    }
}
