//! A key drbook cannot sign with refuses the run before it starts, with what to do: a
//! missing file (66), a key with a passphrase, a key that is not ed25519 and a signing
//! program that is not there (4). No run directory is made, and no key byte is printed.

use super::*;

/// Runs the drill signed with `args` and checks it was refused with `code` saying
/// `says`, before any run directory existed.
fn refused(f: &Drbook, args: &[&str], code: i32, says: &str) -> String {
    let ran = f
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
        ])
        .args(args)
        .run();
    assert_eq!(ran.code, code, "{}", ran.stderr);
    assert!(ran.stderr.contains(says), "{}", ran.stderr);
    assert!(
        !f.run_dir("d1").exists(),
        "a refused run made its directory"
    );
    ran.stderr
}

#[test]
fn a_key_drbook_cannot_sign_with_refuses_the_run_before_it_starts() {
    let f = drill_dir(true);
    refused(
        &f,
        &["--sign-key", "nokey"],
        66,
        "error: cannot read `nokey`: no such file (the signing key named by `--sign-key` or $DRBOOK_SIGN_KEY; `ssh-keygen -t ed25519 -f FILE` makes one)",
    );
    let locked = key_with(f.path(), "locked", "correct horse");
    let stderr = refused(
        &f,
        &["--sign-key", locked.private.to_str().unwrap()],
        4,
        "is protected by a passphrase, and drbook never asks for one: load it into ssh-agent",
    );
    let secret = std::fs::read_to_string(&locked.private).unwrap();
    let body = secret.lines().nth(1).unwrap();
    assert!(!stderr.contains(body), "key bytes in the message: {stderr}");

    let rsa = f.path().join("rsa");
    let status = Command::new(ssh_keygen())
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa)
        .status()
        .unwrap();
    assert!(status.success());
    refused(
        &f,
        &["--sign-key", rsa.to_str().unwrap()],
        4,
        "is an ssh-rsa key; drbook signs with ed25519 keys itself",
    );
    refused(
        &f,
        &["--sign-key", "rsa.pub"],
        4,
        "`rsa.pub` is not an OpenSSH private key",
    );
    let alice = key(f.path(), "alice");
    refused(
        &f,
        &[
            "--sign-program",
            "no-such-ssh-keygen",
            "--sign-key",
            alice.private.to_str().unwrap(),
        ],
        4,
        "`--sign-program no-such-ssh-keygen` is not a program on the PATH",
    );
    refused(
        &f,
        &["--sign-program", "ssh-keygen"],
        64,
        "`--sign-program` needs `--sign-key FILE`",
    );
}
