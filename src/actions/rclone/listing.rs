//! The files of one side, as `rclone lsjson -R --files-only` lists them: what the
//! deletion guard compares before a sync changes anything.
//!
//! Only paths are read (`--no-modtime --no-mimetype`, so S3 needs no request per object).
//! The step's flags go along, so filters (`--exclude`) list what the sync will see, and
//! connection flags (`--no-check-certificate`, `--ca-cert`) reach the server.

use std::collections::BTreeSet;
use std::ffi::OsString;

use serde::Deserialize;

use super::error::RcloneError;
use super::params::TRANSFER_ONLY;
use super::remotes::Location;
use super::tool::{Rclone, failure};
use crate::actions::execute::ActionError;

/// The files of one side, by path relative to the listed root.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub files: BTreeSet<String>,
}

/// One `lsjson` entry; the other fields are not needed.
#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "IsDir", default)]
    is_dir: bool,
}

/// What listing a side found.
pub(crate) enum Listed {
    Files(Listing),
    /// The bucket or directory does not exist (rclone: "directory not found").
    Missing(RcloneError),
}

/// Lists every file of `location`.
pub(crate) async fn list(
    rclone: &Rclone,
    location: &Location,
    flags: &[String],
) -> Result<Listed, ActionError> {
    let flags: Vec<String> = flags
        .iter()
        .filter(|f| {
            let name = f.split_once('=').map_or(f.as_str(), |(n, _)| n);
            !TRANSFER_ONLY.contains(&name)
        })
        .cloned()
        .collect();
    let args = vec![
        OsString::from("-R"),
        OsString::from("--files-only"),
        OsString::from("--no-modtime"),
        OsString::from("--no-mimetype"),
        location.arg.clone(),
    ];
    let finished = rclone.run("lsjson", args, &flags, &[location]).await?;
    if !finished.success() {
        return match failure("lsjson", &finished, &[location], Some(location.side)) {
            ActionError::Rclone(missing @ RcloneError::NotFound { .. }) => {
                Ok(Listed::Missing(missing))
            }
            other => Err(other),
        };
    }
    parse(&finished.stdout).map(Listed::Files)
}

/// Parses `lsjson` output: a JSON array of entries.
pub(crate) fn parse(stdout: &str) -> Result<Listing, ActionError> {
    let entries: Vec<Entry> = serde_json::from_str(stdout).map_err(|e| RcloneError::Output {
        what: "lsjson",
        reason: e.to_string(),
    })?;
    Ok(Listing {
        files: entries
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.path)
            .collect(),
    })
}

impl Listing {
    /// The files the sync would delete: on the destination, not on the source.
    pub(crate) fn absent_from<'a>(&'a self, source: &'a Listing) -> Vec<&'a str> {
        self.files
            .difference(&source.files)
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_parsed_and_compared_by_path() {
        let source = parse(
            r#"[
{"Path":"a/1","Name":"1","Size":4,"IsDir":false,"Tier":"STANDARD"},
{"Path":"2","Name":"2","Size":4,"IsDir":false}
]"#,
        )
        .unwrap();
        let destination = parse(
            r#"[{"Path":"2","Size":1,"IsDir":false},{"Path":"old","Size":1,"IsDir":false},{"Path":"d","IsDir":true}]"#,
        )
        .unwrap();
        assert_eq!(destination.files.len(), 2);
        assert_eq!(destination.absent_from(&source), ["old"]);
        assert!(parse("[\n]\n").unwrap().files.is_empty());
        let err = parse("Failed").unwrap_err().to_string();
        assert!(
            err.starts_with("`rclone lsjson` printed something drbook cannot read ("),
            "{err}"
        );
    }
}
