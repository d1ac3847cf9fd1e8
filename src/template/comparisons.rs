//! Comparisons of a context value with a literal (`steps.approve.answer == 'yes'`,
//! `steps.how.answer in ['a', 'b']`), found while `analysis` walks a template, so
//! `validate` can check the literal against what the value can be: a confirm's answer
//! is a boolean, a choice's one of its choices, a number's a number.

use std::ops::Range;

use minijinja::machinery::ast::{self, BinOpKind, CompareOpKind, Expr};

/// A literal a context value is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Number(f64),
    String(String),
    /// `none`, or anything else that is not one of the above.
    Other,
}

/// `path op literal`, or `literal op path`, with where each side is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The value read from the context: `["steps", "approve", "answer"]`.
    pub path: Vec<String>,
    pub path_range: Range<usize>,
    pub literal: Literal,
    pub literal_range: Range<usize>,
}

fn range(expr: &Expr<'_>) -> Range<usize> {
    let span = expr.span();
    span.start_offset as usize..span.end_offset as usize
}

fn literal(expr: &Expr<'_>) -> Option<Literal> {
    let Expr::Const(c) = expr else { return None };
    let value = &c.value;
    Some(if let Some(s) = value.as_str() {
        Literal::String(s.to_string())
    } else if value.kind() == minijinja::value::ValueKind::Bool {
        Literal::Bool(value.is_true())
    } else if value.kind() == minijinja::value::ValueKind::Number {
        Literal::Number(f64::try_from(value.clone()).unwrap_or_default())
    } else {
        Literal::Other
    })
}

/// How a value is compared with a literal; other comparisons (`<`, `>`) are not checked.
#[derive(Clone, Copy)]
enum Op {
    /// `==`, `!=`: the literal is on either side.
    Equal,
    /// `in`, `not in`: the literal list is on the right.
    In,
}

/// The walker's view of a context path: its segments and where it is written, when an
/// expression is one (the walker knows which names are assigned in the template).
pub(super) type PathOf<'p, 'a> = &'p dyn Fn(&Expr<'a>) -> Option<(Vec<String>, Range<usize>)>;

/// The comparisons of a context path with literals in a single comparison, which
/// minijinja parses as a binary operation.
pub(super) fn of_binop<'a>(binop: &ast::BinOp<'a>, path: PathOf<'_, 'a>) -> Vec<Comparison> {
    let op = match binop.op {
        BinOpKind::Eq | BinOpKind::Ne => Op::Equal,
        BinOpKind::In => Op::In,
        _ => return Vec::new(),
    };
    pair(&binop.left, op, &binop.right, path)
}

/// The comparisons of a context path with literals in a chained comparison
/// (`a == b == c`).
pub(super) fn of_chain<'a>(compare: &ast::Compare<'a>, path: PathOf<'_, 'a>) -> Vec<Comparison> {
    let mut found = Vec::new();
    let mut left = &compare.expr;
    for op in &compare.ops {
        let kind = match op.op {
            CompareOpKind::Eq | CompareOpKind::Ne => Op::Equal,
            CompareOpKind::In | CompareOpKind::NotIn => Op::In,
            _ => {
                left = &op.expr;
                continue;
            }
        };
        found.extend(pair(left, kind, &op.expr, path));
        left = &op.expr;
    }
    found
}

fn pair<'a>(left: &Expr<'a>, op: Op, right: &Expr<'a>, path: PathOf<'_, 'a>) -> Vec<Comparison> {
    let one = |p: &Expr<'a>, l: &Expr<'a>| -> Vec<Comparison> {
        let Some((path, path_range)) = path(p) else {
            return Vec::new();
        };
        // `x in ['a', 'b']` compares `x` with each item.
        let literals: Vec<&Expr<'a>> = match (op, l) {
            (Op::In, Expr::List(list)) => list.items.iter().collect(),
            (Op::In, _) => Vec::new(),
            (Op::Equal, _) => vec![l],
        };
        literals
            .into_iter()
            .filter_map(|l| {
                Some(Comparison {
                    path: path.clone(),
                    path_range: path_range.clone(),
                    literal: literal(l)?,
                    literal_range: range(l),
                })
            })
            .collect()
    };
    let mut found = one(left, right);
    if matches!(op, Op::Equal) {
        found.extend(one(right, left));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, Literal, String)> {
        let analysis = crate::template::analyse_template(text).expect("parses");
        analysis
            .comparisons
            .into_iter()
            .map(|c| {
                (
                    c.path.join("."),
                    c.literal,
                    text[c.literal_range].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn a_path_compared_with_literals_is_found_either_way_round_and_in_lists() {
        assert_eq!(
            found("{{ steps.approve.answer == 'yes' }}"),
            [(
                "steps.approve.answer".into(),
                Literal::String("yes".into()),
                "'yes'".into()
            )]
        );
        assert_eq!(
            found("{{ 3 != steps.n.answer }}"),
            [("steps.n.answer".into(), Literal::Number(3.0), "3".into())]
        );
        assert_eq!(
            found("{{ steps.how.answer in ['a', true] }}"),
            [
                (
                    "steps.how.answer".into(),
                    Literal::String("a".into()),
                    "'a'".into()
                ),
                (
                    "steps.how.answer".into(),
                    Literal::Bool(true),
                    "true".into()
                ),
            ]
        );
    }

    #[test]
    fn chained_comparisons_are_found_too() {
        assert_eq!(
            found("{{ 1 < steps.n.answer == 'x' }}"),
            [(
                "steps.n.answer".into(),
                Literal::String("x".into()),
                "'x'".into()
            )]
        );
    }

    #[test]
    fn assigned_names_and_comparisons_without_a_literal_are_not_found() {
        assert!(found("{% set x = 1 %}{{ x == 'a' }}").is_empty());
        assert!(found("{{ steps.a.answer == steps.b.answer }}").is_empty());
        assert!(found("{{ steps.a.answer > 3 }}").is_empty());
        assert!(found("{{ 1 < steps.a.answer < 3 }}").is_empty());
    }
}
