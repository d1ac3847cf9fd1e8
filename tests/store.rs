//! The record store: a drill registers itself and uploads its record to a directory
//! store and to an S3 store (moto with Object Lock in compliance mode), and an upload
//! that would replace an object with other bytes is refused, nothing overwritten.

use std::path::Path;

use crate::support::Drbook;
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

const RUNBOOK: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: stored, version: 1.0.0, title: Stored drill}
spec:
  objectives: {rto: 1h, rpo: 1h}
  steps:
    - id: restore
      action: shell
      marks: recovered
      with: {run: \"true\"}
  drill:
    inject:
      - id: break
        action: shell
        with: {run: \"true\"}
";

const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  staging:
    environment: staging
    drill: allowed
";

fn drill(store: &str) -> Drbook {
    Drbook::new().runbook(RUNBOOK).targets(TARGETS).args([
        "drill",
        "runbook.yaml",
        "--target",
        "staging",
        "--run-id",
        "d1",
        "--store",
        store,
    ])
}

fn files(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("the store is a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_drill_registers_and_uploads_its_record_to_a_directory_store() {
    let store = tempfile::tempdir().unwrap();
    let location = store.path().display().to_string();
    let ran = drill(&location).run();
    ran.assert_code(0, "the drill succeeds");
    let lines = ran.journal.len();
    assert_eq!(
        files(store.path()),
        [
            format!("runs/d1/journal.{lines}.jsonl"),
            "runs/d1/registration.json".to_string()
        ]
    );
    let registration: serde_json::Value = serde_json::from_slice(
        &std::fs::read(store.path().join("runs/d1/registration.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(registration["run_id"], "d1");
    assert_eq!(registration["mode"], "drill");
    assert_eq!(registration["target"], "staging");
    assert_eq!(registration["runbook"]["name"], "stored");
    let uploaded =
        std::fs::read(store.path().join(format!("runs/d1/journal.{lines}.jsonl"))).unwrap();
    let local = std::fs::read(ran.then().run_dir("d1").join("journal.jsonl")).unwrap();
    assert_eq!(uploaded, local, "the journal is uploaded byte for byte");

    // Pushing again is the same upload: nothing changes, it succeeds.
    let again = ran
        .then()
        .args(["store", "push", "d1", "--store", &location])
        .run();
    again.assert_code(0, "an idempotent push");
    assert_eq!(files(store.path()).len(), 2);

    // A record whose uploaded object differs is refused, and the store keeps its copy.
    let key = store.path().join(format!("runs/d1/journal.{lines}.jsonl"));
    let mut changed = uploaded.clone();
    changed[10] ^= 1;
    std::fs::write(&key, &changed).unwrap();
    let refused = ran
        .then()
        .args(["store", "push", "d1", "--store", &location])
        .run();
    refused.assert_code(1, "a differing object is refused");
    assert!(
        refused.stderr.contains("already exists in the store")
            && refused.stderr.contains("nothing was overwritten"),
        "{refused:?}"
    );
    assert_eq!(
        std::fs::read(&key).unwrap(),
        changed,
        "nothing was overwritten"
    );
}

#[test]
fn every_session_end_uploads_the_journal_so_far_and_the_audit_reads_the_longest() {
    let store = tempfile::tempdir().unwrap();
    let location = store.path().display().to_string();
    let runbook = RUNBOOK.replace(
        "  steps:\n",
        "  steps:\n    - id: approve\n      checkpoint: {prompt: \"Restore now?\", type: confirm}\n",
    );
    let test = Drbook::new()
        .runbook(&runbook)
        .targets(TARGETS)
        .answers("approve: false\n");
    let stopped = test
        .clone()
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "d1",
            "--store",
            &location,
        ])
        .run();
    stopped.assert_code(5, "stopped at the confirm");
    let first = stopped.journal.len();
    test.write("answers.yaml", "approve: true\n");
    let resumed = stopped
        .then()
        .args(["resume", "d1", "--store", &location])
        .run();
    resumed.assert_code(0, "the resumed drill finishes");
    let second = resumed.journal.len();
    assert!(second > first);
    let mut journals: Vec<String> = files(store.path())
        .into_iter()
        .filter(|f| f.contains("journal."))
        .collect();
    journals.sort_by_key(|f| f.len());
    assert_eq!(
        journals,
        [
            format!("runs/d1/journal.{first}.jsonl"),
            format!("runs/d1/journal.{second}.jsonl")
        ]
    );
    let read =
        |n: usize| std::fs::read(store.path().join(format!("runs/d1/journal.{n}.jsonl"))).unwrap();
    assert!(
        read(second).starts_with(&read(first)),
        "the first upload is a prefix of the second"
    );

    let audit = resumed
        .then()
        .args(["audit", &location, "--format", "json"])
        .run();
    audit.assert_code(0, "an intact record");
    let json: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(json["records"][0]["lines"], second);
    assert_eq!(json["records"][0]["outcome"], "succeeded");

    // An earlier upload that is not the beginning of the later one: rewritten history.
    let first_key = store.path().join(format!("runs/d1/journal.{first}.jsonl"));
    let mut bytes = read(first);
    bytes[20] ^= 1;
    std::fs::write(&first_key, &bytes).unwrap();
    let audit = resumed.then().args(["audit", &location]).run();
    audit.assert_code(6, "a rewritten record");
    assert!(
        audit.stdout.contains(&format!(
            "`journal.{first}.jsonl` is not the beginning of `journal.{second}.jsonl`"
        )),
        "{audit:?}"
    );
}

#[test]
fn a_failed_upload_keeps_the_run_and_says_how_to_upload_again() {
    let blocked = tempfile::tempdir().unwrap();
    // A file where the store's directory would be: every upload fails.
    let location = blocked.path().join("store");
    std::fs::write(&location, "not a directory").unwrap();
    let ran = drill(&location.display().to_string()).run();
    ran.assert_code(1, "the upload failed");
    assert!(
        ran.stderr
            .contains("warning: the run was not registered in the store")
            && ran.stderr.contains("was not uploaded to the store")
            && ran.stderr.contains("drbook store push d1 --store"),
        "{ran:?}"
    );
    assert_eq!(ran.events().last().unwrap()["type"], "run_finished");
}

#[test]
fn an_s3_store_with_object_lock_takes_the_record_and_refuses_to_replace_it() {
    let server = S3Server::start();
    server.create_locked_bucket("records", 1);
    let ran = drill("s3://records/team-a")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("DRBOOK_STORE_ENDPOINT", server.endpoint())
        .run();
    ran.assert_code(0, "the drill succeeds and uploads");
    let lines = ran.journal.len();
    let journal_key = format!("team-a/runs/d1/journal.{lines}.jsonl");
    assert_eq!(
        server.keys("records"),
        [
            journal_key.clone(),
            "team-a/runs/d1/registration.json".to_string()
        ]
    );
    let uploaded = server.get("records", &journal_key);
    // The bucket's default retention took hold: the upload carried the integrity
    // header Object Lock requires, and the object is locked in compliance mode.
    assert_eq!(
        server.lock_mode("records", &journal_key).as_deref(),
        Some("COMPLIANCE")
    );
    let local = std::fs::read_to_string(ran.then().run_dir("d1").join("journal.jsonl")).unwrap();
    assert_eq!(uploaded, local);
    assert!(!ran.stderr.contains(SECRET_KEY) && !ran.stdout.contains(SECRET_KEY));

    // The same record again: the conditional create finds it, with the same bytes.
    let push = |ran: &crate::support::Ran| {
        ran.then()
            .args(["store", "push", "d1", "--store", "s3://records/team-a"])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("DRBOOK_STORE_ENDPOINT", server.endpoint())
            .run()
    };
    push(&ran).assert_code(0, "an idempotent push");

    // A file of the record changed after it was uploaded: the conditional create
    // (If-None-Match: *) refuses the upload, and the store still holds the first bytes.
    std::fs::write(ran.then().run_dir("d1").join("review.md"), "first review\n").unwrap();
    push(&ran).assert_code(0, "the review is uploaded");
    std::fs::write(ran.then().run_dir("d1").join("review.md"), "rewritten\n").unwrap();
    let refused = push(&ran);
    refused.assert_code(1, "a replacement is refused");
    assert!(
        refused.stderr.contains("team-a/runs/d1/review.md")
            || refused.stderr.contains("runs/d1/review.md"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("nothing was overwritten"),
        "{refused:?}"
    );
    assert_eq!(
        server.get("records", "team-a/runs/d1/review.md"),
        "first review\n"
    );

    // The audit reads the S3 store as it reads a directory.
    let audit = ran
        .then()
        .args(["audit", "s3://records/team-a", "--format", "json"])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("DRBOOK_STORE_ENDPOINT", server.endpoint())
        .run();
    audit.assert_code(0, "an intact record");
    let json: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    let record = &json["records"][0];
    assert_eq!(record["run_id"], "d1");
    assert_eq!(record["lines"], lines);
    assert_eq!(record["verified"], true);
    let problems: Vec<&str> = record["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["unsigned"], "reviewed, not signed: {record}");
}

#[test]
fn an_s3_store_without_credentials_refuses_the_run_before_it_starts() {
    let ran = drill("s3://records/team-a")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .run();
    ran.assert_code(64, "no credentials");
    assert!(ran.stderr.contains("set AWS_ACCESS_KEY_ID"), "{ran:?}");
    assert!(ran.journal.is_empty(), "no run was recorded");
}
