//! The history the audit draws from verified records: per runbook and target (a
//! scenario) the last drill and incident, the achieved RTO/RPO against the objectives
//! with their trend, who ran and who answered; and the findings about scenarios:
//! overdue, never drilled, knowledge silos, runbooks changed since their last drill.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::record::AuditedRun;
use super::runbooks::KnownRunbook;
use crate::journal::event::{Mode, RunOutcome};
use crate::verdict::{Measured, Verdict};

/// How many of the last runs the trend shows.
const TREND_RUNS: usize = 5;

/// A runbook on a target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct ScenarioKey {
    pub runbook: String,
    /// `-` when the run had no target.
    pub target: String,
}

/// One scenario's history.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Scenario {
    #[serde(flatten)]
    pub key: ScenarioKey,
    pub last_drill: Option<RunSummary>,
    pub last_successful_drill: Option<DateTime<Utc>>,
    pub last_incident: Option<RunSummary>,
    /// Achieved RTO (ms) of the last finished runs, oldest first.
    pub rto_trend_ms: Vec<Option<u64>>,
    pub rpo_trend_ms: Vec<Option<u64>>,
    /// Operators of the last drills, newest first.
    pub drilled_by: Vec<String>,
    /// People who answered checkpoints in the last drills.
    pub answered_by: Vec<String>,
}

/// One run as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunSummary {
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub outcome: Option<RunOutcome>,
    pub operators: Vec<String>,
    pub rto: Option<Measured>,
    pub rpo: Option<Measured>,
}

/// A finding about a scenario or a runbook.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Finding {
    /// No successful drill within `--max-age`.
    Overdue {
        runbook: String,
        target: String,
        last_successful_drill: Option<DateTime<Utc>>,
    },
    /// A runbook of `--runbooks` with no drill at all.
    NeverDrilled { runbook: String },
    /// The last N drills were run by at most one person.
    KnowledgeSilo {
        runbook: String,
        target: String,
        drills: usize,
        /// The one person, or none when only machines ran them.
        person: Option<String>,
    },
    /// The runbook's file is not what its last drill ran.
    RunbookChanged {
        runbook: String,
        path: String,
        drilled_sha256: String,
        current_sha256: String,
    },
}

impl Finding {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Finding::Overdue { .. } => "overdue",
            Finding::NeverDrilled { .. } => "never_drilled",
            Finding::KnowledgeSilo { .. } => "knowledge_silo",
            Finding::RunbookChanged { .. } => "runbook_changed",
        }
    }

    /// One line for people.
    pub(crate) fn text(&self) -> String {
        match self {
            Finding::Overdue {
                runbook,
                target,
                last_successful_drill,
            } => match last_successful_drill {
                Some(t) => format!(
                    "{runbook} on {target}: overdue, last successful drill {}",
                    t.format("%Y-%m-%d")
                ),
                None => format!("{runbook} on {target}: overdue, never drilled successfully"),
            },
            Finding::NeverDrilled { runbook } => format!("{runbook}: never drilled"),
            Finding::KnowledgeSilo {
                runbook,
                target,
                drills,
                person,
            } => match person {
                Some(p) => format!(
                    "{runbook} on {target}: knowledge silo, the last {drills} drills were all run by {p}"
                ),
                None => format!(
                    "{runbook} on {target}: knowledge silo, no person took part in the last {drills} drills"
                ),
            },
            Finding::RunbookChanged {
                runbook,
                path,
                drilled_sha256,
                current_sha256,
            } => format!(
                "{runbook} ({path}): changed since its last drill (drilled {}, now {})",
                &drilled_sha256[..drilled_sha256.len().min(12)],
                &current_sha256[..current_sha256.len().min(12)]
            ),
        }
    }
}

/// What the audit policy asks.
pub(crate) struct Policy {
    pub now: DateTime<Utc>,
    pub max_age: Duration,
    pub silo_drills: usize,
}

/// A machine operator (a scheduled drill's identity) is not a person: its name starts
/// with `machine:` (what docs/audit.md asks scheduled drills to set as
/// `$DRBOOK_OPERATOR`) or is a Kubernetes service account (`system:serviceaccount:`).
pub(crate) fn is_person(operator: &str) -> bool {
    !(operator.starts_with("machine:") || operator.starts_with("system:serviceaccount:"))
}

/// Scenarios and findings from the verified runs (sorted oldest first).
pub(crate) fn build(
    runs: &[&AuditedRun],
    runbooks: &[KnownRunbook],
    policy: &Policy,
) -> (Vec<Scenario>, Vec<Finding>) {
    let mut by_scenario: BTreeMap<ScenarioKey, Vec<&AuditedRun>> = BTreeMap::new();
    for run in runs {
        let key = ScenarioKey {
            runbook: run.runbook.clone(),
            target: run.target.clone().unwrap_or_else(|| "-".into()),
        };
        by_scenario.entry(key).or_default().push(run);
    }
    let mut scenarios = Vec::new();
    let mut findings = Vec::new();
    for (key, runs) in &by_scenario {
        let drills: Vec<&AuditedRun> = runs
            .iter()
            .copied()
            .filter(|r| r.mode == Mode::Drill)
            .collect();
        let last_incident = runs.iter().rev().find(|r| r.mode == Mode::Incident);
        let finished: Vec<&AuditedRun> = runs
            .iter()
            .copied()
            .filter(|r| r.achieved.is_some())
            .collect();
        let trend = &finished[finished.len().saturating_sub(TREND_RUNS)..];
        let last_successful_drill = drills
            .iter()
            .filter(|r| r.outcome == Some(RunOutcome::Succeeded))
            .map(|r| r.started_at)
            .max();
        let recent: Vec<&AuditedRun> = drills
            .iter()
            .rev()
            .take(policy.silo_drills)
            .copied()
            .collect();
        let answered: BTreeSet<String> = recent
            .iter()
            .flat_map(|r| r.answered_by.iter().cloned())
            .collect();
        let scenario = Scenario {
            key: key.clone(),
            last_drill: drills.last().map(|r| summary(r)),
            last_successful_drill,
            last_incident: last_incident.map(|r| summary(r)),
            rto_trend_ms: trend
                .iter()
                .map(|r| r.achieved.as_ref().and_then(|a| a.rto_ms))
                .collect(),
            rpo_trend_ms: trend
                .iter()
                .map(|r| r.achieved.as_ref().and_then(|a| a.rpo_ms))
                .collect(),
            drilled_by: recent
                .iter()
                .flat_map(|r| r.operators.clone())
                .collect::<Vec<_>>(),
            answered_by: answered.iter().cloned().collect(),
        };
        if !drills.is_empty()
            && last_successful_drill.is_none_or(|t| policy.now - t > policy.max_age)
        {
            findings.push(Finding::Overdue {
                runbook: key.runbook.clone(),
                target: key.target.clone(),
                last_successful_drill,
            });
        }
        if policy.silo_drills > 0 && recent.len() >= policy.silo_drills {
            let people: BTreeSet<String> = recent
                .iter()
                .flat_map(|r| r.operators.iter().chain(&r.answered_by))
                .filter(|name| is_person(name))
                .cloned()
                .collect();
            if people.len() <= 1 {
                findings.push(Finding::KnowledgeSilo {
                    runbook: key.runbook.clone(),
                    target: key.target.clone(),
                    drills: recent.len(),
                    person: people.into_iter().next(),
                });
            }
        }
        scenarios.push(scenario);
    }
    for known in runbooks {
        let last_drill = runs
            .iter()
            .filter(|r| r.mode == Mode::Drill && r.runbook == known.name)
            .max_by_key(|r| r.started_at);
        match last_drill {
            None => findings.push(Finding::NeverDrilled {
                runbook: known.name.clone(),
            }),
            Some(run) if run.runbook_sha256 != known.sha256 => {
                findings.push(Finding::RunbookChanged {
                    runbook: known.name.clone(),
                    path: known.path.display().to_string(),
                    drilled_sha256: run.runbook_sha256.clone(),
                    current_sha256: known.sha256.clone(),
                });
            }
            Some(_) => {}
        }
    }
    findings.sort();
    (scenarios, findings)
}

fn summary(run: &AuditedRun) -> RunSummary {
    RunSummary {
        run_id: run.run_id.clone(),
        started_at: run.started_at,
        outcome: run.outcome,
        operators: run.operators.clone(),
        rto: run.achieved.as_ref().map(Measured::rto),
        rpo: run.achieved.as_ref().map(Measured::rpo),
    }
}

/// Whether an objective was met, as a gauge: 1 met, 0 missed or not reached; `None`
/// when there is nothing to judge.
pub(crate) fn met_gauge(measured: &Measured) -> Option<u8> {
    match measured.verdict {
        Verdict::Met => Some(1),
        Verdict::Missed | Verdict::NotReached => Some(0),
        Verdict::NotMeasured | Verdict::NoObjective => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_drills_machine_identity_is_not_a_person() {
        assert!(!is_person("machine:cron-etcd-restore"));
        assert!(!is_person("system:serviceaccount:drbook:drills"));
        assert!(is_person("alice"));
        // Only the prefix counts: a person may have a colon in their name.
        assert!(is_person("ops:alice"));
    }
}
