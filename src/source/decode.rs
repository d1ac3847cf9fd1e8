//! Small helpers that turn spanned YAML nodes into typed values while collecting every
//! error, so `validate` reports all mistakes of a file in one go instead of the first.
//!
//! Each helper returns `None` when the node is wrong and has recorded why; callers keep
//! going with the rest of the file.

use std::collections::HashMap;
use std::time::Duration;

use crate::source::diagnostic::Diagnostic;
use crate::source::span::{Span, Spanned};
use crate::source::yaml_tree::{Node, Value};

/// Collects diagnostics while a file is decoded.
#[derive(Debug, Default)]
pub struct Decoder {
    pub diagnostics: Vec<Diagnostic>,
}

/// The checked entries of one YAML mapping: only allowed keys, each at most once.
pub struct Fields<'n> {
    pub span: Span,
    /// What the mapping is, for messages: "step `drain`", "`metadata`".
    pub what: String,
    entries: Vec<(Spanned<&'n str>, &'n Node)>,
    /// Allowed keys that an unknown key was reported as a misspelling of; a "missing
    /// key" error for them would only repeat that report.
    suggested: Vec<String>,
    /// Where a missing key is reported: the key that holds the mapping, when known.
    missing_at: Span,
}

impl Decoder {
    pub fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Reads a mapping whose keys must come from `allowed`. Unknown keys are reported with
    /// the closest allowed key; a key written twice is reported at its second place.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                Diagnostic::new(
                    node.span,
                    format!("{what} must be a mapping, found {}", node.kind_name()),
                )
                .with_help(format!("expected keys: {}", allowed.join(", "))),
            );
            return None;
        };
        let mut fields = Fields {
            span: node.span,
            what: what.to_string(),
            entries: Vec::new(),
            suggested: Vec::new(),
            missing_at: node.span.sub(0, 1),
        };
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                self.error(Diagnostic::new(
                    key.span,
                    format!("keys in {what} must be strings, found {}", key.kind_name()),
                ));
                continue;
            };
            if !allowed.contains(&name) {
                let mut diagnostic =
                    Diagnostic::new(key.span, format!("unknown key `{name}` in {what}"));
                diagnostic = match closest(name, allowed) {
                    Some(best) => {
                        fields.suggested.push(best.to_string());
                        diagnostic.with_help(format!("did you mean `{best}`?"))
                    }
                    None => diagnostic.with_help(format!("allowed keys: {}", allowed.join(", "))),
                };
                self.error(diagnostic);
                continue;
            }
            if let Some((first, _)) = fields.entries.iter().find(|(k, _)| k.value == name) {
                self.error(
                    Diagnostic::new(key.span, format!("key `{name}` appears twice in {what}"))
                        .with_secondary(first.span, "first written here")
                        .with_help("keep one of them; YAML would silently use the last"),
                );
                continue;
            }
            fields.entries.push((Spanned::new(name, key.span), value));
        }
        Some(fields)
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::String(s) => Some(Spanned::new(s.clone(), node.span)),
            _ => {
                self.error(Diagnostic::new(
                    node.span,
                    format!("{what} must be a string, found {}", node.kind_name()),
                ));
                None
            }
        }
    }

    /// A string that may not be empty (ids, names, prompts).
    pub fn non_empty_string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        let s = self.string(node, what)?;
        if s.value.trim().is_empty() {
            self.error(Diagnostic::new(
                node.span,
                format!("{what} must not be empty"),
            ));
            return None;
        }
        Some(s)
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<Spanned<bool>> {
        match node.value {
            Value::Bool(b) => Some(Spanned::new(b, node.span)),
            _ => {
                self.error(
                    Diagnostic::new(
                        node.span,
                        format!("{what} must be true or false, found {}", node.kind_name()),
                    )
                    .with_help("YAML 1.2 reads only `true` and `false` as booleans"),
                );
                None
            }
        }
    }

    /// A whole number from `min` up.
    pub fn count(&mut self, node: &Node, what: &str, min: u32) -> Option<Spanned<u32>> {
        match node.value {
            Value::Int(i) if i >= i64::from(min) && i <= i64::from(u32::MAX) => {
                Some(Spanned::new(i as u32, node.span))
            }
            Value::Int(i) => {
                self.error(Diagnostic::new(
                    node.span,
                    format!("{what} must be at least {min}, found {i}"),
                ));
                None
            }
            _ => {
                self.error(Diagnostic::new(
                    node.span,
                    format!("{what} must be a whole number, found {}", node.kind_name()),
                ));
                None
            }
        }
    }

    /// A duration longer than zero in humantime syntax: `90s`, `10m`, `1h 30m`,
    /// `10 minutes`. A zero timeout or interval is a mistake, never a setting.
    pub fn duration(&mut self, node: &Node, what: &str) -> Option<Spanned<Duration>> {
        let duration = self.duration_or_zero(node, what)?;
        if duration.value.is_zero() {
            self.error(zero_duration(node.span, what, true));
            return None;
        }
        Some(duration)
    }

    /// A duration that may be zero: `rpo: 0s` says no data may be lost.
    pub fn duration_or_zero(&mut self, node: &Node, what: &str) -> Option<Spanned<Duration>> {
        let Value::String(text) = &node.value else {
            let message = match node.value {
                Value::Int(i) => format!("{what} needs a unit: `{i}` could be seconds or minutes"),
                _ => format!("{what} must be a duration, found {}", node.kind_name()),
            };
            self.error(Diagnostic::new(node.span, message).with_help(DURATION_HELP));
            return None;
        };
        match parse_duration(text) {
            Ok(d) => Some(Spanned::new(d, node.span)),
            Err(bad) => {
                self.error(bad.diagnostic(node.span, what));
                None
            }
        }
    }

    /// One of a fixed set of words (`type: confirm`, `on_failure: ask`).
    pub fn keyword<T>(
        &mut self,
        node: &Node,
        what: &str,
        names: &[&str],
        from_name: impl Fn(&str) -> Option<T>,
    ) -> Option<Spanned<T>> {
        let text = self.string(node, what)?;
        match from_name(&text) {
            Some(v) => Some(Spanned::new(v, node.span)),
            None => {
                let mut diagnostic = Diagnostic::new(
                    node.span,
                    format!(
                        "`{}` is not a valid {what}; expected one of: {}",
                        text.value,
                        names.join(", ")
                    ),
                );
                if let Some(best) = closest(&text, names) {
                    diagnostic = diagnostic.with_help(format!("did you mean `{best}`?"));
                }
                self.error(diagnostic);
                None
            }
        }
    }

    /// Reports keys written twice anywhere inside a free-form value (action parameters,
    /// labels, defaults), which `fields` does not see: YAML would keep only the last.
    pub fn unique_keys(&mut self, node: &Node, what: &str) {
        match &node.value {
            Value::Map(entries) => {
                let mut seen = HashMap::new();
                for (key, value) in entries {
                    let text = key.scalar_text();
                    if let Some(first) = seen.get(&text) {
                        self.error(
                            Diagnostic::new(
                                key.span,
                                format!("key `{text}` appears twice in {what}"),
                            )
                            .with_secondary(*first, "first written here")
                            .with_help("keep one of them; YAML would silently use the last"),
                        );
                    } else {
                        seen.insert(text, key.span);
                    }
                    self.unique_keys(value, what);
                }
            }
            Value::Seq(items) => items.iter().for_each(|n| self.unique_keys(n, what)),
            _ => {}
        }
    }

    /// A list whose items are decoded by `item`; a wrong item does not hide the others.
    pub fn list<T>(
        &mut self,
        node: &Node,
        what: &str,
        mut item: impl FnMut(&mut Self, &Node) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Value::Seq(items) = &node.value else {
            self.error(Diagnostic::new(
                node.span,
                format!("{what} must be a list, found {}", node.kind_name()),
            ));
            return None;
        };
        Some(items.iter().filter_map(|n| item(self, n)).collect())
    }
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| *v)
    }

    /// The span of a key as written, for errors about the key rather than its value.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(k, _)| k.span)
    }

    /// Reports missing keys at `key`, the key whose value the mapping is (`metadata:`),
    /// instead of at the mapping's first entry.
    pub fn held_by(mut self, key: Option<Span>) -> Self {
        if let Some(key) = key {
            self.missing_at = key;
        }
        self
    }

    /// True when an unknown key was reported as a misspelling of `key`.
    pub fn misspelt(&self, key: &str) -> bool {
        self.suggested.iter().any(|s| s == key)
    }

    /// A key that must be present; its absence is reported at the mapping (unless a
    /// misspelling of it was reported already), with `help` saying what to write.
    pub fn required(&self, decoder: &mut Decoder, key: &str, help: &str) -> Option<&'n Node> {
        let node = self.get(key);
        if node.is_none() && !self.misspelt(key) {
            decoder.error(
                Diagnostic::new(
                    self.missing_at,
                    format!("{} is missing the required key `{key}`", self.what),
                )
                .with_help(help),
            );
        }
        node
    }
}

/// How to write a duration, for every message about one.
pub const DURATION_HELP: &str =
    "write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`";

/// Why a text is not a duration drbook accepts, and what to write instead.
#[derive(Debug, Clone, PartialEq)]
pub struct BadDuration {
    /// Completes "`timeout` of step `x` …": "is not a duration: `q` is not a number".
    pub problem: String,
    pub help: String,
}

impl BadDuration {
    pub fn diagnostic(&self, span: Span, what: &str) -> Diagnostic {
        Diagnostic::new(span, format!("{what} {}", self.problem)).with_help(self.help.clone())
    }
}

/// The message for a zero duration where one makes no sense (a timeout, an interval).
/// `limit`: the duration is a limit that can be left out.
pub fn zero_duration(span: Span, what: &str, limit: bool) -> Diagnostic {
    Diagnostic::new(span, format!("{what} is zero")).with_help(if limit {
        "write a duration longer than zero, like `30s`, or leave the key out for no limit"
    } else {
        "write a duration longer than zero, like `30s`"
    })
}

/// Units humantime reads as months and years. A recovery step measured in months is a
/// typo (`10M` for `10m`), so runbooks may not use them.
const MONTH_UNITS: &[&str] = &["M", "month", "months"];
const YEAR_UNITS: &[&str] = &["y", "yr", "yrs", "year", "years"];

/// Parses a duration in humantime syntax; the error says in words what is wrong, where
/// humantime gives byte offsets. Months and years are refused.
pub fn parse_duration(text: &str) -> Result<Duration, BadDuration> {
    use humantime::DurationError as E;
    let word_at = |at: usize| -> String {
        text.get(at..)
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    };
    let not_a_duration = |why: String| BadDuration {
        problem: format!("is not a duration: {why}"),
        help: DURATION_HELP.to_string(),
    };
    let duration = humantime::parse_duration(text).map_err(|e| {
        not_a_duration(match e {
            E::NumberExpected(at) => format!("`{}` is not a number", word_at(at)),
            E::InvalidCharacter(at) => match text.get(at..).and_then(|t| t.chars().next()) {
                Some(c) => format!("`{c}` cannot appear in a duration"),
                None => "it holds a character that cannot appear in a duration".to_string(),
            },
            E::UnknownUnit { unit, value, .. } if unit.is_empty() => {
                format!("`{value}` has no unit")
            }
            E::UnknownUnit { unit, .. } => format!("unknown unit `{unit}`"),
            E::NumberOverflow => "the number is too large, or finer than a nanosecond".to_string(),
            E::Empty => "it is empty".to_string(),
        })
    })?;
    let units: Vec<&str> = text
        .split(|c: char| !(c.is_alphabetic()))
        .filter(|w| !w.is_empty())
        .collect();
    if units.contains(&"M") {
        let minutes = text.replace('M', "m");
        return Err(BadDuration {
            problem: "uses `M`, which means months".to_string(),
            help: format!("did you mean `{minutes}` (minutes)?"),
        });
    }
    if let Some(unit) = units
        .iter()
        .find(|u| MONTH_UNITS.contains(u) || YEAR_UNITS.contains(u))
    {
        let days = (duration.as_secs_f64() / 86_400.0).round();
        return Err(BadDuration {
            problem: format!("uses `{unit}`: runbooks do not take months or years"),
            help: format!("write it in days or weeks, like `{days}d`"),
        });
    }
    Ok(duration)
}

/// The allowed word closest to a misspelt one, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(distance, c)| {
            *distance <= (c.len() / 3).max(1) + 1 && *distance < word.len().max(2)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_humantime_durations_with_fractions() {
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_months_and_years() {
        let bad = parse_duration("10M").unwrap_err();
        assert_eq!(bad.help, "did you mean `10m` (minutes)?");
        for text in ["1 month", "2months", "1y", "3 years", "1yr"] {
            let bad = parse_duration(text).unwrap_err();
            assert!(bad.problem.contains("months or years"), "{text}: {bad:?}");
        }
        // `ms` and `min` contain an `m`, not an `M`.
        assert!(parse_duration("500ms 2min").is_ok());
    }
}
