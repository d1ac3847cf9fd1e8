//! The exact text `drbook validate` prints for malformed runbooks, as `just` keeps its
//! `tests/error_messages.rs`: every case is a whole runbook file and the whole stderr —
//! location, quoted line, caret, message, help and the closing summary — so a change to
//! any message or caret shows up here as a diff, and is reviewed as a change to what an
//! operator reads at 3 a.m.
//!
//! Each case runs in its own temporary directory as `runbook.yaml`, so paths are stable.
//! Cases are grouped like the checks: YAML syntax, version and kind, unknown keys,
//! missing keys, duplicates, `needs`, actions and parameters, durations and versions,
//! templates, checkpoints, milestones, secrets, inputs, step shape, several errors.
//! Each group's cases live in `error_messages/<group>.rs` (templates in two files); this
//! file holds the runner.

mod actions_and_parameters;
mod checkpoints;
mod duplicates;
mod durations_and_versions;
mod inputs;
mod milestones;
mod missing_keys;
mod needs;
mod outputs;
mod secrets;
mod several_errors;
mod step_shape;
mod template_expressions;
mod templates;
mod unknown_keys;
mod version_and_kind;
mod yaml_syntax;

use crate::support::Drbook;

/// A malformed runbook and everything `drbook validate` must print about it.
struct Case {
    name: &'static str,
    runbook: &'static str,
    /// The whole stderr; exit code 2 and no `ok:` on stdout are checked for every case.
    stderr: &'static str,
}

/// The raw strings open on their own line for readability; that first newline is not
/// part of the text.
fn text(literal: &str) -> &str {
    literal.strip_prefix('\n').unwrap_or(literal)
}

/// Expected and actual text, with the first line that differs marked.
fn diff(expected: &str, actual: &str) -> String {
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    format!(
        "first difference on line {}\n--- expected\n{expected}--- actual\n{actual}---",
        first + 1
    )
}

#[test]
fn malformed_runbooks_get_exact_messages() {
    let mut failures = Vec::new();
    let cases: Vec<&Case> = all_cases().collect();
    for case in &cases {
        let output = Drbook::new()
            .runbook(text(case.runbook))
            .args(["validate", "runbook.yaml"])
            .run();
        let expected = text(case.stderr);
        let mut problems = Vec::new();
        if output.code != 2 {
            problems.push(format!("exit code {} instead of 2", output.code));
        }
        if output.stdout.contains("ok:") {
            problems.push(format!("stdout reports it valid: {}", output.stdout));
        }
        if output.stderr != expected {
            problems.push(diff(expected, &output.stderr));
        }
        if !problems.is_empty() {
            failures.push(format!("=== {}\n{}", case.name, problems.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = all_cases().map(|c| c.name).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
}

/// A valid runbook, so the directory test has something to say `ok:` about.
const GOOD: &str = r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Is the old leader fenced?
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
      marks: recovered
"#;

#[test]
fn a_directory_with_a_bad_runbook_fails_but_reports_the_good_one() {
    let output = Drbook::new()
        .file("runbooks/good.yaml", text(GOOD))
        .file(
            "runbooks/bad.yaml",
            &text(GOOD).replace("action: shell", "action: shel"),
        )
        .args(["validate", "runbooks"])
        .run();
    assert_eq!(output.code, 2, "{output:?}");
    assert!(
        output
            .stdout
            .contains("ok: runbooks/good.yaml (etcd-restore 1.0.0"),
        "{output:?}"
    );
    assert!(
        !output.stdout.contains("ok: runbooks/bad.yaml"),
        "{output:?}"
    );
    assert!(output.stdout.contains("1 of 2 files valid"), "{output:?}");
    assert_eq!(
        output.stderr,
        text(
            r#"
error: unknown action `shel` in step `restore`
  --> runbooks/bad.yaml:12:15
   |
12 |       action: shel
   |               ^^^^
   |
   = help: did you mean `shell`?

error: runbooks/bad.yaml is not a valid runbook: 1 error
"#
        )
    );
}

#[test]
fn a_missing_file_exits_66_and_names_it() {
    let output = Drbook::new().args(["validate", "missing.yaml"]).run();
    assert_eq!(output.code, 66, "{output:?}");
    assert_eq!(output.stdout, "");
    assert!(
        output
            .stderr
            .starts_with("error: cannot read `missing.yaml`: "),
        "{output:?}"
    );
    assert!(
        output
            .stderr
            .ends_with("\n  = help: check the path and its permissions\n"),
        "{output:?}"
    );
}

/// Every group of cases, in the order the module doc lists them.
const GROUPS: &[&[Case]] = &[
    yaml_syntax::CASES,
    version_and_kind::CASES,
    unknown_keys::CASES,
    missing_keys::CASES,
    duplicates::CASES,
    needs::CASES,
    actions_and_parameters::CASES,
    durations_and_versions::CASES,
    templates::CASES,
    template_expressions::CASES,
    outputs::CASES,
    checkpoints::CASES,
    milestones::CASES,
    secrets::CASES,
    inputs::CASES,
    step_shape::CASES,
    several_errors::CASES,
];

/// The cases of every group, group by group.
fn all_cases() -> impl Iterator<Item = &'static Case> {
    GROUPS.iter().flat_map(|group| group.iter())
}
