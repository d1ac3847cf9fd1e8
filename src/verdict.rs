//! Whether a run met its objectives: the achieved RTO and RPO of `run_finished` against
//! the objectives recorded beside them, as `runs show` prints it ("RTO 4m12s — met
//! (objective 1h)") and `runs … --output json` states it.

use serde::Serialize;

use crate::journal::event::Achieved;
use crate::view::terminal::format_ms;

/// One objective's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    /// Achieved within the objective.
    Met,
    /// Achieved, but later (RTO) or with more data lost (RPO) than the objective allows.
    Missed,
    /// RTO only: the step marked `recovered` never finished, so the service was not
    /// recovered by this run.
    NotReached,
    /// RPO only: no step reported a `restored_point`, so nothing can be said.
    NotMeasured,
    /// The runbook sets no objective; the achieved value stands alone.
    NoObjective,
}

/// One measured objective: what was achieved, what was promised, and the verdict.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Measured {
    pub achieved_ms: Option<u64>,
    pub objective_ms: Option<u64>,
    pub verdict: Verdict,
}

impl Measured {
    fn of(achieved: Option<u64>, objective: Option<u64>, absent: Verdict) -> Measured {
        let verdict = match (achieved, objective) {
            (_, None) => Verdict::NoObjective,
            (None, Some(_)) => absent,
            (Some(a), Some(o)) if a <= o => Verdict::Met,
            (Some(_), Some(_)) => Verdict::Missed,
        };
        Measured {
            achieved_ms: achieved,
            objective_ms: objective,
            verdict,
        }
    }

    pub(crate) fn rto(achieved: &Achieved) -> Measured {
        Measured::of(
            achieved.rto_ms,
            achieved.rto_objective_ms,
            Verdict::NotReached,
        )
    }

    pub(crate) fn rpo(achieved: &Achieved) -> Measured {
        Measured::of(
            achieved.rpo_ms,
            achieved.rpo_objective_ms,
            Verdict::NotMeasured,
        )
    }

    /// `RTO 4m 12s — met (objective 1h)`, `RPO 7m — missed by 2m (objective 5m)`.
    pub(crate) fn line(&self, what: &str) -> String {
        let objective = self
            .objective_ms
            .map(|o| format!(" (objective {})", format_ms(o)))
            .unwrap_or_default();
        match (self.verdict, self.achieved_ms, self.objective_ms) {
            (Verdict::Met, Some(a), _) => format!("{what} {} — met{objective}", format_ms(a)),
            (Verdict::Missed, Some(a), Some(o)) => format!(
                "{what} {} — missed by {}{objective}",
                format_ms(a),
                format_ms(a - o)
            ),
            (Verdict::NotReached, ..) => {
                format!("{what} not reached: the step marked `recovered` never finished{objective}")
            }
            (Verdict::NotMeasured, ..) => {
                format!("{what} not measured: no step reported a restored point{objective}")
            }
            (_, Some(a), _) => format!("{what} {} (no objective)", format_ms(a)),
            (_, None, _) => format!("{what} not measured (no objective)"),
        }
    }
}

/// Whether the run met every objective it has: `Some(false)` when one was missed or
/// not reached, `Some(true)` when all were met, `None` when there is nothing to judge
/// (no objectives, or an RPO that could not be measured and nothing missed).
pub(crate) fn all_met(rto: &Measured, rpo: &Measured) -> Option<bool> {
    let verdicts = [rto.verdict, rpo.verdict];
    if verdicts
        .iter()
        .any(|v| matches!(v, Verdict::Missed | Verdict::NotReached))
    {
        return Some(false);
    }
    if verdicts.contains(&Verdict::NotMeasured) || !verdicts.contains(&Verdict::Met) {
        return None;
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn achieved(
        rto: Option<u64>,
        rto_objective: Option<u64>,
        rpo: Option<u64>,
        rpo_objective: Option<u64>,
    ) -> Achieved {
        Achieved {
            rto_ms: rto,
            rto_objective_ms: rto_objective,
            machine_ms: 0,
            operator_ms: 0,
            idle_ms: 0,
            rpo_ms: rpo,
            rpo_objective_ms: rpo_objective,
            restored_point: None,
        }
    }

    #[test]
    fn an_rto_within_its_objective_is_met_and_one_beyond_is_missed_by_the_difference() {
        let a = achieved(Some(252_000), Some(3_600_000), Some(420_000), Some(300_000));
        assert_eq!(
            Measured::rto(&a).line("RTO"),
            "RTO 4m 12s — met (objective 1h)"
        );
        assert_eq!(
            Measured::rpo(&a).line("RPO"),
            "RPO 7m — missed by 2m (objective 5m)"
        );
        assert_eq!(all_met(&Measured::rto(&a), &Measured::rpo(&a)), Some(false));
    }

    #[test]
    fn exactly_the_objective_is_met() {
        let a = achieved(Some(60_000), Some(60_000), None, None);
        assert_eq!(Measured::rto(&a).verdict, Verdict::Met);
        assert_eq!(all_met(&Measured::rto(&a), &Measured::rpo(&a)), Some(true));
    }

    #[test]
    fn a_recovery_that_never_finished_did_not_reach_its_objective() {
        let a = achieved(None, Some(60_000), None, Some(60_000));
        let (rto, rpo) = (Measured::rto(&a), Measured::rpo(&a));
        assert_eq!(rto.verdict, Verdict::NotReached);
        assert_eq!(rpo.verdict, Verdict::NotMeasured);
        assert_eq!(all_met(&rto, &rpo), Some(false));
        assert!(rto.line("RTO").starts_with("RTO not reached"));
    }

    #[test]
    fn without_objectives_nothing_is_judged() {
        let a = achieved(Some(1_000), None, None, None);
        assert_eq!(Measured::rto(&a).line("RTO"), "RTO 1s (no objective)");
        assert_eq!(all_met(&Measured::rto(&a), &Measured::rpo(&a)), None);
    }
}
