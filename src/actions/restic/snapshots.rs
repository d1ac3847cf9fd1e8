//! `restic.snapshots`: lists a repository's snapshots and picks one, the newest that
//! matches the filters, optionally the newest strictly before a time (the last one
//! from before the incident). Its `restored_point` is where RPO is measured from.
//!
//! Re-running is safe: it only reads. By default restic takes its usual non-exclusive
//! lock, so a listing fails, with advice, while another process holds an exclusive one
//! (prune, check, or a stale lock); `no_lock: true` lists without a lock, which restic
//! allows for read-only commands.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::error::ResticError;
use super::repository::{CACERT, ENV, HOST, PASSWORD, PATH, REPOSITORY, RESTIC, Repository, TAG};
use super::snapshot::{self, Filters};
use crate::actions::execute::{
    Action, ActionError, ActionFuture, ActionRequest, Outputs, optional_bool,
};
use crate::actions::program::Reporter;
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "restic.snapshots",
    by_hand: super::manual::snapshots,
    outputs: Some(&[
        "id",
        "short_id",
        "time",
        "restored_point",
        "hostname",
        "paths",
        "tags",
        "count",
    ]),
    summary: "List a restic repository's snapshots and pick the newest matching tag, host and path, optionally the newest before a time.",
    params: &[
        REPOSITORY,
        PASSWORD,
        ENV,
        CACERT,
        RESTIC,
        TAG,
        HOST,
        PATH,
        ParamSpec {
            name: "before",
            kind: ParamKind::String,
            required: false,
            doc: "Pick the newest snapshot taken strictly before this time (RFC 3339, e.g. `2026-11-20T10:00:00Z`), e.g. when the incident began.",
        },
        ParamSpec {
            name: "no_lock",
            kind: ParamKind::Bool,
            required: false,
            doc: "List without taking restic's lock (`--no-lock`), so that a stale or exclusive lock does not stop a read-only listing (default false).",
        },
    ],
    rerun: Rerun::Safe("it only reads the repository"),
    executor: &SnapshotsAction,
};

/// The advice for a locked repository that only a listing has.
pub(crate) const LIST_LOCK_HINT: &str = "; for a read-only listing, set `no_lock: true`";

/// The executor of `restic.snapshots`.
pub struct SnapshotsAction;

impl Action for SnapshotsAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let repo = Repository::from_params(params, &request.workdir)?;
    let filters = Filters::from_params(params)?;
    let before = parse_before(params.get("before"))?;
    let no_lock = optional_bool(params, "no_lock")?.unwrap_or(false);
    let reporter = Reporter {
        cancel: request.cancel.clone(),
        events: request.events.clone(),
        prefix: String::new(),
        hold: None,
    };
    reporter.progress(format!(
        "listing the snapshots of {} ({})",
        repo.shown,
        snapshot::wanted(&filters, before)
    ));
    let matching = repo
        .snapshots(&filters, no_lock, &reporter, LIST_LOCK_HINT)
        .await?;
    let Some(chosen) = snapshot::newest(&matching, before) else {
        // What does the repository hold? Unfiltered, unless nothing was filtered.
        let all = if filters.is_empty() {
            matching.clone()
        } else {
            repo.snapshots(&Filters::default(), no_lock, &reporter, LIST_LOCK_HINT)
                .await?
        };
        let mut found = snapshot::holdings(&all);
        if let Some(oldest) = matching.iter().min_by_key(|s| s.at) {
            found.push_str(&format!(
                "; {} of them {} the filters, but the oldest of those was taken {}: there is no matching backup from before `before`",
                matching.len(),
                if matching.len() == 1 { "matches" } else { "match" },
                oldest.restored_point()
            ));
        } else if !all.is_empty() {
            found.push_str("; none of them matches: check the filters");
            if filters.host.is_some() {
                found.push_str(" (KubeOne's backups are made on whichever control-plane node ran the job: filter by `tag: etcd`, not by `host`)");
            }
        }
        return Err(ResticError::NoSnapshot {
            repository: repo.shown.clone(),
            wanted: snapshot::wanted(&filters, before),
            found,
        }
        .into());
    };
    let count = match before {
        Some(before) => matching.iter().filter(|s| s.at < before).count(),
        None => matching.len(),
    };
    reporter.progress(format!("picked snapshot {}", chosen.describe()));
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), Value::String(chosen.id.clone()));
    outputs.insert("short_id".into(), Value::String(chosen.short_id.clone()));
    outputs.insert("time".into(), Value::String(chosen.time.clone()));
    outputs.insert(
        "restored_point".into(),
        Value::String(chosen.restored_point()),
    );
    outputs.insert("hostname".into(), Value::String(chosen.hostname.clone()));
    outputs.insert("paths".into(), json!(chosen.paths));
    outputs.insert("tags".into(), json!(chosen.tags()));
    outputs.insert("count".into(), Value::from(count));
    Ok(outputs)
}

/// `before`, an RFC 3339 time.
fn parse_before(value: Option<&Value>) -> Result<Option<DateTime<Utc>>, ResticError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| ResticError::BadParam {
                name: "before",
                problem: format!(
                    "is not an RFC 3339 time like `2026-11-20T10:00:00Z`: `{text}` ({e})"
                ),
            }),
        Some(other) => Err(ResticError::BadParam {
            name: "before",
            problem: format!(
                "must be an RFC 3339 time like `2026-11-20T10:00:00Z`, but is {}",
                crate::actions::execute::describe_value(other)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_takes_an_offset_and_refuses_a_date_without_time() {
        let t = parse_before(Some(&json!("2026-11-20T11:00:00+01:00")))
            .unwrap()
            .unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-20T10:00:00+00:00");
        let err = parse_before(Some(&json!("2026-11-20")))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("parameter `before` is not an RFC 3339 time like `2026-11-20T10:00:00Z`: `2026-11-20` ("),
            "{err}"
        );
        assert!(parse_before(Some(&json!(3))).is_err());
        assert!(parse_before(None).unwrap().is_none());
    }
}
