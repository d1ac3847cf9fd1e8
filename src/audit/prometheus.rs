//! The audit as a node-exporter textfile: gauges per runbook and target that alerting
//! can watch (a drill overdue, an objective missed), written atomically by `--out`.

use std::fmt::Write as _;

use super::Audit;
use super::history::met_gauge;

/// The textfile (Prometheus text exposition format 0.0.4).
pub(crate) fn textfile(audit: &Audit) -> String {
    let mut out = String::new();
    let gauge = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    let labels = |runbook: &str, target: &str| {
        format!(
            "{{runbook=\"{}\",target=\"{}\"}}",
            label(runbook),
            label(target)
        )
    };
    gauge(
        &mut out,
        "drbook_last_successful_drill_timestamp_seconds",
        "Start of the last successful drill (Unix time).",
    );
    for s in &audit.scenarios {
        if let Some(t) = s.last_successful_drill {
            let _ = writeln!(
                out,
                "drbook_last_successful_drill_timestamp_seconds{} {}",
                labels(&s.key.runbook, &s.key.target),
                t.timestamp()
            );
        }
    }
    type Pick = fn(&super::history::RunSummary) -> Option<&crate::verdict::Measured>;
    let objectives: [(&str, Pick); 2] = [("rto", |r| r.rto.as_ref()), ("rpo", |r| r.rpo.as_ref())];
    for (what, pick) in objectives {
        let upper = what.to_uppercase();
        let series = [
            (
                "achieved_seconds",
                format!("{upper} achieved by the last finished drill."),
            ),
            (
                "objective_seconds",
                format!("{upper} objective of the runbook at the last finished drill."),
            ),
            (
                "objective_met",
                format!(
                    "1 when the last finished drill met the {upper} objective, 0 when it did not."
                ),
            ),
        ];
        for (suffix, help) in series {
            let name = format!("drbook_{what}_{suffix}");
            gauge(&mut out, &name, &help);
            for s in &audit.scenarios {
                let Some(measured) = s.last_drill.as_ref().and_then(pick) else {
                    continue;
                };
                let value = match suffix {
                    "achieved_seconds" => measured.achieved_ms.map(seconds),
                    "objective_seconds" => measured.objective_ms.map(seconds),
                    _ => met_gauge(measured).map(|m| m.to_string()),
                };
                if let Some(value) = value {
                    let _ = writeln!(
                        out,
                        "{name}{} {value}",
                        labels(&s.key.runbook, &s.key.target)
                    );
                }
            }
        }
    }
    gauge(
        &mut out,
        "drbook_audit_records_failed_verification",
        "Records that are broken or truncated.",
    );
    let _ = writeln!(
        out,
        "drbook_audit_records_failed_verification {}",
        audit.failed_records()
    );
    gauge(
        &mut out,
        "drbook_audit_findings",
        "Findings of the audit, by kind.",
    );
    for kind in [
        "overdue",
        "never_drilled",
        "knowledge_silo",
        "runbook_changed",
    ] {
        let count = audit.findings.iter().filter(|f| f.name() == kind).count();
        let _ = writeln!(out, "drbook_audit_findings{{kind=\"{kind}\"}} {count}");
    }
    out
}

fn seconds(ms: u64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

/// A label value escaped as the exposition format asks.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_as_the_exposition_format_asks() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(seconds(1_500), "1.5");
        assert_eq!(seconds(3_600_000), "3600");
    }
}
