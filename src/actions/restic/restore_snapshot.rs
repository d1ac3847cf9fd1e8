//! Which snapshot `restic.restore` restores, and its time: listed and chosen as
//! `restic.snapshots` chooses (`latest`, a short id, an id with filters), or, for a full
//! id without filters, not listed at all: the time is the runbook's `snapshot_time`
//! (checked against what restic says it restored), else what restic names as it starts
//! restoring (`announced`), else, for a restic that names nothing, listed after all.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::announced;
use super::error::ResticError;
use super::params::optional_text;
use super::repository::Repository;
use super::snapshot::{self, Filters, Lookup, Snapshot};
use crate::actions::execute::ActionError;
use crate::actions::program::Reporter;

/// A snapshot time the runbook gave (`snapshot_time`, e.g. `restic.snapshots`' `time`
/// output): as given, and parsed.
#[derive(Debug, Clone)]
pub(super) struct GivenTime {
    text: String,
    at: DateTime<Utc>,
}

/// Reads `snapshot_time`: it goes with the full id of the snapshot it is the time of,
/// and without filters (which select by listing, and a given time skips the listing).
pub(super) fn given_time(
    params: &Map<String, Value>,
    wanted: &str,
    filters: &Filters,
) -> Result<Option<GivenTime>, ActionError> {
    let Some(text) = optional_text(params, "snapshot_time")? else {
        return Ok(None);
    };
    let bad = |problem: String| -> ActionError {
        ResticError::BadParam {
            name: "snapshot_time",
            problem,
        }
        .into()
    };
    if !is_full_id(wanted) {
        return Err(bad(format!(
            "is given without a snapshot id: `snapshot` is `{wanted}`, not a full id (64 hex digits); pass the `id` and the `time` of the same `restic.snapshots` step, e.g. `snapshot: \"{{{{ steps.pick.outputs.id }}}}\"` and `snapshot_time: \"{{{{ steps.pick.outputs.time }}}}\"`, or leave `snapshot_time` out"
        )));
    }
    if !filters.is_empty() {
        return Err(bad(format!(
            "cannot go with {}: the filters choose a snapshot by listing the repository, which a given time skips; the `restic.snapshots` step that gave the id applied them already, so leave them out here",
            filters.conditions().join(", ")
        )));
    }
    let at = DateTime::parse_from_rfc3339(&text)
        .map_err(|e| {
            bad(format!(
                "is not an RFC 3339 time like `2026-11-20T10:00:00.123456789Z`: `{text}` ({e})"
            ))
        })?
        .with_timezone(&Utc);
    Ok(Some(GivenTime { text, at }))
}

/// Whether `id` is a whole restic snapshot id (64 hex digits), which restic resolves
/// exactly, so that no listing is needed to find it.
pub(super) fn is_full_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The snapshot an unlisted restore of the full id `id` restored: its time as given,
/// checked against what restic said it restored, else as restic said, else listed.
pub(super) async fn restored_snapshot(
    repo: &Repository,
    id: &str,
    given: Option<GivenTime>,
    stdout: &str,
    no_lock: bool,
    reporter: &Reporter,
) -> Result<Snapshot, ActionError> {
    let announced = announced::parse(stdout).filter(|a| a.is(id));
    match (given, announced) {
        (Some(given), Some(announced)) if given.at != announced.at_utc() => {
            Err(ResticError::BadParam {
                name: "snapshot_time",
                problem: format!(
                    "is `{}`, but restic restored snapshot {} taken {}: the id and the time are not of the same snapshot; pass both from the same `restic.snapshots` step; nothing was written to the target",
                    given.text,
                    announced.short_id,
                    announced.time()
                ),
            }
            .into())
        }
        (Some(given), _) => Ok(Snapshot::known(id, given.text, given.at)),
        (None, Some(announced)) => Ok(Snapshot::known(id, announced.time(), announced.at_utc())),
        // restic did not say (another version's output): ask it.
        (None, None) => resolve(repo, id, &Filters::default(), no_lock, reporter).await,
    }
}

/// The snapshot of an earlier attempt's finished restore of the full id `id`: its time
/// as given, else as the record says, else listed.
pub(super) async fn earlier_snapshot(
    repo: &Repository,
    id: &str,
    given: Option<GivenTime>,
    record: &Value,
    no_lock: bool,
    reporter: &Reporter,
) -> Result<Snapshot, ActionError> {
    if let Some(given) = given {
        return Ok(Snapshot::known(id, given.text, given.at));
    }
    let recorded = record["time"].as_str().and_then(|text| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| Snapshot::known(id, text.to_string(), at.with_timezone(&Utc)))
    });
    match recorded {
        Some(snapshot) => Ok(snapshot),
        None => resolve(repo, id, &Filters::default(), no_lock, reporter).await,
    }
}

/// The snapshot `wanted` names, among those matching `filters`.
pub(super) async fn resolve(
    repo: &Repository,
    wanted: &str,
    filters: &Filters,
    no_lock: bool,
    reporter: &Reporter,
) -> Result<Snapshot, ActionError> {
    let matching = repo
        .snapshots(filters, no_lock, reporter, RESTORE_LOCK_HINT)
        .await?;
    if wanted.eq_ignore_ascii_case("latest") {
        if let Some(newest) = snapshot::newest(&matching, None) {
            return Ok(newest.clone());
        }
        let all = everything(repo, filters, &matching, no_lock, reporter).await?;
        let mut found = snapshot::holdings(&all);
        if !all.is_empty() {
            found.push_str("; none of them matches: check the filters");
        }
        return Err(ResticError::NoSnapshot {
            repository: repo.shown.clone(),
            wanted: snapshot::wanted(filters, None),
            found,
        }
        .into());
    }
    let ambiguous = "is ambiguous: more than one snapshot id starts with it; give more of the id (`restic.snapshots` outputs the full `id`)";
    let problem = match snapshot::find(&matching, wanted) {
        Lookup::Found(found) => return Ok(found.clone()),
        Lookup::Ambiguous => ambiguous.to_string(),
        Lookup::Missing => {
            let all = everything(repo, filters, &matching, no_lock, reporter).await?;
            match snapshot::find(&all, wanted) {
                Lookup::Found(other) => format!(
                    "does not match {}: it is {}; check `snapshot` and the filters",
                    snapshot::wanted(filters, None),
                    other.describe()
                ),
                Lookup::Ambiguous => ambiguous.to_string(),
                Lookup::Missing => format!(
                    "does not exist; {}; check `snapshot` (the id may be of another repository, or the snapshot was forgotten)",
                    snapshot::holdings(&all)
                ),
            }
        }
    };
    Err(ResticError::UnknownSnapshot {
        repository: repo.shown.clone(),
        id: wanted.to_string(),
        problem,
    }
    .into())
}

/// Every snapshot of the repository: `matching` when nothing was filtered, else listed
/// again without filters.
async fn everything(
    repo: &Repository,
    filters: &Filters,
    matching: &[Snapshot],
    no_lock: bool,
    reporter: &Reporter,
) -> Result<Vec<Snapshot>, ActionError> {
    if filters.is_empty() {
        Ok(matching.to_vec())
    } else {
        repo.snapshots(&Filters::default(), no_lock, reporter, RESTORE_LOCK_HINT)
            .await
    }
}

/// The advice for a locked repository that a restore adds: it only reads.
pub(super) const RESTORE_LOCK_HINT: &str = "; a restore only reads: with read-only credentials or to read past the lock, set `no_lock: true`";
