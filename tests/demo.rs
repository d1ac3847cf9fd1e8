//! The demo drill, `runbooks/sandbox/etcd-restore.yaml`, end to end through the real
//! drbook and real etcd, set up the way `scripts/demo` sets it up: a targets file with a
//! `sandbox` target (three members on free 127.0.0.1 ports) and an answers file in a
//! temporary directory. The drill builds, fills, snapshots and destroys a 3-member
//! cluster, restores it and stops it again; the test then checks the record, starts the
//! restored members itself to read the data, and checks that no member was left running.
//!
//! Nothing here sleeps to synchronise: the drill's own steps wait for etcd, the harness
//! polls health with a deadline, and drbook is killed if it outlives its limit (the
//! harness's `limit`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::etcd::{EtcdCluster, Member, free_port, require};
use crate::support::{Drbook, repo_root};

/// The longest the drill may take; it takes a few seconds on two shared cores.
const DRILL_LIMIT: Duration = Duration::from_secs(60);

/// The token the runbook's restore gives the new cluster: `<target.token>-restored`.
const RESTORED_TOKEN: &str = "drbook-sandbox-restored";

/// `n` distinct free ports on 127.0.0.1 (`free_port` never repeats one).
fn free_ports(n: usize) -> Vec<u16> {
    (0..n).map(|_| free_port()).collect()
}

/// The sandbox's member table, as `scripts/demo` writes it.
fn members(sandbox: &Path) -> Vec<Member> {
    let ports = free_ports(6);
    (0..3)
        .map(|i| Member {
            name: format!("m{i}"),
            client_url: format!("http://127.0.0.1:{}", ports[2 * i]),
            peer_url: format!("http://127.0.0.1:{}", ports[2 * i + 1]),
            data_dir: sandbox.join(format!("m{i}.etcd")),
        })
        .collect()
}

fn targets_file(sandbox: &Path, members: &[Member]) -> String {
    let rows: String = members
        .iter()
        .map(|m| {
            format!(
                "      - {{name: {}, client_url: \"{}\", peer_url: \"{}\", data_dir: \"{}\"}}\n",
                m.name,
                m.client_url,
                m.peer_url,
                m.data_dir.display()
            )
        })
        .collect();
    format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  sandbox:\n    environment: sandbox\n    drill: allowed\n    sandbox_dir: \"{}\"\n    token: drbook-sandbox\n    members:\n{rows}",
        sandbox.display()
    )
}

/// Whether `pid` is a live etcd (a zombie is dead, whoever reaps it).
fn is_etcd(pid: u32) -> bool {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let zombie = status
        .lines()
        .any(|l| l.starts_with("State:") && l.contains('Z'));
    comm.trim() == "etcd" && !zombie
}

/// Kills the sandbox's members when the test ends, whether it passed or not: every pid
/// in the sandbox's pid files and every pid the drill's steps reported.
struct Sandbox {
    dir: PathBuf,
    pids: Vec<u32>,
}

impl Sandbox {
    fn pid_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.join("run"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "pid"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let from_files = self.pid_files().into_iter().filter_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|t| t.trim().parse().ok())
        });
        for pid in self.pids.iter().copied().chain(from_files) {
            if is_etcd(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

/// The step ids of the runbook's recovery (`spec.steps`, listed at 4 spaces) and drill
/// (`drill.inject`, at 6 spaces) sections, read from its text so that a step added to
/// the runbook is covered without changing this test.
fn step_ids(runbook: &str) -> (Vec<String>, Vec<String>) {
    let (mut recovery, mut inject) = (Vec::new(), Vec::new());
    for line in runbook.lines() {
        if let Some(id) = line.strip_prefix("    - id: ") {
            recovery.push(id.trim().to_string());
        } else if let Some(id) = line.strip_prefix("      - id: ") {
            inject.push(id.trim().to_string());
        }
    }
    (recovery, inject)
}

/// The `step_finished` events of `step`, one per item (and attempt).
fn finished<'a>(journal: &'a [Value], step: &str) -> Vec<&'a Value> {
    journal
        .iter()
        .filter(|e| e["type"] == "step_finished" && e["step"] == step)
        .collect()
}

/// Whether every item of `step` ended succeeded (its last attempt), and it ran at all.
fn succeeded(journal: &[Value], step: &str) -> bool {
    let events = finished(journal, step);
    let mut last: std::collections::BTreeMap<String, &Value> = Default::default();
    for e in &events {
        last.insert(e["item"].to_string(), e);
    }
    !last.is_empty() && last.values().all(|e| e["outcome"]["result"] == "succeeded")
}

/// The outputs of `step`'s successful attempts (one per item).
fn outputs<'a>(journal: &'a [Value], step: &str) -> Vec<&'a Value> {
    finished(journal, step)
        .into_iter()
        .filter(|e| e["outcome"]["result"] == "succeeded")
        .map(|e| &e["outcome"]["outputs"])
        .collect()
}

#[test]
fn the_sandbox_drill_restores_a_destroyed_three_member_cluster() {
    require("etcd");
    require("etcdctl");
    let test = Drbook::new();
    let sandbox_dir = test.path().join("sandbox");
    std::fs::create_dir(&sandbox_dir).unwrap();
    let mut sandbox = Sandbox {
        dir: sandbox_dir.clone(),
        pids: Vec::new(),
    };
    let members = members(&sandbox_dir);
    let targets = test.write(
        "sandbox/drbook.targets.yaml",
        &targets_file(&sandbox_dir, &members),
    );
    let answers = test.write(
        "sandbox/drill-answers.yaml",
        "declare: true\napprove_backup: true\n",
    );
    let runbook = repo_root().join("runbooks/sandbox/etcd-restore.yaml");

    let started = Instant::now();
    // A clone: `test`, made before `sandbox`, keeps the directory until the guard has
    // read the pid files in it.
    let ran = test
        .clone()
        .current_dir("sandbox")
        .state_dir("sandbox/state")
        .args([
            "drill",
            runbook.to_str().unwrap(),
            "--target",
            "sandbox",
            "--targets",
            targets.to_str().unwrap(),
            "--answers",
            answers.to_str().unwrap(),
            "--run-id",
            "demo",
        ])
        .limit(DRILL_LIMIT)
        .run();
    let (stdout, stderr) = (&ran.stdout, &ran.stderr);
    eprintln!("the sandbox drill took {:?}", started.elapsed());

    // Every pid a step reported, so that the guard stops them even if an assert fails.
    let events: Vec<Value> = ran.events().into_iter().cloned().collect();
    for step in ["inject_start", "start_members"] {
        for o in outputs(&events, step) {
            let pid = o["PID"].as_str().and_then(|p| p.parse::<u32>().ok());
            sandbox.pids.extend(pid);
        }
    }
    assert_eq!(
        ran.status.code(),
        Some(0),
        "drbook drill failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("run succeeded"), "{stdout}");
    assert!(stdout.contains("RTO "), "{stdout}");
    assert!(stdout.contains("RPO "), "{stdout}");

    // Every inject and recovery step ran and succeeded; a `stop_if_` guard, if the
    // runbook has one, was skipped (a confirm answered "no" stops the run by itself).
    let (recovery, inject) = step_ids(&std::fs::read_to_string(&runbook).unwrap());
    assert!(
        recovery.len() >= 10 && inject.len() >= 5,
        "{recovery:?} {inject:?}"
    );
    for step in inject.iter().chain(&recovery) {
        if step.starts_with("stop_if_") {
            assert!(
                events
                    .iter()
                    .any(|e| e["type"] == "step_skipped" && e["step"] == step.as_str()),
                "guard `{step}` was skipped"
            );
        } else {
            assert!(
                succeeded(&events, step),
                "step `{step}` succeeded\n{stdout}"
            );
        }
    }
    assert_eq!(outputs(&events, "start_members").len(), 3);
    assert_eq!(sandbox.pids.len(), 6, "three members started twice");

    // RPO is measured from the snapshot's own time, which the save step reported.
    let saved = outputs(&events, "inject_backup")[0];
    let restored = outputs(&events, "restore")[0];
    assert_eq!(restored["restored_point"], saved["taken_at"]);
    assert_eq!(saved["keys"], 1001);
    let finish = events.last().unwrap();
    assert_eq!(finish["type"], "run_finished");
    assert_eq!(finish["outcome"], "succeeded");
    assert_eq!(
        finish["achieved"]["restored_point"], saved["taken_at"],
        "{finish}"
    );
    assert!(finish["achieved"]["rto_ms"].is_u64(), "{finish}");
    // The incident is declared when the recovery begins, after the snapshot: what was
    // written in between is the data lost.
    assert!(
        finish["achieved"]["rpo_ms"]
            .as_u64()
            .is_some_and(|ms| ms > 0),
        "{finish}"
    );

    // The cleanup stopped every member the drill started, and removed the pid files.
    let left: Vec<u32> = sandbox
        .pids
        .iter()
        .copied()
        .filter(|p| is_etcd(*p))
        .collect();
    assert!(left.is_empty(), "sandbox members still running: {left:?}");
    assert!(
        sandbox.pid_files().is_empty(),
        "pid files left: {:?}",
        sandbox.pid_files()
    );

    // The restored data, read by starting the restored members again: what the snapshot
    // held is back, what was written after it is gone.
    let cluster = EtcdCluster::start_existing(members, RESTORED_TOKEN);
    assert_eq!(
        cluster.value("demo/before").as_deref(),
        Some("written before the snapshot")
    );
    assert_eq!(cluster.value("demo/after"), None);
    assert_eq!(cluster.count("demo/data/"), 1000);
}
