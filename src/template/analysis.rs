//! What a parsed template reads and calls, found by walking minijinja's syntax tree.
//!
//! minijinja's own `undeclared_variables` sees only dotted paths: `steps['b'].outputs`
//! reads as `steps`, so the checks on step order and fields never saw it. This walk
//! follows the same scoping rules (a `for` target, a `set` or a macro argument is not a
//! read of the context) and also records string subscripts, the filters and tests a
//! template applies, and `steps.find-member`, which minijinja reads as a subtraction.
//! Everything found carries its byte range in the template text, so `validate` can put
//! the caret on it. Each read of `secrets` also records how the expression around it
//! uses it (see `secret_use.rs`): every expression is walked with its relation to its
//! parent.

use std::collections::{BTreeSet, HashSet};
use std::ops::Range;

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt, UnaryOpKind};

use super::secret_use::{SecretHow, SecretUse};

/// What one template reads and applies, in the order it is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub references: Vec<Reference>,
    pub filters: Vec<NameUse>,
    pub tests: Vec<NameUse>,
    pub hyphenated: Vec<Hyphenated>,
    /// Every read of `secrets`, with what is done to it.
    pub secrets: Vec<SecretUse>,
    /// Context values compared with literals (`comparisons.rs`).
    pub comparisons: Vec<super::comparisons::Comparison>,
}

/// A read of the context: `steps.snap.outputs.id` or `steps['snap'].outputs['id']`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// One segment per name, attribute or string subscript: `["steps", "snap", ...]`.
    pub path: Vec<String>,
    /// Where the read is written.
    pub range: Range<usize>,
    /// The first segment the template allows to be missing, when the read is guarded:
    /// `target.a.b | default('')` and `target.a.b is defined` give 2 (`b` may be missing,
    /// `target.a` may not: strict templates fail on an attribute of a missing value), and
    /// every read under a path tested with `is defined` / `is undefined` in the same
    /// template is guarded from that path's last segment. `None`: all must exist.
    pub optional_from: Option<usize>,
}

impl Reference {
    /// The leading segments that must exist for the template to render.
    pub fn required(&self) -> &[String] {
        let end = self.optional_from.unwrap_or(self.path.len());
        &self.path[..end.min(self.path.len())]
    }
}

/// Filters that give a value for a missing one, and tests that ask whether it is missing.
const GUARD_FILTERS: &[&str] = &["default", "d"];
const GUARD_TESTS: &[&str] = &["defined", "undefined"];

/// A filter (`| upper`) or test (`is defined`) by name, with where the name is written.
#[derive(Debug, Clone, PartialEq)]
pub struct NameUse {
    pub name: String,
    pub range: Range<usize>,
}

/// `steps.find-member`: a dotted path followed by `-name` without spaces, which reads as
/// `steps.find` minus `member`. The parts are also among the references.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyphenated {
    /// The path before the first `-`: `["steps", "find"]`.
    pub path: Vec<String>,
    /// The names after each `-`: `["member"]`.
    pub minus: Vec<String>,
    /// From the path's start to the end of the last name.
    pub range: Range<usize>,
}

impl Analysis {
    /// The read paths joined with dots, as `undeclared_variables(true)` gives them.
    pub fn dotted_paths(&self) -> BTreeSet<String> {
        self.references.iter().map(|r| r.path.join(".")).collect()
    }
}

pub(super) fn walk_template(ast: &Stmt<'_>, source: &str) -> Analysis {
    let mut walker = Walker::new(source);
    walker.stmt(ast);
    walker.finish()
}

pub(super) fn walk_expression(ast: &Expr<'_>, source: &str) -> Analysis {
    let mut walker = Walker::new(source);
    walker.expr(ast, &SecretHow::Whole);
    walker.finish()
}

struct Walker<'a, 's> {
    source: &'s str,
    /// Names assigned in each open scope.
    scopes: Vec<HashSet<&'a str>>,
    /// The blocks around the statement being walked whose output is captured and may be
    /// transformed (`{% filter %}`, `{% set %}` blocks, macros), innermost last.
    captures: Vec<&'static str>,
    /// Paths tested with `is defined` / `is undefined`: reads under them are guarded.
    tested: Vec<Vec<String>>,
    analysis: Analysis,
}

fn range(span: minijinja::machinery::Span) -> Range<usize> {
    span.start_offset as usize..span.end_offset as usize
}

impl<'a> Walker<'a, '_> {
    fn new(source: &str) -> Walker<'a, '_> {
        Walker {
            source,
            scopes: vec![HashSet::new()],
            captures: Vec::new(),
            tested: Vec::new(),
            analysis: Analysis::default(),
        }
    }

    /// Marks the reads under a tested path as guarded from that path's last segment.
    fn finish(mut self) -> Analysis {
        for reference in &mut self.analysis.references {
            for tested in &self.tested {
                if reference.path.starts_with(tested) {
                    let from = tested.len() - 1;
                    reference.optional_from =
                        Some(reference.optional_from.map_or(from, |f| f.min(from)));
                }
            }
        }
        self.analysis
    }

    /// Records `path | default(...)` or `path is defined`: the read of a path whose last
    /// segment may be missing. False when `expr` is not a path read from the context.
    /// A guarded read of a secret is still a use of it (`secrets.x | default('')`
    /// transforms it), so it is recorded through `reference` like any other read.
    fn guarded(&mut self, expr: &Expr<'a>, tested: bool, how: &SecretHow) -> bool {
        let Some(path) = self.path(expr) else {
            return false;
        };
        if tested {
            self.tested.push(path.clone());
        }
        let from = path.len() - 1;
        self.reference(path, expr, how);
        if let Some(read) = self.analysis.references.last_mut() {
            read.optional_from = Some(from);
        }
        true
    }

    fn is_assigned(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.contains(name))
    }

    fn assign(&mut self, name: &'a str) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name);
        }
    }

    /// Runs `f` in a new scope: names assigned inside are forgotten after it.
    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(HashSet::new());
        f(self);
        self.scopes.pop();
    }

    /// Runs `f` inside a block whose output is captured, as the message names it.
    fn captured(&mut self, block: &'static str, f: impl FnOnce(&mut Self)) {
        self.captures.push(block);
        self.scoped(f);
        self.captures.pop();
    }

    /// How an expression block (`{{ ... }}`) uses what it prints.
    fn emitted(&self) -> SecretHow {
        self.captures
            .last()
            .map_or(SecretHow::Whole, |block| SecretHow::Captured(block))
    }

    fn assign_target(&mut self, target: &Expr<'a>) {
        match target {
            Expr::Var(var) => self.assign(var.id),
            Expr::List(list) => list.items.iter().for_each(|x| self.assign_target(x)),
            _ => {}
        }
    }

    fn stmts(&mut self, body: &[Stmt<'a>]) {
        body.iter().for_each(|s| self.stmt(s));
    }

    // Statements behind features drbook does not enable (`loop_controls`) read nothing;
    // the catch-all keeps this compiling if another crate turns them on.
    #[allow(unreachable_patterns)]
    fn stmt(&mut self, stmt: &Stmt<'a>) {
        match stmt {
            Stmt::Template(t) => {
                self.assign("self");
                self.stmts(&t.children);
            }
            Stmt::EmitExpr(e) => {
                let how = self.emitted();
                self.expr(&e.expr, &how);
            }
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                self.scoped(|w| {
                    w.assign("loop");
                    w.expr(&f.iter, &SecretHow::Loop);
                    w.assign_target(&f.target);
                    w.opt_expr(&f.filter_expr, &SecretHow::Condition);
                    w.stmts(&f.body);
                });
                self.scoped(|w| w.stmts(&f.else_body));
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr, &SecretHow::Condition);
                self.scoped(|w| w.stmts(&i.true_body));
                self.scoped(|w| w.stmts(&i.false_body));
            }
            Stmt::WithBlock(b) => self.scoped(|w| {
                for (target, value) in &b.assignments {
                    w.assign_target(target);
                    w.expr(value, &SecretHow::Assignment);
                }
                w.stmts(&b.body);
            }),
            Stmt::Set(s) => {
                self.assign_target(&s.target);
                self.expr(&s.expr, &SecretHow::Assignment);
            }
            Stmt::SetBlock(s) => {
                self.assign_target(&s.target);
                const BLOCK: &str = "a `{% set %}` block";
                self.opt_expr(&s.filter, &SecretHow::Captured(BLOCK));
                self.captured(BLOCK, |w| w.stmts(&s.body));
            }
            Stmt::AutoEscape(a) => {
                self.captured("an `{% autoescape %}` block", |w| w.stmts(&a.body));
            }
            Stmt::FilterBlock(f) => {
                const BLOCK: &str = "a `{% filter %}` block";
                self.expr(&f.filter, &SecretHow::Captured(BLOCK));
                self.captured(BLOCK, |w| w.stmts(&f.body));
            }
            Stmt::Block(b) => self.scoped(|w| {
                w.assign("super");
                w.stmts(&b.body);
            }),
            Stmt::Extends(_) | Stmt::Include(_) => {}
            Stmt::Import(i) => self.assign_target(&i.name),
            Stmt::FromImport(i) => {
                for (name, alias) in &i.names {
                    self.assign_target(alias.as_ref().unwrap_or(name));
                }
            }
            Stmt::Macro(m) => {
                self.assign(m.name);
                self.captured("a macro", |w| w.macro_decl(m));
            }
            Stmt::CallBlock(c) => {
                self.expr(&c.call.expr, &SecretHow::Called);
                self.args(&c.call.args, &SecretHow::CallArgument);
                self.captured("a `{% call %}` block", |w| w.macro_decl(&c.macro_decl));
            }
            Stmt::Do(d) => {
                self.expr(&d.call.expr, &SecretHow::Called);
                self.args(&d.call.args, &SecretHow::CallArgument);
            }
            _ => {}
        }
    }

    fn macro_decl(&mut self, m: &ast::Macro<'a>) {
        // `caller` exists only inside a call block; assuming it is there errs on the
        // side of not reporting it.
        self.assign("caller");
        m.args.iter().for_each(|a| self.assign_target(a));
        m.defaults
            .iter()
            .for_each(|d| self.expr(d, &SecretHow::Assignment));
        self.stmts(&m.body);
    }

    fn opt_expr(&mut self, expr: &Option<Expr<'a>>, how: &SecretHow) {
        if let Some(expr) = expr {
            self.expr(expr, how);
        }
    }

    fn args(&mut self, args: &[CallArg<'a>], how: &SecretHow) {
        for arg in args {
            match arg {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.expr(e, how),
            }
        }
    }

    /// Walks `expr`; `how` is what its parent does with it, recorded if it is a secret.
    fn expr(&mut self, expr: &Expr<'a>, how: &SecretHow) {
        match expr {
            Expr::Var(var) => {
                if !self.is_assigned(var.id) {
                    self.reference(vec![var.id.to_string()], expr, how);
                }
            }
            Expr::Const(_) => {}
            Expr::GetAttr(g) => {
                if let Some(path) = self.path(expr) {
                    self.reference(path, expr, how);
                } else {
                    self.expr(&g.expr, &SecretHow::Attribute(g.name.to_string()));
                }
            }
            Expr::GetItem(g) => {
                if let Some(path) = self.path(expr) {
                    self.reference(path, expr, how);
                } else {
                    self.expr(&g.expr, &SecretHow::Subscript);
                    self.expr(&g.subscript_expr, &SecretHow::Index);
                }
            }
            Expr::Slice(s) => {
                self.expr(&s.expr, &SecretHow::Slice);
                for bound in [&s.start, &s.stop, &s.step] {
                    self.opt_expr(bound, &SecretHow::Index);
                }
            }
            Expr::UnaryOp(u) => {
                let op = match u.op {
                    UnaryOpKind::Not => "not",
                    UnaryOpKind::Neg => "-",
                };
                self.expr(&u.expr, &SecretHow::Operator(op));
            }
            Expr::BinOp(b) => {
                let path = |e: &Expr<'a>| self.path(e).map(|p| (p, self.chain_range(e)));
                let found = super::comparisons::of_binop(b, &path);
                self.analysis.comparisons.extend(found);
                if matches!(b.op, BinOpKind::Sub) {
                    self.hyphenated(expr);
                }
                let op = binary(&b.op);
                self.expr(&b.left, &op);
                self.expr(&b.right, &op);
            }
            Expr::Compare(c) => {
                let path = |e: &Expr<'a>| self.path(e).map(|p| (p, self.chain_range(e)));
                let found = super::comparisons::of_chain(c, &path);
                self.analysis.comparisons.extend(found);
                self.expr(&c.expr, &SecretHow::Comparison);
                c.ops
                    .iter()
                    .for_each(|op| self.expr(&op.expr, &SecretHow::Comparison));
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, &SecretHow::Condition);
                self.expr(&i.true_expr, &SecretHow::Branch);
                self.opt_expr(&i.false_expr, &SecretHow::Branch);
            }
            Expr::Filter(f) => {
                // The span of a filter starts at its name.
                let start = f.span().start_offset as usize;
                self.analysis.filters.push(NameUse {
                    name: f.name.to_string(),
                    range: start..start + f.name.len(),
                });
                let how = SecretHow::Filter(f.name.to_string());
                let guarded = GUARD_FILTERS.contains(&f.name)
                    && f.expr
                        .as_ref()
                        .is_some_and(|e| self.guarded(e, false, &how));
                if !guarded {
                    self.opt_expr(&f.expr, &how);
                }
                self.args(&f.args, &SecretHow::FilterArgument(f.name.to_string()));
            }
            Expr::Test(t) => {
                let start = t.span().start_offset as usize;
                self.analysis.tests.push(NameUse {
                    name: t.name.to_string(),
                    range: start..start + t.name.len(),
                });
                let how = SecretHow::Test(t.name.to_string());
                if !(GUARD_TESTS.contains(&t.name) && self.guarded(&t.expr, true, &how)) {
                    self.expr(&t.expr, &how);
                }
                self.args(&t.args, &SecretHow::TestArgument(t.name.to_string()));
            }
            Expr::Call(c) => {
                self.expr(&c.expr, &SecretHow::Called);
                self.args(&c.args, &SecretHow::CallArgument);
            }
            Expr::List(l) => l
                .items
                .iter()
                .for_each(|i| self.expr(i, &SecretHow::Collection)),
            Expr::Map(m) => {
                for part in m.keys.iter().chain(&m.values) {
                    self.expr(part, &SecretHow::Collection);
                }
            }
        }
    }

    /// Records a read of the context; a read of `secrets` also with what is done to it.
    fn reference(&mut self, path: Vec<String>, expr: &Expr<'a>, how: &SecretHow) {
        let range = self.chain_range(expr);
        if path[0] == "secrets" {
            // `secrets.x.y` and `secrets.x.upper()` go past the secret's value.
            let how = match (path.get(2), how) {
                (Some(name), SecretHow::Called) => SecretHow::Method(name.clone()),
                (Some(name), _) => SecretHow::Attribute(name.clone()),
                (None, how) => how.clone(),
            };
            self.analysis.secrets.push(SecretUse {
                name: path.get(1).cloned(),
                how,
                range: range.clone(),
            });
        }
        self.analysis.references.push(Reference {
            path,
            range,
            optional_from: None,
        });
    }

    /// Where a chain like `steps.a.outputs.b` is written. minijinja's span of a chain
    /// starts at its last `.`, so the start is taken from the name it begins with.
    fn chain_range(&self, expr: &Expr<'a>) -> Range<usize> {
        let mut first = expr;
        loop {
            match first {
                Expr::GetAttr(g) => first = &g.expr,
                Expr::GetItem(g) => first = &g.expr,
                Expr::Call(c) => first = &c.expr,
                _ => break,
            }
        }
        first.span().start_offset as usize..expr.span().end_offset as usize
    }

    /// The path of `expr` when it is a chain of attributes and string subscripts that
    /// starts at a name read from the context.
    fn path(&self, expr: &Expr<'a>) -> Option<Vec<String>> {
        match expr {
            Expr::Var(var) => (!self.is_assigned(var.id)).then(|| vec![var.id.to_string()]),
            Expr::GetAttr(g) => {
                let mut path = self.path(&g.expr)?;
                path.push(g.name.to_string());
                Some(path)
            }
            Expr::GetItem(g) => {
                let Expr::Const(key) = &g.subscript_expr else {
                    return None;
                };
                let key = key.value.as_str()?.to_string();
                let mut path = self.path(&g.expr)?;
                path.push(key);
                Some(path)
            }
            _ => None,
        }
    }

    /// Records `steps.find-member` when `expr`, a subtraction, is written that way.
    fn hyphenated(&mut self, expr: &Expr<'a>) {
        let Some(found) = self.hyphen_parts(expr) else {
            return;
        };
        // `a-b-c` is `(a - b) - c`: only the outer subtraction is recorded.
        let inside_last =
            self.analysis.hyphenated.last().is_some_and(|h| {
                h.range.start <= found.range.start && found.range.end <= h.range.end
            });
        if !inside_last {
            self.analysis.hyphenated.push(found);
        }
    }

    fn hyphen_parts(&self, expr: &Expr<'a>) -> Option<Hyphenated> {
        let Expr::BinOp(b) = expr else {
            return None;
        };
        if !matches!(b.op, BinOpKind::Sub) {
            return None;
        }
        let mut found = match self.hyphen_parts(&b.left) {
            Some(found) => found,
            None => {
                // `x + steps.a-b`: the path is the last operand on the left.
                let mut left = &b.left;
                while let Expr::BinOp(inner) = left {
                    if !matches!(inner.op, BinOpKind::Add | BinOpKind::Sub) {
                        return None;
                    }
                    left = &inner.right;
                }
                // The last segment must be written as a name (`.find`), not `['find']`.
                let Expr::GetAttr(_) = left else {
                    return None;
                };
                let path = self.path(left)?;
                Hyphenated {
                    path,
                    minus: Vec::new(),
                    range: self.chain_range(left),
                }
            }
        };
        let name = self.first_name(&b.right)?;
        let name_range = range(name.span());
        let Expr::Var(var) = name else {
            return None;
        };
        // Only `a-b` as one word: `a - b` is meant as a subtraction.
        if self.source.get(found.range.end..name_range.start) != Some("-") {
            return None;
        }
        found.minus.push(var.id.to_string());
        found.range.end = name_range.end;
        Some(found)
    }

    /// The name a postfix chain starts with: `member` in `member.outputs.x | upper`.
    fn first_name<'e>(&self, expr: &'e Expr<'a>) -> Option<&'e Expr<'a>> {
        match expr {
            Expr::Var(var) => (!self.is_assigned(var.id)).then_some(expr),
            Expr::GetAttr(g) => self.first_name(&g.expr),
            Expr::GetItem(g) => self.first_name(&g.expr),
            Expr::Call(c) => self.first_name(&c.expr),
            Expr::Filter(f) => self.first_name(f.expr.as_ref()?),
            _ => None,
        }
    }
}

/// What a binary operator does to its operands. minijinja parses `==`, `<` and `in` as
/// binary operators too.
fn binary(op: &BinOpKind) -> SecretHow {
    SecretHow::Operator(match op {
        BinOpKind::Eq
        | BinOpKind::Ne
        | BinOpKind::Lt
        | BinOpKind::Lte
        | BinOpKind::Gt
        | BinOpKind::Gte
        | BinOpKind::In => return SecretHow::Comparison,
        BinOpKind::ScAnd => "and",
        BinOpKind::ScOr => "or",
        BinOpKind::Add => "+",
        BinOpKind::Sub => "-",
        BinOpKind::Mul => "*",
        BinOpKind::Div => "/",
        BinOpKind::FloorDiv => "//",
        BinOpKind::Rem => "%",
        BinOpKind::Pow => "**",
        BinOpKind::Concat => "~",
    })
}
