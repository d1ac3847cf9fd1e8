//! A restic snapshot as `restic snapshots --json` lists it, and choosing one: the newest
//! matching the filters (optionally strictly before a time), or the one an id names.
//!
//! Both actions choose through these functions, so `restic.restore` with `latest`
//! restores exactly what `restic.snapshots` with the same filters reports. The
//! filters themselves (`--tag`, `--host`, `--path`) are left to restic, so they mean
//! what they mean in restic (`tag: etcd,daily` needs both tags).

use std::ffi::OsString;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::params::optional_text;
use crate::actions::ActionError;

/// One snapshot. restic adds fields over the versions (`summary` in 0.17); only these
/// are read.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Snapshot {
    pub id: String,
    #[serde(default)]
    pub short_id: String,
    /// As restic prints it: RFC 3339 with nanoseconds and the backup host's offset.
    pub time: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    /// `time`, parsed.
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl Snapshot {
    /// A snapshot known by its full id and time only (given by the runbook, or named by
    /// the restore itself), not listed: no host, paths or tags.
    pub(crate) fn known(id: &str, time: String, at: DateTime<Utc>) -> Snapshot {
        Snapshot {
            id: id.to_string(),
            short_id: id.chars().take(8).collect(),
            time,
            hostname: String::new(),
            paths: Vec::new(),
            tags: None,
            at,
        }
    }

    pub(crate) fn tags(&self) -> Vec<String> {
        self.tags.clone().unwrap_or_default()
    }

    /// `at` in RFC 3339, UTC, to the millisecond: the restored point RPO is measured
    /// from, written like every other action's.
    pub(crate) fn restored_point(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// "3f2a9c1d taken 2026-11-20T10:00:00Z on host `cp-1`, tags `etcd`, paths `/backup`".
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} taken {} on host `{}`, tags {}, paths {}",
            self.short_id,
            self.restored_point(),
            self.hostname,
            quoted(&self.tags()),
            quoted(&self.paths)
        )
    }
}

/// "`a`, `b`", or "none".
pub(crate) fn quoted(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items
            .iter()
            .map(|i| format!("`{i}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parses `restic snapshots --json`: a list (restic 0.14 prints `[]` for none, some
/// versions `null`).
pub(crate) fn parse_listing(stdout: &str) -> Result<Vec<Snapshot>, String> {
    let listed: Option<Vec<Snapshot>> =
        serde_json::from_str(stdout.trim()).map_err(|e| format!("not a snapshot list: {e}"))?;
    let mut snapshots = listed.unwrap_or_default();
    for snapshot in &mut snapshots {
        snapshot.at = DateTime::parse_from_rfc3339(&snapshot.time)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                format!(
                    "snapshot {} has the time `{}`, which is not RFC 3339 ({e})",
                    snapshot.id, snapshot.time
                )
            })?;
        if snapshot.short_id.is_empty() {
            snapshot.short_id = snapshot.id.chars().take(8).collect();
        }
    }
    Ok(snapshots)
}

/// The newest snapshot, strictly before `before` when given. Equal times (one backup
/// job retried within a second) are ordered by id, so the choice never depends on the
/// listing's order.
pub(crate) fn newest(snapshots: &[Snapshot], before: Option<DateTime<Utc>>) -> Option<&Snapshot> {
    snapshots
        .iter()
        .filter(|s| before.is_none_or(|b| s.at < b))
        .max_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)))
}

/// What looking a snapshot up by id found.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    Found(&'a Snapshot),
    Missing,
    /// More than one id starts with the given prefix.
    Ambiguous,
}

/// The snapshot whose id is `id` or starts with it (a short id is a prefix).
pub(crate) fn find<'a>(snapshots: &'a [Snapshot], id: &str) -> Lookup<'a> {
    let id = id.to_ascii_lowercase();
    let mut matching = snapshots.iter().filter(|s| s.id.starts_with(&id));
    match (matching.next(), matching.next()) {
        (Some(found), None) => Lookup::Found(found),
        (None, _) => Lookup::Missing,
        (Some(_), Some(_)) => Lookup::Ambiguous,
    }
}

/// What the repository holds, for a message that says nothing matched: how many
/// snapshots and the newest one.
pub(crate) fn holdings(all: &[Snapshot]) -> String {
    match newest(all, None) {
        None => "the repository holds no snapshots at all: no backup has run yet, or every snapshot was forgotten; check the backup job (KubeOne: CronJob `etcd-s3-backup` in `kube-system`) and that `repository` is the one it writes to".to_string(),
        Some(newest) => format!(
            "the repository holds {} {}, the newest {}",
            all.len(),
            if all.len() == 1 { "snapshot" } else { "snapshots" },
            newest.describe()
        ),
    }
}

/// restic's own snapshot filters.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filters {
    pub tag: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
}

impl Filters {
    pub(crate) fn from_params(params: &Map<String, Value>) -> Result<Filters, ActionError> {
        Ok(Filters {
            tag: optional_text(params, "tag")?,
            host: optional_text(params, "host")?,
            path: optional_text(params, "path")?,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tag.is_none() && self.host.is_none() && self.path.is_none()
    }

    /// `--tag T --host H --path P`, for those given.
    pub(crate) fn args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        for (flag, value) in [
            ("--tag", &self.tag),
            ("--host", &self.host),
            ("--path", &self.path),
        ] {
            if let Some(value) = value {
                args.push(flag.into());
                args.push(value.into());
            }
        }
        args
    }

    /// "tag `etcd`", "host `cp-1`", … for those given.
    pub(crate) fn conditions(&self) -> Vec<String> {
        [
            ("tag", &self.tag),
            ("host", &self.host),
            ("path", &self.path),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} `{v}`")))
        .collect()
    }
}

/// "tag `etcd`, host `cp-1` and taken before 2026-11-20T11:00:00Z", or "any snapshot".
pub(crate) fn wanted(filters: &Filters, before: Option<DateTime<Utc>>) -> String {
    let mut conditions = filters.conditions();
    if let Some(before) = before {
        conditions.push(format!(
            "taken before {}",
            before.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        ));
    }
    match conditions.split_last() {
        None => "any snapshot".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A listing as restic 0.14 prints it, with times in three offsets.
    pub(crate) const LISTING: &str = r#"[
      {"time":"2026-11-20T10:00:00.123456789Z","tree":"t1","paths":["/backup"],"hostname":"cp-1","username":"root","tags":["etcd"],"id":"aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111","short_id":"aaaa1111"},
      {"time":"2026-11-20T12:30:00.5+01:00","tree":"t2","paths":["/backup"],"hostname":"cp-2","username":"root","tags":["etcd"],"id":"aaaa2222aaaa2222aaaa2222aaaa2222aaaa2222aaaa2222aaaa2222aaaa2222","short_id":"aaaa2222"},
      {"time":"2026-11-20T07:00:00-05:00","tree":"t3","paths":["/backup"],"hostname":"cp-1","username":"root","id":"bbbb3333bbbb3333bbbb3333bbbb3333bbbb3333bbbb3333bbbb3333bbbb3333"}
    ]"#;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn times_with_offsets_and_nanoseconds_are_compared_as_instants() {
        let all = parse_listing(LISTING).unwrap();
        // 12:00Z (bbbb3333, written -05:00) is the newest; 11:30:00.5Z is second.
        assert_eq!(newest(&all, None).unwrap().short_id, "bbbb3333");
        assert_eq!(
            newest(&all, Some(at("2026-11-20T12:00:00Z")))
                .unwrap()
                .short_id,
            "aaaa2222",
            "strictly before"
        );
        assert_eq!(
            newest(&all, Some(at("2026-11-20T11:30:00.5Z")))
                .unwrap()
                .short_id,
            "aaaa1111"
        );
        assert!(newest(&all, Some(at("2026-11-20T10:00:00.1Z"))).is_none());
        let first = &all[0];
        assert_eq!(first.restored_point(), "2026-11-20T10:00:00.123Z");
        assert_eq!(all[2].tags(), Vec::<String>::new());
        assert_eq!(
            all[1].describe(),
            "aaaa2222 taken 2026-11-20T11:30:00.500Z on host `cp-2`, tags `etcd`, paths `/backup`"
        );
    }

    #[test]
    fn ids_are_found_by_prefix_and_an_ambiguous_prefix_is_refused() {
        let all = parse_listing(LISTING).unwrap();
        assert!(matches!(find(&all, "AAAA2222"), Lookup::Found(s) if s.short_id == "aaaa2222"));
        assert!(matches!(find(&all, &all[2].id), Lookup::Found(s) if s.short_id == "bbbb3333"));
        assert!(matches!(find(&all, "aaaa"), Lookup::Ambiguous));
        assert!(matches!(find(&all, "cccc"), Lookup::Missing));
    }

    #[test]
    fn an_empty_or_null_listing_is_no_snapshots_and_garbage_is_an_error() {
        assert!(parse_listing("[]\n").unwrap().is_empty());
        assert!(parse_listing("null").unwrap().is_empty());
        assert!(parse_listing("Fatal: x").is_err());
        let bad_time = r#"[{"time":"yesterday","id":"ab","paths":[]}]"#;
        assert!(parse_listing(bad_time).unwrap_err().contains("`yesterday`"));
    }

    #[test]
    fn the_wanted_snapshot_reads_as_a_sentence() {
        let filters = Filters {
            tag: Some("etcd".into()),
            host: Some("cp-1".into()),
            path: None,
        };
        assert_eq!(
            wanted(&filters, Some(at("2026-11-20T11:00:00+01:00"))),
            "tag `etcd`, host `cp-1` and taken before 2026-11-20T10:00:00Z"
        );
        assert_eq!(wanted(&Filters::default(), None), "any snapshot");
        assert_eq!(
            filters.args(),
            ["--tag", "etcd", "--host", "cp-1"].map(OsString::from)
        );
        assert_eq!(
            holdings(&[]).split(':').next().unwrap(),
            "the repository holds no snapshots at all"
        );
    }
}
