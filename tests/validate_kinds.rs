//! `drbook validate` by kind: runbooks, targets files and drill answers files each checked
//! by their own rules, in one directory or one by one, with the same located errors and
//! exit code 2 as runbooks.

use crate::support::{drbook, repo_root, write};

const RUNBOOK: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: etcd-restore, version: 1.0.0}
spec:
  steps:
    - id: declare
      checkpoint: {prompt: Is quorum lost?}
    - id: restore
      action: shell
      with: {run: 'true'}
      marks: recovered
";

const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  prod: {environment: production, drill: forbidden}
  staging: {environment: staging, drill: allowed}
";

const ANSWERS: &str = "apiVersion: drbook.io/v1
kind: Answers
declare: true
";

#[test]
fn a_directory_of_all_three_kinds_validates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dr")).unwrap();
    write(dir.path(), "dr/etcd-restore.yaml", RUNBOOK);
    write(dir.path(), "dr/drbook.targets.yaml", TARGETS);
    // Without a header, the name says it is an answers file.
    write(dir.path(), "dr/drill-answers.yaml", "declare: true\n");
    write(dir.path(), "dr/staging.yaml", ANSWERS);
    let output = drbook(dir.path(), &["validate", "dr"]);
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(output.stderr, "");
    assert_eq!(
        output.stdout,
        "ok: dr/drbook.targets.yaml (targets: 2 environments)
ok: dr/drill-answers.yaml (answers: 1 checkpoint)
ok: dr/etcd-restore.yaml (etcd-restore 1.0.0, 2 steps)
ok: dr/staging.yaml (answers: 1 checkpoint)
4 of 4 files valid (1 runbook, 1 targets file, 2 answers files)
"
    );
}

#[test]
fn the_shipped_targets_file_is_checked_as_targets() {
    let output = drbook(&repo_root(), &["validate", "examples/drbook.targets.yaml"]);
    assert_eq!(output.code, 0, "{output:?}");
    assert_eq!(
        output.stdout,
        "ok: examples/drbook.targets.yaml (targets: 2 environments)\n"
    );
}

/// Each broken file and everything `validate` must print about it.
fn assert_invalid(name: &str, text: &str, stderr: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), name, text);
    let output = drbook(dir.path(), &["validate", name]);
    assert_eq!(output.code, 2, "{output:?}");
    assert_eq!(output.stdout, "");
    assert_eq!(output.stderr, stderr.strip_prefix('\n').unwrap());
}

#[test]
fn every_target_of_a_targets_file_is_checked() {
    // `load` for a run reads only the target asked for; validate reads them all.
    assert_invalid(
        "drbook.targets.yaml",
        "apiVersion: drbook.io/v1
kind: Targets
targets:
  prod: {environment: production, drill: forbidden}
  staging: {environment: staging, drill: alowed}
  lab: {drill: allowed}
",
        r#"
error: `alowed` is not a valid `drill` of target `staging`; expected one of: allowed, forbidden
 --> drbook.targets.yaml:5:42
  |
5 |   staging: {environment: staging, drill: alowed}
  |                                          ^^^^^^
  |
  = help: did you mean `allowed`?

error: target `lab` is missing `environment`
 --> drbook.targets.yaml:6:8
  |
6 |   lab: {drill: allowed}
  |        ^
  |
  = help: say `environment: production` or `environment: staging`

error: drbook.targets.yaml is not a valid targets file: 2 errors
"#,
    );
}

#[test]
fn a_targets_file_without_its_kind_is_known_by_its_name() {
    assert_invalid(
        "drbook.targets.yaml",
        "apiVersion: drbook.io/v1
targets:
  staging: {environment: staging, drill: allowed}
",
        r#"
error: the targets file is missing the required key `kind`
 --> drbook.targets.yaml:1:1
  |
1 | apiVersion: drbook.io/v1
  | ^
  |
  = help: add `kind: Targets`

error: drbook.targets.yaml is not a valid targets file: 1 error
"#,
    );
}

#[test]
fn a_broken_answers_file_is_located() {
    assert_invalid(
        "answers.yaml",
        "apiVersion: drbook.io/v1
kind: Answers
declare: true
snapshot: [a, b]
declare: false
",
        r#"
error: the answer to `snapshot` must be one value, found a list
 --> answers.yaml:4:11
  |
4 | snapshot: [a, b]
  |           ^^^^^^
  |
  = help: answer a confirm with `true` or `false`, a number with a number, a text or choice with a string

error: `declare` is answered twice
 --> answers.yaml:5:1
  |
5 | declare: false
  | ^^^^^^^
  |
  = help: keep one of them; YAML would silently use the last

error: answers.yaml is not a valid answers file: 2 errors
"#,
    );
}

#[test]
fn an_unknown_kind_names_the_kinds_drbook_reads() {
    assert_invalid(
        "cluster.yaml",
        "apiVersion: drbook.io/v1
kind: Answer
declare: true
",
        r#"
error: unsupported kind `Answer`
 --> cluster.yaml:2:7
  |
2 | kind: Answer
  |       ^^^^^^
  |
  = help: drbook reads `kind: Runbook`, `kind: Targets` and `kind: Answers` documents

error: cluster.yaml is not a valid runbook: 1 error
"#,
    );
}
