//! `s3.latest`: the newest object under a prefix, optionally with a suffix and older
//! than a given time: "the newest backup before the incident". Its `last_modified` is
//! the restored point, from which the run's RPO is computed.
//!
//! "Newest" is by the store's last-modified time; objects with the same time (S3 keeps
//! milliseconds, some servers only seconds) are ordered by key, which for KKP's
//! timestamped names (`<clusterID>-<config>-YYYY-MM-DDtHH-MM-SS.db.gz`) is their age.
//!
//! Safe to re-run after a crash: it only reads.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::{NoMatch, S3Error};
use super::list::list_reporting;
use super::object::{Object, rfc3339};
use super::store::{PREFIX, STORE_PARAMS, Store};
use crate::actions::execute::{
    Action, ActionError, ActionFuture, ActionRequest, Outputs, optional_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "s3.latest",
    by_hand: super::manual::latest,
    outputs: Some(&[
        "key",
        "size",
        "last_modified",
        "restored_point",
        "etag",
        "candidates",
    ]),
    summary: "Find the newest object in an S3 bucket under a prefix, with a suffix, older than a given time; outputs its key and its time as `restored_point`.",
    params: &[
        STORE_PARAMS[0],
        STORE_PARAMS[1],
        STORE_PARAMS[2],
        STORE_PARAMS[3],
        STORE_PARAMS[4],
        STORE_PARAMS[5],
        STORE_PARAMS[6],
        PREFIX,
        ParamSpec {
            name: "suffix",
            kind: ParamKind::String,
            required: false,
            doc: "Only keys that end with this text, e.g. `.db.gz`.",
        },
        ParamSpec {
            name: "before",
            kind: ParamKind::String,
            required: false,
            doc: "An RFC 3339 time, e.g. the incident's start: only objects last modified strictly before it.",
        },
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &LatestAction,
};

/// The executor of `s3.latest`.
pub struct LatestAction;

impl Action for LatestAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let store = Store::from_params(params)?;
    let prefix = optional_str(params, "prefix")?.filter(|p| !p.is_empty());
    let suffix = optional_str(params, "suffix")?.filter(|s| !s.is_empty());
    let before = match optional_str(params, "before")?.map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_time(text)?),
    };
    let listing = list_reporting(&store, prefix, &request);
    let objects = tokio::select! {
        listed = listing => listed?,
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    };
    let choice = choose(&objects, suffix, before);
    let Some(newest) = choice.newest else {
        let excluded = (choice.matching > 0).then(|| {
            let matching = || {
                objects
                    .iter()
                    .filter(|o| suffix.is_none_or(|s| o.key.ends_with(s)))
            };
            let oldest = matching().map(|o| o.last_modified).min();
            let newest = matching().map(|o| o.last_modified).max();
            (rfc3339(oldest.unwrap()), rfc3339(newest.unwrap()))
        });
        return Err(S3Error::NoMatch(Box::new(NoMatch {
            endpoint: store.endpoint.clone(),
            bucket: store.bucket.clone(),
            prefix: prefix.map(str::to_string),
            suffix: suffix.map(str::to_string),
            before: before.map(rfc3339),
            listed: objects.len(),
            matching: choice.matching,
            excluded,
        }))
        .into());
    };
    let mut outputs = Outputs::new();
    outputs.insert("key".into(), Value::String(newest.key.clone()));
    outputs.insert("size".into(), Value::from(newest.size));
    outputs.insert(
        "last_modified".into(),
        Value::String(rfc3339(newest.last_modified)),
    );
    outputs.insert(
        "restored_point".into(),
        Value::String(rfc3339(newest.last_modified)),
    );
    outputs.insert(
        "etag".into(),
        newest
            .etag
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    outputs.insert("candidates".into(), Value::from(choice.candidates));
    Ok(outputs)
}

/// What `choose` found.
#[derive(Debug)]
struct Choice<'a> {
    /// Objects with the suffix.
    matching: usize,
    /// Of those, the ones older than `before`.
    candidates: usize,
    newest: Option<&'a Object>,
}

/// The newest object with `suffix`, last modified strictly before `before`; ties go
/// to the greater key.
fn choose<'a>(
    objects: &'a [Object],
    suffix: Option<&str>,
    before: Option<DateTime<Utc>>,
) -> Choice<'a> {
    let matching: Vec<&Object> = objects
        .iter()
        .filter(|o| suffix.is_none_or(|s| o.key.ends_with(s)))
        .collect();
    let candidates: Vec<&Object> = matching
        .iter()
        .copied()
        .filter(|o| before.is_none_or(|b| o.last_modified < b))
        .collect();
    Choice {
        matching: matching.len(),
        candidates: candidates.len(),
        newest: candidates
            .into_iter()
            .max_by(|a, b| (a.last_modified, &a.key).cmp(&(b.last_modified, &b.key))),
    }
}

/// `before` as a time; RFC 3339 with an offset.
fn parse_time(text: &str) -> Result<DateTime<Utc>, S3Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| S3Error::BadParam {
            name: "before",
            problem: format!(
                "is not an RFC 3339 time: `{text}` ({e}); write e.g. `2026-01-31T10:20:00Z`"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, time: &str) -> Object {
        Object {
            key: key.into(),
            size: 1,
            last_modified: parse_time(time).unwrap(),
            etag: None,
        }
    }

    #[test]
    fn the_newest_before_wins_and_ties_go_to_the_greater_key() {
        let objects = [
            object("c-1.db.gz", "2026-01-01T10:00:00Z"),
            object("c-2.db.gz", "2026-01-01T10:20:00Z"),
            object("c-3.db.gz", "2026-01-01T10:20:00Z"),
            object("c-4.db.gz", "2026-01-01T10:40:00Z"),
            object("c-5.txt", "2026-01-01T11:00:00Z"),
        ];
        let all = choose(&objects, None, None);
        assert_eq!(all.newest.unwrap().key, "c-5.txt");
        let gz = choose(&objects, Some(".db.gz"), None);
        assert_eq!((gz.matching, gz.candidates), (4, 4));
        assert_eq!(gz.newest.unwrap().key, "c-4.db.gz");
        let before = parse_time("2026-01-01T10:40:00Z").ok();
        let earlier = choose(&objects, Some(".db.gz"), before);
        assert_eq!(earlier.candidates, 3, "strictly before");
        assert_eq!(earlier.newest.unwrap().key, "c-3.db.gz");
        let none = choose(
            &objects,
            Some(".db.gz"),
            parse_time("2026-01-01T09:00:00Z").ok(),
        );
        assert_eq!((none.matching, none.candidates), (4, 0));
        assert!(none.newest.is_none());
    }

    #[test]
    fn before_must_be_rfc_3339() {
        assert_eq!(
            parse_time("2026-01-31T11:20:00+01:00").unwrap(),
            parse_time("2026-01-31T10:20:00Z").unwrap()
        );
        let err = parse_time("yesterday").unwrap_err().to_string();
        assert!(
            err.starts_with("parameter `before` is not an RFC 3339 time: `yesterday` ("),
            "{err}"
        );
    }
}
