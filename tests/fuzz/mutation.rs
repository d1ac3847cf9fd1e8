//! Mutations of a valid runbook: the small edits (and slips) a person makes to a file.

use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::grammar::{KEYS, VALUES};

/// One change to a runbook, written as bytes so a change can break UTF-8.
#[derive(Debug, Clone)]
pub(super) enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    InsertChar(Index, char),
    InsertByte(Index, u8),
    Truncate(Index),
    Reindent(Index, String),
    ReplaceValue(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting_char = prop_oneof![
        3 => select(&[
            ' ', '\t', '\n', '\r', ':', '-', '#', '"', '\'', '{', '}', '[', ']', '|', '>', '&',
            '*', '!', '%', '@', '`', ',', '?', '\\', '\u{0}', '\u{85}', '\u{2028}', '\u{feff}',
            'é', '😀',
        ][..]),
        1 => any::<char>(),
    ];
    let indent = prop_oneof![
        (0usize..12).prop_map(|n| " ".repeat(n)),
        Just("\t".to_string()),
        Just(" \t".to_string()),
    ];
    let value = prop_oneof![
        select(VALUES).prop_map(str::to_string),
        select(KEYS).prop_map(str::to_string),
        "[ -~]{0,10}",
    ];
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<Index>(), interesting_char).prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::InsertByte(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), indent).prop_map(|(i, s)| Mutation::Reindent(i, s)),
        3 => (any::<Index>(), value).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
    ]
}

/// Mostly one mutation, so that a fair share of mutants still load and reach the planner;
/// sometimes several.
pub(super) fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop_oneof![
        3 => prop::collection::vec(mutation(), 1..=1),
        1 => prop::collection::vec(mutation(), 2..=4),
    ]
}

impl Mutation {
    pub(super) fn apply(&self, text: &mut Vec<u8>) {
        let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        match self {
            Mutation::DeleteLine(i) => {
                lines.remove(i.index(lines.len()));
            }
            Mutation::DuplicateLine(i) => {
                let i = i.index(lines.len());
                lines.insert(i, lines[i].clone());
            }
            Mutation::SwapLines(a, b) => {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
            }
            Mutation::InsertChar(i, c) => {
                // Insert at a char boundary when there is one, so the text stays UTF-8.
                let at = i.index(text.len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|&p| p == 0 || p == text.len() || (text[p] & 0xC0) != 0x80)
                    .unwrap_or(0);
                let mut buffer = [0; 4];
                text.splice(at..at, c.encode_utf8(&mut buffer).bytes());
                return;
            }
            Mutation::InsertByte(i, b) => {
                let at = i.index(text.len() + 1);
                text.insert(at, *b);
                return;
            }
            Mutation::Truncate(i) => {
                text.truncate(i.index(text.len() + 1));
                return;
            }
            Mutation::Reindent(i, indent) => {
                let at = i.index(lines.len());
                let line = &mut lines[at];
                let kept = line.iter().position(|&b| b != b' ').unwrap_or(line.len());
                line.splice(..kept, indent.bytes());
            }
            Mutation::ReplaceValue(i, value) => {
                let at = i.index(lines.len());
                let line = &mut lines[at];
                let after_colon = line.windows(2).position(|w| w == b": ").map(|p| p + 2);
                let after_dash = line
                    .iter()
                    .position(|&b| b != b' ')
                    .filter(|&p| line[p..].starts_with(b"- "))
                    .map(|p| p + 2);
                let from = after_colon.or(after_dash).unwrap_or(line.len());
                line.splice(from.., value.bytes());
            }
        }
        *text = lines.join(&b'\n');
    }
}
