//! The command line around the format: `plan`, `schema`, `completions`, `--help` and the
//! exit codes of usage errors.

use crate::support::{Drbook, drbook, repo_root};

/// A runbook that exercises every kind of plan decision.
const PLAN_FIXTURE: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: plan-fixture, version: 1.2.3, title: Plan fixture}
spec:
  objectives: {rto: 45m, rpo: 15m}
  inputs:
    - {name: members, type: list, default: [m0, m1, m2]}
    - {name: fresh_backup, type: bool, default: true}
    - {name: cluster, type: string}
    - {name: mode, type: string, default: fast, choices: [fast, safe]}
  secrets:
    - {name: token, env: PLAN_FIXTURE_TOKEN}
  steps:
    - id: declare
      checkpoint: {prompt: "Quorum needs {{ (inputs.members|length)//2 + 1 }} members", type: choice, choices: [lost, intact]}
    - id: restore
      action: shell
      foreach: "{{ inputs.members }}"
      concurrency: 2
      when: "{{ steps.declare.answer == 'lost' }}"
      with: {run: "restore {{ item }} --token {{ secrets.token }}"}
      timeout: 10m
      retry: {attempts: 3, backoff: 5s}
      on_failure: ask
    - id: healthy
      action: wait
      with: {probe: "etcdctl endpoint health --cluster={{ inputs.cluster }}", timeout: 2m}
      marks: recovered
    - id: backup
      needs: [healthy]
      when: "{{ inputs.fresh_backup }}"
      action: shell
      with: {run: "take-backup {{ target.name }}"}
  drill:
    inject:
      - id: break
        action: shell
        with: {run: "kill-etcd"}
"#;

#[test]
fn plan_shows_every_decision_and_masks_secrets() {
    let test = Drbook::new().file("r.yaml", PLAN_FIXTURE);
    let out = test.run_with(&["plan", "r.yaml", "-i", "fresh_backup=false"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("plan_fixture_incident", out.stdout);
    assert!(
        !out.stdout.contains("kill-etcd"),
        "incident plans never list inject steps"
    );
}

#[test]
fn plan_in_drill_mode_lists_inject_steps_first() {
    let test = Drbook::new().file("r.yaml", PLAN_FIXTURE);
    let out = test.run_with(&[
        "plan",
        "r.yaml",
        "--drill",
        "-i",
        "cluster=c1",
        "-i",
        "members=a,b",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("plan_fixture_drill", out.stdout);
}

/// `plan --target` binds the environment as a run does: its values replace "bound at
/// run time", and a drill plan on a target that forbids drills is refused like the
/// drill itself.
#[test]
fn plan_with_a_target_shows_its_values_and_applies_the_drill_guard() {
    let test = Drbook::in_dir(&repo_root());
    let runbook = "runbooks/kkp/minio-lost.yaml";
    let targets = "examples/drbook.targets.yaml";
    let unbound = test.run_with(&["plan", runbook]);
    assert!(
        unbound.stdout.contains("from the target bound at run time"),
        "{}",
        unbound.stdout
    );
    let bound = test.run_with(&["plan", runbook, "--target", "staging", "--targets", targets]);
    assert!(
        bound
            .stdout
            .contains("target: staging (staging environment, drills allowed)"),
        "{}",
        bound.stdout
    );
    assert!(
        bound
            .stdout
            .contains("https://s3.eu-central-1.amazonaws.com"),
        "the target's off-site endpoint is shown:\n{}",
        bound.stdout
    );
    assert!(
        !bound.stdout.contains("from the target bound at run time"),
        "{}",
        bound.stdout
    );
    let refused = test.run_with(&[
        "plan",
        runbook,
        "--drill",
        "--target",
        "prod-master",
        "--targets",
        targets,
    ]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("target `prod-master` (production environment) does not allow drills"),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
}

/// What is known before a run is shown rendered, also inside a text or a mapping that
/// holds something only the run knows: a given input in a prompt, a secret as `***` in
/// a nested remote, never its template.
#[test]
fn plan_renders_as_far_as_is_known() {
    let test = Drbook::in_dir(&repo_root());
    let repair = test.run_with(&[
        "plan",
        "runbooks/kubeone/control-plane-node-repair.yaml",
        "-i",
        "node=cp-3",
    ]);
    assert!(
        repair
            .stdout
            .contains("asks: Node cp-3 is {{ steps.preflight.outputs.LOST_NODE_STATUS }}."),
        "{}",
        repair.stdout
    );
    let minio = test.run_with(&["plan", "runbooks/kkp/minio-lost.yaml"]);
    assert!(
        minio.stdout.contains(r#""secret_access_key":"***""#),
        "{}",
        minio.stdout
    );
    assert!(!minio.stdout.contains("{{ secrets."), "{}", minio.stdout);
}

#[test]
fn plan_refuses_bad_inputs_with_usage_exit_code() {
    let test = Drbook::new().file("r.yaml", PLAN_FIXTURE);
    for (arg, message) in [
        (
            "membrs=a",
            "runbook `plan-fixture` has no input `membrs`; did you mean `members`?",
        ),
        (
            "fresh_backup=yes",
            "input `fresh_backup` is `true` or `false`, not `yes`",
        ),
        (
            "mode=slow",
            "input `mode` must be one of: fast, safe; `slow` is not",
        ),
        ("members", "`-i members` is not `name=value`"),
        (
            "members=[1,",
            "input `members` is a list; `[1,` is not a JSON list (or write `a,b,c`)",
        ),
    ] {
        let out = test.run_with(&["plan", "r.yaml", "-i", arg]);
        assert_eq!(out.code, 64, "-i {arg}: {}", out.stderr);
        assert!(out.stderr.contains(message), "-i {arg}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn plan_reports_a_step_that_would_fail_to_render() {
    let runbook = PLAN_FIXTURE.replace(
        "take-backup {{ target.name }}",
        "take-backup {{ inputs.cluster + 1 }}",
    );
    let test = Drbook::new().file("r.yaml", &runbook);
    let out = test.run_with(&["plan", "r.yaml", "-i", "cluster=c1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("would fail: `run` cannot be rendered"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("1 step would fail with these inputs"),
        "{}",
        out.stderr
    );
}

#[test]
fn plan_defers_a_foreach_item_whose_list_is_an_input_not_given() {
    let runbook = "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {name: each, version: 1.0.0, title: Each}\nspec:\n  objectives: {rto: 1m, rpo: 1m}\n  inputs:\n    - {name: buckets, type: list}\n  steps:\n    - id: copy\n      foreach: \"{{ inputs.buckets }}\"\n      action: shell\n      with: {run: \"echo {{ item }}\"}\n";
    let test = Drbook::new().file("r.yaml", runbook);
    let out = test.run_with(&["plan", "r.yaml"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(
            "run: echo {{ item }}  (reads `item`, an item of the `foreach` list known only at run time)"
        ),
        "{}",
        out.stdout
    );
    let out = test.run_with(&["plan", "r.yaml", "-i", "buckets=a,b"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("run: echo a"), "{}", out.stdout);
    assert!(out.stdout.contains("run: echo b"), "{}", out.stdout);
}

#[test]
fn committed_schema_is_current() {
    let out = drbook(&repo_root(), &["schema"]);
    assert_eq!(out.code, 0);
    let committed =
        std::fs::read_to_string(repo_root().join("docs/runbook.schema.json")).unwrap_or_default();
    assert!(
        committed == out.stdout,
        "docs/runbook.schema.json is out of date: run `cargo run -q -- schema > docs/runbook.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        schema["properties"]["apiVersion"]["enum"][0],
        "drbook.io/v1"
    );
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = drbook(&repo_root(), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(
            out.stdout.contains("validate"),
            "{shell} completion names the subcommands"
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        "validate",
        "plan",
        "render",
        "schema",
        "completions",
        "verify",
        "review",
    ] {
        let out = drbook(&repo_root(), &[command, "--help"]);
        assert_eq!(out.code, 0, "{command}");
        assert!(
            out.stdout.contains("Example"),
            "`drbook {command} --help` shows an example"
        );
    }
}

#[test]
fn usage_errors_exit_64() {
    let out = drbook(&repo_root(), &["validate"]);
    assert_eq!(out.code, 64);
    let out = drbook(&repo_root(), &["frobnicate"]);
    assert_eq!(out.code, 64);
    let out = drbook(&repo_root(), &["render", "x.yaml", "--format", "pdf"]);
    assert_eq!(out.code, 64);
}
