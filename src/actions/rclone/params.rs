//! Reading the rclone actions' own parameters: booleans that may arrive as rendered
//! text, and the extra `flags`, of which those that would defeat the deletion guard,
//! replace drbook's remotes or hide the statistics the outputs come from are refused.

use serde_json::{Map, Value};

use super::error::RcloneError;
use crate::actions::execute::{ActionError, describe_value};

/// Which rclone command the flags go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    Sync,
    Copy,
    Check,
}

/// Flags refused for every command, and why.
const REFUSED: &[(&str, &str)] = &[
    (
        "--config",
        "drbook configures the remotes from `source_remote` and `destination_remote` and runs rclone with `--config /dev/null`, so no rclone.conf can change them",
    ),
    (
        "--max-delete",
        "the deletion guard sets it; raise the step's `max_delete` instead",
    ),
    (
        "--max-delete-size",
        "the deletion guard limits deletions; raise the step's `max_delete` instead",
    ),
    (
        "--delete-before",
        "it changes when the sync deletes, which the deletion guard relies on; leave the default (delete after transferring)",
    ),
    (
        "--delete-during",
        "it changes when the sync deletes, which the deletion guard relies on; leave the default (delete after transferring)",
    ),
    (
        "--delete-after",
        "it is already the default, and the deletion guard relies on it",
    ),
    (
        "--delete-excluded",
        "it deletes destination files the guard does not count; drbook never deletes what the filters exclude",
    ),
    (
        "--ignore-errors",
        "with it, rclone deletes on the destination even when reading the source failed, the very case the deletion guard is for",
    ),
    (
        "--dry-run",
        "the outputs would count changes that were never made; compare with `rclone.check` instead",
    ),
    (
        "-n",
        "(`--dry-run`) the outputs would count changes that were never made; compare with `rclone.check` instead",
    ),
    (
        "--interactive",
        "rclone would wait for answers nobody gives it",
    ),
    (
        "-i",
        "(`--interactive`) rclone would wait for answers nobody gives it",
    ),
    (
        "--quiet",
        "drbook reads rclone's log and final statistics for the outputs",
    ),
    (
        "-q",
        "drbook reads rclone's log and final statistics for the outputs",
    ),
    (
        "--log-file",
        "drbook reads rclone's log and final statistics for the outputs",
    ),
    (
        "--log-level",
        "drbook reads rclone's log and final statistics for the outputs",
    ),
    (
        "--log-format",
        "drbook reads rclone's log and final statistics for the outputs",
    ),
    (
        "--use-json-log",
        "drbook chooses rclone's log format itself",
    ),
    (
        "--stats",
        "drbook reads rclone's final statistics for the outputs",
    ),
    (
        "--stats-log-level",
        "drbook reads rclone's final statistics for the outputs",
    ),
    (
        "--stats-one-line",
        "drbook reads rclone's final statistics for the outputs",
    ),
    (
        "--progress",
        "drbook reads rclone's log; progress goes to the step's log anyway",
    ),
    (
        "-P",
        "(`--progress`) drbook reads rclone's log; progress goes to the step's log anyway",
    ),
];

/// Flags refused for `check`, whose report drbook asks for itself.
const REFUSED_FOR_CHECK: &[(&str, &str)] = &[
    ("--one-way", "set the step's `one_way: true` instead"),
    ("--combined", "drbook reads the combined report itself"),
    (
        "--missing-on-src",
        "drbook reads the combined report itself",
    ),
    (
        "--missing-on-dst",
        "drbook reads the combined report itself",
    ),
    ("--match", "drbook reads the combined report itself"),
    ("--differ", "drbook reads the combined report itself"),
    ("--error", "drbook reads the combined report itself"),
];

/// Flags of the transfer commands that the listing command (`lsjson`) does not take.
pub(crate) const TRANSFER_ONLY: &[&str] = &["--create-empty-src-dirs"];

/// The `flags` parameter: extra rclone flags, each one item (`--transfers=8`).
pub(crate) fn flags(
    params: &Map<String, Value>,
    command: Command,
) -> Result<Vec<String>, ActionError> {
    const NAME: &str = "flags";
    let bad = |problem: String| -> ActionError {
        RcloneError::BadParam {
            name: NAME,
            problem,
        }
        .into()
    };
    let items = match params.get(NAME) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(bad(format!(
                "must be a list of strings, but is {}",
                describe_value(other)
            )));
        }
    };
    let mut flags = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(flag) = item else {
            return Err(bad(format!(
                "must be a list of strings, but has {}",
                describe_value(item)
            )));
        };
        let flag = flag.trim();
        if !flag.starts_with('-') {
            return Err(bad(format!(
                "has `{flag}`, which is not a flag; write a flag and its value as one item, e.g. `--transfers=8`"
            )));
        }
        let name = flag.split_once('=').map_or(flag, |(name, _)| name);
        let refused = REFUSED.iter().chain(if command == Command::Check {
            REFUSED_FOR_CHECK
        } else {
            &[]
        });
        if let Some((_, reason)) = refused.into_iter().find(|(n, _)| *n == name) {
            return Err(RcloneError::FlagRefused {
                flag: name.to_string(),
                reason,
            }
            .into());
        }
        flags.push(flag.to_string());
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flags_of(value: Value, command: Command) -> Result<Vec<String>, String> {
        flags(json!({ "flags": value }).as_object().unwrap(), command).map_err(|e| e.to_string())
    }

    #[test]
    fn flags_that_would_defeat_the_guard_or_the_remotes_are_refused() {
        assert_eq!(
            flags_of(
                json!(["--s3-no-check-bucket", " --transfers=8 "]),
                Command::Sync
            )
            .unwrap(),
            ["--s3-no-check-bucket", "--transfers=8"]
        );
        for (flag, says) in [
            ("--max-delete=1000", "raise the step's `max_delete` instead"),
            ("--delete-during", "which the deletion guard relies on"),
            ("--config=/root/.rclone.conf", "--config /dev/null"),
            ("--ignore-errors", "reading the source failed"),
            ("-q", "final statistics"),
        ] {
            let err = flags_of(json!([flag]), Command::Copy).unwrap_err();
            let name = flag.split('=').next().unwrap();
            assert!(
                err.starts_with(&format!("flag `{name}` in `flags` is refused: ")),
                "{err}"
            );
            assert!(err.contains(says), "{err}");
        }
        assert!(flags_of(json!(["--one-way"]), Command::Check).is_err());
        assert!(flags_of(json!(["--one-way"]), Command::Sync).is_ok());
        let err = flags_of(json!(["--transfers", "8"]), Command::Sync).unwrap_err();
        assert!(err.contains("`--transfers=8`"), "{err}");
        let err = flags_of(json!("--x"), Command::Sync).unwrap_err();
        assert_eq!(
            err,
            "parameter `flags` must be a list of strings, but is the string `--x`"
        );
    }
}
