//! Steps → the order they run in.
//!
//! A step depends on the step written before it, unless it says `needs: [...]`; then it
//! depends on exactly those (and `needs: []` on nothing). The graph of one section (the
//! recovery steps, or the drill's inject steps) is ordered topologically, ties broken by
//! written order, so a runbook without `needs` runs exactly top to bottom.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::diagnostic::Diagnostic;
use crate::runbook::decode::closest;
use crate::runbook::model::Step;

/// How many `foreach` items run at once when a step does not say `concurrency:`.
pub const DEFAULT_FOREACH_CONCURRENCY: u32 = 8;

/// The dependency graph of one section of steps, and an execution order for it.
#[derive(Debug, Clone)]
pub struct StepGraph {
    /// `deps[i]`: indices of the steps step `i` waits for.
    pub deps: Vec<Vec<usize>>,
    /// Step indices in an order where every step comes after its dependencies.
    pub order: Vec<usize>,
}

impl StepGraph {
    /// Builds the graph of `steps`. `other_section` names steps that exist in the runbook
    /// but not in this section, so a `needs` on one of them gets a precise message.
    pub fn build(
        steps: &[Step],
        section: &str,
        other_section: &[(&str, &str)],
    ) -> Result<StepGraph, Vec<Diagnostic>> {
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            index.entry(step.id.value.as_str()).or_insert(i);
        }
        let mut diagnostics = Vec::new();
        let mut deps = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let Some(needs) = &step.needs else {
                deps.push(if i == 0 { vec![] } else { vec![i - 1] });
                continue;
            };
            let mut these = Vec::with_capacity(needs.len());
            for need in needs {
                match index.get(need.value.as_str()) {
                    Some(&j) if j == i => diagnostics.push(
                        Diagnostic::new(
                            need.span,
                            format!("step `{}` needs itself", step.id.value),
                        )
                        .with_help("remove it from its own `needs`"),
                    ),
                    Some(&j) => these.push(j),
                    None => {
                        diagnostics.push(unknown_need(step, need, steps, section, other_section))
                    }
                }
            }
            deps.push(these);
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let order = topological_order(&deps);
        if order.len() < steps.len() {
            return Err(vec![cycle_diagnostic(steps, &deps, &order)]);
        }
        Ok(StepGraph { deps, order })
    }

    /// True when step `ancestor` always finishes before step `step` starts.
    pub fn runs_before(&self, ancestor: usize, step: usize) -> bool {
        let mut seen = vec![false; self.deps.len()];
        let mut stack = self.deps[step].clone();
        while let Some(i) = stack.pop() {
            if i == ancestor {
                return true;
            }
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(&self.deps[i]);
            }
        }
        false
    }
}

fn unknown_need(
    step: &Step,
    need: &crate::span::Spanned<String>,
    steps: &[Step],
    section: &str,
    other_section: &[(&str, &str)],
) -> Diagnostic {
    if let Some((_, why)) = other_section.iter().find(|(id, _)| *id == need.value) {
        return Diagnostic::new(
            need.span,
            format!(
                "step `{}` needs `{}`, which is not a step of {section}",
                step.id.value, need.value
            ),
        )
        .with_help(why.to_string());
    }
    let ids: Vec<&str> = steps.iter().map(|s| s.id.value.as_str()).collect();
    let diagnostic = Diagnostic::new(
        need.span,
        format!(
            "step `{}` needs unknown step `{}`",
            step.id.value, need.value
        ),
    );
    match closest(&need.value, &ids) {
        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
        None => diagnostic.with_help("`needs` lists ids of other steps in the same section"),
    }
}

/// Kahn's algorithm with a min-heap, so independent steps keep their written order.
fn topological_order(deps: &[Vec<usize>]) -> Vec<usize> {
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); deps.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..deps.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(deps.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    order
}

/// Names one cycle among the steps that could not be ordered, pointing at the `needs`
/// entry that closes it.
fn cycle_diagnostic(steps: &[Step], deps: &[Vec<usize>], order: &[usize]) -> Diagnostic {
    let mut ordered = vec![false; steps.len()];
    for &i in order {
        ordered[i] = true;
    }
    // Every unordered step has an unordered dependency; walking those must revisit a step.
    let start = (0..steps.len()).find(|&i| !ordered[i]).unwrap_or(0);
    let mut path = vec![start];
    let mut position = HashMap::from([(start, 0usize)]);
    let mut current = start;
    let cycle = loop {
        let Some(&next) = deps[current].iter().find(|&&d| !ordered[d]) else {
            break vec![current];
        };
        if let Some(&at) = position.get(&next) {
            break path[at..].to_vec();
        }
        position.insert(next, path.len());
        path.push(next);
        current = next;
    };
    let mut names: Vec<String> = cycle
        .iter()
        .map(|&i| format!("`{}`", steps[i].id.value))
        .collect();
    names.push(names[0].clone());
    let first = cycle[0];
    let closing = cycle.get(1).copied().unwrap_or(first);
    let span = steps[first]
        .needs
        .as_ref()
        .and_then(|n| n.iter().find(|n| n.value == steps[closing].id.value))
        .map(|n| n.span)
        .unwrap_or(steps[first].span);
    Diagnostic::new(
        span,
        format!("`needs` forms a cycle: {}", names.join(" needs ")),
    )
    .with_help("a step can only need steps that can finish without it; break the cycle")
}
