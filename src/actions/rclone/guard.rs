//! The deletion guard of `rclone.sync`: before anything changes, how many destination
//! files would the sync delete, and is that more than the step allows?
//!
//! `rclone sync` makes the destination identical to the source, so a source that lost
//! its files (a MinIO that was wiped, rebuilt empty, or came back half-restored) is
//! mirrored over the off-site copy, the one copy left. The guard compares listings of
//! both sides and refuses when the sync would delete more than `max_delete` (a
//! percentage of the destination's files, or a count), and always when the source is
//! empty and the destination is not. The allowed count is then passed to rclone as
//! `--max-delete`, a second guard against the source changing after the listings.

use serde_json::{Map, Value};

use super::error::{GuardRefusal, RcloneError};
use super::listing::Listing;
use crate::actions::execute::{ActionError, describe_value};

/// How many of the files the guard names in a refusal.
const EXAMPLES: usize = 5;

/// The default of `max_delete`.
pub(crate) const DEFAULT_MAX_DELETE: &str = "10%";

/// `max_delete`: a share of the destination's files, or a number of files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxDelete {
    /// 0 to 100.
    Percent(u64),
    Count(u64),
}

impl MaxDelete {
    /// The step's `max_delete` (default `10%`): `"10%"`, `"25"`, or the number `25`.
    pub(crate) fn from_params(params: &Map<String, Value>) -> Result<MaxDelete, ActionError> {
        const NAME: &str = "max_delete";
        let bad = |found: String| -> ActionError {
            RcloneError::BadParam {
                name: NAME,
                problem: format!(
                    "must be a percentage of the destination's files like `10%` or a number of files like `25`, but is {found}"
                ),
            }
            .into()
        };
        let text = match params.get(NAME) {
            None | Some(Value::Null) => DEFAULT_MAX_DELETE.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(value @ Value::Number(n)) => match n.as_u64() {
                Some(count) => return Ok(MaxDelete::Count(count)),
                None => return Err(bad(describe_value(value))),
            },
            Some(other) => return Err(bad(describe_value(other))),
        };
        let found = || format!("`{text}`");
        match text.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<u64>() {
                Ok(p) if p <= 100 => Ok(MaxDelete::Percent(p)),
                _ => Err(bad(format!("{} (a whole percentage, 0 to 100)", found()))),
            },
            None => text
                .parse::<u64>()
                .map(MaxDelete::Count)
                .map_err(|_| bad(found())),
        }
    }

    /// The most files that may be deleted from a destination of `files` files.
    pub(crate) fn allowed(self, files: u64) -> u64 {
        match self {
            MaxDelete::Percent(p) => files * p / 100,
            MaxDelete::Count(n) => n,
        }
    }
}

impl std::fmt::Display for MaxDelete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxDelete::Percent(p) => write!(f, "{p}%"),
            MaxDelete::Count(n) => write!(f, "{n}"),
        }
    }
}

/// What the guard decided to let through.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Allowed {
    pub would_delete: u64,
    pub destination_files: u64,
    /// The `--max-delete` for rclone.
    pub max_delete: u64,
}

/// Decides whether a sync from `source` over `destination` may run; `describe_*` name
/// the two sides in a refusal.
pub(crate) fn judge(
    source: &Listing,
    destination: &Listing,
    max_delete: MaxDelete,
    describe_source: impl FnOnce() -> String,
    describe_destination: impl FnOnce() -> String,
) -> Result<Allowed, RcloneError> {
    let doomed = destination.absent_from(source);
    let would_delete = doomed.len() as u64;
    let destination_files = destination.files.len() as u64;
    let allowed = max_delete.allowed(destination_files);
    let source_empty = source.files.is_empty() && destination_files > 0;
    if source_empty || would_delete > allowed {
        return Err(RcloneError::DeletionGuard(Box::new(GuardRefusal {
            would_delete,
            destination_files,
            source_files: source.files.len() as u64,
            max_delete: max_delete.to_string(),
            allowed,
            examples: doomed
                .iter()
                .take(EXAMPLES)
                .map(|p| p.to_string())
                .collect(),
            source: describe_source(),
            destination: describe_destination(),
        })));
    }
    Ok(Allowed {
        would_delete,
        destination_files,
        max_delete: allowed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(names: &[&str]) -> Listing {
        Listing {
            files: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    fn max(value: Value) -> Result<MaxDelete, String> {
        MaxDelete::from_params(json!({ "max_delete": value }).as_object().unwrap())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn max_delete_is_a_percentage_or_a_count() {
        assert_eq!(
            MaxDelete::from_params(&Map::new()).unwrap(),
            MaxDelete::Percent(10)
        );
        assert_eq!(max(json!("25%")).unwrap(), MaxDelete::Percent(25));
        assert_eq!(max(json!(" 7 ")).unwrap(), MaxDelete::Count(7));
        assert_eq!(max(json!(7)).unwrap(), MaxDelete::Count(7));
        assert_eq!(
            max(json!("120%")).unwrap_err(),
            "parameter `max_delete` must be a percentage of the destination's files like `10%` or a number of files like `25`, but is `120%` (a whole percentage, 0 to 100)"
        );
        assert!(max(json!("lots")).is_err());
        assert!(max(json!(-1)).is_err());
        assert_eq!(MaxDelete::Percent(10).allowed(40), 4);
        assert_eq!(MaxDelete::Percent(10).allowed(9), 0);
        assert_eq!(MaxDelete::Percent(100).allowed(9), 9);
    }

    #[test]
    fn deletions_within_the_limit_pass_and_more_are_refused_with_names() {
        let dst: Vec<String> = (0..20).map(|i| format!("f{i:02}")).collect();
        let dst_refs: Vec<&str> = dst.iter().map(String::as_str).collect();
        let destination = listing(&dst_refs);
        let source = listing(&dst_refs[2..]);
        let allowed = judge(
            &source,
            &destination,
            MaxDelete::Percent(10),
            String::new,
            String::new,
        )
        .unwrap();
        assert_eq!(
            allowed,
            Allowed {
                would_delete: 2,
                destination_files: 20,
                max_delete: 2
            }
        );
        let source = listing(&dst_refs[3..]);
        let err = judge(
            &source,
            &destination,
            MaxDelete::Percent(10),
            || "bucket `minio`".into(),
            || "bucket `offsite`".into(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "refusing to sync: it would delete 3 of the 20 files of the destination bucket `offsite` (e.g. `f00`, `f01`, `f02`), more than `max_delete: 10%` allows (2); nothing was changed. A source that lost files (a damaged or half-restored MinIO) mirrored over the off-site copy destroys the copy. Check the source; to restore the other way, use `rclone.copy`; if these deletions are intended, raise `max_delete` for this run (e.g. `max_delete: \"3\"`)"
        );
        assert!(
            judge(
                &source,
                &destination,
                MaxDelete::Count(3),
                String::new,
                String::new
            )
            .is_ok()
        );
    }

    #[test]
    fn an_empty_source_is_refused_whatever_max_delete_says() {
        let destination = listing(&["a", "b", "c", "d", "e", "f", "g"]);
        let err = judge(
            &Listing::default(),
            &destination,
            MaxDelete::Percent(100),
            || "bucket `minio`".into(),
            || "bucket `offsite`".into(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("refusing to sync: the source bucket `minio` is empty, so the sync would delete all 7 files of the destination bucket `offsite` (e.g. `a`, `b`, `c`, `d`, `e`, …); nothing was changed. An empty source is what a lost or wiped MinIO looks like"),
            "{err}"
        );
        // Both empty: nothing to delete, nothing to refuse.
        assert!(
            judge(
                &Listing::default(),
                &Listing::default(),
                MaxDelete::Percent(10),
                String::new,
                String::new
            )
            .is_ok()
        );
    }
}
