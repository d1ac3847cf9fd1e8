//! Every runbook shipped in `runbooks/` validates, points editors at the schema, and its
//! `plan` and printable `render` are pinned by snapshots, so a change to either shows up
//! in review.

use std::path::PathBuf;

use crate::support::{drbook, repo_root};

fn shipped() -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("runbooks/ exists")
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root().join("runbooks"), &mut files);
    assert!(!files.is_empty(), "runbooks/ holds shipped runbooks");
    files
}

/// `runbooks/kubeone/x.yaml` → `kubeone__x`, a stable snapshot name.
fn snapshot_name(path: &std::path::Path) -> String {
    let relative = path.strip_prefix(repo_root().join("runbooks")).unwrap();
    relative
        .with_extension("")
        .to_string_lossy()
        .replace('/', "__")
}

fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn shipped_runbooks_validate() {
    let out = drbook(&repo_root(), &["validate", "runbooks/"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("ok: ").count(), shipped().len());
}

#[test]
fn shipped_runbooks_reference_the_schema() {
    for path in shipped() {
        let text = std::fs::read_to_string(&path).unwrap();
        let depth = relative(&path).matches('/').count();
        let expected = format!(
            "# yaml-language-server: $schema={}docs/runbook.schema.json",
            "../".repeat(depth)
        );
        assert!(
            text.starts_with(&expected),
            "{} starts with `{expected}`",
            relative(&path)
        );
    }
}

#[test]
fn shipped_runbook_plans() {
    for path in shipped() {
        let out = drbook(&repo_root(), &["plan", &relative(&path)]);
        assert_eq!(out.code, 0, "{}: {}", relative(&path), out.stderr);
        insta::assert_snapshot!(format!("plan__{}", snapshot_name(&path)), out.stdout);
    }
}

#[test]
fn shipped_runbook_renders() {
    for path in shipped() {
        for format in ["md", "html"] {
            let out = drbook(
                &repo_root(),
                &["render", &relative(&path), "--format", format],
            );
            assert_eq!(out.code, 0, "{}: {}", relative(&path), out.stderr);
            insta::assert_snapshot!(
                format!("render_{format}__{}", snapshot_name(&path)),
                out.stdout
            );
        }
    }
}
