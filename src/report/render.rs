//! A report in one of its four formats. JSON is the model serialized; Markdown, JUnit XML
//! and HTML are the templates in `templates/report.*.j2`, compiled into the binary so a
//! report can be made wherever drbook runs. Templates named `.html` and `.xml` escape
//! every value (minijinja chooses by the name's suffix).

use serde::Serialize;

use super::model::{Report, Span};
use super::timeline::{self, Timeline};
use crate::template;
use crate::view::terminal::format_ms;

const MARKDOWN: &str = include_str!("../../templates/report.md.j2");
const HTML: &str = include_str!("../../templates/report.html.j2");
const JUNIT: &str = include_str!("../../templates/report.junit.xml.j2");

/// The formats of `drbook report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Md,
    Json,
    Junit,
}

/// A template of drbook's own that fails to render: a bug in drbook, never the user's.
#[derive(Debug, thiserror::Error)]
#[error("failed to render the {format} report: {source}")]
pub struct RenderError {
    format: &'static str,
    #[source]
    source: minijinja::Error,
}

/// The report in `format`.
pub(crate) fn render(
    report: &Report,
    span: &Span,
    format: ReportFormat,
) -> Result<String, RenderError> {
    match format {
        ReportFormat::Json => Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(report).unwrap_or_default()
        )),
        ReportFormat::Md => with_template("report.md", MARKDOWN, "Markdown", || {
            minijinja::context! { r => report }
        }),
        ReportFormat::Html => {
            let charts: Vec<Timeline> = timeline::layout(report, span);
            with_template("report.html", HTML, "HTML", || {
                minijinja::context! { r => report, charts => charts }
            })
        }
        ReportFormat::Junit => {
            let junit = Junit::of(report);
            with_template("report.xml", JUNIT, "JUnit", || {
                minijinja::context! { r => report, junit => junit }
            })
        }
    }
}

fn with_template(
    name: &'static str,
    source: &'static str,
    format: &'static str,
    context: impl FnOnce() -> minijinja::Value,
) -> Result<String, RenderError> {
    let error = |source| RenderError { format, source };
    let mut env = template::document_environment();
    env.add_filter("cell", cell);
    env.add_filter("duration", |ms: u64| format_ms(ms));
    env.add_filter("xml", |text: String| xml_safe(&text));
    env.add_filter("clock", clock);
    env.add_filter("code_spans", |text: String| {
        minijinja::Value::from_safe_string(code_spans(&text))
    });
    env.add_template(name, source).map_err(error)?;
    env.get_template(name)
        .and_then(|t| t.render(context()))
        .map_err(error)
}

/// The time of day of an RFC 3339 UTC time (`04:51:48.840`), for tables whose date the
/// header already gives; the whole text when it is not one.
fn clock(time: String) -> String {
    time.get(11..23).map_or(time.clone(), str::to_string)
}

/// HTML of a model text written for Markdown too: escaped, with each `` `span` `` (a step
/// id, a template) set as code, so the HTML shows what the Markdown shows rather than
/// the backticks. An unpaired backtick stays as it is.
fn code_spans(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    let parts: Vec<&str> = escaped.split('`').collect();
    // An even number of backticks splits into an odd number of parts; a last unpaired
    // backtick leaves its tail as text.
    let paired = if parts.len() % 2 == 1 {
        parts.len()
    } else {
        parts.len() - 1
    };
    let mut html = String::with_capacity(escaped.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i >= paired {
            html.push('`');
            html.push_str(part);
        } else if i % 2 == 1 {
            html.push_str("<code>");
            html.push_str(part);
            html.push_str("</code>");
        } else {
            html.push_str(part);
        }
    }
    html
}

/// A value fit for one Markdown table cell: no line breaks, no column separators.
fn cell(text: String) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// What the JUnit template needs beyond the report: one case per step (or `foreach`
/// item) and one per objective, with counts, in the units and forms both the strict Ant
/// schema and Jenkins' `junit-10.xsd` accept.
#[derive(Debug, Serialize)]
struct Junit {
    /// The run's start without a time zone (Ant's schema refuses one); it is UTC.
    timestamp: String,
    /// Seconds with at most three decimals.
    time: String,
    tests: usize,
    failures: usize,
    cases: Vec<Case>,
}

#[derive(Debug, Serialize)]
struct Case {
    name: String,
    classname: String,
    time: String,
    /// (type, message, text) of a failed case.
    failure: Option<(String, String, String)>,
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Text that XML 1.0 can carry: control characters (a terminal's colour codes) are not
/// allowed even escaped.
fn xml_safe(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect()
}

impl Junit {
    fn of(report: &Report) -> Junit {
        let classname = xml_safe(&format!("drbook.{}", report.runbook.name));
        let mut cases = Vec::new();
        // The strict Ant schema has no `skipped`: a step that did not run, and an objective
        // nothing measured or that has none, are no test case; the suite's system-out
        // says why (the deviations and the RTO/RPO sentences).
        for step in report.steps.iter().filter(|s| s.outcome != "skipped") {
            let name = match &step.label {
                Some(label) => format!("{} [{label}]", step.step),
                None => step.step.clone(),
            };
            let last = step.attempts.last();
            let failure = match step.outcome.as_str() {
                "succeeded" | "marked_done" => None,
                outcome => {
                    let message = last
                        .and_then(|a| a.error.clone())
                        .unwrap_or_else(|| format!("the step ended {outcome}"));
                    let text = last.map(|a| a.output.join("\n")).unwrap_or_default();
                    Some((outcome.to_string(), xml_safe(&message), xml_safe(&text)))
                }
            };
            cases.push(Case {
                name: xml_safe(&name),
                classname: classname.clone(),
                time: seconds(step.duration_ms),
                failure,
            });
        }
        for (what, objective) in [("RTO", &report.rto), ("RPO", &report.rpo)] {
            let failure = match objective.verdict.as_str() {
                "met" => None,
                "missed" | "not_reached" => Some((
                    objective.verdict.clone(),
                    xml_safe(&objective.text),
                    String::new(),
                )),
                _ => continue,
            };
            cases.push(Case {
                name: format!("{what} within objective"),
                classname: classname.clone(),
                // A CI system charts a case's time: the achieved RTO is one worth charting;
                // an RPO is an age of data, not time the run took.
                time: seconds(match what {
                    "RTO" => objective.achieved_ms.unwrap_or(0),
                    _ => 0,
                }),
                failure,
            });
        }
        let total_ms: u64 = report.steps.iter().map(|s| s.duration_ms).sum();
        Junit {
            timestamp: report.started.chars().take(19).collect(),
            time: seconds(total_ms),
            tests: cases.len(),
            failures: cases.iter().filter(|c| c.failure.is_some()).count(),
            cases,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each format of the canned steered run (a failure decided by a person, a pause, a
    //! resume with a changed runbook, a checkpoint that timed out, a step left running),
    //! as a reviewed snapshot: a change to any template shows here as a diff.

    use super::*;
    use crate::report::model::tests::steered_report;

    fn rendered(format: ReportFormat) -> String {
        let (report, span) = steered_report();
        render(&report, &span, format).unwrap()
    }

    #[test]
    fn code_spans_are_escaped_and_set_as_code() {
        assert_eq!(
            code_spans("`a<b>` & `c` \"x\""),
            "<code>a&lt;b&gt;</code> &amp; <code>c</code> &quot;x&quot;"
        );
        assert_eq!(code_spans("no code"), "no code");
        assert_eq!(
            code_spans("`one` and a ` left"),
            "<code>one</code> and a ` left"
        );
    }

    #[test]
    fn markdown_of_a_steered_run() {
        insta::assert_snapshot!(rendered(ReportFormat::Md));
    }

    #[test]
    fn junit_of_a_steered_run() {
        insta::assert_snapshot!(rendered(ReportFormat::Junit));
    }

    #[test]
    fn json_of_a_steered_run() {
        insta::assert_snapshot!(rendered(ReportFormat::Json));
    }

    #[test]
    fn html_of_a_steered_run() {
        insta::assert_snapshot!(rendered(ReportFormat::Html));
    }

    /// The steered run with a review, as `drbook review` writes one.
    fn reviewed(format: ReportFormat) -> String {
        let (mut report, span) = steered_report();
        report.review = Some(crate::report::review::ReviewReport {
            reviewed_at: "2026-11-25T09:00:00.000Z".into(),
            lessons_learned: "The restic password was only in Alice's vault.\nThe runbook's <timeout> was too short.".into(),
            corrective_actions: vec![crate::review::model::CorrectiveAction {
                action: "Store the restic password in the team vault | shared".into(),
                owner: "bob".into(),
                due: "2027-01-31".into(),
                ticket: Some("OPS-1234".into()),
            }],
            sign_off_by: "carol".into(),
            signed: true,
        });
        render(&report, &span, format).unwrap()
    }

    #[test]
    fn markdown_of_a_reviewed_run() {
        insta::assert_snapshot!(reviewed(ReportFormat::Md));
    }

    #[test]
    fn every_format_shows_the_review() {
        let html = reviewed(ReportFormat::Html);
        assert!(html.contains("<h2>Review</h2>"), "{html}");
        assert!(
            html.contains("&lt;timeout&gt;"),
            "values are escaped: {html}"
        );
        assert!(html.contains("<td>OPS-1234</td>"), "{html}");
        let junit = reviewed(ReportFormat::Junit);
        assert!(
            junit.contains(r#"<property name="drbook.review.signed_off_by" value="carol"/>"#),
            "{junit}"
        );
        let json: serde_json::Value = serde_json::from_str(&reviewed(ReportFormat::Json)).unwrap();
        assert_eq!(json["review"]["sign_off_by"], "carol");
        assert_eq!(
            json["review"]["corrective_actions"][0]["ticket"],
            "OPS-1234"
        );
        // Without a review, the JSON has no `review` key at all.
        assert!(!rendered(ReportFormat::Json).contains("\"review\""));
    }
}
