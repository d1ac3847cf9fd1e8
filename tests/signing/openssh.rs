//! drbook's signatures are OpenSSH's: one drbook made checks with `ssh-keygen -Y
//! verify` over `head -n N journal.jsonl` (as docs/audit.md tells an auditor), one
//! `ssh-keygen -Y sign` made verifies with drbook, the two are the same bytes for the
//! same key and lines, and `--sign-program ssh-keygen` signs a run through OpenSSH.

use std::io::Write as _;
use std::process::Stdio;

use drbook::signing::verify_record;

use super::*;

/// Runs `ssh-keygen args` with `input` on stdin; returns (success, stdout, stderr).
fn ssh_keygen_with(args: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(ssh_keygen())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ssh-keygen runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// `bytes` with one bit of its 11th byte changed.
fn changed(bytes: &[u8]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    bytes[10] ^= 1;
    bytes
}

#[test]
fn a_signature_drbook_made_verifies_with_ssh_keygen_and_is_the_bytes_ssh_keygen_makes() {
    let f = drill_dir(true);
    let alice = key(f.path(), "alice");
    drill(&f, "d1", &alice).assert_code(0, "the drill finishes");
    let dir = f.run_dir("d1");
    let journal = std::fs::read(dir.join("journal.jsonl")).unwrap();
    let lines = journal.iter().filter(|&&b| b == b'\n').count();
    let sig = dir.join(format!("signatures/{lines}.sig"));
    let allowed = allowed_signers(f.path(), "allowed", &[("test-operator", &alice)]);
    let (ok, stdout, stderr) = ssh_keygen_with(
        &[
            "-Y",
            "verify",
            "-f",
            allowed.to_str().unwrap(),
            "-I",
            "test-operator",
            "-n",
            "drbook-journal",
            "-s",
            sig.to_str().unwrap(),
        ],
        &journal,
    );
    assert!(
        ok,
        "ssh-keygen -Y verify refused drbook's signature: {stdout}{stderr}"
    );
    assert!(
        stdout.contains("Good \"drbook-journal\" signature for test-operator"),
        "{stdout}{stderr}"
    );
    // Someone else's name, another namespace, a changed byte: OpenSSH refuses too.
    for (identity, namespace, input) in [
        ("mallory", "drbook-journal", journal.clone()),
        ("test-operator", "git", journal.clone()),
        ("test-operator", "drbook-journal", changed(&journal)),
    ] {
        let (ok, ..) = ssh_keygen_with(
            &[
                "-Y",
                "verify",
                "-f",
                allowed.to_str().unwrap(),
                "-I",
                identity,
                "-n",
                namespace,
                "-s",
                sig.to_str().unwrap(),
            ],
            &input,
        );
        assert!(!ok, "ssh-keygen accepted {identity} {namespace}");
    }
    // ed25519 signatures are deterministic: ssh-keygen's of the same lines with the same
    // key is byte for byte the file drbook wrote.
    let (ok, theirs, stderr) = ssh_keygen_with(
        &[
            "-Y",
            "sign",
            "-f",
            alice.private.to_str().unwrap(),
            "-n",
            "drbook-journal",
        ],
        &journal,
    );
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read_to_string(&sig).unwrap(), theirs);
}

#[test]
fn a_signature_ssh_keygen_made_verifies_with_drbook() {
    let f = drill_dir(true);
    let alice = key(f.path(), "alice");
    let bob = key(f.path(), "bob");
    // Run unsigned; bob's OpenSSH signs the record afterwards.
    f.clone()
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
        .run()
        .assert_code(0, "the drill finishes");
    let dir = f.run_dir("d1");
    assert!(!dir.join("signatures").exists(), "no key, no signature");
    let journal = std::fs::read(dir.join("journal.jsonl")).unwrap();
    let lines = journal.iter().filter(|&&b| b == b'\n').count();
    let (ok, armored, stderr) = ssh_keygen_with(
        &[
            "-Y",
            "sign",
            "-f",
            bob.private.to_str().unwrap(),
            "-n",
            "drbook-journal",
        ],
        &journal,
    );
    assert!(ok, "{stderr}");
    std::fs::create_dir_all(dir.join("signatures")).unwrap();
    std::fs::write(dir.join(format!("signatures/{lines}.sig")), armored).unwrap();
    let allowed = load(&allowed_signers(
        f.path(),
        "allowed",
        &[("alice", &alice), ("test-operator,bob@example.com", &bob)],
    ));
    let v = verify_record(&dir, &allowed);
    assert!(v.is_verified(), "{v:#?}");
    assert!(
        matches!(&v.signatures[0].status, drbook::signing::verification::SignatureStatus::Verified { principals, .. }
            if principals == &["test-operator".to_string(), "bob@example.com".to_string()]),
        "{v:#?}"
    );
}

#[test]
fn sign_program_ssh_keygen_signs_the_record_through_openssh() {
    let f = drill_dir(true);
    let alice = key(f.path(), "alice");
    f.clone()
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
        .args(["--sign-program", "ssh-keygen", "--sign-key"])
        .args([&alice.private])
        .run()
        .assert_code(0, "the drill finishes, signed by ssh-keygen");
    let allowed = load(&allowed_signers(
        f.path(),
        "allowed",
        &[("test-operator", &alice)],
    ));
    let v = verify_record(&f.run_dir("d1"), &allowed);
    assert!(v.is_verified(), "{v:#?}");
}
