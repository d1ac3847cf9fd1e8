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

use crate::support::{drbook, write};

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
    for case in CASES {
        let dir = tempfile::tempdir().expect("a temporary directory");
        write(dir.path(), "runbook.yaml", text(case.runbook));
        let output = drbook(dir.path(), &["validate", "runbook.yaml"]);
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
        CASES.len(),
        failures.join("\n\n")
    );
}

#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len());
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
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir(dir.path().join("runbooks")).expect("a runbooks directory");
    write(dir.path(), "runbooks/good.yaml", text(GOOD));
    write(
        dir.path(),
        "runbooks/bad.yaml",
        &text(GOOD).replace("action: shell", "action: shel"),
    );
    let output = drbook(dir.path(), &["validate", "runbooks"]);
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
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = drbook(dir.path(), &["validate", "missing.yaml"]);
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

const CASES: &[Case] = &[
    Case {
        name: "yaml_bad_indentation",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
   version: 1.0.0
"#,
        stderr: r#"
error: invalid YAML: mapping values are not allowed in this context
 --> runbook.yaml:5:11
  |
5 |    version: 1.0.0
  |           ^
  |
  = help: is this line indented differently from the keys next to it? A value that contains `: ` must be quoted

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_unclosed_quote",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: "Is the old leader fenced?
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: invalid YAML: invalid indentation in quoted scalar
  --> runbook.yaml:10:17
   |
10 |         prompt: "Is the old leader fenced?
   |                 ^
   |
   = help: is a closing quote missing? A quoted value that goes on to the next line must be indented more than its key

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_unclosed_quote_at_end",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: "Is the old leader fenced?
"#,
        stderr: r#"
error: invalid YAML: while scanning a quoted scalar, found unexpected end of stream
  --> runbook.yaml:10:17
   |
10 |         prompt: "Is the old leader fenced?
   |                 ^
   |
   = help: is a closing quote missing? A quoted value that goes on to the next line must be indented more than its key

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_tab_indentation",
        runbook: "\
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
\tprompt: Ready?
",
        stderr: "\
error: invalid YAML: tabs disallowed within this context (block indentation)
  --> runbook.yaml:10:2
   |
10 |     prompt: Ready?
   |     ^
   |
   = help: indent with spaces; YAML does not allow tabs in indentation

error: runbook.yaml is not a valid runbook: 1 error
",
    },
    Case {
        name: "yaml_unclosed_flow_list",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      needs: [confirm
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: invalid YAML: illegal placement of ':' indicator
  --> runbook.yaml:10:13
   |
10 |       action: shell
   |             ^
   |
   = help: is a `[` or `{` missing its closing `]` or `}`? Otherwise quote the value

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_second_document",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
---
apiVersion: drbook.io/v1
"#,
        stderr: r#"
error: a runbook file holds one YAML document, found a second one
  --> runbook.yaml:11:1
   |
11 | ---
   | ^^^
   |
   = help: put each runbook in a file of its own

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_alias",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
    - id: again
      checkpoint: *ask
"#,
        stderr: r#"
error: invalid YAML: while parsing node, found unknown anchor
  --> runbook.yaml:12:19
   |
12 |       checkpoint: *ask
   |                   ^
   |
   = help: YAML aliases (`*name`) are not supported in runbooks: write the value out where it is used

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_anchor",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint: &ask
        prompt: Ready?
"#,
        stderr: r#"
error: YAML anchors (`&name`) are not supported in runbooks
 --> runbook.yaml:9:19
  |
9 |       checkpoint: &ask
  |                   ^^^^
  |
  = help: write the value out where it is used, so the runbook reads top to bottom

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_tag",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: !secret Ready?
"#,
        stderr: r#"
error: YAML tag `!secret` is not supported in runbooks
  --> runbook.yaml:10:17
   |
10 |         prompt: !secret Ready?
   |                 ^^^^^^^^^^^^^^
   |
   = help: remove the tag; quote the value if it must be read as a string

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "empty_file",
        runbook: r#"
"#,
        stderr: r#"
error: the file is empty
 --> runbook.yaml:1:1
  |
1 |
  | ^
  |
  = help: a runbook starts with `apiVersion: drbook.io/v1` and `kind: Runbook`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "only_comments",
        runbook: r#"
# etcd restore runbook

"#,
        stderr: r#"
error: the file is empty
 --> runbook.yaml:1:1
  |
1 | # etcd restore runbook
  | ^
  |
  = help: a runbook starts with `apiVersion: drbook.io/v1` and `kind: Runbook`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "not_a_mapping",
        runbook: r#"
- apiVersion: drbook.io/v1
"#,
        stderr: r#"
error: the runbook must be a mapping, found a list
 --> runbook.yaml:1:1
  |
1 | - apiVersion: drbook.io/v1
  | ^^^^^^^^^^^^^^^^^^^^^^^^^^
  |
  = help: expected keys: apiVersion, kind, metadata, spec

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_unsupported",
        runbook: r#"
apiVersion: drbook.io/v2
kind: Runbook
metadata:
  name: etcd-restore
"#,
        stderr: r#"
error: unsupported apiVersion `drbook.io/v2`
 --> runbook.yaml:1:13
  |
1 | apiVersion: drbook.io/v2
  |             ^^^^^^^^^^^^
  |
  = help: this drbook supports: drbook.io/v1; a newer runbook needs a newer drbook

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_unsupported_other_keys",
        runbook: r#"
apiVersion: drbook.io/v2
kind: Runbook
metadata:
  name: etcd-restore
  version: 2.0.0
spec:
  steps: []
runbook:
  steps: []
"#,
        stderr: r#"
error: unsupported apiVersion `drbook.io/v2`
 --> runbook.yaml:1:13
  |
1 | apiVersion: drbook.io/v2
  |             ^^^^^^^^^^^^
  |
  = help: this drbook supports: drbook.io/v1; a newer runbook needs a newer drbook

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_missing",
        runbook: r#"
kind: Runbook
metadata:
  name: etcd-restore
"#,
        stderr: r#"
error: the runbook has no `apiVersion`
 --> runbook.yaml:1:1
  |
1 | kind: Runbook
  | ^
  |
  = help: add `apiVersion: drbook.io/v1` (supported: drbook.io/v1)

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_misspelt",
        runbook: r#"
apiVerison: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `apiVerison` in the runbook
 --> runbook.yaml:1:1
  |
1 | apiVerison: drbook.io/v1
  | ^^^^^^^^^^
  |
  = help: did you mean `apiVersion`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "kind_wrong",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Deployment
"#,
        stderr: r#"
error: unsupported kind `Deployment`
 --> runbook.yaml:2:7
  |
2 | kind: Deployment
  |       ^^^^^^^^^^
  |
  = help: drbook reads `kind: Runbook` documents

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "kind_wrong_other_keys",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Deployment
metadata:
  name: etcd
template:
  spec: {}
"#,
        stderr: r#"
error: unsupported kind `Deployment`
 --> runbook.yaml:2:7
  |
2 | kind: Deployment
  |       ^^^^^^^^^^
  |
  = help: drbook reads `kind: Runbook` documents

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "kind_missing",
        runbook: r#"
apiVersion: drbook.io/v1
metadata:
  name: etcd-restore
"#,
        stderr: r#"
error: the runbook is missing the required key `kind`
 --> runbook.yaml:1:1
  |
1 | apiVersion: drbook.io/v1
  | ^
  |
  = help: add `kind: Runbook`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_top_level",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metdata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `metdata` in the runbook
 --> runbook.yaml:3:1
  |
3 | metdata:
  | ^^^^^^^
  |
  = help: did you mean `metadata`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_metadata",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
  owner: sre-team
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `owner` in `metadata`
 --> runbook.yaml:6:3
  |
6 |   owner: sre-team
  |   ^^^^^
  |
  = help: did you mean `owners`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_spec",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  step:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `step` in `spec`
 --> runbook.yaml:7:3
  |
7 |   step:
  |   ^^^^
  |
  = help: did you mean `steps`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      acton: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: unknown key `acton` in step `restore`
 --> runbook.yaml:9:7
  |
9 |       acton: shell
  |       ^^^^^
  |
  = help: did you mean `action`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_step_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      owner: sre-team
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `owner` in step `confirm`
 --> runbook.yaml:9:7
  |
9 |       owner: sre-team
  |       ^^^^^
  |
  = help: allowed keys: id, title, description, checkpoint, action, with, needs, when, foreach, concurrency, timeout, retry, on_failure, marks, idempotent

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        promt: Ready?
"#,
        stderr: r#"
error: unknown key `promt` in the checkpoint of step `confirm`
  --> runbook.yaml:10:9
   |
10 |         promt: Ready?
   |         ^^^^^
   |
   = help: did you mean `prompt`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_keys_nested",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  objectives:
    rto: 1h
    rpo: 15m
    sla: 99.9
  inputs:
    - name: cluster
      typ: string
  secrets:
    - name: token
      evn: API_TOKEN
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
      retry:
        attempts: 3
        backof: 10s
  drill:
    injects:
      - id: break-etcd
        action: shell
        with:
          run: systemctl stop etcd
"#,
        stderr: r#"
error: unknown key `sla` in `spec.objectives`
  --> runbook.yaml:10:5
   |
10 |     sla: 99.9
   |     ^^^
   |
   = help: allowed keys: rto, rpo

error: unknown key `typ` in input `cluster`
  --> runbook.yaml:13:7
   |
13 |       typ: string
   |       ^^^
   |
   = help: did you mean `type`?

error: unknown key `evn` in secret `token`
  --> runbook.yaml:16:7
   |
16 |       evn: API_TOKEN
   |       ^^^
   |
   = help: did you mean `env`?

error: unknown key `backof` in `retry` of step `restore`
  --> runbook.yaml:24:9
   |
24 |         backof: 10s
   |         ^^^^^^
   |
   = help: did you mean `backoff`?

error: unknown key `injects` in `spec.drill`
  --> runbook.yaml:26:5
   |
26 |     injects:
   |     ^^^^^^^
   |
   = help: did you mean `inject`?

error: runbook.yaml is not a valid runbook: 5 errors
"#,
    },
    Case {
        name: "missing_metadata_name",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: `metadata` is missing the required key `name`
 --> runbook.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^
  |
  = help: add `name:`, the name runs are recorded under, like `name: etcd-restore`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_metadata_version",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: `metadata` is missing the required key `version`
 --> runbook.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^
  |
  = help: add `version: 1.0.0` and raise it whenever the runbook changes

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_spec_steps",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  description: Restore etcd from the last snapshot.
"#,
        stderr: r#"
error: `spec` is missing the required key `steps`
 --> runbook.yaml:6:1
  |
6 | spec:
  | ^^^^
  |
  = help: add `steps:` with at least one step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "empty_steps",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps: []
"#,
        stderr: r#"
error: `spec.steps` is empty
 --> runbook.yaml:7:3
  |
7 |   steps: []
  |   ^^^^^
  |
  = help: a runbook needs at least one step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_step_id",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - title: Confirm the leader is fenced
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: a step is missing the required key `id`
 --> runbook.yaml:8:7
  |
8 |     - title: Confirm the leader is fenced
  |       ^
  |
  = help: add `id:`, a short name like `restore-snapshot`; `needs` and templates use it

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_checkpoint_prompt",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        type: confirm
"#,
        stderr: r#"
error: the checkpoint of step `confirm` is missing the required key `prompt`
 --> runbook.yaml:9:7
  |
9 |       checkpoint:
  |       ^^^^^^^^^^
  |
  = help: add `prompt:`, the question the operator answers at this step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "empty_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
"#,
        stderr: r#"
error: the checkpoint of step `confirm` must be a mapping, found nothing (null)
 --> runbook.yaml:9:17
  |
9 |       checkpoint:
  |                 ^
  |
  = help: expected keys: prompt, type, choices, default, timeout

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_retry_attempts",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
      retry:
        backoff: 10s
"#,
        stderr: r#"
error: `retry` of step `restore` is missing the required key `attempts`
  --> runbook.yaml:12:7
   |
12 |       retry:
   |       ^^^^^
   |
   = help: add `attempts:`, like `attempts: 3`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_drill_inject",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
  drill:
    description: Stop etcd on one member.
"#,
        stderr: r#"
error: `spec.drill` is missing the required key `inject`
  --> runbook.yaml:11:3
   |
11 |   drill:
   |   ^^^^^
   |
   = help: add `inject:` with the steps that cause the failure the drill recovers from

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_step_id",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
    - id: restore
      action: shell
      with:
        run: systemctl start etcd
"#,
        stderr: r#"
error: duplicate step id `restore`
  --> runbook.yaml:12:11
   |
 8 |     - id: restore
   |           ------- first written here
...
12 |     - id: restore
   |           ^^^^^^^
   |
   = help: every step id must be unique

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_key_in_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      timeout: 5m
      with:
        run: etcdctl snapshot restore
      timeout: 10m
"#,
        stderr: r#"
error: key `timeout` appears twice in step `restore`
  --> runbook.yaml:13:7
   |
10 |       timeout: 5m
   |       ------- first written here
...
13 |       timeout: 10m
   |       ^^^^^^^
   |
   = help: keep one of them; YAML would silently use the last

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_key_in_with",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
        run: systemctl start etcd
"#,
        stderr: r#"
error: key `run` appears twice in `with` of step `restore`
  --> runbook.yaml:12:9
   |
11 |         run: etcdctl snapshot restore
   |         --- first written here
12 |         run: systemctl start etcd
   |         ^^^
   |
   = help: keep one of them; YAML would silently use the last

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_input",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: duplicate input `cluster`
 --> runbook.yaml:9:13
  |
8 |     - name: cluster
  |             ------- first written here
9 |     - name: cluster
  |             ^^^^^^^
  |
  = help: every input must be unique

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_unknown_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      needs: [snapshto]
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` needs unknown step `snapshto`
  --> runbook.yaml:13:15
   |
13 |       needs: [snapshto]
   |               ^^^^^^^^
   |
   = help: did you mean `snapshot`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_unknown_step_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      needs: [backup-taken]
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` needs unknown step `backup-taken`
  --> runbook.yaml:13:15
   |
13 |       needs: [backup-taken]
   |               ^^^^^^^^^^^^
   |
   = help: `needs` lists ids of other steps in the same section

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_a_string",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      needs: snapshot
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `needs` of step `restore` must be a list of step ids, found a string
  --> runbook.yaml:13:14
   |
13 |       needs: snapshot
   |              ^^^^^^^^
   |
   = help: write `needs: [snapshot]`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_cycle_of_two",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: stop
      needs: [start]
      action: shell
      with:
        run: systemctl stop etcd
    - id: start
      needs: [stop]
      action: shell
      with:
        run: systemctl start etcd
"#,
        stderr: r#"
error: `needs` forms a cycle: `stop` needs `start` needs `stop`
 --> runbook.yaml:9:15
  |
9 |       needs: [start]
  |               ^^^^^
  |
  = help: a step can only need steps that can finish without it; break the cycle

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_cycle_of_three",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: fence
      needs: [verify]
      action: shell
      with:
        run: systemctl stop etcd
    - id: restore
      needs: [fence]
      action: shell
      with:
        run: etcdctl snapshot restore
    - id: verify
      needs: [restore]
      action: shell
      with:
        run: etcdctl endpoint health
"#,
        stderr: r#"
error: `needs` forms a cycle: `fence` needs `verify` needs `restore` needs `fence`
 --> runbook.yaml:9:15
  |
9 |       needs: [verify]
  |               ^^^^^^
  |
  = help: a step can only need steps that can finish without it; break the cycle

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_itself",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      needs: [restore]
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` needs itself
 --> runbook.yaml:9:15
  |
9 |       needs: [restore]
  |               ^^^^^^^
  |
  = help: remove it from its own `needs`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "recovery_needs_inject_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      needs: [break-etcd]
      action: shell
      with:
        run: etcdctl snapshot restore
  drill:
    inject:
      - id: break-etcd
        action: shell
        with:
          run: systemctl stop etcd
"#,
        stderr: r#"
error: step `restore` needs `break-etcd`, which is not a step of `spec.steps`
 --> runbook.yaml:9:15
  |
9 |       needs: [break-etcd]
  |               ^^^^^^^^^^
  |
  = help: it is a drill inject step, which never runs in incident mode; recovery steps cannot depend on it

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "inject_needs_recovery_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
  drill:
    inject:
      - id: break-etcd
        needs: [restore]
        action: shell
        with:
          run: systemctl stop etcd
"#,
        stderr: r#"
error: step `break-etcd` needs `restore`, which is not a step of `drill.inject`
  --> runbook.yaml:15:17
   |
15 |         needs: [restore]
   |                 ^^^^^^^
   |
   = help: drill inject steps run before recovery starts and cannot wait for its steps

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "action_unknown",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shel
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: unknown action `shel` in step `restore`
 --> runbook.yaml:9:15
  |
9 |       action: shel
  |               ^^^^
  |
  = help: did you mean `shell`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "action_unknown_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: etcd.restore
      with:
        snapshot: /backup/snap.db
"#,
        stderr: r#"
error: unknown action `etcd.restore` in step `restore`
 --> runbook.yaml:9:15
  |
9 |       action: etcd.restore
  |               ^^^^^^^^^^^^
  |
  = help: did you mean `etcd.snapshot.restore`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_unknown",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
        cwd: /var/lib/etcd
"#,
        stderr: r#"
error: action `shell` in step `restore` has no parameter `cwd`
  --> runbook.yaml:12:9
   |
12 |         cwd: /var/lib/etcd
   |         ^^^
   |
   = help: `shell` takes: run, env, workdir

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_unknown_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
        workdri: /var/lib/etcd
"#,
        stderr: r#"
error: action `shell` in step `restore` has no parameter `workdri`
  --> runbook.yaml:12:9
   |
12 |         workdri: /var/lib/etcd
   |         ^^^^^^^
   |
   = help: did you mean `workdir`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_missing",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: etcdctl endpoint health
"#,
        stderr: r#"
error: action `wait` in step `healthy` is missing the required parameter `timeout`
 --> runbook.yaml:9:15
  |
9 |       action: wait
  |               ^^^^
  |
  = help: add `timeout: ...` under `with:`. How long to keep polling before the step fails; required, so a wait can never hang a run.

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_missing_no_with",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
"#,
        stderr: r#"
error: action `shell` in step `restore` is missing the required parameter `run`
 --> runbook.yaml:9:15
  |
9 |       action: shell
  |               ^^^^^
  |
  = help: add `run: ...` under `with:`. The command line, run with `/bin/sh -c`.

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_shell_run_list",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run:
          - etcdctl snapshot restore
          - systemctl start etcd
"#,
        stderr: r#"
error: parameter `run` of action `shell` in step `restore` must be a string, found a list
  --> runbook.yaml:12:11
   |
12 |           - etcdctl snapshot restore
   |           ^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: write one string; several commands can be joined with `&&` or written as a `|` block

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_timeout_words",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: etcdctl endpoint health
        timeout: ten minutes
"#,
        stderr: r#"
error: parameter `timeout` of step `healthy` is not a duration: `ten` is not a number
  --> runbook.yaml:12:18
   |
12 |         timeout: ten minutes
   |                  ^^^^^^^^^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_timeout_bare_number",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: etcdctl endpoint health
        timeout: 600
"#,
        stderr: r#"
error: parameter `timeout` of step `healthy` needs a unit: `600` could be seconds or minutes
  --> runbook.yaml:12:18
   |
12 |         timeout: 600
   |                  ^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_timeout_months",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: kubectl get --raw=/readyz
        timeout: 2 months
"#,
        stderr: r#"
error: parameter `timeout` of step `healthy` uses `months`: runbooks do not take months or years
  --> runbook.yaml:12:18
   |
12 |         timeout: 2 months
   |                  ^^^^^^^^
   |
   = help: write it in days or weeks, like `61d`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_interval_zero",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: kubectl get --raw=/readyz
        timeout: 10m
        interval: 0s
"#,
        stderr: r#"
error: parameter `interval` of step `healthy` is zero
  --> runbook.yaml:13:19
   |
13 |         interval: 0s
   |                   ^^
   |
   = help: write a duration longer than zero, like `30s`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_env_list",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
        env:
          - ETCDCTL_API=3
"#,
        stderr: r#"
error: parameter `env` of action `shell` in step `restore` must be a mapping of names to strings, found a list
  --> runbook.yaml:13:11
   |
13 |           - ETCDCTL_API=3
   |           ^^^^^^^^^^^^^^^
   |
   = help: write one `NAME: value` per line instead of list items

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_env_value_not_string",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
        env:
          ETCDCTL_API: 3
"#,
        stderr: r#"
error: `ETCDCTL_API` in parameter `env` of step `restore` must be a string, found an integer
  --> runbook.yaml:13:24
   |
13 |           ETCDCTL_API: 3
   |                        ^
   |
   = help: quote it to pass it as text: `ETCDCTL_API: "3"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_words",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      timeout: ten minutes
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` is not a duration: `ten` is not a number
  --> runbook.yaml:10:16
   |
10 |       timeout: ten minutes
   |                ^^^^^^^^^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_bare_number",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  objectives:
    rto: 60
    rpo: 15m
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `objectives.rto` needs a unit: `60` could be seconds or minutes
 --> runbook.yaml:8:10
  |
8 |     rto: 60
  |          ^^
  |
  = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_unknown_unit",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      timeout: 10 minuets
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` is not a duration: unknown unit `minuets`
  --> runbook.yaml:10:16
   |
10 |       timeout: 10 minuets
   |                ^^^^^^^^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_capital_m_is_months",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      timeout: 10M
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` uses `M`, which means months
  --> runbook.yaml:10:16
   |
10 |       timeout: 10M
   |                ^^^
   |
   = help: did you mean `10m` (minutes)?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_years",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: approve
      checkpoint:
        prompt: Restore?
        timeout: 1 year
"#,
        stderr: r#"
error: checkpoint `timeout` of step `approve` uses `year`: runbooks do not take months or years
  --> runbook.yaml:11:18
   |
11 |         timeout: 1 year
   |                  ^^^^^^
   |
   = help: write it in days or weeks, like `365d`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_zero_step_timeout",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      timeout: 0s
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` is zero
  --> runbook.yaml:10:16
   |
10 |       timeout: 0s
   |                ^^
   |
   = help: write a duration longer than zero, like `30s`, or leave the key out for no limit

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "version_not_semver",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: v1.2
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `metadata.version` `v1.2` is not a semantic version: unexpected character 'v' while parsing major version number
 --> runbook.yaml:5:12
  |
5 |   version: v1.2
  |            ^^^^
  |
  = help: write MAJOR.MINOR.PATCH, like `1.0.0`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "version_a_number",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `metadata.version` must be a semantic version like `1.0.0`, found a number
 --> runbook.yaml:5:12
  |
5 |   version: 1.0
  |            ^^^
  |
  = help: write MAJOR.MINOR.PATCH, like `1.0.0`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unclosed",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --cluster {{ inputs.cluster snapshot restore
"#,
        stderr: r#"
error: template error in `with.run` of step `restore`: syntax error: unexpected identifier, expected end of variable block
  --> runbook.yaml:13:50
   |
13 |         run: etcdctl --cluster {{ inputs.cluster snapshot restore
   |                                                  ^^^^^^^^
   |
   = help: is a closing `}}` missing?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unclosed_at_end",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: "etcdctl snapshot restore --cluster {{ inputs.cluster"
"#,
        stderr: r#"
error: template error in `with.run` of step `restore`: syntax error: unexpected end of input, expected end of variable block
  --> runbook.yaml:13:60
   |
13 |         run: "etcdctl snapshot restore --cluster {{ inputs.cluster"
   |                                                            ^^^^^^^
   |
   = help: is a closing `}}` missing?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_bad_filter",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --cluster {{ inputs.cluster | }} snapshot restore
"#,
        stderr: r#"
error: template error in `with.run` of step `restore`: syntax error: unexpected end of variable block, expected identifier
  --> runbook.yaml:13:52
   |
13 |         run: etcdctl --cluster {{ inputs.cluster | }} snapshot restore
   |                                                    ^^
   |
   = help: a `|` is followed by a filter name, like `{{ inputs.name | upper }}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_input",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --cluster {{ inputs.clustr }} snapshot restore
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown input `clustr`
  --> runbook.yaml:13:35
   |
13 |         run: etcdctl --cluster {{ inputs.clustr }} snapshot restore
   |                                   ^^^^^^^^^^^^^
   |
   = help: did you mean `cluster`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_secret",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: etcd_passwd
      env: ETCD_PASSWORD
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --password {{ secrets.etcd_password }} snapshot restore
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown secret `etcd_password`
  --> runbook.yaml:14:36
   |
14 |         run: etcdctl --password {{ secrets.etcd_password }} snapshot restore
   |                                    ^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `etcd_passwd`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshto.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown step `snapshto`
  --> runbook.yaml:15:42
   |
15 |         run: etcdctl snapshot restore {{ steps.snapshto.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `snapshot`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_variable",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore --cluster {{ input.cluster }}
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown variable `input`
  --> runbook.yaml:13:52
   |
13 |         run: etcdctl snapshot restore --cluster {{ input.cluster }}
   |                                                    ^^^^^^^^^^^^^
   |
   = help: did you mean `inputs`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_step_not_before",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: fence
      needs: []
      action: shell
      with:
        run: systemctl stop etcd
    - id: restore
      needs: [fence]
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads step `snapshot`, which is not guaranteed to run before it
  --> runbook.yaml:21:42
   |
21 |         run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: add `snapshot` to the `needs` of step `restore`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_later_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
"#,
        stderr: r#"
error: `with.run` of step `restore` reads step `snapshot`, which runs after it
  --> runbook.yaml:11:42
   |
11 |         run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: move step `snapshot` above step `restore`, or read the value in a later step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_own_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.restore.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads the result of its own step `restore`
  --> runbook.yaml:11:42
   |
11 |         run: etcdctl snapshot restore {{ steps.restore.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: a step's outputs exist only after it finished; read them in a later step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_item_outside_foreach",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --endpoints {{ item }} snapshot restore
"#,
        stderr: r#"
error: `with.run` of step `restore` uses `item`, which only exists in a `foreach` step
  --> runbook.yaml:11:37
   |
11 |         run: etcdctl --endpoints {{ item }} snapshot restore
   |                                     ^^^^
   |
   = help: add `foreach:` to the step, or use a value from `inputs`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_answer_of_action",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshot.answer }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads `steps.snapshot.answer`, but `snapshot` is an action
  --> runbook.yaml:15:42
   |
15 |         run: etcdctl snapshot restore {{ steps.snapshot.answer }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^
   |
   = help: an action's results are `steps.snapshot.outputs.<name>`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_outputs_of_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: pick
      checkpoint:
        prompt: Which snapshot?
        type: text
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.pick.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads `steps.pick.outputs`, but `pick` is a checkpoint
  --> runbook.yaml:15:42
   |
15 |         run: etcdctl snapshot restore {{ steps.pick.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: a checkpoint's result is `steps.pick.answer`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_subscript_later_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps['snapshot'].outputs.PATH }}
    - id: snapshot
      action: shell
      with:
        run: echo PATH=/var/backups/etcd.db
"#,
        stderr: r#"
error: `with.run` of step `restore` reads step `snapshot`, which runs after it
  --> runbook.yaml:11:42
   |
11 |         run: etcdctl snapshot restore {{ steps['snapshot'].outputs.PATH }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: move step `snapshot` above step `restore`, or read the value in a later step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_subscript_unknown_step",
        runbook: r#"
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
        run: "echo {{ steps['confrim'].answer }}"
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown step `confrim`
  --> runbook.yaml:14:23
   |
14 |         run: "echo {{ steps['confrim'].answer }}"
   |                       ^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `confirm`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_subscript_answer_of_action",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: find-member
      action: shell
      with:
        run: echo MEMBER_ID=8e9e05c52164694d
    - id: remove
      action: shell
      with:
        run: etcdctl member remove {{ steps['find-member'].answer }}
"#,
        stderr: r#"
error: `with.run` of step `remove` reads `steps['find-member'].answer`, but `find-member` is an action
  --> runbook.yaml:15:39
   |
15 |         run: etcdctl member remove {{ steps['find-member'].answer }}
   |                                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: an action's results are `steps['find-member'].outputs.<name>`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_hyphenated_step_id",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: find-member
      action: shell
      with:
        run: echo MEMBER_ID=8e9e05c52164694d
    - id: remove
      action: shell
      with:
        run: etcdctl member remove {{ steps.find-member.outputs.MEMBER_ID }}
"#,
        stderr: r#"
error: in `with.run` of step `remove`, `steps.find-member` reads as `steps.find` minus `member`
  --> runbook.yaml:15:39
   |
15 |         run: etcdctl member remove {{ steps.find-member.outputs.MEMBER_ID }}
   |                                       ^^^^^^^^^^^^^^^^^
   |
   = help: write `steps['find-member']` or rename the step with `_`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_hyphenated_unknown_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: find-member
      action: shell
      with:
        run: echo MEMBER_ID=8e9e05c52164694d
    - id: remove
      action: shell
      with:
        run: etcdctl member remove {{ steps.find-membr.outputs.MEMBER_ID }}
"#,
        stderr: r#"
error: in `with.run` of step `remove`, `steps.find-membr` reads as `steps.find` minus `membr`
  --> runbook.yaml:15:39
   |
15 |         run: etcdctl member remove {{ steps.find-membr.outputs.MEMBER_ID }}
   |                                       ^^^^^^^^^^^^^^^^
   |
   = help: there is no step `find-membr` either; did you mean `steps['find-member']`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_hyphenated_input",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: healthy_node
  steps:
    - id: members
      action: shell
      with:
        run: kubectl -n kube-system exec etcd-{{ inputs.healthy-node }} -- etcdctl member list
"#,
        stderr: r#"
error: in `with.run` of step `members`, `inputs.healthy-node` reads as `inputs.healthy` minus `node`
  --> runbook.yaml:13:50
   |
13 |         run: kubectl -n kube-system exec etcd-{{ inputs.healthy-node }} -- etcdctl member list
   |                                                  ^^^^^^^^^^^^^^^^^^^
   |
   = help: input names cannot contain `-`; did you mean `inputs.healthy_node`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_filter",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: node
  steps:
    - id: delete
      action: shell
      with:
        run: kubectl delete node {{ inputs.node | uppercase }}
"#,
        stderr: r#"
error: `with.run` of step `delete` uses unknown filter `uppercase`
  --> runbook.yaml:13:51
   |
13 |         run: kubectl delete node {{ inputs.node | uppercase }}
   |                                                   ^^^^^^^^^
   |
   = help: did you mean `upper`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_filter_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: node
  steps:
    - id: delete
      action: shell
      with:
        run: kubectl delete node {{ inputs.node | shellquote }}
"#,
        stderr: r#"
error: `with.run` of step `delete` uses unknown filter `shellquote`
  --> runbook.yaml:13:51
   |
13 |         run: kubectl delete node {{ inputs.node | shellquote }}
   |                                                   ^^^^^^^^^^
   |
   = help: templates have minijinja's filters: `upper`, `lower`, `default`, `join`, `replace`, `trim`, `length`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_test",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: members
      type: list
  steps:
    - id: check
      when: "{{ inputs.members | length is oddd }}"
      action: shell
      with:
        run: etcdctl endpoint health
"#,
        stderr: r#"
error: `when` of step `check` uses unknown test `oddd`
  --> runbook.yaml:12:44
   |
12 |       when: "{{ inputs.members | length is oddd }}"
   |                                            ^^^^
   |
   = help: did you mean `odd`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_shell_string_length",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: count
      action: shell
      with:
        run: "members=(a b c); echo ${#members[@]} members"
"#,
        stderr: r#"
error: template error in `with.run` of step `count`: syntax error: unexpected end of comment
  --> runbook.yaml:11:38
   |
11 |         run: "members=(a b c); echo ${#members[@]} members"
   |                                      ^^
   |
   = help: `{#` starts a template comment; write `{{ '{#' }}` for a literal `{#`, or wrap the command in `{% raw %}...{% endraw %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_go_template_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: nodes
      action: shell
      with:
        run: kubectl get nodes -o go-template='{{range .items}}{{.metadata.name}}{{end}}'
"#,
        stderr: r#"
error: template error in `with.run` of step `nodes`: syntax error: unexpected `.`
  --> runbook.yaml:11:66
   |
11 |         run: kubectl get nodes -o go-template='{{range .items}}{{.metadata.name}}{{end}}'
   |                                                                  ^
   |
   = help: `{{` starts a template expression; for a literal `{{` (Go templates, awk) write `{{ '{{' }}`, or wrap the command in `{% raw %}...{% endraw %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_awk_double_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: count
      action: shell
      with:
        run: awk '{if ($2 == "Ready") {{print $1}}}' nodes.txt
"#,
        stderr: r#"
error: template error in `with.run` of step `count`: syntax error: unexpected character
  --> runbook.yaml:11:47
   |
11 |         run: awk '{if ($2 == "Ready") {{print $1}}}' nodes.txt
   |                                               ^
   |
   = help: `{{` starts a template expression; for a literal `{{` (Go templates, awk) write `{{ '{{' }}`, or wrap the command in `{% raw %}...{% endraw %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_two_expressions",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
    - name: forced
      type: bool
  steps:
    - id: restore
      when: "{{ inputs.fresh }} and {{ inputs.forced }}"
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a single `{{ expression }}`
  --> runbook.yaml:14:13
   |
14 |       when: "{{ inputs.fresh }} and {{ inputs.forced }}"
   |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: write the whole condition inside one pair of braces, like `"{{ inputs.fresh_backup and not inputs.dry }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_without_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
  steps:
    - id: restore
      when: inputs.fresh
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a single `{{ expression }}`
  --> runbook.yaml:12:13
   |
12 |       when: inputs.fresh
   |             ^^^^^^^^^^^^
   |
   = help: write `when: "{{ inputs.fresh }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_syntax_error",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
  steps:
    - id: restore
      when: "{{ inputs.fresh and }}"
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: template error in `when` of step `restore`: syntax error: unexpected end of input, expected expression
  --> runbook.yaml:12:30
   |
12 |       when: "{{ inputs.fresh and }}"
   |                              ^^^
   |
   = help: templates use minijinja syntax: `{{ inputs.name }}`, `{% if ... %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_boolean",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      when: true
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a string, found a boolean
 --> runbook.yaml:9:13
  |
9 |       when: true
  |             ^^^^
  |
  = help: `when` holds a template: write `when: "{{ true }}"`, or remove `when`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_input_name_without_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
  steps:
    - id: restore
      when: fresh
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a single `{{ expression }}`
  --> runbook.yaml:12:13
   |
12 |       when: fresh
   |             ^^^^^
   |
   = help: write `when: "{{ inputs.fresh }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "foreach_without_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: members
      type: list
  steps:
    - id: restart
      foreach: inputs.members
      action: shell
      with:
        run: ssh {{ item }} systemctl restart kubelet
"#,
        stderr: r#"
error: `foreach` of step `restart` must be a single `{{ expression }}`
  --> runbook.yaml:12:16
   |
12 |       foreach: inputs.members
   |                ^^^^^^^^^^^^^^
   |
   = help: write `foreach: "{{ inputs.members }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "choice_without_choices",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: pick
      checkpoint:
        prompt: Which snapshot?
        type: choice
"#,
        stderr: r#"
error: the choice checkpoint of step `pick` has no `choices`
  --> runbook.yaml:11:15
   |
11 |         type: choice
   |               ^^^^^^
   |
   = help: add `choices: [a, b]`, or use `type: confirm`, `text` or `number`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "choices_on_confirm",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: pick
      checkpoint:
        prompt: Restore the latest snapshot?
        choices: [latest, previous]
"#,
        stderr: r#"
error: step `pick` lists `choices` but its checkpoint is of type `confirm`
  --> runbook.yaml:11:19
   |
11 |         choices: [latest, previous]
   |                   ^^^^^^
   |
   = help: set `type: choice` or remove `choices`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_default_wrong_type",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: go
      checkpoint:
        prompt: Restore the latest snapshot?
        default: yes
"#,
        stderr: r#"
error: the default of step `go` must be true or false for a `confirm` checkpoint, found a string
  --> runbook.yaml:11:18
   |
11 |         default: yes
   |                  ^^^
   |
   = help: write `default: true` or `default: false`; YAML 1.2 reads `yes` and `no` as text

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_default_not_a_choice",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: pick
      checkpoint:
        prompt: Which snapshot?
        type: choice
        choices: [latest, previous]
        default: lates
"#,
        stderr: r#"
error: the default `lates` of step `pick` is not one of its choices
  --> runbook.yaml:13:18
   |
13 |         default: lates
   |                  ^^^^^
   |
   = help: did you mean `latest`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_type_unknown",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: pick
      checkpoint:
        prompt: Which snapshot?
        type: choise
"#,
        stderr: r#"
error: `choise` is not a valid checkpoint `type` of step `pick`; expected one of: confirm, choice, text, number
  --> runbook.yaml:11:15
   |
11 |         type: choise
   |               ^^^^^^
   |
   = help: did you mean `choice`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_timeout_zero",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: approve
      checkpoint:
        prompt: Restore?
        default: false
        timeout: 0m
"#,
        stderr: r#"
error: checkpoint `timeout` of step `approve` is zero
  --> runbook.yaml:12:18
   |
12 |         timeout: 0m
   |                  ^^
   |
   = help: write a duration longer than zero, like `30s`, or leave the key out for no limit

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "recovered_twice",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
      marks: recovered
    - id: verify
      action: shell
      with:
        run: etcdctl endpoint health
      marks: recovered
"#,
        stderr: r#"
error: step `verify` also marks `recovered`
  --> runbook.yaml:17:14
   |
17 |       marks: recovered
   |              ^^^^^^^^^
   |
   = help: only one step stops the RTO clock; `restore` already does (line 8)

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "recovered_on_inject_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
  drill:
    inject:
      - id: break-etcd
        action: shell
        with:
          run: systemctl stop etcd
        marks: recovered
"#,
        stderr: r#"
error: drill inject step `break-etcd` cannot mark `recovered`
  --> runbook.yaml:18:16
   |
18 |         marks: recovered
   |                ^^^^^^^^^
   |
   = help: the RTO clock stops on a recovery step in `spec.steps`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_in_prompt",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
    - id: go
      checkpoint:
        prompt: "Is {{ secrets.token }} the right token?"
"#,
        stderr: r#"
error: the prompt of step `go` would show secret `token` on screen and in the record
  --> runbook.yaml:13:24
   |
13 |         prompt: "Is {{ secrets.token }} the right token?"
   |                        ^^^^^^^^^^^^^
   |
   = help: secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_in_title",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
    - id: restore
      title: Restore with {{ secrets.token }}
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: the title of step `restore` would show secret `token` on screen and in the record
  --> runbook.yaml:12:30
   |
12 |       title: Restore with {{ secrets.token }}
   |                              ^^^^^^^^^^^^^
   |
   = help: secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_in_description",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
    - id: restore
      description: |
        Restores etcd from the last snapshot.
        Uses the token {{ secrets.token }}.
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: the description of step `restore` would show secret `token` on screen and in the record
  --> runbook.yaml:14:27
   |
14 |         Uses the token {{ secrets.token }}.
   |                           ^^^^^^^^^^^^^
   |
   = help: secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_unknown_in_prompt_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: restic_password
      env: RESTIC_PASSWORD
  steps:
    - id: confirm
      checkpoint:
        prompt: Is {{ secrets.restic_pasword }} the new password?
"#,
        stderr: r#"
error: the prompt of step `confirm` uses unknown secret `restic_pasword`
  --> runbook.yaml:13:23
   |
13 |         prompt: Is {{ secrets.restic_pasword }} the new password?
   |                       ^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `restic_password`? Even so, it cannot be used here: secrets may only be passed to action parameters, never shown in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_env_and_file",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
      file: /run/secrets/token
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: secret `token` has both `env` and `file`
  --> runbook.yaml:10:13
   |
10 |       file: /run/secrets/token
   |             ^^^^^^^^^^^^^^^^^^
   |
   = help: a secret comes from one place: keep `env` or `file`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_neither_env_nor_file",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      description: The etcd API token.
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: secret `token` has neither `env` nor `file`
 --> runbook.yaml:8:7
  |
8 |     - name: token
  |       ^
  |
  = help: add `env: VARIABLE` or `file: /path/to/secret`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_name_not_identifier",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: restic password
      env: RESTIC_PASSWORD
  steps:
    - id: snapshots
      action: shell
      with:
        run: restic snapshots
"#,
        stderr: r#"
error: secret name `restic password` is not a valid name
 --> runbook.yaml:8:13
  |
8 |     - name: restic password
  |             ^^^^^^^^^^^^^^^
  |
  = help: templates read it as `secrets.<name>`: start with a letter, then use letters, digits and `_` only, like `restic_password`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "input_default_wrong_type",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: members
      type: number
      default: three
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: the default of input `members` is not a number
  --> runbook.yaml:10:16
   |
10 |       default: three
   |                ^^^^^
   |
   = help: write a number value or change `type`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "input_name_not_identifier",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: healthy-node
  steps:
    - id: members
      action: shell
      with:
        run: etcdctl member list
"#,
        stderr: r#"
error: input name `healthy-node` is not a valid name
 --> runbook.yaml:8:13
  |
8 |     - name: healthy-node
  |             ^^^^^^^^^^^^
  |
  = help: templates read it as `inputs.<name>`: start with a letter, then use letters, digits and `_` only, like `healthy_node`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "step_action_and_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      checkpoint:
        prompt: Restore now?
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` has both `checkpoint` and `action`
  --> runbook.yaml:11:7
   |
11 |       action: shell
   |       ^^^^^^
   |
   = help: split it into two steps: one asks the operator, one acts

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "step_neither_action_nor_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      title: Restore the snapshot
"#,
        stderr: r#"
error: step `restore` has neither `action` nor `checkpoint`
 --> runbook.yaml:8:7
  |
8 |     - id: restore
  |       ^
  |
  = help: add `action: <name>` to automate it or `checkpoint:` to ask the operator

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "concurrency_without_foreach",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      concurrency: 2
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` sets `concurrency` without `foreach`
  --> runbook.yaml:10:20
   |
10 |       concurrency: 2
   |                    ^
   |
   = help: `concurrency` bounds how many `foreach` items run at once

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_with_foreach",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - {name: members, type: list, default: [m0, m1]}
  steps:
    - id: confirm_each
      foreach: "{{ inputs.members }}"
      checkpoint: {prompt: "Is {{ item }} stopped?"}
"#,
        stderr: r#"
error: step `confirm_each` is a checkpoint and cannot fan out with `foreach`
  --> runbook.yaml:11:16
   |
11 |       foreach: "{{ inputs.members }}"
   |                ^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: ask once and list the items in the prompt, e.g. `{{ inputs.members | join(', ') }}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "step_id_invalid",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: 1st restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step id `1st restore` is not a valid id
 --> runbook.yaml:8:11
  |
8 |     - id: 1st restore
  |           ^^^^^^^^^^^
  |
  = help: start with a letter; use letters, digits, `-` and `_` only

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "several_errors_in_file_order",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: fence
      action: shell
      timeout: 5 minutes
      with:
        run: systemctl stop etcd --cluster {{ inputs.clustr }}
    - id: restore
      needs: [fense]
      action: shel
      with:
        run: etcdctl snapshot restore
    - id: confirm
      checkpoint:
        prompt: Is {{ secrets.token }} still valid?
        type: choice
"#,
        stderr: r#"
error: `with.run` of step `fence` uses unknown input `clustr`
  --> runbook.yaml:14:47
   |
14 |         run: systemctl stop etcd --cluster {{ inputs.clustr }}
   |                                               ^^^^^^^^^^^^^
   |
   = help: did you mean `cluster`?

error: step `restore` needs unknown step `fense`
  --> runbook.yaml:16:15
   |
16 |       needs: [fense]
   |               ^^^^^
   |
   = help: did you mean `fence`?

error: unknown action `shel` in step `restore`
  --> runbook.yaml:17:15
   |
17 |       action: shel
   |               ^^^^
   |
   = help: did you mean `shell`?

error: the prompt of step `confirm` uses unknown secret `token`
  --> runbook.yaml:22:23
   |
22 |         prompt: Is {{ secrets.token }} still valid?
   |                       ^^^^^^^^^^^^^
   |
   = help: declaring it under `spec.secrets` would not help: secrets may only be passed to action parameters, never shown in titles, prompts or descriptions

error: the choice checkpoint of step `confirm` has no `choices`
  --> runbook.yaml:23:15
   |
23 |         type: choice
   |               ^^^^^^
   |
   = help: add `choices: [a, b]`, or use `type: confirm`, `text` or `number`

error: runbook.yaml is not a valid runbook: 5 errors
"#,
    },
    Case {
        name: "several_structural_errors",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: fence
      action: shell
      timeout: 5
      with:
        run: systemctl stop etcd
    - id: restore
      acton: shell
    - id: verify
      checkpoint:
        type: confirm
"#,
        stderr: r#"
error: `timeout` of step `fence` needs a unit: `5` could be seconds or minutes
  --> runbook.yaml:10:16
   |
10 |       timeout: 5
   |                ^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: unknown key `acton` in step `restore`
  --> runbook.yaml:14:7
   |
14 |       acton: shell
   |       ^^^^^
   |
   = help: did you mean `action`?

error: the checkpoint of step `verify` is missing the required key `prompt`
  --> runbook.yaml:16:7
   |
16 |       checkpoint:
   |       ^^^^^^^^^^
   |
   = help: add `prompt:`, the question the operator answers at this step

error: runbook.yaml is not a valid runbook: 3 errors
"#,
    },
    Case {
        name: "etcd_member_table_bad_peer_urls_duplicates_and_missing_keys",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members:
          - {name: cp-0, peer_url: "https://10.0.0.1:2380", data_dir: /var/lib/etcd}
          - {name: cp-1, peer_url: "https://10.0.0.2", data_dir: /var/lib/etcd-1}
          - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
          - name: cp-3
            peer_urls: "https://10.0.0.4:2380"
"#,
        stderr: r#"
error: `peer_url` of member 2 of parameter `members` of step `restore` has no port; etcd does not assume 2380
  --> runbook.yaml:15:36
   |
15 |           - {name: cp-1, peer_url: "https://10.0.0.2", data_dir: /var/lib/etcd-1}
   |                                    ^^^^^^^^^^^^^^^^^^
   |
   = help: write it like `https://10.0.0.1:2380`: scheme, host and port, as `--initial-advertise-peer-urls` takes it

error: member 3 of parameter `members` of step `restore` has the same `name` as member 1
  --> runbook.yaml:16:20
   |
16 |           - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
   |                    ^^^^
   |
   = help: member 1 is on line 14; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: member 3 of parameter `members` of step `restore` has the same `peer_url` as member 1
  --> runbook.yaml:16:36
   |
16 |           - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
   |                                    ^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: member 1 is on line 14; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: member 3 of parameter `members` of step `restore` has the same `data_dir` as member 1
  --> runbook.yaml:16:72
   |
16 |           - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
   |                                                                        ^^^^^^^^^^^^^^
   |
   = help: member 1 is on line 14; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: member 4 of parameter `members` of step `restore` is missing `peer_url` and `data_dir`
  --> runbook.yaml:17:13
   |
17 |           - name: cp-3
   |             ^^^^
   |
   = help: every member needs `name`, `peer_url` (like `https://10.0.0.1:2380`) and `data_dir`

error: unknown key `peer_urls` in member 4 of parameter `members` of step `restore`
  --> runbook.yaml:18:13
   |
18 |             peer_urls: "https://10.0.0.4:2380"
   |             ^^^^^^^^^
   |
   = help: did you mean `peer_url`?

error: runbook.yaml is not a valid runbook: 6 errors
"#,
    },
    Case {
        name: "etcd_member_table_url_without_scheme_and_shared_data_dir_templates_skipped",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: kubeone-etcd-restore
  version: 1.0.0
spec:
  inputs:
    - {name: node_ip, type: string}
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members:
          - name: cp-0
            peer_url: "https://{{ inputs.node_ip }}:2380"
            data_dir: /var/lib/etcd
          - name: cp-1
            peer_url: 10.0.0.2:2380
            data_dir: /var/lib/etcd
"#,
        stderr: r#"
error: `peer_url` of member 2 of parameter `members` of step `restore` has no scheme (`https://` or `http://`)
  --> runbook.yaml:20:23
   |
20 |             peer_url: 10.0.0.2:2380
   |                       ^^^^^^^^^^^^^
   |
   = help: write it like `https://10.0.0.1:2380`: scheme, host and port, as `--initial-advertise-peer-urls` takes it

error: member 2 of parameter `members` of step `restore` has the same `data_dir` as member 1
  --> runbook.yaml:21:23
   |
21 |             data_dir: /var/lib/etcd
   |                       ^^^^^^^^^^^^^
   |
   = help: member 1 is on line 18; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: runbook.yaml is not a valid runbook: 2 errors
"#,
    },
    Case {
        name: "etcd_member_table_not_a_list_or_empty",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members: cp-0=https://10.0.0.1:2380
    - id: again
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members: []
"#,
        stderr: r#"
error: parameter `members` of action `etcd.snapshot.restore` in step `restore` must be a list of members, each with `name`, `peer_url` and `data_dir`, found a string
  --> runbook.yaml:13:18
   |
13 |         members: cp-0=https://10.0.0.1:2380
   |                  ^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: `members`: Every member of the restored cluster: `- {name: cp-0, peer_url: https://10.0.0.1:2380, data_dir: /var/lib/etcd}`.

error: parameter `members` of step `again` lists no members
  --> runbook.yaml:19:18
   |
19 |         members: []
   |                  ^^
   |
   = help: every member needs `name`, `peer_url` (like `https://10.0.0.1:2380`) and `data_dir`

error: runbook.yaml is not a valid runbook: 2 errors
"#,
    },
];
