//! Signed run records (docs/signing.md): the journal signed at every end of a session,
//! `drbook verify` and its library function `verify_record`, the review, and the same
//! files checked by real OpenSSH (`ssh-keygen`, Debian `openssh-client`) both ways.
//!
//! Keys are made by the real `ssh-keygen` in each test's directory. Runs go through the
//! real executable; the thousands of tampered copies of a journal are checked in
//! process through `verify_record`, the function `drbook verify` and `audit` call.

mod openssh;
mod refusals;
mod review;
mod sessions;
mod tamper;

use std::path::{Path, PathBuf};
use std::process::Command;

use drbook::signing::verification::SignatureStatus;
use drbook::signing::{AllowedSigners, Verification};

use crate::support::{Drbook, Ran};

/// A drill with one step before and one after a confirm checkpoint, so an answers file
/// that says "no" stops it half-way (a session end) and one that says "yes" finishes it.
pub const RUNBOOK: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: signed, version: 1.0.0, title: Signed record}
spec:
  objectives: {rto: 10m, rpo: 10m}
  steps:
    - id: before
      action: shell
      with: {run: echo before}
    - id: approve
      checkpoint: {prompt: Go on?, type: confirm}
    - id: after
      action: shell
      with: {run: echo after}
";

pub const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  staging:
    environment: staging
    drill: allowed
";

/// `ssh-keygen`, or a failure saying how to install it: these tests never skip.
pub fn ssh_keygen() -> &'static str {
    let found = Command::new("ssh-keygen").arg("-?").output().is_ok();
    assert!(
        found,
        "ssh-keygen is missing: these tests check drbook's signatures with real OpenSSH; install it with `apt-get install openssh-client`"
    );
    "ssh-keygen"
}

/// An ed25519 key made by ssh-keygen: the private key file and the public key line.
pub struct Key {
    pub private: PathBuf,
    pub public: String,
}

/// Makes key `name` in `dir` (no passphrase unless `passphrase` is given).
pub fn key_with(dir: &Path, name: &str, passphrase: &str) -> Key {
    let private = dir.join(name);
    let status = Command::new(ssh_keygen())
        .args(["-q", "-t", "ed25519", "-C", name, "-N", passphrase, "-f"])
        .arg(&private)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen made no key");
    let public = std::fs::read_to_string(private.with_extension("pub"))
        .expect("ssh-keygen wrote the public key")
        .trim()
        .to_string();
    Key { private, public }
}

pub fn key(dir: &Path, name: &str) -> Key {
    key_with(dir, name, "")
}

/// Writes an allowed signers file of `(principal, key)` lines and returns its path.
pub fn allowed_signers(dir: &Path, name: &str, lines: &[(&str, &Key)]) -> PathBuf {
    let text: String = lines
        .iter()
        .map(|(principal, key)| format!("{principal} {}\n", key.public))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the allowed signers file is written");
    path
}

pub fn load(path: &Path) -> AllowedSigners {
    AllowedSigners::load(path).expect("the allowed signers file reads")
}

/// A test directory with the drill, its targets and answers saying `answer`.
pub fn drill_dir(answer: bool) -> Drbook {
    Drbook::new()
        .runbook(RUNBOOK)
        .targets(TARGETS)
        .answers(&format!("approve: {answer}\n"))
}

/// Runs the drill as `id`, signed with `key`.
pub fn drill(f: &Drbook, id: &str, key: &Key) -> Ran {
    f.clone()
        .args([
            "drill",
            "runbook.yaml",
            "--target",
            "staging",
            "--answers",
            "answers.yaml",
        ])
        .args(["--run-id", id, "--sign-key"])
        .args([&key.private])
        .run()
}

/// The statuses of a verification's journal signatures, by the lines they cover.
pub fn statuses(v: &Verification) -> Vec<(usize, SignatureStatus)> {
    v.signatures
        .iter()
        .map(|s| (s.lines, s.status.clone()))
        .collect()
}
