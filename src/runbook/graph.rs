//! Steps → the order they run in.
//!
//! A step depends on the step written before it, unless it says `needs: [...]`; then it
//! depends on exactly those (and `needs: []` on nothing). The graph of one section (the
//! recovery steps, or the drill's inject steps) is ordered topologically, ties broken by
//! written order, so a runbook without `needs` runs exactly top to bottom.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::runbook::model::Step;
use crate::source::decode::closest;
use crate::source::diagnostic::Diagnostic;

/// How many `foreach` items run at once when a step does not say `concurrency:`.
pub const DEFAULT_FOREACH_CONCURRENCY: u32 = 8;

/// The dependency graph of one section of steps, and an execution order for it.
#[derive(Debug, Clone)]
pub struct StepGraph {
    /// `deps[i]`: indices of the steps step `i` waits for.
    pub deps: Vec<Vec<usize>>,
    /// Step indices in an order where every step comes after its dependencies.
    pub order: Vec<usize>,
    /// `rank[i]`: the place of step `i` in `order`.
    rank: Vec<usize>,
    /// The steps that depend on exactly one step form chains (a runbook without `needs`
    /// is one chain); these are the chains as a forest, see `Chains`.
    chains: Chains,
}

/// Each step that depends on exactly one step hangs under it, so the steps form a forest
/// whose roots are the steps with no or several dependencies. Every step above a step in
/// its tree is one of its ancestors, and that is answered from the times a walk of the
/// forest enters and leaves each step, without walking the chain.
#[derive(Debug, Clone)]
struct Chains {
    /// The root of each step's tree: the first step down its chain without exactly one
    /// dependency.
    root: Vec<usize>,
    enter: Vec<usize>,
    leave: Vec<usize>,
}

impl Chains {
    fn new(deps: &[Vec<usize>]) -> Chains {
        let n = deps.len();
        let mut children = vec![Vec::new(); n];
        for (i, ds) in deps.iter().enumerate() {
            if let [d] = ds[..] {
                children[d].push(i);
            }
        }
        let mut chains = Chains {
            root: vec![0; n],
            enter: vec![0; n],
            leave: vec![0; n],
        };
        let mut clock = 0;
        for root in (0..n).filter(|&i| deps[i].len() != 1) {
            chains.root[root] = root;
            chains.enter[root] = clock;
            clock += 1;
            let mut stack = vec![(root, 0)];
            while let Some((step, next)) = stack.last_mut() {
                if let Some(&child) = children[*step].get(*next) {
                    *next += 1;
                    chains.root[child] = root;
                    chains.enter[child] = clock;
                    clock += 1;
                    stack.push((child, 0));
                } else {
                    chains.leave[*step] = clock;
                    clock += 1;
                    stack.pop();
                }
            }
        }
        chains
    }

    /// True when `ancestor` is above `step` in its tree.
    fn above(&self, ancestor: usize, step: usize) -> bool {
        ancestor != step
            && self.enter[ancestor] <= self.enter[step]
            && self.leave[step] <= self.leave[ancestor]
    }
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
        StepGraph::from_deps(deps)
            .map_err(|(deps, order)| vec![cycle_diagnostic(steps, &deps, &order)])
    }

    /// Orders `deps`; on a cycle gives them back with the part that could be ordered.
    fn from_deps(deps: Vec<Vec<usize>>) -> Result<StepGraph, (Vec<Vec<usize>>, Vec<usize>)> {
        let order = topological_order(&deps);
        if order.len() < deps.len() {
            return Err((deps, order));
        }
        let mut rank = vec![0; deps.len()];
        for (place, &i) in order.iter().enumerate() {
            rank[i] = place;
        }
        let chains = Chains::new(&deps);
        Ok(StepGraph {
            deps,
            order,
            rank,
            chains,
        })
    }

    /// True when step `ancestor` always finishes before step `step` starts, that is when
    /// `step` depends on it directly or through other steps.
    ///
    /// `validate` asks this for every `steps.<id>` a template reads, twice (does it run
    /// before? does it run after?), so it must not walk the graph each time: with 5,000
    /// steps that made validation quadratic. An ancestor comes before its descendants in
    /// `order`, so when `ancestor` is not placed before `step` the answer is no at once,
    /// and the search skips every step placed before `ancestor`. The search goes back a
    /// chain at a time (see `Chains`), not a step at a time.
    pub fn runs_before(&self, ancestor: usize, step: usize) -> bool {
        let floor = self.rank[ancestor];
        if floor >= self.rank[step] {
            return false;
        }
        // Allocated when a search is needed: most references read their own chain.
        let mut seen = Vec::new();
        let mut stack = vec![step];
        while let Some(i) = stack.pop() {
            if self.chains.above(ancestor, i) {
                return true;
            }
            let root = self.chains.root[i];
            if seen.is_empty() {
                seen = vec![false; self.deps.len()];
            }
            if std::mem::replace(&mut seen[root], true) {
                continue;
            }
            for &d in &self.deps[root] {
                if d == ancestor {
                    return true;
                }
                if self.rank[d] > floor {
                    stack.push(d);
                }
            }
        }
        false
    }
}

fn unknown_need(
    step: &Step,
    need: &crate::source::span::Spanned<String>,
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain search `runs_before` must agree with.
    fn reaches(deps: &[Vec<usize>], ancestor: usize, step: usize) -> bool {
        let mut seen = vec![false; deps.len()];
        let mut stack = deps[step].clone();
        while let Some(i) = stack.pop() {
            if i == ancestor {
                return true;
            }
            if !std::mem::replace(&mut seen[i], true) {
                stack.extend(&deps[i]);
            }
        }
        false
    }

    /// Acyclic dependencies where step `i` may need any steps `j < i`, written in any
    /// order (so `order` is not simply `0..n`, the steps are shuffled by `perm`).
    fn dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
        (1usize..24)
            .prop_flat_map(|n| {
                let needs = prop::collection::vec(
                    prop::collection::vec(any::<prop::sample::Index>(), 0..3),
                    n,
                );
                (needs, Just((0..n).collect::<Vec<_>>()).prop_shuffle())
            })
            .prop_map(|(needs, perm)| {
                let n = needs.len();
                let mut deps = vec![Vec::new(); n];
                for (i, needs) in needs.iter().enumerate() {
                    for need in needs.iter().filter(|_| i > 0) {
                        deps[perm[i]].push(perm[need.index(i)]);
                    }
                }
                deps
            })
    }

    proptest! {
        #[test]
        fn runs_before_agrees_with_a_plain_search(deps in dag()) {
            let graph = StepGraph::from_deps(deps.clone()).expect("acyclic");
            for a in 0..deps.len() {
                for s in 0..deps.len() {
                    prop_assert_eq!(graph.runs_before(a, s), reaches(&deps, a, s), "{} before {}", a, s);
                }
            }
        }
    }

    #[test]
    fn a_chain_and_a_fan_in() {
        // 0 <- 1 <- 2, and 3 needs [0, 2]; 4 needs nothing.
        let graph = StepGraph::from_deps(vec![vec![], vec![0], vec![1], vec![0, 2], vec![]])
            .expect("acyclic");
        assert!(graph.runs_before(0, 2));
        assert!(graph.runs_before(1, 3));
        assert!(!graph.runs_before(2, 0));
        assert!(!graph.runs_before(3, 3));
        assert!(!graph.runs_before(0, 4));
        assert!(!graph.runs_before(4, 3));
    }
}
