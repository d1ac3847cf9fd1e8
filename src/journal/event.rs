//! The events of a run, as written to `journal.jsonl`: one JSON object per line.
//!
//! Every line is a `Record`: a sequence number, the session (one drbook process working
//! on the run), UTC wall time in milliseconds, the monotonic offset within the session,
//! the SHA-256 of the previous line (a hash chain), and the event. The first event of a
//! journal carries the format version; a reader refuses a newer major version.
//! docs/run-record.md is the reference of this format.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The journal format this build writes: major.minor. A minor version adds optional
/// fields, which a reader of an older minor ignores, or an event type that only informs
/// (nothing replay or the clock decides on reads it; 1.2 added `cluster_reached`), which
/// a reader of an older minor refuses as newer than it reads, never as damage; anything
/// else (a changed meaning, a field that becomes required) is a new major, which a reader
/// refuses. Within the minors a reader knows, an unknown field is damage, not news (see
/// `reader`).
pub const FORMAT_MAJOR: u32 = 1;
pub const FORMAT_MINOR: u32 = 2;

/// The `prev` of the first record: there is no previous line.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub session: u32,
    #[serde(with = "millis")]
    pub time: DateTime<Utc>,
    pub mono_ms: u64,
    /// SHA-256 (hex) of the previous line's bytes, without its newline.
    pub prev: String,
    pub event: Event,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Incident,
    Drill,
}

impl Mode {
    /// As the journal and templates (`run.mode`) spell it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Incident => "incident",
            Mode::Drill => "drill",
        }
    }
}

/// Who answered a checkpoint. Answers from a file are never recorded as a person's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnsweredBy {
    Operator {
        name: String,
    },
    AnswersFile {
        path: String,
    },
    /// The checkpoint's timeout passed and its default was taken.
    TimeoutDefault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// How one attempt of a step ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Succeeded {
        outputs: Map<String, Value>,
    },
    Failed {
        error: String,
    },
    TimedOut {
        after_ms: u64,
    },
    Cancelled {
        reason: String,
    },
    /// After a crash, the operator confirmed the step had finished; it is not re-run.
    MarkedDone {
        by: String,
    },
}

/// What the operator chose after a step failed for good (`on_failure: ask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureDecision {
    Retry,
    Continue,
    Abort,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Succeeded,
    Failed,
    Aborted,
}

impl RunOutcome {
    /// As the journal spells it.
    pub fn name(self) -> &'static str {
        match self {
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::Aborted => "aborted",
        }
    }
}

/// What the run achieved, measured, with the objectives beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Achieved {
    /// declared_at → end of the step marked `recovered`; absent when it never finished.
    pub rto_ms: Option<u64>,
    pub rto_objective_ms: Option<u64>,
    pub machine_ms: u64,
    pub operator_ms: u64,
    pub idle_ms: u64,
    /// declared_at (or failed_at) − restored_point; absent when nothing reported one.
    pub rpo_ms: Option<u64>,
    pub rpo_objective_ms: Option<u64>,
    pub restored_point: Option<String>,
}

/// The runbook a run executes, pinned by the hash of its exact bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookRef {
    pub path: String,
    pub name: String,
    pub version: String,
    pub sha256: String,
}

// `run_started` is much larger than the other events, but there is one per journal and
// events live briefly; boxing its fields would only make every match on it clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        /// "MAJOR.MINOR" of this journal's format.
        format: String,
        drbook_version: String,
        run_id: String,
        mode: Mode,
        runbook: RunbookRef,
        target: Option<String>,
        /// The targets file the target was read from, so `resume` reads the same one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        targets_file: Option<String>,
        /// Drill answers file, so `resume` answers from it too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answers_file: Option<String>,
        operator: String,
        /// `--declared-at`, else the run's start. In a drill without `--declared-at`
        /// the incident is declared when recovery begins: see `recovery_started`.
        #[serde(with = "millis")]
        declared_at: DateTime<Utc>,
        /// `declared_at` was given on the command line.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        declared_at_given: bool,
        #[serde(default, with = "millis_opt", skip_serializing_if = "Option::is_none")]
        failed_at: Option<DateTime<Utc>>,
        inputs: Map<String, Value>,
    },
    /// A drill's inject steps are done and recovery begins: the incident is declared
    /// now, and the RTO clock starts here (unless `--declared-at` set it).
    RecoveryStarted {
        #[serde(with = "millis")]
        declared_at: DateTime<Utc>,
    },
    /// A later drbook process took the run over (`drbook resume`).
    SessionStarted {
        operator: String,
        /// The runbook file changed since the run started and the operator accepted it
        /// (`--accept-changed-runbook`).
        accepted_changed_runbook: bool,
        /// SHA-256 of the runbook bytes this session runs: the same as `run_started`'s
        /// unless the change was accepted.
        runbook_sha256: String,
    },
    /// The run reached a Kubernetes cluster it had not reached before (format 1.2):
    /// recorded once per `kube-system` UID, by the session's preflight before the first
    /// step, or by the first step that reached it. Never holds a credential.
    ClusterReached {
        /// The API server URL, without any user part or query.
        server: String,
        /// The `kube-system` namespace UID: the cluster's identity.
        uid: String,
        /// The kubeconfig context used, when a kubeconfig named one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context: Option<String>,
        /// `preflight`, or the id of the step that reached it.
        via: String,
    },
    StepStarted {
        step: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        attempt: u32,
        /// The `foreach` item as text (secrets masked), for people reading the record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    StepOutput {
        step: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        stream: Stream,
        line: String,
    },
    CheckpointAnswered {
        step: String,
        answer: Value,
        by: AnsweredBy,
    },
    StepFinished {
        step: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        attempt: u32,
        outcome: Outcome,
    },
    /// After a step's last attempt failed (`on_failure: ask`), the operator decided.
    FailureDecided {
        step: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        decision: FailureDecision,
        by: String,
    },
    StepSkipped {
        step: String,
        reason: String,
    },
    RunPaused {
        reason: String,
        /// The confirm checkpoint the operator answered "no" (format 1.1): the run was
        /// stopped by the operator, not interrupted. `resume` asks that checkpoint again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stopped_at: Option<String>,
    },
    RunFinished {
        outcome: RunOutcome,
        achieved: Achieved,
    },
}

/// The `via` of a cluster reached by the session's check before the first step.
pub const VIA_PREFLIGHT: &str = "preflight";

/// Wall time as RFC 3339 UTC with milliseconds: `2026-11-24T07:10:00.123Z`.
mod millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

mod millis_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(t) => super::millis::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                DateTime::parse_from_rfc3339(&text)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
    }
}
