//! Nothing drbook started outlives it: the real `drbook run` is killed with SIGKILL while
//! a long shell step (alone, with a foreground and with a background grandchild), a real
//! etcd snapshot restore and a real restic restore from the S3 server run, and every
//! process below drbook at that moment must be gone within `KILL_LIMIT`. Then `drbook
//! resume` finishes the run, which proves the staging directories a killed restore left
//! are cleaned up.
//!
//! Nothing sleeps to synchronise: the test watches drbook's process tree in /proc until
//! the child it waits for runs, and polls /proc after the kill with a deadline. A process
//! is told apart from a later one with the same pid by its start time; a zombie counts as
//! gone (it runs no more; whether anyone reaps it is up to PID 1).

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::etcd::{EtcdCluster, require};
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY, require_tool};
use crate::support::{finish_within, spawn, write};

/// How long after drbook's death its last descendant may still run.
const KILL_LIMIT: Duration = Duration::from_secs(1);

/// How long drbook may take to reach the child the test waits for (restic starts slowly
/// against a server that answers slowly under load).
const START_LIMIT: Duration = Duration::from_secs(60);

/// How long a resume may take.
const RESUME_LIMIT: Duration = Duration::from_secs(120);

/// One process, as /proc shows it.
#[derive(Debug, Clone)]
struct Process {
    pid: i32,
    /// Start time in clock ticks since boot: with the pid, names the process for good.
    start: u64,
    command: String,
}

/// State, parent and start time from `/proc/<pid>/stat`. The command name in it may hold
/// spaces and parentheses, so the fields are counted from the last `)`.
fn stat(pid: i32) -> Option<(char, i32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After the name: state (3), ppid (4), …, starttime (22).
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((state, ppid, start))
}

fn command_line(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            String::from_utf8_lossy(&bytes)
                .trim_end_matches('\0')
                .replace('\0', " ")
        })
        .unwrap_or_default()
}

/// Every running (not zombie) process below `root`.
fn descendants(root: i32) -> Vec<Process> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some((state, ppid, start)) = stat(pid) {
            all.push((pid, ppid, state, start));
        }
    }
    let mut found: Vec<Process> = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for &(pid, ppid, state, start) in &all {
            if ppid == parent && !matches!(state, 'Z' | 'X') {
                parents.push(pid);
                found.push(Process {
                    pid,
                    start,
                    command: command_line(pid),
                });
            }
        }
    }
    found
}

/// True while `process` (the same one, not a later one with its pid) runs.
fn running(process: &Process) -> bool {
    matches!(stat(process.pid), Some((state, _, start)) if start == process.start && !matches!(state, 'Z' | 'X'))
}

/// Starts `drbook args…` in `dir`, waits until `ready` holds for the processes below it,
/// kills drbook with SIGKILL, and fails unless every process that was below it is gone
/// within `KILL_LIMIT`. Returns those processes.
fn kill_drbook_when(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    what: &str,
    ready: impl Fn(&[Process]) -> bool,
) -> Vec<Process> {
    let mut drbook = spawn(dir, args, env);
    let pid = drbook.id() as i32;
    let deadline = Instant::now() + START_LIMIT;
    let tree = loop {
        let tree = descendants(pid);
        if ready(&tree) {
            break tree;
        }
        if let Ok(Some(_)) = drbook.try_wait() {
            let output = drbook.wait_with_output().unwrap();
            panic!(
                "drbook ended before {what} ran: {:?}\nstdout:\n{}\nstderr:\n{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        if Instant::now() > deadline {
            let _ = drbook.kill();
            panic!("{what} did not start within {START_LIMIT:?}; below drbook: {tree:#?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };

    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    let killed = Instant::now();
    reap(drbook);
    loop {
        let survivors: Vec<&Process> = tree.iter().filter(|p| running(p)).collect();
        if survivors.is_empty() {
            break;
        }
        if killed.elapsed() > KILL_LIMIT {
            let report = format!("{survivors:#?}");
            for survivor in survivors {
                let _ = kill(Pid::from_raw(survivor.pid), Signal::SIGKILL);
            }
            panic!(
                "{KILL_LIMIT:?} after drbook was killed during {what}, these still ran: {report}"
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!(
        "{what}: {} processes below drbook, all gone {:?} after the kill",
        tree.len(),
        killed.elapsed()
    );
    tree
}

/// Waits for the killed drbook, so it leaves no zombie.
fn reap(mut drbook: Child) {
    let status = drbook.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{status:?}"
    );
}

/// `drbook resume <run> --state-dir <state>`, which must succeed; returns its stdout.
fn resume(dir: &Path, run: &str, state: &Path, env: &[(&str, &str)]) -> String {
    let output = finish_within(
        spawn(
            dir,
            &["resume", run, "--state-dir", state.to_str().unwrap()],
            env,
        ),
        RESUME_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "resume failed: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Entries of `dir` that drbook stages in (`.drbook-` in their names).
fn staging_left(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".drbook-"))
        .collect()
}

/// A one-step runbook whose shell step runs `body` the first time and succeeds at once
/// when resumed (it is `idempotent`, so the resume runs it again without asking).
fn shell_runbook(dir: &Path, body: &str) -> String {
    let again = dir.join("ran-once");
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: orphans, version: 1.0.0}}
spec:
  steps:
    - id: long
      action: shell
      idempotent: true
      with:
        run: |
          if [ -e '{again}' ]; then echo resumed > '{done}'; exit 0; fi
          touch '{again}'
          {body}
"#,
        again = again.display(),
        done = dir.join("done").display(),
    )
}

/// Kills drbook while its shell step runs `body`, which starts `sleep 1000` somewhere.
fn shell_case(body: &str) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");
    write(root, "long.yaml", &shell_runbook(root, body));
    let env = [("DRBOOK_OPERATOR", "tester")];
    let tree = kill_drbook_when(
        root,
        &[
            "run",
            "long.yaml",
            "--run-id",
            "long",
            "--state-dir",
            state.to_str().unwrap(),
        ],
        &env,
        &format!("the shell step `{body}`"),
        |tree| tree.iter().any(|p| p.command == "sleep 1000"),
    );
    assert!(tree.iter().any(|p| p.command == "sleep 1000"), "{tree:#?}");
    resume(root, "long", &state, &env);
    assert_eq!(
        std::fs::read_to_string(root.join("done")).unwrap(),
        "resumed\n"
    );
}

#[test]
fn a_long_shell_step_dies_with_drbook() {
    shell_case("sleep 1000");
}

#[test]
fn a_shell_steps_foreground_grandchild_dies_with_drbook() {
    shell_case("sleep 1000; echo never");
}

#[test]
fn a_shell_steps_background_grandchild_dies_with_drbook() {
    shell_case("sleep 1000 & wait");
}

/// The real etcdctl, except that its first `snapshot restore` reads the snapshot from a
/// FIFO nobody ever writes: it blocks there, mid-restore, until it is killed.
#[test]
fn an_etcd_restore_dies_with_drbook_and_the_resume_restores() {
    use std::os::unix::fs::PermissionsExt;

    require("etcd");
    let etcdctl = require("etcdctl");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");
    std::fs::create_dir_all(root.join("source")).unwrap();
    let mut cluster = EtcdCluster::start(&root.join("source"), 1);
    cluster.load("/k", 500);
    let snap = root.join("snap.db");
    cluster
        .etcdctl(&["snapshot", "save", snap.to_str().unwrap()])
        .unwrap();
    cluster.kill();
    let member = EtcdCluster::plan(&root.join("restored"), 1).remove(0);
    std::fs::create_dir_all(root.join("restored")).unwrap();

    let fifo = root.join("never-written");
    let wrapper = write(
        root,
        "etcdctl-wrapper",
        &format!(
            "#!/bin/sh\n\
             if [ \"$1 $2\" = 'snapshot restore' ] && [ ! -e '{fifo}' ]; then\n\
             mkfifo '{fifo}'; shift 3\n\
             exec '{etcdctl}' snapshot restore '{fifo}' \"$@\"\n\
             fi\n\
             exec '{etcdctl}' \"$@\"\n",
            fifo = fifo.display(),
            etcdctl = etcdctl.display(),
        ),
    );
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(
        root,
        "restore.yaml",
        &format!(
            r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: orphans-etcd, version: 1.0.0}}
spec:
  steps:
    - id: restore
      action: etcd.snapshot.restore
      description: the data directory is still empty after a crash, so running it again is safe
      idempotent: true
      with:
        file: "{snap}"
        token: orphans
        snapshot_time: "2026-01-01T00:00:00Z"
        etcdctl: "{wrapper}"
        members:
          - {{name: {name}, peer_url: "{peer}", data_dir: "{data}"}}
"#,
            snap = snap.display(),
            wrapper = wrapper.display(),
            name = member.name,
            peer = member.peer_url,
            data = member.data_dir.display(),
        ),
    );
    let env = [("DRBOOK_OPERATOR", "tester")];
    kill_drbook_when(
        root,
        &[
            "run",
            "restore.yaml",
            "--run-id",
            "restore",
            "--state-dir",
            state.to_str().unwrap(),
        ],
        &env,
        "the etcd snapshot restore",
        |tree| {
            tree.iter().any(|p| {
                p.command.contains("snapshot restore") && p.command.contains("never-written")
            })
        },
    );
    // The killed restore left its staging directory; nothing holds it any more.
    assert_eq!(
        staging_left(&root.join("restored")),
        ["m0.etcd.drbook-restoring"]
    );

    let shown = resume(root, "restore", &state, &env);
    assert!(
        shown.contains("left by an earlier restore that did not finish"),
        "{shown}"
    );
    assert!(member.data_dir.join("member/snap/db").is_file());
    assert!(staging_left(&root.join("restored")).is_empty());
}

/// restic restores slowly the first time (`--limit-download 1`, 1 KiB/s, added by a
/// wrapper), so it is mid-restore when drbook is killed.
#[test]
fn a_restic_restore_dies_with_drbook_and_the_resume_restores() {
    use std::os::unix::fs::PermissionsExt;

    const PASSWORD: &str = "drbook-canary-orphans-pw-31c4";
    let restic = require_tool("restic");
    let server = S3Server::start();
    server.create_bucket("backups");
    let repository = format!("s3:{}/backups/restic", server.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");

    // 256 KiB that do not compress: minutes to download at 1 KiB/s.
    let backup = root.join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(backup.join("etcd-snapshot.db"), &bytes).unwrap();
    let restic_env = [
        ("RESTIC_REPOSITORY", repository.as_str()),
        ("RESTIC_PASSWORD", PASSWORD),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    for args in [
        vec!["init"],
        vec!["backup", "--tag", "etcd", backup.to_str().unwrap()],
    ] {
        let out = std::process::Command::new(&restic)
            .arg("--no-cache")
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(restic_env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "restic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let once = root.join("slowed-once");
    let wrapper = write(
        root,
        "restic-wrapper",
        &format!(
            "#!/bin/sh\n\
             case \" $* \" in *' restore '*) if [ ! -e '{once}' ]; then\n\
             touch '{once}'; exec '{restic}' --limit-download 1 \"$@\"\n\
             fi ;; esac\n\
             exec '{restic}' \"$@\"\n",
            once = once.display(),
            restic = restic.display(),
        ),
    );
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(
        root,
        "restore.yaml",
        &format!(
            r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: orphans-restic, version: 1.0.0}}
spec:
  secrets:
    - {{name: restic_password, env: RESTIC_PASSWORD}}
    - {{name: s3_key, env: AWS_ACCESS_KEY_ID}}
    - {{name: s3_secret, env: AWS_SECRET_ACCESS_KEY}}
  steps:
    - id: fetch
      action: restic.restore
      with:
        repository: "{repository}"
        password: "{{{{ secrets.restic_password }}}}"
        env: {{AWS_ACCESS_KEY_ID: "{{{{ secrets.s3_key }}}}", AWS_SECRET_ACCESS_KEY: "{{{{ secrets.s3_secret }}}}"}}
        restic: "{wrapper}"
        snapshot: latest
        target: restored
"#,
            wrapper = wrapper.display(),
        ),
    );
    let env = [
        ("DRBOOK_OPERATOR", "tester"),
        ("RESTIC_PASSWORD", PASSWORD),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    kill_drbook_when(
        root,
        &[
            "run",
            "restore.yaml",
            "--run-id",
            "fetch",
            "--state-dir",
            state.to_str().unwrap(),
        ],
        &env,
        "the restic restore",
        |tree| {
            tree.iter()
                .any(|p| p.command.contains("--limit-download 1 restore"))
        },
    );
    // `target` is relative to the run's work directory.
    let work = state.join("runs/fetch/work");
    let left = staging_left(&work);
    assert!(
        left.len() == 1 && left[0].starts_with("restored.drbook-partial-"),
        "{left:?}"
    );

    let shown = resume(root, "fetch", &state, &env);
    assert!(
        shown.contains("left by an earlier restore that did not finish"),
        "{shown}"
    );
    let restored = work
        .join("restored")
        .join(backup.strip_prefix("/").unwrap())
        .join("etcd-snapshot.db");
    assert_eq!(std::fs::read(&restored).unwrap(), bytes);
    assert!(staging_left(&work).is_empty());
}
