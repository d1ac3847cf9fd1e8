//! The audit for people (a table for the terminal, Markdown, one self-contained HTML
//! page) and for machines (JSON, versioned: a field added is a minor change).

use std::fmt::Write as _;

use serde_json::json;

use super::Audit;
use super::history::Scenario;
use crate::view::terminal::format_ms;

/// The version of the audit JSON, `MAJOR.MINOR`.
const JSON_FORMAT: &str = "1.0";

/// One row per scenario, one line per finding and per record problem.
struct Rows {
    scenarios: Vec<[String; 7]>,
    findings: Vec<String>,
    records: Vec<String>,
    summary: String,
}

const HEADER: [&str; 7] = [
    "runbook",
    "target",
    "last drill",
    "last incident",
    "RTO (last, trend)",
    "RPO (last, trend)",
    "who ran / answered",
];

fn rows(audit: &Audit) -> Rows {
    let scenarios = audit.scenarios.iter().map(scenario_row).collect();
    let findings = audit.findings.iter().map(|f| f.text()).collect();
    let mut records: Vec<String> = audit
        .unreadable
        .iter()
        .map(|(id, p)| format!("{id}: {}: {}", p.name(), p.detail()))
        .collect();
    for run in &audit.runs {
        for problem in &run.problems {
            records.push(format!(
                "{} ({}): {}: {}",
                run.run_id,
                run.location,
                problem.name(),
                problem.detail()
            ));
        }
    }
    let mut summary = format!(
        "{} in {}; {} failed verification; {}",
        count(audit.runs.len() + audit.unreadable.len(), "record"),
        audit.locations.join(", "),
        audit.failed_records(),
        count(audit.findings.len(), "finding")
    );
    if audit.signatures_requested {
        summary.push_str("; signatures verified against the allowed signers");
    }
    Rows {
        scenarios,
        findings,
        records,
        summary,
    }
}

fn scenario_row(s: &Scenario) -> [String; 7] {
    let run = |r: &Option<super::history::RunSummary>| {
        r.as_ref().map_or("never".to_string(), |r| {
            format!(
                "{} {}",
                r.started_at.format("%Y-%m-%d"),
                r.outcome.map_or("unfinished", |o| o.name())
            )
        })
    };
    let last = s.last_drill.as_ref().or(s.last_incident.as_ref());
    let objective = |m: Option<&crate::verdict::Measured>, trend: &[Option<u64>]| {
        let last = m.map_or("-".to_string(), |m| {
            let achieved = m.achieved_ms.map_or("-".into(), format_ms);
            match m.objective_ms {
                Some(o) => format!("{achieved} / {}", format_ms(o)),
                None => achieved,
            }
        });
        let trend: Vec<String> = trend
            .iter()
            .map(|t| t.map_or("-".into(), format_ms))
            .collect();
        format!("{last} ({})", trend.join(", "))
    };
    let mut people: Vec<String> = Vec::new();
    for name in &s.drilled_by {
        if !people.contains(name) {
            people.push(name.clone());
        }
    }
    [
        s.key.runbook.clone(),
        s.key.target.clone(),
        run(&s.last_drill),
        run(&s.last_incident),
        objective(last.and_then(|r| r.rto.as_ref()), &s.rto_trend_ms),
        objective(last.and_then(|r| r.rpo.as_ref()), &s.rpo_trend_ms),
        format!("{} / {}", or_dash(&people), or_dash(&s.answered_by)),
    ]
}

fn or_dash(names: &[String]) -> String {
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Plain text for a terminal.
pub(crate) fn table(audit: &Audit) -> String {
    let rows = rows(audit);
    let mut widths = HEADER.map(str::len);
    for row in &rows.scenarios {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", text.join("  ").trim_end());
    };
    line(&mut out, &HEADER);
    for row in &rows.scenarios {
        line(&mut out, &row.each_ref().map(String::as_str));
    }
    let _ = writeln!(out, "\nfindings:");
    list(&mut out, &rows.findings, "  ");
    let _ = writeln!(out, "\nrecords:");
    list(&mut out, &rows.records, "  ");
    let _ = writeln!(out, "\n{}", rows.summary);
    out
}

fn list(out: &mut String, items: &[String], indent: &str) {
    if items.is_empty() {
        let _ = writeln!(out, "{indent}none");
    }
    for item in items {
        let _ = writeln!(out, "{indent}{item}");
    }
}

/// Markdown, for tickets and wikis.
pub(crate) fn markdown(audit: &Audit) -> String {
    let rows = rows(audit);
    let cell = |c: &str| c.replace('|', "\\|");
    let mut out = format!(
        "# drbook audit, {}\n\n",
        audit.generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADER.len()));
    for row in &rows.scenarios {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n## Findings\n");
    list(&mut out, &rows.findings, "- ");
    let _ = writeln!(out, "\n## Records\n");
    list(&mut out, &rows.records, "- ");
    let _ = writeln!(out, "\n{}", rows.summary);
    out
}

/// One self-contained page (inline CSS, no scripts, no network references).
pub(crate) fn html(audit: &Audit) -> String {
    let rows = rows(audit);
    let e = escape;
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>drbook audit</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}li.f{color:#a40000}</style></head><body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>drbook audit, {}</h1>\n<p>{}</p>\n<table><tr>",
        audit.generated_at.format("%Y-%m-%d %H:%M UTC"),
        e(&rows.summary)
    );
    for h in HEADER {
        let _ = write!(out, "<th>{}</th>", e(h));
    }
    out.push_str("</tr>\n");
    for row in &rows.scenarios {
        out.push_str("<tr>");
        for c in row {
            let _ = write!(out, "<td>{}</td>", e(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<h2>Findings</h2>\n<ul>\n");
    for f in &rows.findings {
        let _ = writeln!(out, "<li class=\"f\">{}</li>", e(f));
    }
    out.push_str("</ul>\n<h2>Records</h2>\n<ul>\n");
    for r in &rows.records {
        let _ = writeln!(out, "<li class=\"f\">{}</li>", e(r));
    }
    out.push_str("</ul>\n</body></html>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The whole audit as JSON (docs/audit.md describes it).
pub(crate) fn json(audit: &Audit) -> String {
    let records: Vec<serde_json::Value> =
        audit
            .runs
            .iter()
            .map(|r| {
                json!({
                    "run_id": r.run_id,
                    "location": r.location,
                    "runbook": r.runbook,
                    "runbook_sha256": r.runbook_sha256,
                    "mode": r.mode,
                    "target": r.target,
                    "operators": r.operators,
                    "answered_by": r.answered_by,
                    "started_at": r.started_at,
                    "outcome": r.outcome,
                    "lines": r.lines,
                    "signatures": r.signatures,
                    "signature_check": r.signature_check,
                    "verified": r.verified(),
                    "problems": r.problems,
                })
            })
            .chain(audit.unreadable.iter().map(
                |(id, problem)| json!({"run_id": id, "verified": false, "problems": [problem]}),
            ))
            .collect();
    let value = json!({
        "format": JSON_FORMAT,
        "generated_at": audit.generated_at,
        "locations": audit.locations,
        "failed_records": audit.failed_records(),
        "scenarios": audit.scenarios,
        "findings": audit.findings,
        "records": records,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
