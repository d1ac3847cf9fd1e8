//! The snapshot `restic restore` names on its first line of output, so that a restore
//! of a full id learns the snapshot's time from the restore itself instead of from a
//! second restic run (each run opens the repository: derives the key from the password
//! with scrypt, on purpose slowly, and lists what it needs).
//!
//! restic 0.14 to 0.17 print, unless `--quiet`:
//! `restoring <Snapshot 9640f724 of [/backup] at 2026-12-07 11:17:01.582060768 +0000 UTC by root@cp-0> to /target`
//! (Go's `Snapshot.String`: the short id, the paths, the time as Go prints it, user and
//! host). Only the short id and the time are read; a line that does not read so is
//! ignored, and the caller asks restic with `snapshots` instead.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

/// What restic said it was restoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Announced {
    pub short_id: String,
    pub at: DateTime<FixedOffset>,
}

impl Announced {
    /// Whether this is the snapshot with the full id `id`.
    pub(crate) fn is(&self, id: &str) -> bool {
        id.starts_with(&self.short_id)
    }

    /// The time as `restic snapshots --json` writes it (Go's RFC 3339 with nanoseconds:
    /// trailing zeros of the fraction dropped, `Z` for UTC), so that the `time` output
    /// reads the same however it was learnt.
    pub(crate) fn time(&self) -> String {
        let full = self.at.to_rfc3339_opts(SecondsFormat::Nanos, true);
        // `2026-12-07T11:17:01.582060000Z` → `2026-12-07T11:17:01.58206Z`.
        let Some(dot) = full.find('.') else {
            return full;
        };
        let end = full[dot + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(full.len(), |i| dot + 1 + i);
        let fraction = full[dot + 1..end].trim_end_matches('0');
        let point = if fraction.is_empty() { "" } else { "." };
        format!("{}{point}{fraction}{}", &full[..dot], &full[end..])
    }

    pub(crate) fn at_utc(&self) -> DateTime<Utc> {
        self.at.with_timezone(&Utc)
    }
}

/// The snapshot named by the `restoring <Snapshot …>` line of `stdout`, if there is one
/// that reads as restic writes it.
pub(crate) fn parse(stdout: &str) -> Option<Announced> {
    let line = stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("restoring <Snapshot "))?;
    let (short_id, rest) = line.split_once(' ')?;
    if short_id.is_empty() || !short_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // A path may itself contain " at ": the time is the first " at " followed by
    // something that reads as one.
    rest.match_indices(" at ").find_map(|(i, _)| {
        let mut words = rest[i + 4..].split(' ');
        let text = format!("{} {} {}", words.next()?, words.next()?, words.next()?);
        let at = DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f %z").ok()?;
        Some(Announced {
            short_id: short_id.to_ascii_lowercase(),
            at,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_of_restic_0_14_gives_the_short_id_and_the_time() {
        let stdout = "restoring <Snapshot 9640f724 of [/tmp/rt/src] at 2026-12-07 11:17:01.582060768 +0000 UTC by root@vm> to rt/out\nverifying files in rt/out\n";
        let announced = parse(stdout).unwrap();
        assert_eq!(announced.short_id, "9640f724");
        assert_eq!(announced.time(), "2026-12-07T11:17:01.582060768Z");
        assert!(announced.is("9640f724ad81cf82e21c4629b14c1d7da7b6441492a04608052b68075edc8aec"));
        assert!(!announced.is("aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111"));
    }

    #[test]
    fn whole_seconds_offsets_and_paths_with_at_read_as_restic_json_writes_them() {
        let whole = "restoring <Snapshot aaaa2222 of [/backup] at 2026-11-20 10:00:00 +0000 UTC by root@cp-1> to /t";
        assert_eq!(parse(whole).unwrap().time(), "2026-11-20T10:00:00Z");
        let offset = "restoring <Snapshot aaaa2222 of [/a at b /c] at 2026-11-20 12:30:00.5 +0100 +0100 by root@cp-2> to /t";
        let announced = parse(offset).unwrap();
        assert_eq!(announced.time(), "2026-11-20T12:30:00.5+01:00");
        assert_eq!(
            announced.at_utc(),
            DateTime::parse_from_rfc3339("2026-11-20T11:30:00.5Z").unwrap()
        );
    }

    #[test]
    fn anything_else_is_no_announcement() {
        assert_eq!(parse(""), None);
        assert_eq!(
            parse("restoring <Snapshot of [/a] at yesterday by x@y> to /t"),
            None
        );
        assert_eq!(
            parse("restoring <Snapshot zz of [/a] at 2026-11-20 10:00:00 +0000 UTC by x@y> to /t"),
            None
        );
    }
}
