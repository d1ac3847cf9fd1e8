//! The member table of `etcd.snapshot.restore` (`ParamKind::MemberTable`), checked where
//! it is written: each row's keys, a peer URL etcd would refuse or misread, and two
//! members sharing a name, peer URL or data directory. The rules themselves are the
//! action's (`actions::etcd::member_table`), so `validate` and the run agree; a value
//! written as a template is checked when the action runs.

use std::path::Path;

use super::Checker;
use crate::actions::etcd::member_table::{
    MEMBER_HELP, MEMBER_KEYS, PEER_URL_HELP, data_dir_problem, name_problem, normalize,
    peer_url_problem,
};
use crate::source::decode::closest;
use crate::source::diagnostic::Diagnostic;
use crate::source::yaml_tree::{Node, Value};
use crate::template;

impl Checker<'_> {
    /// Checks a member table written as a YAML list; reports every problem.
    pub(super) fn member_table(&mut self, param: &str, what: &str, value: &Node, rows: &[Node]) {
        let whose = format!("parameter `{param}` of {what}");
        if rows.is_empty() {
            self.error(
                Diagnostic::new(value.span, format!("{whose} lists no members"))
                    .with_help(MEMBER_HELP),
            );
            return;
        }
        // (key, normalized value, the member that had it first, its line).
        let mut seen: Vec<(&str, String, usize, usize)> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let number = i + 1;
            if row.as_str().is_some_and(template::is_template) {
                continue;
            }
            let Value::Map(entries) = &row.value else {
                self.error(
                    Diagnostic::new(
                        row.span,
                        format!(
                            "the members in {whose} must be mappings, found {}",
                            row.kind_name()
                        ),
                    )
                    .with_help(MEMBER_HELP),
                );
                continue;
            };
            for (key, entry) in entries {
                let name = key.scalar_text();
                if !MEMBER_KEYS.contains(&name.as_str()) {
                    let diagnostic = Diagnostic::new(
                        key.span,
                        format!("unknown key `{name}` in member {number} of {whose}"),
                    );
                    self.error(match closest(&name, &MEMBER_KEYS) {
                        Some(best) => diagnostic.with_help(format!("did you mean `{best}`?")),
                        None => diagnostic.with_help(MEMBER_HELP),
                    });
                    continue;
                }
                if entry.as_str().is_some_and(template::is_template) {
                    continue;
                }
                let Some(text) = entry.as_str() else {
                    self.error(
                        Diagnostic::new(
                            entry.span,
                            format!(
                                "`{name}` of member {number} of {whose} must be a string, found {}",
                                entry.kind_name()
                            ),
                        )
                        .with_help(self.quote_help(entry, Some(&name))),
                    );
                    continue;
                };
                let problem = match name.as_str() {
                    "name" => name_problem(text).map(|p| (p.to_string(), MEMBER_HELP)),
                    "peer_url" => peer_url_problem(text).map(|p| (p, PEER_URL_HELP)),
                    _ => data_dir_problem(text).map(|p| (p.to_string(), MEMBER_HELP)),
                };
                if let Some((problem, help)) = problem {
                    self.error(
                        Diagnostic::new(
                            entry.span,
                            format!("`{name}` of member {number} of {whose} {problem}"),
                        )
                        .with_help(help),
                    );
                    continue;
                }
                let comparable = match name.as_str() {
                    "data_dir" => normalize(Path::new(text)).display().to_string(),
                    "peer_url" => text.trim_end_matches('/').to_string(),
                    _ => text.to_string(),
                };
                let key_name = MEMBER_KEYS
                    .iter()
                    .find(|k| **k == name)
                    .expect("checked above");
                if let Some((_, _, first, line)) = seen
                    .iter()
                    .find(|(k, v, _, _)| k == key_name && *v == comparable)
                {
                    self.error(
                        Diagnostic::new(
                            entry.span,
                            format!(
                                "member {number} of {whose} has the same `{name}` as member {first}"
                            ),
                        )
                        .with_help(format!(
                            "member {first} is on line {line}; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)"
                        )),
                    );
                } else {
                    seen.push((key_name, comparable, number, entry.span.start.line));
                }
            }
            let missing: Vec<&str> = MEMBER_KEYS
                .iter()
                .filter(|k| !entries.iter().any(|(key, _)| key.as_str() == Some(**k)))
                .copied()
                .collect();
            if !missing.is_empty() {
                let span = entries.first().map_or(row.span, |(key, _)| key.span);
                self.error(
                    Diagnostic::new(
                        span,
                        format!(
                            "member {number} of {whose} is missing {}",
                            missing
                                .iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    )
                    .with_help(MEMBER_HELP),
                );
            }
        }
    }
}
