//! Strict values through the real executable: a value a template reads that is not
//! there is an error in every position — a parameter that is one `{{ expr }}` included —
//! and everything that can be known before the first step is checked before it: a run
//! of a runbook that reads `target.*` needs a target, and that target must hold every
//! value read. `validate` checks the same against a targets file, and the output names
//! of built-in actions.
//!
//! Each refusal is proved to come before anything ran: the first step writes a marker
//! file, which must stay absent.

use std::path::Path;

use crate::support::Drbook;

/// A runbook whose `spec:` is these lines (indented by two spaces).
fn runbook(spec: &str) -> String {
    format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: strict, version: 1.0.0}}\nspec:\n{spec}"
    )
}

/// A first step that writes `marker` (an absolute path), then `rest` (steps, indented).
fn after_marker(marker: &Path, rest: &str) -> String {
    runbook(&format!(
        "  steps:\n    - id: first\n      action: shell\n      with: {{run: \"touch '{}'\"}}\n{rest}",
        marker.display()
    ))
}

const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  staging:
    environment: staging
    drill: allowed
    etcd:
      pid_file: /run/etcd.pid
  prod:
    environment: production
    kubeconfig: /etc/prod.kubeconfig
    etcd:
      pid_file: /run/etcd.pid
";

/// The journal's failure reason for `step`.
fn failure_of(ran: &crate::support::Ran, step: &str) -> String {
    ran.events()
        .into_iter()
        .find(|e| e["type"] == "step_finished" && e["step"] == step)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn a_command_that_is_one_undefined_output_fails_instead_of_running_empty() {
    let test = Drbook::new();
    let ran = test
        .clone()
        .runbook(&runbook(
            "  steps:
    - id: a
      action: shell
      with: {run: echo REAL=x}
    - id: b
      action: shell
      with: {run: \"{{ steps.a.outputs.RAEL }}\"}
",
        ))
        .args(["run", "runbook.yaml"])
        .run();
    ran.assert_code(1, "the step with an undefined command fails the run");
    let failure = failure_of(&ran, "b");
    assert!(failure.contains("\"failed\""), "{failure}");
    assert!(
        failure.contains("`steps.a.outputs.RAEL` is undefined (step `a` has no output `RAEL`; did you mean `REAL`?)"),
        "{failure}"
    );
    assert!(
        ran.stderr.contains("`steps.a.outputs.RAEL` is undefined"),
        "{ran:?}"
    );
    assert!(!ran.stderr.contains("<string>"), "{ran:?}");
}

#[test]
fn an_env_value_from_a_missing_target_key_refuses_the_run_before_its_first_step() {
    let test = Drbook::new().targets(TARGETS);
    let marker = test.path().join("marker");
    let ran = test
        .clone()
        .runbook(&after_marker(
            &marker,
            "    - id: kube
      action: shell
      with:
        run: echo \"K=[$K]\"
        env: {K: \"{{ target.kubeconfig }}\"}
",
        ))
        .args(["run", "runbook.yaml", "--target", "staging"])
        .run();
    ran.assert_code(4, "a target without `kubeconfig` is refused");
    assert!(!marker.exists(), "the first step ran: {ran:?}");
    assert!(
        ran.stderr.contains(
            "target `staging` lacks values runbook `runbook.yaml` reads; nothing was run"
        ),
        "{ran:?}"
    );
    assert!(
        ran.stderr.contains(
            "`target.kubeconfig`: no key `kubeconfig` (read in `with.env` of step `kube`, line 13)"
        ),
        "{ran:?}"
    );
    assert_eq!(ran.run_id, None, "no run was recorded: {ran:?}");
    // The target that has it runs.
    let ran = test
        .clone()
        .args(["run", "runbook.yaml", "--target", "prod"])
        .run();
    ran.assert_code(0, "a target with `kubeconfig` runs");
    assert!(marker.exists());
}

/// The newcomer's runbook: a misspelt `pidfile` made the stop step "succeed" without
/// stopping etcd.
#[test]
fn a_misspelt_target_key_never_lets_the_step_succeed() {
    let test = Drbook::new().targets(TARGETS);
    let marker = test.path().join("marker");
    let ran = test
        .clone()
        .runbook(&after_marker(
            &marker,
            "    - id: stop-etcd
      action: shell
      with: {run: \"kill $(cat {{ target.etcd.pidfile }})\"}
",
        ))
        .args(["run", "runbook.yaml", "--target", "staging"])
        .run();
    ran.assert_code(4, "the misspelt key is refused up front");
    assert!(!marker.exists(), "the first step ran: {ran:?}");
    assert!(
        ran.stderr.contains("`target.etcd.pidfile`: no key `pidfile` under `etcd` (read in `with.run` of step `stop-etcd`, line 11)"),
        "{ran:?}"
    );
}

#[test]
fn a_run_without_a_target_of_a_runbook_that_reads_one_is_refused_up_front() {
    let test = Drbook::new();
    let marker = test.path().join("marker");
    let ran = test
        .clone()
        .runbook(&after_marker(
            &marker,
            "    - id: kube
      action: shell
      with: {run: \"kubectl --kubeconfig '{{ target.kubeconfig }}' get nodes\"}
    - id: optional
      action: shell
      with: {run: \"echo {{ target.note | default('none') }}\"}
",
        ))
        .args(["run", "runbook.yaml"])
        .run();
    ran.assert_code(4, "no target, but the runbook reads one");
    assert!(!marker.exists(), "the first step ran: {ran:?}");
    assert!(ran.stderr.contains("no target is bound"), "{ran:?}");
    assert!(ran.stderr.contains("pass `--target NAME`"), "{ran:?}");
    assert!(ran.stderr.contains("`target.kubeconfig`"), "{ran:?}");
    // A read with a fallback needs no target.
    assert!(!ran.stderr.contains("`target.note`"), "{ran:?}");
}

#[test]
fn a_guarded_read_runs_without_the_key() {
    let test = Drbook::new().targets(TARGETS);
    let ran = test
        .clone()
        .runbook(&runbook(
            "  steps:
    - id: prefix
      action: shell
      with: {run: \"echo P=[{{ target.etcd.prefix | default('') }}]{% if target.kubeconfig is defined %}{{ target.kubeconfig }}{% endif %}\"}
",
        ))
        .args(["run", "runbook.yaml", "--target", "staging"])
        .run();
    ran.assert_code(0, "`default` and `is defined` still guard");
}

#[test]
fn validate_reports_a_target_key_no_target_has_where_it_is_read() {
    let ran = Drbook::new()
        .targets(TARGETS)
        .runbook(&runbook(
            "  steps:
    - id: stop-etcd
      action: shell
      with: {run: \"kill $(cat {{ target.etcd.pidfile }})\"}
",
        ))
        .args(["validate", "runbook.yaml"])
        .run();
    ran.assert_code(2, "no target has `etcd.pidfile`");
    assert_eq!(
        ran.stderr,
        "error: `with.run` of step `stop-etcd` reads `target.etcd.pidfile`, which no target in `drbook.targets.yaml` has
 --> runbook.yaml:8:34
  |
8 |       with: {run: \"kill $(cat {{ target.etcd.pidfile }})\"}
  |                                  ^^^^^^^^^^^^^^^^^^^
  |
  = help: any of its 2 targets has no key `pidfile` under `etcd`; add it to the targets, or give the read a fallback with `| default(...)`

error: runbook.yaml is not a valid runbook: 1 error
"
    );
}

#[test]
fn validate_warns_about_a_target_key_only_some_targets_have() {
    let test = Drbook::new()
        .file("elsewhere/targets.yaml", TARGETS)
        .runbook(&runbook(
            "  steps:
    - id: kube
      action: shell
      with: {run: \"kubectl --kubeconfig {{ target.kubeconfig }} get nodes\"}
",
        ));
    let ran = test
        .clone()
        .args([
            "validate",
            "--targets",
            "elsewhere/targets.yaml",
            "runbook.yaml",
        ])
        .run();
    ran.assert_code(0, "one target has `kubeconfig`");
    assert!(ran.stdout.contains("ok: runbook.yaml"), "{ran:?}");
    assert!(
        ran.stderr.contains("warning: runbook.yaml:8:44: `with.run` of step `kube` reads `target.kubeconfig`, which target `staging` in `elsewhere/targets.yaml` lacks (no key `kubeconfig`)"),
        "{ran:?}"
    );
    // Without a targets file, nothing is known about targets.
    let ran = test.clone().args(["validate", "runbook.yaml"]).run();
    ran.assert_code(0, "no targets file");
    assert_eq!(ran.stderr, "", "{ran:?}");
}

#[test]
fn a_resume_whose_target_lost_a_value_is_refused_before_the_journal_is_written() {
    let test = Drbook::new().targets(TARGETS);
    let marker = test.path().join("marker");
    let ran = test
        .clone()
        .runbook(&after_marker(
            &marker,
            "    - id: crash
      idempotent: true
      action: shell
      with: {run: \"if [ ! -e crashed ]; then touch crashed; kill -9 $PPID; sleep 5; fi\"}
    - id: kube
      action: shell
      with: {run: \"echo {{ target.kubeconfig }}\"}
",
        ))
        .args(["run", "runbook.yaml", "--target", "prod"])
        .run();
    ran.assert_killed("drbook, killed by its own step before `kube`");
    let before = std::fs::read(test.run_dir(ran.id()).join("journal.jsonl")).unwrap();
    test.write(
        "drbook.targets.yaml",
        &TARGETS.replace("    kubeconfig: /etc/prod.kubeconfig\n", ""),
    );
    let resumed = ran.resume();
    resumed.assert_code(4, "the target no longer has `kubeconfig`");
    assert!(
        resumed.stderr.contains(
            "`target.kubeconfig`: no key `kubeconfig` (read in `with.run` of step `kube`, line 15)"
        ),
        "{resumed:?}"
    );
    let after = std::fs::read(test.run_dir(ran.id()).join("journal.jsonl")).unwrap();
    assert_eq!(before, after, "the journal was written to");
}

#[test]
fn a_when_that_reads_a_missing_output_fails_instead_of_skipping() {
    let ran = Drbook::new()
        .runbook(&runbook(
            "  steps:
    - id: a
      action: shell
      with: {run: echo RESTORE=yes}
    - id: restore
      when: \"{{ steps.a.outputs.RESTOR }}\"
      action: shell
      with: {run: \"true\"}
",
        ))
        .args(["run", "runbook.yaml"])
        .run();
    ran.assert_code(1, "the misspelt condition fails the run");
    let failure = failure_of(&ran, "restore");
    assert!(
        failure.contains("`when` of step `restore` cannot be evaluated: `steps.a.outputs.RESTOR` is undefined (step `a` has no output `RESTOR`; did you mean `RESTORE`?)"),
        "{failure}\n{ran:?}"
    );
}
