//! YAML text → a tree of nodes that remember their spans.
//!
//! We build our own tree from the parser's events instead of using a generic YAML value
//! because validation needs what generic values throw away: the span of every key and
//! value, and duplicate keys (a YAML map that names `timeout` twice must be an error, not
//! a silent "last one wins"). Anchors, aliases and custom tags are refused: a runbook is
//! read at 3 a.m. by a person, and every value should be written where it applies.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YamlSpan};

use crate::source::diagnostic::Diagnostic;
use crate::source::span::{Pos, Span};

/// One YAML node with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    /// The scalar was written in quotes; its text starts one column after `span.start`.
    pub quoted: bool,
}

/// The value of a node, resolved with the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Entries in written order; duplicates are kept so the decoder can report them.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What kind of value this is, in words an operator understands ("a list").
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The node as plain JSON, for values that are data rather than structure
    /// (input defaults, action parameters).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => s.clone().into(),
            Value::Seq(items) => items.iter().map(Node::to_json).collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.scalar_text(), v.to_json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }

    /// The text of a scalar as written (for keys, which may be numbers or booleans).
    pub fn scalar_text(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::String(s) => s.clone(),
            Value::Seq(_) => "[list]".into(),
            Value::Map(_) => "{mapping}".into(),
        }
    }
}

/// Parses one YAML document. An empty file is a `Null` node.
pub fn parse(text: &str) -> Result<Node, Diagnostic> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        depth: 0,
    };
    builder.document()
}

/// How deep lists and mappings may nest. A runbook needs fewer than ten levels. The
/// builder recurses once per level and the parser limits only flow collections, so
/// without this a few hundred nested `- ` overflow the stack (found by tests/fuzz.rs).
const MAX_DEPTH: usize = 64;

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Collections open around the node being built.
    depth: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), Diagnostic> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => Ok((event, convert_span(span))),
            Some(Err(error)) => Err(scan_error(&error)),
            // The parser always ends with StreamEnd; running past it is a parser bug,
            // reported rather than trusted.
            None => Err(Diagnostic::new(
                Span::default(),
                "unexpected end of the YAML event stream",
            )),
        }
    }

    fn document(&mut self) -> Result<Node, Diagnostic> {
        let mut root = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    if root.is_some() {
                        return Err(Diagnostic::new(
                            span,
                            "a runbook file holds one YAML document, found a second one",
                        )
                        .with_help("put each runbook in a file of its own"));
                    }
                    let (event, span) = self.next()?;
                    root = Some(self.node(event, span)?);
                }
                other => {
                    return Err(Diagnostic::new(
                        span,
                        format!("unexpected YAML event {other:?}"),
                    ));
                }
            }
        }
        Ok(root.unwrap_or(Node {
            value: Value::Null,
            span: Span {
                start: Pos { line: 1, col: 1 },
                end: Pos { line: 1, col: 1 },
            },
            quoted: false,
        }))
    }

    /// Opens one more level of nesting, refused past `MAX_DEPTH`.
    fn enter(&mut self, span: Span) -> Result<(), Diagnostic> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Diagnostic::new(
                span,
                format!("lists and mappings nest deeper than {MAX_DEPTH} levels here"),
            )
            .with_help("a runbook needs only a few levels; check the indentation"));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, Diagnostic> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                refuse_anchor(anchor, span)?;
                let forced_string = match tag.as_deref() {
                    None => false,
                    Some(tag) if tag.handle == "tag:yaml.org,2002:" && tag.suffix == "str" => true,
                    Some(tag) if tag.handle == "!!" && tag.suffix == "str" => true,
                    Some(tag) => return Err(unsupported_tag(span, &tag.handle, &tag.suffix)),
                };
                let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
                let value = if forced_string || style != ScalarStyle::Plain {
                    Value::String(text.into_owned())
                } else {
                    resolve_plain(&text)
                };
                Ok(Node {
                    value,
                    span,
                    quoted,
                })
            }
            Event::SequenceStart(anchor, tag) => {
                refuse_anchor(anchor, span)?;
                if let Some(tag) = tag {
                    return Err(unsupported_tag(span, &tag.handle, &tag.suffix));
                }
                self.enter(span)?;
                let mut items = Vec::new();
                let end = loop {
                    let (event, item_span) = self.next()?;
                    if let Event::SequenceEnd = event {
                        break item_span;
                    }
                    items.push(self.node(event, item_span)?);
                };
                self.depth -= 1;
                Ok(Node {
                    value: Value::Seq(items),
                    span: Span {
                        start: span.start,
                        end: end.end.max(span.end),
                    },
                    quoted: false,
                })
            }
            Event::MappingStart(anchor, tag) => {
                refuse_anchor(anchor, span)?;
                if let Some(tag) = tag {
                    return Err(unsupported_tag(span, &tag.handle, &tag.suffix));
                }
                self.enter(span)?;
                let mut entries = Vec::new();
                let end = loop {
                    let (event, key_span) = self.next()?;
                    if let Event::MappingEnd = event {
                        break key_span;
                    }
                    let key = self.node(event, key_span)?;
                    let (event, value_span) = self.next()?;
                    let value = self.node(event, value_span)?;
                    entries.push((key, value));
                };
                self.depth -= 1;
                Ok(Node {
                    value: Value::Map(entries),
                    span: Span {
                        start: span.start,
                        end: end.end.max(span.end),
                    },
                    quoted: false,
                })
            }
            Event::Alias(_) => Err(Diagnostic::new(
                span,
                "YAML aliases (`*name`) are not supported in runbooks",
            )
            .with_help("write the value out where it is used, so the runbook reads top to bottom")),
            other => Err(Diagnostic::new(
                span,
                format!("unexpected YAML event {other:?}"),
            )),
        }
    }
}

/// An anchor (`&name`) is only useful to an alias, which is refused; reporting the anchor
/// points at where the shared value is written.
fn refuse_anchor(anchor: usize, span: Span) -> Result<(), Diagnostic> {
    if anchor == 0 {
        return Ok(());
    }
    Err(
        Diagnostic::new(span, "YAML anchors (`&name`) are not supported in runbooks")
            .with_help("write the value out where it is used, so the runbook reads top to bottom"),
    )
}

fn unsupported_tag(span: Span, handle: &str, suffix: &str) -> Diagnostic {
    Diagnostic::new(
        span,
        format!("YAML tag `{handle}{suffix}` is not supported in runbooks"),
    )
    .with_help("remove the tag; quote the value if it must be read as a string")
}

fn convert_span(span: YamlSpan) -> Span {
    Span {
        start: Pos {
            line: span.start.line(),
            col: span.start.col() + 1,
        },
        end: Pos {
            line: span.end.line(),
            col: span.end.col() + 1,
        },
    }
}

fn scan_error(error: &ScanError) -> Diagnostic {
    let marker = error.marker();
    let pos = Pos {
        line: marker.line().max(1),
        col: marker.col() + 1,
    };
    Diagnostic::new(
        Span {
            start: pos,
            end: pos,
        },
        format!("invalid YAML: {}", error.info()),
    )
    .with_help(scan_help(error.info()))
}

/// What the parser's message usually means in a runbook, in the operator's terms.
fn scan_help(info: &str) -> &'static str {
    if info.contains("unknown anchor") {
        "YAML aliases (`*name`) are not supported in runbooks: write the value out where it is used"
    } else if info
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| word == "tab" || word == "tabs")
    {
        "indent with spaces; YAML does not allow tabs in indentation"
    } else if info.contains("quoted scalar") {
        "is a closing quote missing? A quoted value that goes on to the next line must be indented more than its key"
    } else if info.contains("flow") || info.contains("bracket") || info.contains("':' indicator") {
        "is a `[` or `{` missing its closing `]` or `}`? Otherwise quote the value"
    } else if info.contains("mapping values are not allowed") {
        "is this line indented differently from the keys next to it? A value that contains `: ` must be quoted"
    } else {
        "check the indentation and quoting around this place"
    }
}

/// Resolves a plain (unquoted) scalar by the YAML 1.2 core schema. Anything that is not
/// null, a boolean or a number is a string; "yes"/"no"/"on"/"off" stay strings (YAML 1.2).
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    let looks_numeric = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_numeric && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_keys_and_spans() {
        let node = parse("a: 1\na: two\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!("expected a map")
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].0.span.start, Pos { line: 2, col: 1 });
        assert_eq!(entries[1].1.value, Value::String("two".into()));
    }

    #[test]
    fn resolves_core_schema_scalars() {
        assert_eq!(resolve_plain("10"), Value::Int(10));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("yes"), Value::String("yes".into()));
        assert_eq!(resolve_plain("10m"), Value::String("10m".into()));
        assert_eq!(resolve_plain("inf"), Value::String("inf".into()));
        assert_eq!(resolve_plain("~"), Value::Null);
    }

    #[test]
    fn refuses_deep_nesting_instead_of_overflowing_the_stack() {
        let within = format!("{}x", "- ".repeat(MAX_DEPTH));
        assert!(parse(&within).is_ok());
        let block: String = (0..300).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        let error = parse(&block).unwrap_err();
        assert_eq!(error.span.start.line, MAX_DEPTH + 1);
        assert!(parse(&"- ".repeat(100_000)).is_err());
    }

    #[test]
    fn refuses_aliases_and_second_documents() {
        assert!(parse("a: &x 1\nb: *x\n").is_err());
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
    }
}
