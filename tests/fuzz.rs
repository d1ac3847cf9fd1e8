//! Property tests: whatever text it is given, the loader never panics, every diagnostic
//! points inside the file and renders, and a runbook that loads can always be dry-run.
//!
//! Four sources of input, each run through `runbook::load` and, when it loads, through
//! `dry_run::plan(..).to_text()` (drill and incident mode):
//!
//! - `arbitrary_bytes`: 2,000 cases of random bytes, decoded lossily as `validate` does;
//! - `runbook_shaped_text`: 2,000 cases, half free lines of runbook keys, values, `{{ }}`
//!   fragments, indentation, `- `, quotes, tabs, CR and unicode, half runbooks of
//!   generated steps (bodies, `needs`, `when`, `foreach`, templates, mostly valid values);
//! - `templates_in_every_place`: 2,000 cases of a generated template put into a title,
//!   prompt, parameter, `when` or `foreach` of `BASE` (about half still load);
//! - `mutated_runbook`: 3,000 cases of 1–4 mutations (delete, duplicate or swap lines,
//!   insert a char or byte, truncate, re-indent, replace a value) of `BASE`, a valid
//!   runbook that uses most of the format (about 13% still load).
//!
//! 9,000 generated inputs per run: 2.5 to 4.5 s in a debug build on 2 shared cores.
//! Longer hunts: `PROPTEST_CASES=30000 cargo test fuzz` sets the count of every
//! property (120,000 inputs passed in 41 s). The generators are in `fuzz/grammar.rs`
//! and `fuzz/mutation.rs`.

mod grammar;
mod mutation;

use drbook::dry_run;
use drbook::runbook;
use drbook::source::source_file::SourceFile;
use proptest::prelude::*;
use proptest::sample::select;

use grammar::{template_text, yaml_text};
use mutation::mutations;

/// A valid runbook using inputs of every type, secrets from env and file, checkpoints of
/// every type, `foreach` over a template and a literal list, `needs` fan-out and fan-in,
/// `when`, `retry`, `timeout`, `on_failure`, `marks` and drill inject steps.
const BASE: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.2.0
  title: "Restore etcd from a snapshot"
  owners: [platform-team, "sre@example.com"]
  labels:
    layer: control-plane
    tier: "1"
spec:
  description: |
    Restores the etcd cluster of a user cluster from the latest snapshot.
  objectives:
    rto: 30m
    rpo: 1h
  inputs:
    - name: cluster
      type: string
      description: The user cluster to restore
      default: prod-eu
      choices: [prod-eu, prod-us]
    - name: members
      type: list
      default: [etcd-0, etcd-1, etcd-2]
    - name: replicas
      type: number
      default: 3
    - name: fresh_backup
      type: bool
      default: false
  secrets:
    - name: s3_key
      env: S3_SECRET_KEY
      description: Key of the backup bucket
    - name: kubeconfig
      file: /etc/drbook/kubeconfig
  steps:
    - id: confirm-incident
      title: "Confirm the incident on {{ inputs.cluster }}"
      description: |
        Check the **etcd** dashboards before anything else.
      checkpoint:
        prompt: "Is etcd of {{ inputs.cluster }} really lost?"
        type: confirm
        default: false
        timeout: 10m
    - id: pick_snapshot
      checkpoint:
        prompt: Which snapshot?
        type: choice
        choices: [latest, previous]
        default: latest
    - id: snapshot
      action: shell
      with:
        run: "restic snapshots --json --tag {{ inputs.cluster }} {{ steps.pick_snapshot.answer }}"
        env:
          AWS_SECRET_ACCESS_KEY: "{{ secrets.s3_key }}"
      timeout: 5m
      retry:
        attempts: 3
        backoff: 10s
      idempotent: true
    - id: stop-members
      needs: [snapshot]
      foreach: "{{ inputs.members }}"
      concurrency: 2
      title: "Stop {{ item }}"
      action: shell
      with:
        run: "kubectl --kubeconfig {{ secrets.kubeconfig }} delete pod {{ item }}"
        workdir: /tmp
      on_failure: ask
    - id: note
      needs: [snapshot]
      checkpoint:
        prompt: Anything to note?
        type: text
        default: "none"
    - id: restore
      needs: [stop-members, note]
      when: "{{ not inputs.fresh_backup }}"
      action: shell
      with:
        run: "etcdctl snapshot restore {{ steps.snapshot.outputs.path }} # {{ steps.note.answer }}"
      on_failure: abort
    - id: how-many
      checkpoint:
        prompt: How many members came back?
        type: number
        default: 3
    - id: wait-healthy
      foreach: [etcd-0, etcd-1, "{{ inputs.cluster }}"]
      action: wait
      with:
        probe: "etcdctl endpoint health --endpoints {{ item }}"
        timeout: 5m
        interval: 5s
      marks: recovered
  drill:
    description: Break etcd on purpose
    inject:
      - id: break-etcd
        action: shell
        with:
          run: "kubectl delete pod etcd-0 # {{ inputs.cluster }}"
        idempotent: true
      - id: wait-broken
        needs: [break-etcd]
        action: wait
        with:
          probe: "! etcdctl endpoint health"
          timeout: 2m
"#;

/// Loads `text` and checks what must hold whatever the text is.
fn check(text: &str) -> Result<(), TestCaseError> {
    let diagnostics = match runbook::load(text) {
        Ok(valid) => {
            let _ = dry_run::plan(&valid, &Default::default(), true, None).to_text();
            let _ = dry_run::plan(&valid, &Default::default(), false, None).to_text();
            return Ok(());
        }
        Err(diagnostics) => diagnostics,
    };
    prop_assert!(!diagnostics.is_empty(), "load failed without a diagnostic");
    let lines = yaml_lines(text);
    let file = SourceFile::new("f.yaml", text);
    for diagnostic in &diagnostics {
        let start = diagnostic.span.start;
        prop_assert!(
            start.line >= 1 && start.col >= 1,
            "diagnostic at {}:{} is outside the file: {:?}",
            start.line,
            start.col,
            diagnostic
        );
        prop_assert!(
            start.line <= lines.len() + 1,
            "diagnostic on line {} of a file of {} lines: {:?}",
            start.line,
            lines.len(),
            diagnostic
        );
        // saphyr-parser 0.3.4 counts bytes, not characters, for the column inside a
        // `%` directive line (`%ééé\0` reports the NUL at column 8, not 5).
        let width = lines.get(start.line - 1).map_or(0, |l| {
            if l.starts_with('%') {
                l.len()
            } else {
                l.chars().count()
            }
        });
        prop_assert!(
            start.col <= width + 1,
            "diagnostic at column {} of a line of {width} characters: {:?}",
            start.col,
            diagnostic
        );
        let rendered = diagnostic.render(&file, false);
        prop_assert!(rendered.contains("f.yaml:"), "{rendered}");
    }
    Ok(())
}

/// The lines of `text` as YAML counts them: `\r\n`, `\n` and a lone `\r` each end a
/// line, and a final line break does not start another (as `str::lines` counts).
///
/// A lone `\r` ends a line for the YAML parser but not for `SourceFile::line`, so in a
/// file with old Mac line endings a diagnostic quotes the wrong line (found by
/// `arbitrary_bytes`: `"\x01\r\r\0"` gives an error on line 3 of what `SourceFile` sees
/// as one line). Split the YAML way here so this test checks that spans stay inside
/// the file.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        lines.push(&rest[..end]);
        rest = &rest[end..];
        rest = ["\r\n", "\n", "\r"]
            .iter()
            .find_map(|b| rest.strip_prefix(b))
            .unwrap_or(rest);
    }
    lines
}

/// Where in `BASE` a generated template goes: shown text, parameters, expressions.
const TEMPLATE_PLACES: &[&str] = &[
    "      title: \"Stop {{ item }}\"",
    "        run: \"kubectl --kubeconfig {{ secrets.kubeconfig }} delete pod {{ item }}\"",
    "        prompt: Anything to note?",
    "      when: \"{{ not inputs.fresh_backup }}\"",
    "      foreach: \"{{ inputs.members }}\"",
    "        probe: \"etcdctl endpoint health --endpoints {{ item }}\"",
    "          AWS_SECRET_ACCESS_KEY: \"{{ secrets.s3_key }}\"",
    "          run: \"kubectl delete pod etcd-0 # {{ inputs.cluster }}\"",
];

/// The base runbook must load; otherwise the mutation test only tests error paths.
#[test]
fn base_runbook_is_valid() {
    if let Err(diagnostics) = runbook::load(BASE) {
        let file = SourceFile::new("base.yaml", BASE);
        let rendered: Vec<String> = diagnostics.iter().map(|d| d.render(&file, false)).collect();
        panic!("the fuzz base runbook is invalid:\n{}", rendered.join("\n"));
    }
}

/// `cases` unless `PROPTEST_CASES` says otherwise. Found cases are kept as named tests
/// rather than in a regressions file.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn runbook_shaped_text(text in yaml_text()) {
        check(&text)?;
    }

    /// A generated template replaces one in `BASE`, written as a double-quoted (JSON)
    /// string so any text survives YAML.
    #[test]
    fn templates_in_every_place(place in select(TEMPLATE_PLACES), template in template_text()) {
        let (key, _) = place.split_once(": ").expect("every place is `key: value`");
        let quoted = serde_json::to_string(&template).expect("a string serializes");
        let text = BASE.replacen(place, &format!("{key}: {quoted}"), 1);
        check(&text)?;
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn mutated_runbook(mutations in mutations()) {
        let mut text = BASE.as_bytes().to_vec();
        for mutation in &mutations {
            mutation.apply(&mut text);
        }
        check(&String::from_utf8_lossy(&text))?;
    }
}

/// Found by hand after the properties: the tree builder recursed once per level of
/// nesting, and the parser limits only flow collections, so 300 nested block lists
/// (`- - - ... x`, 600 bytes) overflowed the stack of a test thread and aborted the
/// process. Now nesting past 64 levels is a diagnostic.
#[test]
fn deep_nesting_is_a_diagnostic_not_a_stack_overflow() {
    let compact = format!("{}x", "- ".repeat(100_000));
    let indented: String = (0..400).map(|i| format!("{}-\n", " ".repeat(i))).collect();
    let mappings: String = (0..400).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    let in_a_step = BASE.replace(
        "workdir: /tmp",
        &format!("workdir:\n          {}x", "- ".repeat(5000)),
    );
    for text in [compact, indented, mappings, in_a_step] {
        let diagnostics = runbook::load(&text).unwrap_err();
        assert!(
            diagnostics[0].message.contains("nest deeper"),
            "{diagnostics:?}"
        );
        check(&text).unwrap();
    }
}
