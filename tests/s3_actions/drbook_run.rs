//! A fetch driven end to end by `drbook run`: `s3.latest` finds the newest backup and
//! `s3.get` downloads it, with the secret key from a runbook secret, which appears in
//! neither stdout, stderr nor any file under the state directory.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{data, sha256};
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::support::{Drbook, write};

/// The longest one `drbook run` here may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Fails the test when the secret key appears in `text`.
fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_KEY),
        "the secret key appears in {what}: {text}"
    );
}

/// The runbook that finds the newest backup and fetches it, the secret key from the
/// environment; `path_style` is a template, which renders as Jinja's `True`.
fn fetch_runbook(endpoint: &str, file: &Path) -> String {
    let file = file.display();
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: s3-fetch, version: 1.0.0}}
spec:
  secrets:
    - {{name: s3_secret_key, env: DRBOOK_TEST_S3_SECRET}}
  steps:
    - id: latest
      action: s3.latest
      with:
        endpoint: "{endpoint}"
        bucket: backups
        access_key_id: {ACCESS_KEY}
        secret_access_key: "{{{{ secrets.s3_secret_key }}}}"
        prefix: c1-default-backups-
        suffix: .db.gz
    - id: fetch
      action: s3.get
      with:
        endpoint: "{endpoint}"
        bucket: backups
        access_key_id: {ACCESS_KEY}
        secret_access_key: "{{{{ secrets.s3_secret_key }}}}"
        path_style: "{{{{ 1 == 1 }}}}"
        key: "{{{{ steps.latest.outputs.key }}}}"
        file: "{file}"
"#
    )
}

#[test]
fn drbook_run_fetches_the_newest_backup_and_never_records_the_secret() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    server.create_bucket("backups");
    let bytes = data(1 << 20, 6);
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-00-00.db.gz",
        &bytes,
    );
    let file = root.join("fetched.db.gz");
    write(
        root,
        "fetch.yaml",
        &fetch_runbook(&server.endpoint(), &file),
    );
    let state = root.join("state");
    let out = Drbook::in_dir(root)
        .args([
            "run",
            "fetch.yaml",
            "--run-id",
            "fetch",
            "--state-dir",
            &state.display().to_string(),
        ])
        .envs(&[("DRBOOK_TEST_S3_SECRET", SECRET_KEY)])
        .limit(RUN_LIMIT)
        .run();
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    assert_no_secret("stdout", stdout);
    assert_no_secret("stderr", stderr);

    let journal = std::fs::read_to_string(state.join("runs/fetch/journal.jsonl")).unwrap();
    let fetched = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event"]["type"] == "step_finished" && r["event"]["step"] == "fetch")
        .expect("the fetch step finished");
    assert_eq!(
        fetched["event"]["outcome"]["outputs"]["sha256"],
        sha256(&bytes)
    );

    let mut files = 0;
    let mut stack = vec![state.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                assert_no_secret(&path.display().to_string(), &text);
            }
        }
    }
    assert!(files > 0, "the run left a record");
}
