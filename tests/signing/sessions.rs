//! Every end of a session signs the journal as it is then: a drill stopped half-way and
//! resumed leaves two signatures, of the first N lines and of all of them, and both
//! verify; `drbook verify` says so (exit 0), as text and as JSON.

use drbook::signing::verification::SignatureStatus;
use drbook::signing::verify_record;

use super::*;

#[test]
fn a_stop_and_a_resume_leave_two_signatures_that_both_verify() {
    let f = drill_dir(false);
    let alice = key(f.path(), "alice");
    let stopped = drill(&f, "d1", &alice);
    stopped.assert_code(5, "the answers file says no: the drill stops");
    let dir = f.run_dir("d1");
    let first = f.journal("d1").len();
    assert!(
        dir.join(format!("signatures/{first}.sig")).is_file(),
        "the stop signed"
    );

    f.write("answers.yaml", "approve: true\n");
    let resumed = f
        .clone()
        .args(["resume", "d1", "--sign-key"])
        .args([&alice.private])
        .run();
    resumed.assert_code(0, "the resumed drill finishes");
    let all = f.journal("d1").len();
    assert!(all > first);

    let allowed = allowed_signers(f.path(), "allowed", &[("test-operator", &alice)]);
    let v = verify_record(&dir, &load(&allowed));
    assert!(v.is_verified(), "{v:#?}");
    let fingerprint = match &v.signatures[0].status {
        SignatureStatus::Verified { fingerprint, .. } => fingerprint.clone(),
        other => panic!("{other:?}"),
    };
    let verified = |principals: &[&str]| SignatureStatus::Verified {
        principals: principals.iter().map(|p| p.to_string()).collect(),
        fingerprint: fingerprint.clone(),
    };
    assert_eq!(
        statuses(&v),
        vec![
            (first, verified(&["test-operator"])),
            (all, verified(&["test-operator"]))
        ]
    );
    assert_eq!(v.signatures[1].part.first, first + 1);
    assert_eq!(v.signatures[1].operator.as_deref(), Some("test-operator"));
    assert_eq!(v.unsigned_tail, None);

    let text = f
        .clone()
        .args(["verify", "d1", "--allowed-signers", "allowed"])
        .run();
    text.assert_code(0, "everything verified");
    assert!(
        text.stdout.contains(&format!("chain: intact, {all} lines")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!(
            "signatures/{first}.sig: lines 1-{first}: verified: signed by test-operator ({fingerprint}); the session's operator is test-operator"
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.ends_with("result: verified\n"),
        "{}",
        text.stdout
    );
    let json = f
        .clone()
        .args([
            "verify",
            &dir.display().to_string(),
            "--allowed-signers",
            "allowed",
            "--output",
            "json",
        ])
        .run();
    json.assert_code(0, "the run directory is a record too");
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(json["signatures"][1]["status"], "verified");
    assert_eq!(json["signatures"][1]["lines"], all);
    assert_eq!(json["chain"]["broken"], serde_json::Value::Null);
}

#[test]
fn the_key_from_the_environment_signs_and_an_unsigned_tail_is_reported() {
    let f = drill_dir(true);
    let alice = key(f.path(), "alice");
    let ran = f
        .clone()
        .env("DRBOOK_SIGN_KEY", &alice.private)
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
            "--run-id",
            "d1",
        ])
        .run();
    ran.assert_code(0, "the drill finishes");
    let lines = f.journal("d1").len();
    let dir = f.run_dir("d1");
    assert!(dir.join(format!("signatures/{lines}.sig")).is_file());
    // A line written after the last signature (as by a session that died) is recorded
    // but vouched for by nobody.
    let journal = dir.join("journal.jsonl");
    let bytes = std::fs::read(&journal).unwrap();
    let last = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    std::fs::remove_file(dir.join(format!("signatures/{lines}.sig"))).unwrap();
    let signer = drbook::signing::Signer::from_key_file(&alice.private).unwrap();
    let armored = signer
        .sign("drbook-journal", &bytes[..last], "test")
        .unwrap();
    std::fs::create_dir_all(dir.join("signatures")).unwrap();
    std::fs::write(dir.join(format!("signatures/{}.sig", lines - 1)), armored).unwrap();
    let allowed = allowed_signers(f.path(), "allowed", &[("test-operator", &alice)]);
    let v = verify_record(&dir, &load(&allowed));
    assert!(!v.is_verified());
    assert!(v.signatures[0].status.is_verified(), "{v:#?}");
    assert_eq!(
        v.unsigned_tail,
        Some(drbook::signing::verification::LineRange {
            first: lines,
            last: lines
        })
    );
    let ran = f
        .clone()
        .args(["verify", "d1", "--allowed-signers", "allowed"])
        .run();
    ran.assert_code(6, "an unsigned tail is not verified");
    assert!(
        ran.stdout.contains(&format!(
            "UNSIGNED TAIL: lines {lines}-{lines} are covered by no signature"
        )),
        "{}",
        ran.stdout
    );
}

/// A step that kills drbook (its parent) the first time it runs, and succeeds after.
const CRASHING: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: crashing, version: 1.0.0, title: Crashing}
spec:
  steps:
    - id: crash
      action: shell
      idempotent: true
      with: {run: 'if [ ! -e crashed ]; then touch crashed; kill -9 $PPID; fi'}
    - id: after
      action: shell
      with: {run: echo after}
";

#[test]
fn the_lines_of_a_session_that_died_are_signed_at_the_next_end() {
    let f = Drbook::new().file("crashing.yaml", CRASHING);
    let alice = key(f.path(), "alice");
    let crashed = f
        .clone()
        .args(["run", "crashing.yaml", "--run-id", "r1", "--sign-key"])
        .args([&alice.private])
        .run();
    assert_ne!(crashed.code, 0, "drbook was killed: {crashed:?}");
    let dir = f.run_dir("r1");
    assert!(
        !dir.join("signatures").exists(),
        "a session that died has no end to sign at"
    );
    let allowed = load(&allowed_signers(
        f.path(),
        "allowed",
        &[("test-operator", &alice)],
    ));
    let v = verify_record(&dir, &allowed);
    assert!(!v.is_verified() && v.is_unsigned());
    assert_eq!(v.unsigned_tail.map(|t| t.first), Some(1));

    f.clone()
        .args(["resume", "r1", "--sign-key"])
        .args([&alice.private])
        .run()
        .assert_code(0, "the resumed run finishes");
    let v = verify_record(&dir, &allowed);
    assert!(v.is_verified(), "{v:#?}");
    assert_eq!(v.signatures.len(), 1);
    assert_eq!(
        v.signatures[0].part.first, 1,
        "the dead session's lines are covered"
    );
    assert_eq!(v.signatures[0].lines, f.journal("r1").len());
}
