//! `rclone.copy` and `rclone.sync`: transfer a tree from the source to the destination.
//!
//! `copy` only adds and updates files; it never deletes. `sync` makes the destination
//! identical to the source, so it also deletes, and runs the deletion guard (`guard`)
//! first. Both report rclone's final statistics, read from its JSON log
//! (`--use-json-log`, where the last stats line carries a `stats` object), which rclone
//! 1.60 prints reliably; its text forms change between versions.
//!
//! Re-running either after a crash is safe. rclone transfers only files that differ, so
//! a second copy finishes what the first began; a sync lists both sides again and the
//! guard judges afresh, so a re-run can never delete more than a first run could.

use std::ffi::OsString;

use serde::Deserialize;
use serde_json::Value;

use super::error::{RcloneError, Side};
use super::guard::{self, MaxDelete};
use super::listing::{self, Listed, Listing};
use super::params::{self, Command};
use super::remotes::Location;
use super::tool::{Rclone, failure};
use crate::actions::execute::{Action, ActionError, ActionFuture, ActionRequest, Outputs};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

/// The parameters every rclone action takes.
pub(crate) const SIDES: [ParamSpec; 4] = [
    ParamSpec {
        name: "source",
        kind: ParamKind::String,
        required: true,
        doc: "`bucket` or `bucket/path` on `source_remote`; a local directory when there is no `source_remote` (relative to the run's work directory).",
    },
    ParamSpec {
        name: "destination",
        kind: ParamKind::String,
        required: true,
        doc: "`bucket` or `bucket/path` on `destination_remote`; a local directory when there is no `destination_remote`.",
    },
    ParamSpec {
        name: "source_remote",
        kind: ParamKind::StringMap,
        required: false,
        doc: "rclone backend options of the source, e.g. `{type: s3, provider: Minio, endpoint: …, access_key_id: …, secret_access_key: \"{{ secrets.minio_secret }}\"}`; passed as environment variables, never on the command line.",
    },
    ParamSpec {
        name: "destination_remote",
        kind: ParamKind::StringMap,
        required: false,
        doc: "rclone backend options of the destination, like `source_remote`.",
    },
];

/// `flags` and `rclone`, which every rclone action takes too.
pub(crate) const TOOL: [ParamSpec; 2] = [
    ParamSpec {
        name: "flags",
        kind: ParamKind::StringList,
        required: false,
        doc: "Extra rclone flags, one item each, e.g. `[--s3-no-check-bucket, --transfers=8]`. `--config`, `--max-delete`, `--delete-*`, `--ignore-errors` and flags that change rclone's log are refused.",
    },
    ParamSpec {
        name: "rclone",
        kind: ParamKind::String,
        required: false,
        doc: "The rclone binary (default: `rclone` on the PATH).",
    },
];

pub const COPY: ActionSpec = ActionSpec {
    name: "rclone.copy",
    by_hand: super::manual::copy,
    outputs: Some(&["transferred", "bytes", "errors"]),
    summary: "Copy new and changed files from the source to the destination with `rclone copy`; never deletes. Outputs the files and bytes transferred.",
    params: &[SIDES[0], SIDES[1], SIDES[2], SIDES[3], TOOL[0], TOOL[1]],
    rerun: Rerun::Safe(
        "it never deletes, and a second copy transfers only the files that still differ",
    ),
    executor: &TransferAction(Command::Copy),
};

pub const SYNC: ActionSpec = ActionSpec {
    name: "rclone.sync",
    by_hand: super::manual::sync,
    outputs: Some(&[
        "transferred",
        "bytes",
        "errors",
        "deleted",
        "would_delete",
        "destination_files",
    ]),
    summary: "Make the destination identical to the source with `rclone sync`, which deletes destination files the source lacks; refuses first when that would delete more than `max_delete`, or when the source is empty.",
    params: &[
        SIDES[0],
        SIDES[1],
        SIDES[2],
        SIDES[3],
        ParamSpec {
            name: "max_delete",
            kind: ParamKind::String,
            required: false,
            doc: "The most destination files the sync may delete: a percentage of them (`10%`, the default) or a number (`\"25\"`). An empty source is always refused.",
        },
        TOOL[0],
        TOOL[1],
    ],
    rerun: Rerun::Safe(
        "it lists both sides and runs the deletion guard again each time, and transfers only the files that differ",
    ),
    executor: &TransferAction(Command::Sync),
};

/// The executor of `rclone.copy` and `rclone.sync`.
pub struct TransferAction(Command);

impl Action for TransferAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(self.0, request))
    }
}

async fn run(command: Command, request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let source = Location::from_params(params, Side::Source, &request.workdir)?;
    let destination = Location::from_params(params, Side::Destination, &request.workdir)?;
    let flags = params::flags(params, command)?;
    let max_delete = match command {
        Command::Sync => Some(MaxDelete::from_params(params)?),
        _ => None,
    };
    let rclone = Rclone::for_request(&request)?;
    let sides = [&source, &destination];

    let mut args = vec![source.arg.clone(), destination.arg.clone()];
    let mut guarded = None;
    if let Some(max_delete) = max_delete {
        let allowed = run_guard(&rclone, &source, &destination, &flags, max_delete).await?;
        args.push(OsString::from(format!(
            "--max-delete={}",
            allowed.max_delete
        )));
        guarded = Some(allowed);
    }
    args.extend(
        [
            "--use-json-log",
            "-v",
            "--stats-log-level=NOTICE",
            "--stats=1m",
        ]
        .map(OsString::from),
    );
    let what = match command {
        Command::Sync => "sync",
        _ => "copy",
    };
    rclone.progress(format!(
        "rclone {what} from the source {} to the destination {}",
        source.describe(),
        destination.describe()
    ));
    let finished = rclone.run(what, args, &flags, &sides).await?;
    if !finished.success() {
        if let Some(allowed) = &guarded
            && finished.stderr.contains("max-delete threshold reached")
        {
            return Err(RcloneError::MaxDeleteReached {
                limit: allowed.max_delete,
            }
            .into());
        }
        return Err(failure(what, &finished, &sides, None));
    }
    let stats = final_stats(&finished.stderr).ok_or(RcloneError::Output {
        what,
        reason: "no final statistics in its log".into(),
    })?;
    let mut outputs = Outputs::new();
    outputs.insert("transferred".into(), Value::from(stats.transfers));
    outputs.insert("bytes".into(), Value::from(stats.bytes));
    outputs.insert("errors".into(), Value::from(stats.errors));
    if let Some(allowed) = guarded {
        outputs.insert("deleted".into(), Value::from(stats.deletes));
        outputs.insert("would_delete".into(), Value::from(allowed.would_delete));
        outputs.insert(
            "destination_files".into(),
            Value::from(allowed.destination_files),
        );
    }
    Ok(outputs)
}

/// Lists both sides and judges the sync. A destination that does not exist yet is
/// empty (the sync creates it); a source that does not exist is an error.
async fn run_guard(
    rclone: &Rclone,
    source: &Location,
    destination: &Location,
    flags: &[String],
    max_delete: MaxDelete,
) -> Result<guard::Allowed, ActionError> {
    rclone.progress(format!(
        "deletion guard: listing the source {} and the destination {}",
        source.describe(),
        destination.describe()
    ));
    let (source_listed, destination_listed) = tokio::join!(
        listing::list(rclone, source, flags),
        listing::list(rclone, destination, flags)
    );
    let source_files = match source_listed? {
        Listed::Files(files) => files,
        Listed::Missing(error) => return Err(error.into()),
    };
    let destination_files = match destination_listed? {
        Listed::Files(files) => files,
        Listed::Missing(_) => Listing::default(),
    };
    let allowed = guard::judge(
        &source_files,
        &destination_files,
        max_delete,
        || source.describe(),
        || destination.describe(),
    )?;
    rclone.progress(format!(
        "deletion guard: the sync deletes {} of the destination's {} files (source: {} files; max_delete {max_delete} allows {})",
        allowed.would_delete,
        allowed.destination_files,
        source_files.files.len(),
        allowed.max_delete
    ));
    Ok(allowed)
}

/// rclone's accounting, as its JSON log reports it.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
pub(crate) struct Stats {
    #[serde(default)]
    pub transfers: u64,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub errors: u64,
    #[serde(default)]
    pub deletes: u64,
}

/// The last `stats` object in a JSON log: rclone's final statistics.
pub(crate) fn final_stats(stderr: &str) -> Option<Stats> {
    stderr.lines().rev().find_map(|line| {
        let value: Value = serde_json::from_str(line).ok()?;
        serde_json::from_value(value.get("stats")?.clone()).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_stats_line_of_the_json_log_counts() {
        let log = r#"{"level":"info","msg":"Copied (new)","object":"2","source":"operations/operations.go:566"}
{"level":"warning","msg":"\nTransferred: 1 / 3\n","stats":{"bytes":4,"checks":0,"deletes":0,"errors":0,"transfers":1}}
2026/11/24 10:42:57 some plain line
{"level":"warning","msg":"\nTransferred: 14 B / 14 B, 100%\n","source":"accounting/stats.go:482","stats":{"bytes":14,"checks":0,"deletedDirs":0,"deletes":2,"elapsedTime":0.05,"errors":0,"eta":null,"fatalError":false,"renames":0,"retryError":false,"speed":0,"totalBytes":14,"totalChecks":0,"totalTransfers":3,"transferTime":0,"transfers":3}}
"#;
        assert_eq!(
            final_stats(log),
            Some(Stats {
                transfers: 3,
                bytes: 14,
                errors: 0,
                deletes: 2
            })
        );
        assert_eq!(final_stats("2026/11/24 Failed to copy\n"), None);
    }
}
