//! The geometry of the HTML report's timeline chart: one bar per step attempt (and a
//! mark per skipped step) on a time axis from the earlier of the run's start and the
//! declared incident, with the RTO objective as a line and the `recovered` mark.
//!
//! Positions are computed here, in plain numbers, so the template only draws them and
//! the chart needs no JavaScript to lay itself out.

use serde::Serialize;

use super::model::{Report, Span};
use crate::view::terminal::format_ms;

/// Width of the step names to the left of the bars, in SVG units.
const LABEL_WIDTH: f64 = 230.0;
/// Width of the time axis.
const AXIS_WIDTH: f64 = 640.0;
const ROW_HEIGHT: f64 = 18.0;
/// Room above the first row for the objective and recovered labels.
const TOP: f64 = 30.0;
/// Room below the last row for the time ticks.
const BOTTOM: f64 = 26.0;
/// How far beyond the run's end the objective may lie and still be drawn to scale.
const BEYOND: f64 = 4.0;
/// A second chart over the run alone is drawn when the time before the run is more
/// than this many times the run's own length.
const ZOOM: f64 = 4.0;
/// A bar is never thinner than this, so an instant step is still seen.
const MIN_BAR: f64 = 4.0;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Timeline {
    pub width: f64,
    pub height: f64,
    pub axis_left: f64,
    pub axis_right: f64,
    pub rows_bottom: f64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    /// x of the RTO objective (declared + objective), when there is one.
    pub objective_x: Option<f64>,
    pub objective_label: Option<String>,
    /// The objective lies far beyond the run's end, or before a zoomed chart starts:
    /// named at the right edge, no line.
    pub objective_beyond: bool,
    /// x of the end of the step marked `recovered`, when it finished.
    pub recovered_x: Option<f64>,
    pub recovered_label: Option<String>,
    /// `start` or `end`: the recovered label reads to the right of its line, or to the
    /// left when the line is near the chart's right edge.
    pub recovered_anchor: &'static str,
    /// x of the declared incident, unless it lies before the axis starts.
    pub declared_x: Option<f64>,
    /// What the chart spans.
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Bar {
    pub label: String,
    pub label_y: f64,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// machine, person, failed or skipped: the CSS class that colours it.
    pub class: &'static str,
    /// The tooltip and the text a screen reader says.
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Tick {
    pub x: f64,
    pub label: String,
}

/// Lays out the charts of `report` over `span`: one from the earlier of the declared
/// incident and the run's start; and, when the run itself fills less than a fifth of
/// that (an incident declared long before drbook started), a second over the run alone,
/// so its bars can be read.
pub(crate) fn layout(report: &Report, span: &Span) -> Vec<Timeline> {
    let mut charts = vec![chart(report, span, 0.0, "From the declared incident")];
    let run_start = (span.run_start_ms - span.origin_ms) as f64;
    let run_length = (span.end_ms - span.run_start_ms) as f64;
    if run_start > run_length * ZOOM {
        charts.push(chart(report, span, run_start, "The run itself"));
    }
    charts
}

/// One chart whose axis starts `shift_ms` after the span's origin.
fn chart(report: &Report, span: &Span, shift_ms: f64, title: &str) -> Timeline {
    let declared_offset = (span.declared_ms - span.origin_ms) as f64 - shift_ms;
    let achieved = report.achieved.as_ref();
    let objective = achieved.and_then(|a| a.rto_objective_ms);
    let recovered = achieved.and_then(|a| a.rto_ms);
    let run_ms = ((span.end_ms - span.origin_ms) as f64 - shift_ms).max(1.0);
    // The objective's line is drawn where it falls, unless that would squeeze the whole
    // run into a sliver at the left: then the axis is the run's, and the objective is
    // named at the right edge as lying beyond it. On a zoomed chart it may also have
    // passed before the axis starts.
    let objective_at = objective.map(|o| declared_offset + o as f64);
    let objective_beyond = objective_at.is_some_and(|at| at > run_ms * BEYOND);
    let objective_before = objective_at.is_some_and(|at| at < 0.0);
    let total_ms = match objective_at {
        Some(at) if !objective_beyond && !objective_before => run_ms.max(at),
        _ => run_ms,
    };
    let x_of = |offset_ms: f64| LABEL_WIDTH + offset_ms / total_ms * AXIS_WIDTH;
    let mut bars = Vec::new();
    for step in &report.steps {
        let name = match &step.label {
            Some(label) => format!("{} [{label}]", step.step),
            None => step.step.clone(),
        };
        for attempt in &step.attempts {
            let row = bars.len() as f64;
            let class = match attempt.outcome.as_str() {
                "succeeded" | "marked_done" if step.kind == "checkpoint" => "person",
                "succeeded" | "marked_done" => "machine",
                _ => "failed",
            };
            let label = if attempt.attempt > 1 {
                format!("{name} #{}", attempt.attempt)
            } else {
                name.clone()
            };
            let x = x_of(attempt.start_offset_ms as f64 - shift_ms);
            let width = (attempt.duration_ms as f64 / total_ms * AXIS_WIDTH).max(MIN_BAR);
            bars.push(bar(
                label,
                row,
                x,
                width,
                class,
                format!(
                    "{name}, attempt {}: {} in {}",
                    attempt.attempt, attempt.outcome, attempt.duration
                ),
            ));
        }
        if let Some(offset) = step.skipped_offset_ms {
            let row = bars.len() as f64;
            let reason = step.skipped_reason.clone().unwrap_or_default();
            bars.push(bar(
                name.clone(),
                row,
                x_of(offset as f64 - shift_ms),
                MIN_BAR * 3.0,
                "skipped",
                format!("{name}: skipped ({reason})"),
            ));
        }
    }
    let rows_bottom = TOP + bars.len() as f64 * ROW_HEIGHT;
    Timeline {
        width: LABEL_WIDTH + AXIS_WIDTH + 20.0,
        height: rows_bottom + BOTTOM,
        axis_left: LABEL_WIDTH,
        axis_right: LABEL_WIDTH + AXIS_WIDTH,
        rows_bottom,
        ticks: ticks(total_ms, &x_of),
        objective_x: objective_at
            .filter(|_| !objective_beyond && !objective_before)
            .map(x_of),
        objective_label: objective.map(|o| {
            if objective_beyond {
                format!("RTO objective {} (beyond the chart) →", format_ms(o))
            } else if objective_before {
                format!("RTO objective {} (passed before this view)", format_ms(o))
            } else {
                format!("RTO objective {}", format_ms(o))
            }
        }),
        objective_beyond: objective_beyond || objective_before,
        recovered_x: recovered.map(|r| x_of(declared_offset + r as f64)),
        recovered_anchor: match recovered.map(|r| x_of(declared_offset + r as f64)) {
            Some(x) if x > LABEL_WIDTH + AXIS_WIDTH * 0.7 => "end",
            _ => "start",
        },
        recovered_label: recovered.map(|r| format!("recovered after {}", format_ms(r))),
        declared_x: (declared_offset >= 0.0).then(|| x_of(declared_offset)),
        title: title.to_string(),
        bars,
    }
}

fn bar(label: String, row: f64, x: f64, width: f64, class: &'static str, title: String) -> Bar {
    let y = TOP + row * ROW_HEIGHT + 3.0;
    Bar {
        label: shorten(&label),
        label_y: y + ROW_HEIGHT / 2.0 + 1.0,
        x,
        y,
        width,
        height: ROW_HEIGHT - 6.0,
        class,
        title,
    }
}

/// A step name that fits the label column.
fn shorten(label: &str) -> String {
    const MAX: usize = 34;
    if label.chars().count() <= MAX {
        return label.to_string();
    }
    let head: String = label.chars().take(MAX - 1).collect();
    format!("{head}…")
}

/// Five to ten ticks at a round interval.
fn ticks(total_ms: f64, x_of: &dyn Fn(f64) -> f64) -> Vec<Tick> {
    const STEPS: &[u64] = &[
        100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
        600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000,
        86_400_000,
    ];
    let step = STEPS
        .iter()
        .copied()
        .find(|s| total_ms / *s as f64 <= 8.0)
        .unwrap_or(86_400_000);
    let mut out = Vec::new();
    let mut at = 0u64;
    while at as f64 <= total_ms {
        let label = if at == 0 { "0".into() } else { format_ms(at) };
        out.push(Tick {
            x: x_of(at as f64),
            label,
        });
        at += step;
    }
    out
}
