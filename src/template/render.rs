//! Rendering a step's templates against a context: its `when:`, its `foreach:` list, its
//! `with:` parameters and a checkpoint's prompt. The engine renders against the run's
//! context as it grows; `plan` renders against what is known before a run and decides
//! itself what to show for values only a run can know.
//!
//! A string that is exactly one `{{ expression }}` keeps the expression's type where a
//! value is wanted (a list stays a list), so `foreach: "{{ inputs.members }}"` fans out
//! and `with: {members: "{{ inputs.members }}"}` passes a list.
//!
//! Every position is strict: an undefined value is an error naming it, whether the
//! template is one expression or text around several (`| default(...)` and
//! `is defined` are how a template says a value may be missing).

use minijinja::Environment;
use serde_json::{Map, Value};

use super::context::Context;
use super::undefined::explain;
use super::{analyse_expression, analyse_template, is_template, single_expression};
use crate::source::span::Spanned;
use crate::source::yaml_tree::{Node, Value as Yaml};

/// Why a template could not be rendered: for an undefined value, which value and why
/// it is missing (`` `target.etcd.pidfile` is undefined (the target `staging` has no key
/// `pidfile` under `etcd`) ``). The caller adds the step and the parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(String);

/// Evaluates an expression (`when`, a `foreach` template, a one-expression parameter),
/// written bare or as one `{{ expression }}`.
///
/// minijinja's expressions return a missing value as undefined instead of failing (only
/// printing one fails), which made `run: "{{ steps.a.outputs.typo }}"` an empty command.
/// An undefined result is therefore printed the way `{{ expression }}` would be: a
/// missing value fails, while the "nothing" of `x if false` stays nothing.
pub fn eval(
    env: &Environment<'static>,
    expression: &str,
    context: &impl Context,
) -> Result<minijinja::Value, RenderError> {
    let expression = single_expression(expression).unwrap_or(expression);
    let failed = |e: minijinja::Error, source: &str| {
        let analysis = analyse_expression(expression).ok();
        RenderError(explain(&e, source, analysis.as_ref(), &context.json()))
    };
    let jinja = context.jinja();
    let value = env
        .compile_expression(expression)
        .and_then(|e| e.eval(&jinja))
        .map_err(|e| failed(e, expression))?;
    if value.is_undefined() {
        let printed = format!("{{{{{expression}}}}}");
        env.render_str(&printed, &jinja)
            .map_err(|e| failed(e, &printed))?;
    }
    Ok(value)
}

/// Whether a `when:` holds.
pub fn condition(
    env: &Environment<'static>,
    when: &str,
    context: &impl Context,
) -> Result<bool, RenderError> {
    eval(env, when, context).map(|v| v.is_true())
}

/// Renders display text (a prompt, a title); plain text is returned as it is.
pub fn text(
    env: &Environment<'static>,
    text: &str,
    context: &impl Context,
) -> Result<String, RenderError> {
    if !is_template(text) {
        return Ok(text.to_string());
    }
    env.render_str(text, context.jinja()).map_err(|e| {
        RenderError(explain(
            &e,
            text,
            analyse_template(text).ok().as_ref(),
            &context.json(),
        ))
    })
}

/// The list a `foreach` template gives, or why it is not one.
pub fn list(
    env: &Environment<'static>,
    expression: &str,
    context: &impl Context,
) -> Result<Vec<Value>, String> {
    let value = eval(env, expression, context).map_err(|e| e.to_string())?;
    let json = serde_json::to_value(&value).map_err(|e| e.to_string())?;
    as_list(json)
}

/// A rendered value as a `foreach` list.
pub fn as_list(value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(format!("it gave {other}, not a list")),
    }
}

/// One string of a parameter as the engine passes it: a one-expression string keeps a
/// list's or a map's shape; scalars become text, as `{{ x }}` would print them (actions
/// parse numbers and durations from text).
pub fn value(
    env: &Environment<'static>,
    text: &str,
    context: &impl Context,
) -> Result<Value, String> {
    if !is_template(text) {
        return Ok(Value::String(text.to_string()));
    }
    if let Some(expression) = single_expression(text) {
        let value = eval(env, expression, context).map_err(|e| e.to_string())?;
        let json = serde_json::to_value(&value).map_err(|e| e.to_string())?;
        return Ok(match json {
            Value::Array(_) | Value::Object(_) => json,
            // The "nothing" of `x if false` prints as nothing, as in text.
            _ if value.is_undefined() => Value::String(String::new()),
            _ => Value::String(value.to_string()),
        });
    }
    self::text(env, text, context)
        .map(Value::String)
        .map_err(|e| e.to_string())
}

/// Walks a YAML value, rendering every string inside it with `string`; the rest is
/// kept as written. The engine and `plan` differ only in how they render a string.
pub fn node_with<E>(
    node: &Node,
    string: &mut impl FnMut(&str) -> Result<Value, E>,
) -> Result<Value, E> {
    Ok(match &node.value {
        Yaml::String(text) => string(text)?,
        Yaml::Seq(items) => Value::Array(
            items
                .iter()
                .map(|n| node_with(n, string))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Map(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                map.insert(k.scalar_text(), node_with(v, string)?);
            }
            Value::Object(map)
        }
        _ => node.to_json(),
    })
}

/// A YAML value rendered for a run.
pub fn node(
    env: &Environment<'static>,
    node: &Node,
    context: &impl Context,
) -> Result<Value, String> {
    node_with(node, &mut |text| value(env, text, context))
}

/// The `with:` parameters of one attempt; an error names the parameter.
pub fn params(
    env: &Environment<'static>,
    with: &[(Spanned<String>, Node)],
    context: &impl Context,
) -> Result<Map<String, Value>, String> {
    with.iter()
        .map(|(name, n)| {
            let rendered = node(env, n, context).map_err(|e| format!("`{}`: {e}", name.value))?;
            Ok((name.value.clone(), rendered))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_expression_keeps_lists_and_maps_and_prints_scalars() {
        let env = super::super::environment();
        let context = json!({"inputs": {"members": ["a", "b"], "n": 3, "m": {"k": "v"}}});
        assert_eq!(
            value(&env, "{{ inputs.members }}", &context).unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(value(&env, "{{ inputs.n }}", &context).unwrap(), json!("3"));
        assert_eq!(
            value(&env, "{{ inputs.m }}", &context).unwrap(),
            json!({"k": "v"})
        );
        assert_eq!(
            value(&env, "n={{ inputs.n }}", &context).unwrap(),
            json!("n=3")
        );
        assert_eq!(value(&env, "plain", &context).unwrap(), json!("plain"));
    }

    #[test]
    fn an_undefined_value_is_an_error_not_an_empty_string() {
        let env = super::super::environment();
        let context = json!({"inputs": {}});
        assert!(value(&env, "echo {{ inputs.nope }}", &context).is_err());
        assert!(condition(&env, "{{ inputs.nope.deeper }}", &context).is_err());
    }

    /// The whole-expression forms once turned a missing value into "" or false.
    #[test]
    fn a_whole_expression_is_as_strict_as_text() {
        let env = super::super::environment();
        let context = json!({"steps": {"a": {"outputs": {"REAL": "x"}}}, "target": {"name": "t"}});
        assert_eq!(
            value(&env, "{{ steps.a.outputs.RAEL }}", &context).unwrap_err(),
            "`steps.a.outputs.RAEL` is undefined (step `a` has no output `RAEL`; did you mean `REAL`?)"
        );
        assert!(value(&env, "{{ target.kubeconfig }}", &context).is_err());
        assert!(condition(&env, "{{ steps.a.outputs.RAEL }}", &context).is_err());
        assert!(list(&env, "{{ target.members }}", &context).is_err());
    }

    #[test]
    fn default_and_defined_still_guard() {
        let env = super::super::environment();
        let context = json!({"target": {"name": "t", "etcd": {}}});
        assert_eq!(
            value(
                &env,
                "{{ target.etcd.pidfile | default('/run/etcd.pid') }}",
                &context
            )
            .unwrap(),
            json!("/run/etcd.pid")
        );
        assert!(!condition(&env, "{{ target.kubeconfig is defined }}", &context).unwrap());
        assert_eq!(
            value(
                &env,
                "{{ '--flag' if target.kubeconfig is defined }}",
                &context
            )
            .unwrap(),
            json!("")
        );
    }

    #[test]
    fn a_foreach_must_give_a_list() {
        let env = super::super::environment();
        let context = json!({"inputs": {"members": ["a"], "one": "a"}});
        assert_eq!(
            list(&env, "{{ inputs.members }}", &context).unwrap(),
            [json!("a")]
        );
        assert_eq!(
            list(&env, "inputs.one", &context).unwrap_err(),
            "it gave \"a\", not a list"
        );
    }
}
