//! The `target.*` values a runbook reads, each with where it is written.
//!
//! A runbook is written once and bound to a target at run time, so only the targets
//! file knows whether `target.etcd.pidfile` exists. The list is gathered while the
//! templates are checked (`check::reads`) and used twice: `validate` holds it against a
//! targets file, and a run holds it against the bound target before its first step, so
//! a misspelt key refuses the run instead of rendering an empty command half-way.

use serde_json::Value;

use crate::source::span::Span;

/// One read of the target by a template.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRead {
    /// The path below `target`: `["etcd", "pidfile"]` for `target.etcd.pidfile`.
    pub path: Vec<String>,
    /// How many leading segments of `path` must exist. Fewer than all when the read is
    /// guarded (`| default(...)`, `is defined`): then the last ones may be missing, but
    /// not what they are read from (a strict template fails on `missing.key`).
    pub required: usize,
    /// Where the read is written in the runbook.
    pub span: Span,
    /// The template it is in: "`with.run` of step `stop-etcd`".
    pub site: String,
    /// True when it is in `drill.inject`, which runs only in a drill.
    pub inject: bool,
}

impl TargetRead {
    /// The read as written: `target.etcd.pidfile`.
    pub fn written(&self) -> String {
        std::iter::once("target")
            .chain(self.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// True when the template renders whatever the target holds.
    pub fn optional(&self) -> bool {
        self.required < self.path.len()
    }

    /// What `facts` (a target's entry) lacks of this read, in words: "no key `pidfile`
    /// under `etcd`"; `None` when every required segment is there.
    pub fn missing_in(&self, facts: &Value) -> Option<String> {
        let mut value = facts;
        for (depth, segment) in self.path[..self.required].iter().enumerate() {
            let under = if depth == 0 {
                String::new()
            } else {
                format!(" under `{}`", self.path[..depth].join("."))
            };
            match value {
                Value::Object(map) => match map.get(segment) {
                    Some(next) => value = next,
                    None => return Some(format!("no key `{segment}`{under}")),
                },
                _ => {
                    return Some(format!(
                        "`{}` is not a mapping, so it has no key `{segment}`",
                        self.path[..depth].join(".")
                    ));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(path: &[&str], required: usize) -> TargetRead {
        TargetRead {
            path: path.iter().map(|s| s.to_string()).collect(),
            required,
            span: Span::default(),
            site: "`with.run` of step `s`".into(),
            inject: false,
        }
    }

    #[test]
    fn a_runbook_lists_its_reads_with_their_place_and_section() {
        let text = "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {name: r, version: 1.0.0}\nspec:\n  steps:\n    - id: a\n      action: shell\n      with: {run: \"echo {{ target.x }} {{ target.o.p | default('') }}\"}\n  drill:\n    inject:\n      - id: i\n        action: shell\n        with: {run: \"echo {{ target.y }}\"}\n";
        let valid = crate::runbook::load(text).unwrap();
        let reads: Vec<(String, usize, usize, usize, bool)> = valid
            .target_reads
            .iter()
            .map(|r| {
                let start = r.span.start;
                (r.written(), r.required, start.line, start.col, r.inject)
            })
            .collect();
        assert_eq!(
            reads,
            [
                ("target.x".to_string(), 1, 8, 28, false),
                ("target.o.p".to_string(), 1, 8, 43, false),
                ("target.y".to_string(), 1, 13, 30, true),
            ]
        );
        assert_eq!(valid.target_reads[0].site, "`with.run` of step `a`");
    }

    #[test]
    fn a_required_read_needs_every_segment() {
        let facts = json!({"etcd": {"pid_file": "/run/etcd.pid"}, "kubeconfig": "k"});
        assert_eq!(read(&["kubeconfig"], 1).missing_in(&facts), None);
        assert_eq!(
            read(&["etcd", "pidfile"], 2).missing_in(&facts).as_deref(),
            Some("no key `pidfile` under `etcd`")
        );
        assert_eq!(
            read(&["kubeconfig", "path"], 2)
                .missing_in(&facts)
                .as_deref(),
            Some("`kubeconfig` is not a mapping, so it has no key `path`")
        );
    }

    #[test]
    fn a_guarded_read_needs_only_what_it_is_read_from() {
        let facts = json!({"offsite": {}});
        let guarded = read(&["offsite", "bucket_prefix"], 1);
        assert!(guarded.optional());
        assert_eq!(guarded.missing_in(&facts), None);
        assert_eq!(
            guarded.missing_in(&json!({})).as_deref(),
            Some("no key `offsite`")
        );
        assert_eq!(guarded.written(), "target.offsite.bucket_prefix");
    }
}
