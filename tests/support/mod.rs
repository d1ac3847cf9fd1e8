//! Helpers shared by the integration tests: run the real `drbook` executable in a
//! directory and capture what it printed (the builder in `harness.rs`), and small tools
//! around it.

pub mod actions;
pub mod etcd;
pub mod fake_kube;
pub mod harness;
pub mod pki;
pub mod restic;
pub mod s3;

pub use harness::{Drbook, Ran};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What one `drbook` invocation did (code, stdout, stderr, and its run if it has one).
pub type Output = Ran;

/// Runs `drbook args...` in `dir` (which the caller owns), without a terminal or
/// colours, and waits for it: `Drbook::in_dir(dir).args(args).run()`.
pub fn drbook(dir: &Path, args: &[&str]) -> Output {
    // The function had no limit before the builder: allow for whole drills.
    Drbook::in_dir(dir)
        .args(args)
        .limit(Duration::from_secs(300))
        .run()
}

/// The repository root, where `runbooks/` and `docs/` live.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the test can write its temporary file");
    path
}

/// Starts `drbook args...` in `dir` in the background: stdin closed (so it is never a
/// terminal), output captured, no colours, `env` added to its environment. New tests use
/// `Drbook::spawn`, which also finds the run's journal.
// Kept for tests written against it before the builder existed.
#[allow(dead_code)]
pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    Drbook::in_dir(dir)
        .args(args)
        .envs(env)
        .command()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the drbook executable starts")
}

/// Waits for a process started by `spawn`, at most `limit`; kills it and fails the test
/// when it is still running then, so a hanging drbook fails instead of hanging the suite.
pub fn finish_within(child: std::process::Child, limit: Duration) -> std::process::Output {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(output) => output.expect("drbook's output can be read"),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("drbook (pid {pid}) did not finish within {limit:?}: it hangs");
        }
    }
}

/// Polls `done` until it holds; fails the test when `limit` passes first.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Every file, directory and link under `root`, by relative path: the SHA-256 and mode
/// of a file, the mode of a directory, the target of a link; or "missing" when `root`
/// does not exist. Equal digests mean the trees are byte- and mode-identical, so a test
/// can prove that a refused action changed nothing.
pub fn digest(root: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    use sha2::Digest as _;
    use std::os::unix::fs::PermissionsExt;

    let mut out = std::collections::BTreeMap::new();
    if !root.exists() {
        out.insert(PathBuf::new(), "missing".to_string());
        return out;
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(rel, format!("-> {}", target.display()));
            } else if meta.is_dir() {
                out.insert(rel, format!("dir {mode:o}"));
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(
                    rel,
                    format!(
                        "{} {mode:o}",
                        base16ct::lower::encode_string(&sha2::Sha256::digest(&bytes))
                    ),
                );
            }
        }
    }
    out
}

/// The outputs of the last successful attempt of `step` (without `foreach`), from a
/// run's journal events; panics naming the step when none succeeded.
pub fn step_outputs<'a>(events: &[&'a serde_json::Value], step: &str) -> &'a serde_json::Value {
    events
        .iter()
        .rev()
        .find(|e| {
            e["type"] == "step_finished"
                && e["step"] == step
                && e["outcome"]["result"] == "succeeded"
        })
        .map(|e| &e["outcome"]["outputs"])
        .unwrap_or_else(|| panic!("step `{step}` did not succeed: {events:#?}"))
}
