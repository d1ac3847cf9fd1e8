//! What a template does with a secret it reads.
//!
//! drbook masks a secret by finding its value (and common encodings of it) in text. A
//! template that transforms the value first (`| upper`, `[2:]`, `~ 'x'`) prints text
//! the masker cannot recognise, so `validate` allows a secret only where it is used
//! whole: `{{ secrets.x }}`, with nothing applied to it. The analysis records every read
//! of `secrets` with how the expression around it uses it, and the check refuses all but
//! `Whole`.

use std::ops::Range;

/// One read of `secrets` in a template.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretUse {
    /// The secret's name; `None` when `secrets` itself is read (`{{ secrets }}`,
    /// `secrets[inputs.which]`).
    pub name: Option<String>,
    pub how: SecretHow,
    /// Where the read (`secrets.x`, `secrets['x']`) is written.
    pub range: Range<usize>,
}

/// How the expression around a secret uses it.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretHow {
    /// `{{ secrets.x }}`, or a `when`/`foreach` expression that is only the secret.
    Whole,
    Filter(String),
    FilterArgument(String),
    Test(String),
    TestArgument(String),
    Slice,
    /// `secrets.x[0]`.
    Subscript,
    /// Used as the index or bound of another value: `inputs.list[secrets.x]`.
    Index,
    /// `secrets.x.y` or `secrets.x['y']`.
    Attribute(String),
    /// `secrets.x.upper()`.
    Method(String),
    /// `secrets.x()`, or the secret as the callee of any call.
    Called,
    CallArgument,
    /// `~`, `+`, `and`, `not`, ...: the operator as written.
    Operator(&'static str),
    Comparison,
    /// The condition of an `if` (statement or inline) or of a loop's `if`.
    Condition,
    /// A branch of an inline `x if c else y`.
    Branch,
    /// An element or key of a list or mapping literal.
    Collection,
    /// `{% for c in secrets.x %}`.
    Loop,
    /// `{% set s = secrets.x %}`, `{% with %}`, a macro argument's default.
    Assignment,
    /// Output inside a block whose text is captured and may be transformed: the block,
    /// as the message names it.
    Captured(&'static str),
}

impl SecretHow {
    /// What the template does, completing "`with.run` of step `x` …".
    pub fn describe(&self, secret: &str) -> String {
        let secret = format!("secret `{secret}`");
        match self {
            SecretHow::Whole => format!("uses {secret}"),
            SecretHow::Filter(name) => format!("applies filter `{name}` to {secret}"),
            SecretHow::FilterArgument(name) => format!("passes {secret} to filter `{name}`"),
            SecretHow::Test(name) => format!("applies test `{name}` to {secret}"),
            SecretHow::TestArgument(name) => format!("passes {secret} to test `{name}`"),
            SecretHow::Slice => format!("slices {secret}"),
            SecretHow::Subscript => format!("takes a subscript of {secret}"),
            SecretHow::Index => format!("uses {secret} as an index"),
            SecretHow::Attribute(name) => format!("reads `{name}` of {secret}"),
            SecretHow::Method(name) => format!("calls method `{name}` of {secret}"),
            SecretHow::Called => format!("calls {secret}"),
            SecretHow::CallArgument => format!("passes {secret} to a function"),
            SecretHow::Operator(op) => format!("applies `{op}` to {secret}"),
            SecretHow::Comparison => format!("compares {secret}"),
            SecretHow::Condition => format!("tests {secret} in a condition"),
            SecretHow::Branch => format!("chooses {secret} in an inline `if`"),
            SecretHow::Collection => format!("puts {secret} in a list or mapping"),
            SecretHow::Loop => format!("loops over {secret}"),
            SecretHow::Assignment => format!("assigns {secret} to a variable"),
            SecretHow::Captured(block) => {
                format!("prints {secret} inside {block}, whose text can be transformed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SecretHow;
    use crate::template::{analyse_expression, analyse_template};

    /// The one way each template uses secret `x`.
    fn how(text: &str) -> Vec<(Option<String>, SecretHow, String)> {
        analyse_template(text)
            .unwrap()
            .secrets
            .into_iter()
            .map(|u| (u.name, u.how, text[u.range].to_string()))
            .collect()
    }

    fn one(text: &str) -> SecretHow {
        let uses = how(text);
        assert_eq!(uses.len(), 1, "{text}: {uses:?}");
        uses[0].1.clone()
    }

    #[test]
    fn a_secret_printed_whole_is_whole() {
        for text in [
            "{{ secrets.x }}",
            "{{ secrets['x'] }}",
            "echo {{ secrets.x }} > /dev/null",
            "{% if inputs.a %}{{ secrets.x }}{% endif %}",
            "{% for m in inputs.m %}{{ m }}={{ secrets.x }}{% endfor %}",
        ] {
            let uses = how(text);
            assert_eq!(uses.len(), 1, "{text}");
            assert_eq!(uses[0].0.as_deref(), Some("x"), "{text}");
            assert_eq!(uses[0].1, SecretHow::Whole, "{text}");
        }
        let whole = analyse_expression(" secrets.x ").unwrap().secrets;
        assert_eq!(whole[0].how, SecretHow::Whole);
    }

    #[test]
    fn every_transformation_is_named() {
        let filter = |n: &str| SecretHow::Filter(n.into());
        for (text, expected) in [
            ("{{ secrets.x | upper }}", filter("upper")),
            ("{{ secrets.x | list | join(' ') }}", filter("list")),
            (
                "{{ 'a' | replace('a', secrets.x) }}",
                SecretHow::FilterArgument("replace".into()),
            ),
            (
                "{{ secrets.x is defined }}",
                SecretHow::Test("defined".into()),
            ),
            (
                "{{ 'a' is in(secrets.x) }}",
                SecretHow::TestArgument("in".into()),
            ),
            ("{{ secrets.x[2:] }}", SecretHow::Slice),
            ("{{ secrets.x[0] }}", SecretHow::Subscript),
            ("{{ inputs.l[secrets.x] }}", SecretHow::Index),
            ("{{ secrets.x.y }}", SecretHow::Attribute("y".into())),
            ("{{ secrets.x['y'] }}", SecretHow::Attribute("y".into())),
            ("{{ secrets.x.upper() }}", SecretHow::Method("upper".into())),
            ("{{ secrets.x() }}", SecretHow::Called),
            ("{{ range(secrets.x) }}", SecretHow::CallArgument),
            ("{{ secrets.x ~ 'x' }}", SecretHow::Operator("~")),
            ("{{ 'x' + secrets.x }}", SecretHow::Operator("+")),
            ("{{ not secrets.x }}", SecretHow::Operator("not")),
            ("{{ secrets.x == 'a' }}", SecretHow::Comparison),
            ("{{ 'a' in secrets.x }}", SecretHow::Comparison),
            ("{{ secrets.x < 'a' }}", SecretHow::Comparison),
            ("{{ 'a' if secrets.x }}", SecretHow::Condition),
            ("{{ secrets.x if inputs.a else '' }}", SecretHow::Branch),
            ("{% if secrets.x %}y{% endif %}", SecretHow::Condition),
            ("{{ [secrets.x] }}", SecretHow::Collection),
            (
                "{% for c in secrets.x %}{{ c }}{% endfor %}",
                SecretHow::Loop,
            ),
            (
                "{% set s = secrets.x %}{{ s | upper }}",
                SecretHow::Assignment,
            ),
            (
                "{% with s = secrets.x %}{{ s }}{% endwith %}",
                SecretHow::Assignment,
            ),
            (
                "{% filter upper %}{{ secrets.x }}{% endfilter %}",
                SecretHow::Captured("a `{% filter %}` block"),
            ),
            (
                "{% set s %}{{ secrets.x }}{% endset %}{{ s | upper }}",
                SecretHow::Captured("a `{% set %}` block"),
            ),
            (
                "{% macro m() %}{{ secrets.x }}{% endmacro %}{{ m() | upper }}",
                SecretHow::Captured("a macro"),
            ),
        ] {
            assert_eq!(one(text), expected, "{text}");
        }
    }

    #[test]
    fn the_place_is_the_read_and_secrets_itself_has_no_name() {
        let uses = how("a {{ secrets.x | upper }} {{ secrets }} {{ secrets[inputs.k] }}");
        let places: Vec<(Option<&str>, &str)> = uses
            .iter()
            .map(|u| (u.0.as_deref(), u.2.as_str()))
            .collect();
        assert_eq!(
            places,
            [
                (Some("x"), "secrets.x"),
                (None, "secrets"),
                (None, "secrets")
            ]
        );
        assert_eq!(uses[1].1, SecretHow::Whole);
        assert_eq!(uses[2].1, SecretHow::Subscript);
    }

    #[test]
    fn descriptions_complete_a_sentence() {
        assert_eq!(
            SecretHow::Filter("upper".into()).describe("canary"),
            "applies filter `upper` to secret `canary`"
        );
        assert_eq!(
            SecretHow::Operator("~").describe("canary"),
            "applies `~` to secret `canary`"
        );
    }
}
