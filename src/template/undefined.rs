//! Naming the value a strict template found undefined.
//!
//! minijinja reports a missing value as "undefined value (in <string>:1)", which tells
//! the operator at 3 a.m. neither which value nor why. The template's own analysis lists
//! what it reads; the first read the context cannot resolve is the culprit, and the
//! context says why it is missing (the target has no such key, the step set no such
//! output). Only names and keys appear in the message, never a value, so a secret
//! cannot leak through it.

use serde_json::Value;

use super::{Analysis, Reference};
use crate::source::decode::closest;

/// minijinja's error without its `(in <string>:1)` location, which means nothing to an
/// operator: the caller says which step and parameter the template belongs to.
pub(super) fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// The message for a render error: for an undefined value, which one and why; else
/// minijinja's own words. `source` is the failed template's text and `analysis` what it
/// reads.
pub(super) fn explain(
    error: &minijinja::Error,
    source: &str,
    analysis: Option<&Analysis>,
    context: &Value,
) -> String {
    if error.kind() != minijinja::ErrorKind::UndefinedError {
        return describe(error);
    }
    if let Some(found) = analysis.and_then(|a| missing(a, context)) {
        return found;
    }
    // A name the template set itself (`{% for m in ... %}{{ m.nmae }}`) is not in the
    // context; minijinja knows where the failing expression is written.
    match error
        .range()
        .and_then(|r| source.get(r))
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        Some(written) => format!("`{written}` is undefined"),
        None => describe(error),
    }
}

/// The first read of `analysis` whose required part `context` lacks, described.
fn missing(analysis: &Analysis, context: &Value) -> Option<String> {
    let mut references: Vec<&Reference> = analysis.references.iter().collect();
    references.sort_by_key(|r| r.range.start);
    references.into_iter().find_map(|reference| {
        let required = reference.required();
        // A root the context does not have is a function (`range`) or a name the
        // template set itself; strictness does not concern it.
        context.get(required.first()?)?;
        let mut value = context;
        for (depth, segment) in required.iter().enumerate() {
            match child(value, segment) {
                Some(next) => value = next,
                None => return Some(describe_missing(&reference.path, depth, value, context)),
            }
        }
        None
    })
}

/// `value[segment]`, for a mapping's key or a list's index.
fn child<'v>(value: &'v Value, segment: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => items.get(segment.parse::<usize>().ok()?),
        _ => None,
    }
}

/// "`target.etcd.pidfile` is undefined (the target `staging` has no key `pidfile` under
/// `etcd`)": `path[depth]` is missing from `parent`.
fn describe_missing(path: &[String], depth: usize, parent: &Value, context: &Value) -> String {
    let written = dotted(path);
    let name = &path[depth];
    let under = dotted(&path[..depth]);
    let why = if !matches!(parent, Value::Object(_)) {
        format!("`{under}` is {}, not a mapping", kind(parent))
    } else {
        let keys: Vec<&str> = parent
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let hint = match closest(name, &keys) {
            Some(best) => format!("; did you mean `{best}`?"),
            None => String::new(),
        };
        match (path[0].as_str(), depth) {
            ("target", 1) if keys.is_empty() => {
                "no target is bound; pass `--target NAME`".to_string()
            }
            ("target", _) => {
                let target = context["target"]["name"].as_str().unwrap_or("?");
                let inside = if depth > 1 {
                    format!(" under `{}`", dotted(&path[1..depth]))
                } else {
                    String::new()
                };
                format!("the target `{target}` has no key `{name}`{inside}{hint}")
            }
            ("steps", 1) => format!("step `{name}` has no result yet"),
            ("steps", 2 | 3) if context["steps"][&path[1]]["status"] == "skipped" => {
                format!("step `{}` was skipped, so it has no {}", path[1], path[2])
            }
            ("steps", 2) if name == "answer" => {
                format!("step `{}` has no answer", path[1])
            }
            ("steps", 3) if path[2] == "outputs" => {
                let outputs = if keys.is_empty() {
                    "; it set no outputs".to_string()
                } else if hint.is_empty() {
                    format!("; its outputs: {}", keys.join(", "))
                } else {
                    hint
                };
                format!("step `{}` has no output `{name}`{outputs}", path[1])
            }
            ("inputs", 1) => format!("the runbook has no input `{name}`{hint}"),
            ("secrets", 1) => format!("the runbook has no secret `{name}`{hint}"),
            ("item", _) if depth == 1 => format!("the item has no key `{name}`{hint}"),
            _ => format!("`{under}` has no key `{name}`{hint}"),
        }
    };
    format!("`{written}` is undefined ({why})")
}

/// A path as a template writes it: `steps['find-member'].outputs.ip`.
fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for (i, segment) in path.iter().enumerate() {
        let plain = segment
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (i, plain) {
            (0, _) => out.push_str(segment),
            (_, true) => {
                out.push('.');
                out.push_str(segment);
            }
            (_, false) => out.push_str(&format!("['{segment}']")),
        }
    }
    out
}

/// What kind of value a path holds, for "is a string, not a mapping".
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{analyse_expression, environment};
    use super::*;

    fn message(expression: &str, context: &Value) -> String {
        let env = environment();
        let error = env
            .render_str(&format!("{{{{ {expression} }}}}"), context)
            .unwrap_err();
        explain(
            &error,
            &format!("{{{{ {expression} }}}}"),
            analyse_expression(expression).ok().as_ref(),
            context,
        )
    }

    #[test]
    fn a_name_the_template_set_is_named_where_it_is_written() {
        let env = environment();
        let text = "{% for m in target.members %}{{ m.nmae }}{% endfor %}";
        let context = json!({"target": {"members": [{"name": "a"}]}});
        let error = env.render_str(text, &context).unwrap_err();
        let analysis = super::super::analyse_template(text).ok();
        assert_eq!(
            explain(&error, text, analysis.as_ref(), &context),
            "`m.nmae` is undefined"
        );
    }

    #[test]
    fn names_a_missing_target_key_and_where_it_is_missing() {
        let context = json!({"target": {"name": "staging", "etcd": {"pid_file": "/run/x"}}});
        assert_eq!(
            message("target.etcd.pidfile", &context),
            "`target.etcd.pidfile` is undefined (the target `staging` has no key `pidfile` under `etcd`; did you mean `pid_file`?)"
        );
        assert_eq!(
            message("target.kubeconfig", &context),
            "`target.kubeconfig` is undefined (the target `staging` has no key `kubeconfig`)"
        );
        assert_eq!(
            message("target.kubeconfig", &json!({"target": {}})),
            "`target.kubeconfig` is undefined (no target is bound; pass `--target NAME`)"
        );
    }

    #[test]
    fn names_a_missing_output_and_the_outputs_there_are() {
        let context =
            json!({"steps": {"a": {"outputs": {"REAL": "x"}}, "find-member": {"outputs": {}}}});
        assert_eq!(
            message("steps.a.outputs.RAEL", &context),
            "`steps.a.outputs.RAEL` is undefined (step `a` has no output `RAEL`; did you mean `REAL`?)"
        );
        assert_eq!(
            message("steps['find-member'].outputs.ip", &context),
            "`steps['find-member'].outputs.ip` is undefined (step `find-member` has no output `ip`; it set no outputs)"
        );
    }

    #[test]
    fn a_skipped_step_is_named_as_skipped() {
        let context = json!({"steps": {"a": {"status": "skipped", "outputs": {}}}});
        assert_eq!(
            message("steps.a.outputs.X", &context),
            "`steps.a.outputs.X` is undefined (step `a` was skipped, so it has no outputs)"
        );
        assert_eq!(
            message("steps.a.answer", &context),
            "`steps.a.answer` is undefined (step `a` was skipped, so it has no answer)"
        );
    }

    #[test]
    fn a_guarded_read_is_not_the_culprit() {
        let context = json!({"target": {"name": "t"}, "inputs": {}});
        assert_eq!(
            message("(target.a | default('x')) ~ inputs.b", &context),
            "`inputs.b` is undefined (the runbook has no input `b`)"
        );
    }
}
