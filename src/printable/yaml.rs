//! A small YAML writer for the spanned node tree, so action parameters print the way an
//! author would write them.
//!
//! It only has to be read by people, but it is still exact: a string is written plain
//! only when reading it back gives the same string (checked with drbook's own YAML
//! reader, so `"{{ inputs.repo }}"`, `"yes"` or `"10"` keep their quotes), multi-line
//! strings become `|` block scalars, and anything else is double-quoted with escapes.

use std::fmt::Write as _;

use crate::source::yaml_tree::{self, Node, Value};

/// The entries of a mapping (such as an action's `with:`) as block YAML, one `key: value`
/// per line, ending with a newline.
pub(crate) fn entries<'a>(entries: impl IntoIterator<Item = (&'a str, &'a Node)>) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        write_entry(&mut out, 0, &plain_or_quoted(key, Context::Block), value);
    }
    out
}

/// A value on one line, in flow style (`[a, b]`, `{k: v}`); for table cells and defaults.
/// A multi-line string stays double-quoted with `\n`, so the line never breaks.
pub(crate) fn inline(node: &Node) -> String {
    match &node.value {
        Value::String(s) => plain_or_quoted(s, Context::Flow),
        Value::Seq(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", inline(k), inline(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        _ => scalar(node),
    }
}

/// A JSON value (an input's default) on one line, in the same flow style.
pub(crate) fn inline_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => plain_or_quoted(s, Context::Flow),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline_json).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", plain_or_quoted(k, Context::Flow), inline_json(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        other => other.to_string(),
    }
}

fn write_entry(out: &mut String, indent: usize, key: &str, value: &Node) {
    let _ = write!(out, "{:indent$}{key}:", "");
    write_value(out, indent, value);
}

/// Writes what follows `key:` or `- ` : a scalar on the same line, or a collection on
/// the lines below, indented two more.
fn write_value(out: &mut String, indent: usize, value: &Node) {
    match &value.value {
        Value::Seq(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, indent + 2, items);
        }
        Value::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            for (k, v) in entries {
                write_entry(out, indent + 2, &inline(k), v);
            }
        }
        Value::String(s) if is_block_candidate(s) => write_block_scalar(out, indent, s),
        _ => {
            let _ = writeln!(out, " {}", inline(value));
        }
    }
}

fn write_seq(out: &mut String, indent: usize, items: &[Node]) {
    for item in items {
        match &item.value {
            Value::Map(entries) if !entries.is_empty() => {
                // The first entry shares the line with the dash, the rest line up under it.
                let mut nested = String::new();
                for (k, v) in entries {
                    write_entry(&mut nested, indent + 2, &inline(k), v);
                }
                let _ = write!(out, "{:indent$}- {}", "", &nested[indent + 2..]);
            }
            Value::Seq(nested) if !nested.is_empty() => {
                let _ = writeln!(out, "{:indent$}-", "");
                write_seq(out, indent + 2, nested);
            }
            _ => {
                let _ = write!(out, "{:indent$}-", "");
                write_value(out, indent, item);
            }
        }
    }
}

/// A multi-line string that a literal block scalar can hold exactly.
fn is_block_candidate(s: &str) -> bool {
    s.contains('\n') && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn write_block_scalar(out: &mut String, indent: usize, s: &str) {
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    // A first line that starts with a space would be taken as deeper indentation.
    let first = s.lines().find(|l| !l.is_empty()).unwrap_or("");
    let indicator = if first.starts_with(' ') { "2" } else { "" };
    let _ = writeln!(out, " |{indicator}{chomp}");
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{:width$}{line}", "", width = indent + 2);
        }
    }
}

fn scalar(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => ".nan".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Value::Float(f) => format!("{f:?}"),
        Value::String(s) => plain_or_quoted(s, Context::Flow),
        Value::Seq(_) | Value::Map(_) => inline(node),
    }
}

#[derive(Clone, Copy)]
enum Context {
    Block,
    Flow,
}

/// The string plain when it reads back as itself, else double-quoted.
fn plain_or_quoted(s: &str, context: Context) -> String {
    if reads_back_plain(s, context) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

fn reads_back_plain(s: &str, context: Context) -> bool {
    if s.is_empty() || s.trim() != s || s.chars().any(|c| c.is_control()) {
        return false;
    }
    let probe = match context {
        Context::Block => format!("k: {s}\n"),
        Context::Flow => format!("k: [{s}]\n"),
    };
    let Ok(node) = yaml_tree::parse(&probe) else {
        return false;
    };
    let Value::Map(entries) = node.value else {
        return false;
    };
    let [(_, value)] = entries.as_slice() else {
        return false;
    };
    let value = match (context, &value.value) {
        (Context::Block, _) => value,
        (Context::Flow, Value::Seq(items)) if items.len() == 1 => &items[0],
        _ => return false,
    };
    !value.quoted && value.value == Value::String(s.to_string())
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_of(text: &str) -> Vec<(String, Node)> {
        let node = yaml_tree::parse(text).unwrap();
        let Value::Map(entries) = node.value else {
            panic!("expected a mapping")
        };
        entries
            .into_iter()
            .map(|(k, v)| (k.scalar_text(), v))
            .collect()
    }

    fn emit(text: &str) -> String {
        let entries = with_of(text);
        super::entries(entries.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// Whatever is written must read back as the same tree.
    fn round_trips(text: &str) {
        let emitted = emit(text);
        let again = with_of(&emitted);
        let original = with_of(text);
        let strip = |entries: Vec<(String, Node)>| -> Vec<(String, serde_json::Value)> {
            entries.into_iter().map(|(k, v)| (k, v.to_json())).collect()
        };
        assert_eq!(strip(again), strip(original), "emitted:\n{emitted}");
    }

    #[test]
    fn quotes_only_what_would_change_meaning() {
        let out = emit(
            "repository: \"{{ inputs.repo }}\"\ntag: etcd\nflag: \"yes\"\ncount: \"10\"\nn: 10\nempty: \"\"\nhash: \"a #b\"\n",
        );
        assert_eq!(
            out,
            "repository: \"{{ inputs.repo }}\"\ntag: etcd\nflag: yes\ncount: \"10\"\nn: 10\nempty: \"\"\nhash: \"a #b\"\n"
        );
    }

    #[test]
    fn writes_multi_line_strings_as_block_scalars() {
        let out = emit("script: |\n  set -e\n  echo {{ item }}\n");
        assert_eq!(out, "script: |\n  set -e\n  echo {{ item }}\n");
        round_trips("a: \"x\\ny\"\nb: \"x\\n\\n\"\nc: \"  indented\\nnext\\n\"\n");
    }

    #[test]
    fn writes_nested_collections() {
        let text = "env: {A: \"1\", B: b}\nlist: [a, {k: v, l: [1, 2]}, [x]]\nnone: []\nflow: {}\n";
        let out = emit(text);
        assert_eq!(
            out,
            "env:\n  A: \"1\"\n  B: b\nlist:\n  - a\n  - k: v\n    l:\n      - 1\n      - 2\n  -\n    - x\nnone: []\nflow: {}\n"
        );
        round_trips(text);
    }

    #[test]
    fn inline_values_stay_on_one_line() {
        let node = yaml_tree::parse("[cp-0, \"a, b\", \"x\\ny\", 1.5, null]").unwrap();
        assert_eq!(inline(&node), "[cp-0, \"a, b\", \"x\\ny\", 1.5, null]");
    }
}
