//! `check.age`: fails when a time (a backup's completion, a snapshot's, an object's last
//! change) is older than a policy allows, and says how old it is: the RPO that layer
//! would give if disaster struck now.
//!
//! Readiness audits (S9) need this for every backup layer; without it each runbook would
//! do date arithmetic in shell, differently each time and with `date -d` that exists only
//! in GNU coreutils. The judgement is a pure function of the time, the allowed age and
//! the clock, so it is tested without a clock.
//!
//! Safe to re-run after a crash: it only reads the clock.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_duration,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "check.age",
    summary: "Fails when a time (a backup's completion) is older than `max_age`; outputs its age, the RPO if disaster struck now.",
    params: &[
        ParamSpec {
            name: "time",
            kind: ParamKind::String,
            required: true,
            doc: "An RFC 3339 time, e.g. `{{ steps.backups.outputs.restored_point }}`.",
        },
        ParamSpec {
            name: "max_age",
            kind: ParamKind::Duration,
            required: true,
            doc: "The oldest `time` may be, e.g. `40m` (twice a 20-minute schedule).",
        },
        ParamSpec {
            name: "what",
            kind: ParamKind::String,
            required: false,
            doc: "What the time is of, for the log and the error, e.g. `the newest etcd backup of cluster x`.",
        },
    ],
    outputs: Some(&["age", "age_seconds", "time", "max_age", "what"]),
    rerun: Rerun::Safe("it only reads the clock"),
    by_hand,
    executor: &AgeAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    vec![
        format!(
            "echo $(( ($(date -u +%s) - $(date -u -d {} +%s)) / 60 )) minutes old",
            crate::actions::by_hand::quote(&given.text("time")),
        ),
        format!("# fail when that is more than {}", given.text("max_age")),
    ]
}

/// Why a time does not pass.
#[derive(Debug, thiserror::Error)]
pub enum AgeError {
    #[error(
        "{what} has no time (`time` is empty): it never completed, or the step that read it found none; check that layer's backups"
    )]
    NoTime { what: String },

    #[error(
        "parameter `time` ({what}) is not an RFC 3339 time: `{value}`; write e.g. `2026-12-07T03:00:00Z`"
    )]
    BadTime { what: String, value: String },

    #[error(
        "{what} is {age} old ({time}), older than the allowed {max_age}: if disaster struck now, this layer would lose {age} of data; check that its backups run and complete"
    )]
    TooOld {
        what: String,
        time: String,
        age: String,
        max_age: String,
    },
}

/// The executor of `check.age`.
pub struct AgeAction;

impl Action for AgeAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(async move { run(&request) })
    }
}

fn run(request: &ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let max_age = required_duration(params, "max_age")?;
    let what = optional_str(params, "what")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("the time")
        .to_string();
    // A backup that never finished has a null time: say so, not "missing parameter".
    let time = optional_str(params, "time")?.unwrap_or("");
    let judged = judge(time, max_age, Utc::now(), &what)?;
    request.emit(ActionEvent::Progress(format!(
        "{what}: {} old ({}), within {}{}",
        judged.age,
        judged.time,
        words(max_age),
        if judged.future {
            "; the time is in the future: do the clocks agree?"
        } else {
            ""
        }
    )));
    let mut outputs = Outputs::new();
    outputs.insert("age".into(), Value::String(judged.age));
    outputs.insert("age_seconds".into(), Value::from(judged.age_seconds));
    outputs.insert("time".into(), Value::String(judged.time));
    outputs.insert("max_age".into(), Value::String(words(max_age)));
    outputs.insert("what".into(), Value::String(what));
    Ok(outputs)
}

/// A time that passed.
#[derive(Debug, PartialEq)]
struct Judged {
    age: String,
    age_seconds: u64,
    /// The time in RFC 3339 UTC.
    time: String,
    /// The time is after `now` (its age counts as zero).
    future: bool,
}

/// Whether `time` is at most `max_age` before `now`.
fn judge(
    time: &str,
    max_age: Duration,
    now: DateTime<Utc>,
    what: &str,
) -> Result<Judged, AgeError> {
    let time = time.trim();
    if time.is_empty() {
        return Err(AgeError::NoTime { what: what.into() });
    }
    let parsed = DateTime::parse_from_rfc3339(time)
        .map_err(|_| AgeError::BadTime {
            what: what.into(),
            value: time.into(),
        })?
        .with_timezone(&Utc);
    let utc = parsed.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let (age, future) = match (now - parsed).to_std() {
        Ok(age) => (age, false),
        Err(_) => (Duration::ZERO, true),
    };
    let age_seconds = age.as_secs();
    if age > max_age {
        return Err(AgeError::TooOld {
            what: what.into(),
            time: utc,
            age: words(age),
            max_age: words(max_age),
        });
    }
    Ok(Judged {
        age: words(age),
        age_seconds,
        time: utc,
        future,
    })
}

/// A duration to the second, as humantime writes it (`1h 2m 3s`).
fn words(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    const NOW: &str = "2026-12-07T03:00:00Z";

    #[test]
    fn a_time_within_the_allowed_age_passes_with_its_age() {
        let judged = judge(
            "2026-12-07T02:41:30Z",
            Duration::from_secs(40 * 60),
            at(NOW),
            "the newest backup",
        )
        .unwrap();
        assert_eq!(judged.age, "18m 30s");
        assert_eq!(judged.age_seconds, 1110);
        assert_eq!(judged.time, "2026-12-07T02:41:30Z");
        assert!(!judged.future);
    }

    #[test]
    fn an_offset_is_compared_as_an_instant() {
        let judged = judge(
            "2026-12-07T03:50:00+01:00",
            Duration::from_secs(600),
            at(NOW),
            "x",
        )
        .unwrap();
        assert_eq!(judged.age, "10m");
        assert_eq!(judged.time, "2026-12-07T02:50:00Z");
    }

    #[test]
    fn a_time_older_than_allowed_fails_naming_what_and_how_old() {
        let error = judge(
            "2026-12-07T01:20:38Z",
            Duration::from_secs(40 * 60),
            at(NOW),
            "the newest etcd backup of cluster zvc78xnnz7",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the newest etcd backup of cluster zvc78xnnz7 is 1h 39m 22s old (2026-12-07T01:20:38Z), older than the allowed 40m: if disaster struck now, this layer would lose 1h 39m 22s of data; check that its backups run and complete"
        );
    }

    #[test]
    fn exactly_the_allowed_age_passes() {
        assert!(
            judge(
                "2026-12-07T02:20:00Z",
                Duration::from_secs(2400),
                at(NOW),
                "x"
            )
            .is_ok()
        );
        assert!(
            judge(
                "2026-12-07T02:19:59Z",
                Duration::from_secs(2400),
                at(NOW),
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn a_future_time_is_age_zero_and_said() {
        let judged = judge(
            "2026-12-07T03:00:05Z",
            Duration::from_secs(60),
            at(NOW),
            "x",
        )
        .unwrap();
        assert_eq!(judged.age_seconds, 0);
        assert!(judged.future);
    }

    #[test]
    fn an_empty_or_unreadable_time_is_refused_with_what_it_is() {
        let empty = judge(
            " ",
            Duration::from_secs(60),
            at(NOW),
            "the newest Velero backup",
        )
        .unwrap_err();
        assert!(
            empty
                .to_string()
                .starts_with("the newest Velero backup has no time"),
            "{empty}"
        );
        let bad = judge("yesterday", Duration::from_secs(60), at(NOW), "x").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "parameter `time` (x) is not an RFC 3339 time: `yesterday`; write e.g. `2026-12-07T03:00:00Z`"
        );
    }
}
