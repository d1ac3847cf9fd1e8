//! Secret masking on every path a value can take out of a run: terminal, `--output
//! json`, stderr, the journal, `runs show`, and every file under the state directory.

use super::*;

/// The secret of the masking test: it must never be seen anywhere.
const CANARY: &str = "cAnArY-7f3e9b1d-s3cr3t";

#[test]
fn secrets_are_masked_on_every_output_path() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  secrets:
    - {name: token, env: DRBOOK_TEST_CANARY}
  steps:
    - id: ticket
      checkpoint: {prompt: "Ticket text?", type: text}
    - id: show
      action: shell
      with:
        env: {TOKEN: "{{ secrets.token }}"}
        run: |
          echo "stdout $TOKEN"
          echo "stderr $TOKEN" >&2
          echo "TOKEN=$TOKEN"
          echo "{\"json\": \"in json $TOKEN\"}"
    - id: fan
      foreach: [plain, "{{ secrets.token }}"]
      action: shell
      with: {run: "echo ITEM={{ item }}"}
    - id: read_back
      action: shell
      with: {run: "echo GOT={{ steps.show.outputs.TOKEN }}"}
    - id: noisy_failure
      on_failure: continue
      action: shell
      with:
        env: {TOKEN: "{{ secrets.token }}"}
        run: |
          echo "denied for $TOKEN" >&2
          exit 2
    - id: fatal
      action: shell
      with: {run: "echo 'fatal: {{ secrets.token }}' >&2; exit 4"}
"#,
    );
    f.write("drbook.targets.yaml",
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging: {environment: staging, drill: allowed}\n",
    );
    f.write("answers.yaml", &format!("ticket: \"INC-1 {CANARY}\"\n"));
    let env = [("DRBOOK_TEST_CANARY", CANARY)];
    let common = [
        "drill",
        "r.yaml",
        "--target",
        "staging",
        "--answers",
        "answers.yaml",
    ];
    let text = f
        .clone()
        .args(common)
        .args(["--run-id", "text"])
        .envs(&env)
        .run();
    let json_out = f
        .clone()
        .args(common)
        .args(["--run-id", "json", "--output", "json"])
        .envs(&env)
        .run();
    let show_text = f.run_with(&["runs", "show", "text"]);
    let show_json = f.run_with(&["runs", "show", "json"]);
    let list = f.run_with(&["runs", "list"]);
    for (name, out, code) in [
        ("run (text)", &text, 1),
        ("run (--output json)", &json_out, 1),
        ("runs show text", &show_text, 0),
        ("runs show json", &show_json, 0),
        ("runs list", &list, 0),
    ] {
        assert_eq!(out.code, code, "{name}:\n{}\n{}", out.stdout, out.stderr);
        assert!(
            !out.stdout.contains(CANARY) && !out.stderr.contains(CANARY),
            "{name} shows the secret:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
    // Masked, not dropped: `***` stands where the secret was.
    for expected in [
        "│ stdout ***",
        "│ stderr ***",
        "▶ fan [***]",
        "✖ noisy_failure",
        "denied for ***",
        // The answers file is recorded (and shown) by its absolute path.
        "ticket: \"INC-1 ***\" (from answers file /",
    ] {
        assert!(
            text.stdout.contains(expected),
            "`{expected}` in:\n{}",
            text.stdout
        );
    }
    for out in [&text, &json_out] {
        assert!(
            out.stderr.contains("last stderr: fatal: ***"),
            "{}",
            out.stderr
        );
    }
    assert!(
        show_text.stdout.contains("\"TOKEN\":\"***\""),
        "{}",
        show_text.stdout
    );
    assert!(
        show_text.stdout.contains("▶ fan [***]"),
        "{}",
        show_text.stdout
    );
    assert!(
        show_json.stdout.contains("denied for ***"),
        "{}",
        show_json.stdout
    );

    for id in ["text", "json"] {
        let journal = f.journal(id);
        let outputs = &event(one(&journal, "step_finished", "show"))["outcome"]["outputs"];
        assert_eq!(*outputs, json!({"TOKEN": "***", "json": "in json ***"}));
        assert_eq!(
            event(one(&journal, "step_finished", "read_back"))["outcome"]["outputs"],
            json!({"GOT": "***"})
        );
        assert_eq!(
            event(one(&journal, "checkpoint_answered", "ticket"))["answer"],
            "INC-1 ***"
        );
        let labels: Vec<&Value> = step_records(&journal, "step_started", "fan")
            .iter()
            .map(|r| &event(r)["label"])
            .collect();
        assert_eq!(labels, [&json!("plain"), &json!("***")]);
    }
    // The JSON lines on stdout are the journal's lines.
    let journal_text = std::fs::read_to_string(f.run_dir("json").join("journal.jsonl")).unwrap();
    assert_eq!(json_out.stdout, journal_text);

    // Nothing under the state directory holds the secret: journals, runbook copies,
    // locks, whatever the steps left in their work directories.
    let mut files = Vec::new();
    collect_files(&f.state(), &mut files);
    assert!(files.len() >= 6, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "{} holds the secret",
            file.display()
        );
    }
}

pub(super) fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}
