//! A secret that a shell step prints encoded (base64 in every alignment and both
//! alphabets, hex, percent-encoding, JSON) is masked on every path out of the run, like
//! the secret itself; and a runbook whose templates transform a secret never runs.
//!
//! "Not seen" is proved strictly: no 8 characters in a row of any of the secret's
//! encodings appear in any output or file, so a partly masked encoding fails too.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use super::secrets::collect_files;
use super::*;

/// The secret: `/`, `+`, `"`, `&` and `ü` make its percent and JSON forms differ from
/// it, and its base64 holds `+` or `/` in some alignments.
const CANARY: &str = "cAnArY-7f3e9b1d/s3cr3t+\"q\"&ü~?>";

/// Shorter runs of an encoding may occur by chance; 8 characters of one do not.
const WINDOW: usize = 8;

/// The secret as the tools in the runbook print it; for base64 only the characters that
/// encode the secret's bytes alone (the ones at the edges also hold the neighbours' bits).
fn encodings() -> Vec<(String, String)> {
    let bytes = CANARY.as_bytes();
    let mut forms = vec![("as written".to_string(), CANARY.to_string())];
    for before in 0..3 {
        let mut stream = vec![b'x'; before];
        stream.extend_from_slice(bytes);
        let first = (8 * before).div_ceil(6);
        let end = 8 * stream.len() / 6;
        for (name, engine) in [("standard", &STANDARD), ("URL-safe", &URL_SAFE)] {
            let encoded = engine.encode(&stream);
            forms.push((
                format!("{name} base64 after {before} bytes"),
                encoded[first..end].to_string(),
            ));
        }
    }
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    forms.push(("hex".into(), hex.concat()));
    forms.push(("HEX".into(), hex.concat().to_uppercase()));
    forms.push(("spaced hex".into(), hex.join(" ")));
    let percent: String = bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    forms.push(("percent-encoded".into(), percent));
    let json = serde_json::to_string(CANARY).unwrap();
    forms.push(("JSON".into(), json.clone()));
    forms.push(("ASCII JSON".into(), json.replace('ü', "\\u00fc")));
    forms
}

/// Every run of `WINDOW` characters of every encoding, with what it is part of.
fn needles() -> Vec<(String, String)> {
    let mut needles = Vec::new();
    for (name, form) in encodings() {
        let chars: Vec<char> = form.chars().collect();
        assert!(chars.len() >= WINDOW, "{name}: {form}");
        for window in chars.windows(WINDOW) {
            needles.push((name.clone(), window.iter().collect()));
        }
    }
    needles
}

/// Fails if `text` (what `place` holds) contains any piece of any encoding.
fn assert_unseen(place: &str, text: &str, needles: &[(String, String)]) {
    for (name, needle) in needles {
        assert!(
            !text.contains(needle.as_str()),
            "{place} shows `{needle}` of the secret's {name} form:\n{text}"
        );
    }
}

const ENCODE: &str = r#"  secrets:
    - {name: token, env: DRBOOK_TEST_CANARY}
  steps:
    - id: encode
      action: shell
      with:
        env: {TOKEN: "{{ secrets.token }}", PYTHONIOENCODING: utf-8}
        run: |
          echo -n "$TOKEN" | base64
          printf 'x%s' "$TOKEN" | base64 -w0; echo
          { printf 'xy%s!' "$TOKEN" | base64 -w0; echo; } >&2
          printf 'xy%s' "$TOKEN" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo
          { printf 'x%s' "$TOKEN" | base64 -w0 | tr '+/' '-_'; echo; } >&2
          printf '%s' "$TOKEN" | od -An -tx1 -v -w64
          printf '%s' "$TOKEN" | od -An -tx1 -v -w64 | tr -d ' ' | tr a-f A-F >&2
          python3 -c 'import os, urllib.parse as u; print(u.quote(os.environ["TOKEN"], safe=""))'
          python3 -c 'import os, urllib.parse as u; print("url=" + u.quote_plus(os.environ["TOKEN"]))'
          python3 -c 'import os, json; print(json.dumps({"ascii": os.environ["TOKEN"]}))'
          python3 -c 'import os, json; print("raw " + json.dumps(os.environ["TOKEN"], ensure_ascii=False))' >&2
          echo "B64=$(printf 'user:%s' "$TOKEN" | base64 -w0)"
          echo "HEX=$(printf '%s' "$TOKEN" | od -An -tx1 -v -w64 | tr -d ' ')"
    - id: read_back
      action: shell
      with: {run: "echo GOT={{ steps.encode.outputs.B64 }}"}
    - id: fail_encoded
      action: shell
      with:
        env: {TOKEN: "{{ secrets.token }}"}
        run: |
          printf 'xy%s' "$TOKEN" | base64 -w0 >&2
          exit 3
      marks: recovered
"#;

#[test]
fn encoded_secrets_are_masked_on_every_output_path() {
    let f = test();
    write_runbook(&f, "r.yaml", ENCODE);
    let env = [("DRBOOK_TEST_CANARY", CANARY)];
    let text = f
        .clone()
        .envs(&env)
        .args(["run", "r.yaml", "--run-id", "text"])
        .run();
    let json_out = f
        .clone()
        .envs(&env)
        .args(["run", "r.yaml", "--run-id", "json", "--output", "json"])
        .run();
    let show = f.run_with(&["runs", "show", "text"]);
    let needles = needles();
    for (name, out, code) in [
        ("run (text)", &text, 1),
        ("run (--output json)", &json_out, 1),
        ("runs show", &show, 0),
    ] {
        assert_eq!(out.code, code, "{name}:\n{}\n{}", out.stdout, out.stderr);
        assert_unseen(&format!("stdout of {name}"), &out.stdout, &needles);
        assert_unseen(&format!("stderr of {name}"), &out.stderr, &needles);
    }
    // Masked, not dropped: every line the step printed holds the mask, and so does
    // the error of the failed step.
    let journal = f.journal("text");
    let lines: Vec<&str> = step_records(&journal, "step_output", "encode")
        .iter()
        .map(|r| event(r)["line"].as_str().unwrap())
        .collect();
    assert_eq!(lines.len(), 13, "{lines:#?}");
    for line in &lines {
        assert!(line.contains("***"), "`{line}` in {lines:#?}");
    }
    let outputs = &event(one(&journal, "step_finished", "encode"))["outcome"]["outputs"];
    assert_eq!(outputs["ascii"], "***", "{outputs}");
    assert_eq!(outputs["HEX"], "***", "{outputs}");
    assert!(
        outputs["B64"].as_str().unwrap().contains("***"),
        "{outputs}"
    );
    assert!(text.stderr.contains("***"), "{}", text.stderr);

    let mut files = Vec::new();
    collect_files(&f.state(), &mut files);
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert_unseen(
            &file.display().to_string(),
            &String::from_utf8_lossy(&bytes),
            &needles,
        );
    }
}

/// The template cases never reach a step: the run is refused as invalid before the
/// secret is read, and nothing is recorded.
#[test]
fn a_runbook_that_transforms_a_secret_does_not_run() {
    let f = test();
    for (i, template) in [
        "{{ secrets.token | upper }}",
        "{{ secrets.token[2:] }}",
        "{{ secrets.token | list | join(' ') }}",
        "{{ secrets.token ~ 'x' }}",
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("t{i}.yaml");
        write_runbook(
            &f,
            &name,
            &format!(
                "  secrets:\n    - {{name: token, env: DRBOOK_TEST_CANARY}}\n  steps:\n    - id: show\n      action: shell\n      with: {{run: \"echo {template}\"}}\n      marks: recovered\n"
            ),
        );
        let out = f
            .clone()
            .env("DRBOOK_TEST_CANARY", CANARY)
            .args(["run", name.as_str()])
            .run();
        assert_eq!(out.code, 2, "{template}: {out:?}");
        assert!(
            out.stderr.contains("a transformed secret cannot be masked"),
            "{template}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("--> {name}:10:")),
            "{template}: {}",
            out.stderr
        );
        let needles = needles();
        assert_unseen(template, &out.stdout, &needles);
        assert_unseen(template, &out.stderr, &needles);
    }
    assert!(
        !f.state().join("runs").exists(),
        "a refused run is recorded"
    );
}
