//! The findings of the review of the shipped runbooks against upstream
//! (`runbook-review.md`, sections A and B), one test each where the step cannot run
//! here (kubeone, kubeadm, Kubernetes, cloud VMs): the shipped runbook is loaded with
//! the library and its steps, their order, the `when` conditions evaluated against the
//! answers and outcomes that trigger the finding, and the shell scripts that can run
//! here run against temporary files. Each test fails on the runbook as it was before
//! the review. The S8 findings that can run against S3, rclone and restic are in
//! `minio_lost_drill.rs`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use drbook::runbook::ValidRunbook;
use drbook::runbook::model::{Step, StepBody};
use serde_json::{Value, json};

use crate::support::{drbook, repo_root};

const S3: &str = "runbooks/kubeone/etcd-quorum-loss.yaml";
const S4: &str = "runbooks/kubeone/control-plane-node-repair.yaml";
const S8: &str = "runbooks/kkp/minio-lost.yaml";

fn shipped(path: &str) -> ValidRunbook {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    drbook::runbook::load(&text).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn index(runbook: &ValidRunbook, id: &str) -> usize {
    runbook
        .runbook
        .spec
        .steps
        .iter()
        .position(|s| s.id.value == id)
        .unwrap_or_else(|| panic!("no step `{id}`"))
}

fn step<'a>(runbook: &'a ValidRunbook, id: &str) -> &'a Step {
    &runbook.runbook.spec.steps[index(runbook, id)]
}

/// Whether the step's `when` holds in `context` (no `when`: it always runs).
fn runs(step: &Step, context: &Value) -> bool {
    match &step.when {
        None => true,
        Some(when) => drbook::template::render::condition(
            &drbook::template::environment(),
            &when.value,
            context,
        )
        .unwrap_or_else(|e| panic!("`when` of {}: {e}", step.id.value)),
    }
}

/// A `with:` parameter of an action step, as plain text.
fn param(step: &Step, name: &str) -> String {
    let StepBody::Action(call) = &step.body else {
        panic!("{} is not an action", step.id.value)
    };
    call.with
        .iter()
        .find(|(key, _)| key.value == name)
        .and_then(|(_, node)| node.as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("{} has no `{name}`", step.id.value))
}

/// The options of a remote given as a mapping under `with.<name>`, as templates.
fn remote_options(step: &Step, name: &str) -> Vec<(String, String)> {
    let StepBody::Action(call) = &step.body else {
        panic!("{} is not an action", step.id.value)
    };
    let (_, node) = call
        .with
        .iter()
        .find(|(key, _)| key.value == name)
        .unwrap_or_else(|| panic!("{} has no `{name}`", step.id.value));
    let drbook::source::yaml_tree::Value::Map(entries) = &node.value else {
        panic!("`{name}` of {} is not a mapping", step.id.value)
    };
    entries
        .iter()
        .map(|(k, v)| (k.scalar_text(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// Runs a step's shell script with `env` only (and PATH), as the shell action would.
fn run_script(step: &Step, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new("sh");
    command.arg("-c").arg(param(step, "run")).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

/// A1 S3: every `kubeone reset` the runbook tells the operator to run keeps the
/// volumes and the LoadBalancer Services, and static workers are never reset by it.
#[test]
fn s3_kubeone_reset_keeps_volumes_and_load_balancers() {
    let runbook = shipped(S3);
    let text = step(&runbook, "unprovision")
        .description
        .as_ref()
        .unwrap()
        .value
        .clone();
    let resets: Vec<&str> = text
        .split('`')
        .filter(|code| code.starts_with("kubeone reset ") && !code.ends_with("--help"))
        .collect();
    assert!(!resets.is_empty(), "{text}");
    for reset in resets {
        for flag in [
            "--destroy-workers=false",
            "--remove-volumes=false",
            "--remove-lb-services=false",
        ] {
            assert!(reset.contains(flag), "`{reset}` lacks {flag}");
        }
    }
    assert!(text.contains("staticWorkers"), "{text}");
}

/// A2 S3: with encryption at rest, the key is copied off the leader before the
/// unprovisioning, fed back before `kubeone apply`, and checked afterwards; the input
/// that turns it on has no default, so nobody skips it by accident.
#[test]
fn s3_keeps_the_encryption_key_across_the_reset() {
    let runbook = shipped(S3);
    let input = runbook
        .runbook
        .spec
        .inputs
        .iter()
        .find(|i| i.name.value == "encryption_at_rest")
        .expect("an encryption_at_rest input");
    assert!(input.default.is_none(), "the operator must answer it");
    assert!(index(&runbook, "save_encryption_config") < index(&runbook, "unprovision"));
    assert!(index(&runbook, "encryption_in_manifest") < index(&runbook, "kubeone_apply"));
    assert!(index(&runbook, "kubeone_apply") < index(&runbook, "encryption_key_unchanged"));
    let on = json!({"inputs": {"encryption_at_rest": true}});
    let off = json!({"inputs": {"encryption_at_rest": false}});
    for id in [
        "save_encryption_config",
        "encryption_in_manifest",
        "encryption_key_unchanged",
    ] {
        assert!(runs(step(&runbook, id), &on), "{id}");
        assert!(!runs(step(&runbook, id), &off), "{id}");
    }

    // The save script, against real files.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("encryption-providers.yaml");
    let dest = dir.path().join("saved.yaml");
    let (src_s, dest_s) = (src.to_str().unwrap(), dest.to_str().unwrap());
    let save = step(&runbook, "save_encryption_config");
    std::fs::write(&src, "kind: EncryptionConfiguration\n# key: c2VjcmV0\n").unwrap();
    let out = run_script(save, &[("SRC", src_s), ("DEST", dest_s)]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&src).unwrap());
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("KEY_SHA256="));
    // Run again after the reset removed the live file: the copy is kept.
    std::fs::remove_file(&src).unwrap();
    assert!(
        run_script(save, &[("SRC", src_s), ("DEST", dest_s)])
            .status
            .success()
    );
    // The live file and the copy differ: refused, both kept.
    std::fs::write(&src, "kind: EncryptionConfiguration\n# key: b3RoZXI=\n").unwrap();
    assert!(
        !run_script(save, &[("SRC", src_s), ("DEST", dest_s)])
            .status
            .success()
    );
    // Neither exists: refused, naming where to put it.
    let missing = dir.path().join("missing.yaml");
    let out = run_script(
        save,
        &[
            ("SRC", missing.to_str().unwrap()),
            ("DEST", missing.to_str().unwrap()),
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));

    // After `kubeone apply`: a new key is caught.
    let check = step(&runbook, "encryption_key_unchanged");
    assert!(
        !run_script(check, &[("LIVE", src_s), ("SAVED", dest_s)])
            .status
            .success()
    );
    std::fs::copy(&dest, &src).unwrap();
    assert!(
        run_script(check, &[("LIVE", src_s), ("SAVED", dest_s)])
            .status
            .success()
    );
}

/// The `stop_…` step that follows `confirm` `id` in `runbook`: it runs exactly when
/// `id` was answered no (in `context` plus that answer), fails, and comes before
/// `guarded`.
/// A confirm `id` whose "no" stops the run (no `on_no: continue`), asked before the
/// destructive step `guarded`, with no step between them that could act without it.
fn assert_no_stops_before(path: &str, id: &str, guarded: &str) {
    let runbook = shipped(path);
    let StepBody::Checkpoint(checkpoint) = &step(&runbook, id).body else {
        panic!("{path}: `{id}` is not a checkpoint")
    };
    assert!(
        checkpoint.stops_on_no(),
        "{path}: a no at `{id}` must stop the run"
    );
    assert!(
        index(&runbook, id) < index(&runbook, guarded),
        "{path}: `{id}` is asked before `{guarded}`"
    );
}

/// A6: a "no" at a confirm that guards a destructive step stops the run before it.
#[test]
fn confirms_that_guard_destructive_steps_stop_on_no() {
    assert_no_stops_before(S3, "unprovision", "place_pki");
    assert_no_stops_before(S3, "kubeone_install", "restore");
    assert_no_stops_before(S3, "kubeone_apply", "leader_etcd_healthy");
    assert_no_stops_before(S3, "encryption_in_manifest", "kubeone_apply");
    assert_no_stops_before(S4, "recreate_vm", "kubeone_apply");
    assert_no_stops_before(S8, "rebuild_minio", "copy_back");
}

/// A3: the mirror CronJobs must be named (no default), and the runbook refuses while
/// any rclone CronJob is enabled, before the off-site copy is even read.
#[test]
fn s8_the_mirror_cronjobs_are_required_and_checked() {
    let runbook = shipped(S8);
    let input = runbook
        .runbook
        .spec
        .inputs
        .iter()
        .find(|i| i.name.value == "sync_cronjobs")
        .unwrap();
    assert!(input.default.is_none());
    assert!(index(&runbook, "suspend_mirror") < index(&runbook, "mirror_guard"));
    assert!(index(&runbook, "mirror_guard") < index(&runbook, "offsite_newest"));
    assert!(param(step(&runbook, "suspend_mirror"), "run").contains("delete job"));
    let out = drbook(&repo_root(), &["plan", S8, "-i", "buckets=kkpbackup"]);
    assert!(
        out.stdout
            .contains("sync_cronjobs: asked for when the run starts"),
        "{}",
        out.stdout
    );
}

/// A4: the mirror CronJobs are resumed only when the guarded mirror succeeded for
/// every bucket and the consumers write again; otherwise the run stops with them
/// suspended.
#[test]
fn s8_resume_mirror_only_after_a_clean_mirror_and_consumers() {
    let runbook = shipped(S8);
    let resume = step(&runbook, "resume_mirror");
    let stop = step(&runbook, "stop_mirror_still_suspended");
    let ok = json!({"deleted": 0, "transferred": 3});
    let context = |mirror: Value, consumers: bool| {
        json!({
            "inputs": {"buckets": ["kkpbackup", "velero"]},
            "steps": {
                "mirror_once": {"outputs": mirror},
                "consumers": {"answer": consumers},
            }
        })
    };
    let clean = context(json!([ok, ok]), true);
    // A refused item has no outputs: the operator chose "continue" at the question.
    let refused = context(json!([ok, {}]), true);
    let unhappy = context(json!([ok, ok]), false);
    assert!(runs(resume, &clean) && !runs(stop, &clean));
    assert!(!runs(resume, &refused) && runs(stop, &refused));
    assert!(!runs(resume, &unhappy) && runs(stop, &unhappy));
    assert!(index(&runbook, "consumers") < index(&runbook, "resume_mirror"));
}

/// A5: the producers are suspended and Velero read-only before MinIO is rebuilt, and
/// both come back only after the copy and the guarded mirror.
#[test]
fn s8_producers_are_quiet_while_minio_is_empty() {
    let runbook = shipped(S8);
    let order =
        |a: &str, b: &str| assert!(index(&runbook, a) < index(&runbook, b), "{a} before {b}");
    order("suspend_producers", "rebuild_minio");
    order("velero_read_only", "rebuild_minio");
    order("copy_complete", "minio_restic_check");
    order("mirror_once", "resume_producers");
    order("mirror_once", "velero_read_write");
    let producers = runbook
        .runbook
        .spec
        .inputs
        .iter()
        .find(|i| i.name.value == "producer_cronjobs")
        .unwrap();
    assert_eq!(
        producers.default.as_ref().unwrap().value,
        json!(["kube-system/etcd-s3-backup"])
    );
    assert!(param(step(&runbook, "velero_read_only"), "run").contains("ReadOnly"));
    assert!(param(step(&runbook, "minio_restic_check"), "run").contains("restic check"));
}

/// The `find_backup` and `fetch_backup` steps of the shipped S3 runbook, with its
/// secrets and inputs, verbatim but for the addon's backup path `/backup`, which is
/// `backup_path` here: the part that can run here against real restic.
fn s3_fetch_runbook(backup_path: &Path) -> String {
    let text = std::fs::read_to_string(repo_root().join(S3)).unwrap();
    let between = |from: &str, to: &str| {
        let start = text.find(from).unwrap_or_else(|| panic!("{from}"));
        let end = text[start..].find(to).unwrap_or_else(|| panic!("{to}")) + start;
        text[start..end].to_string()
    };
    let steps = between("    - id: find_backup", "    - id: verify_pki_backup").replace(
        "        path: /backup\n",
        &format!("        path: {}\n", backup_path.display()),
    );
    format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: s3-fetch, version: 1.0.0}}\nspec:\n  objectives: {{rto: 10m, rpo: 60m}}\n{}  steps:\n{steps}",
        between("  secrets:\n", "  steps:\n"),
    )
}

/// B1, B2 S3: the backup comes from the off-site copy by default, read without a lock
/// (read-only keys; here: a repository another process holds locked), and an older
/// snapshot can be chosen with `restore_before`. The cluster-internal MinIO is
/// unreachable, as it is from a leader whose cluster is down.
#[test]
fn s3_fetches_from_the_off_site_copy_without_a_lock_and_can_go_back() {
    use std::process::Stdio;
    use std::time::Duration;

    use crate::support::s3::require_tool;
    use crate::support::{Drbook, wait_until};

    const PASSWORD: &str = "drbook-canary-offsite-pw-93c1";
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repository = root.join("offsite-repo");
    let restic = |args: &[&str]| {
        let mut command = Command::new(require_tool("restic"));
        command
            .args(args)
            .arg("--no-cache")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RESTIC_REPOSITORY", &repository)
            .env("RESTIC_PASSWORD", PASSWORD);
        command
    };
    let backup = root.join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    assert!(restic(&["init"]).output().unwrap().status.success());
    for (host, time) in [
        ("cp-0", "2026-11-20 10:00:00"),
        ("cp-1", "2026-11-20 10:30:00"),
        ("cp-2", "2026-11-20 11:00:00"),
    ] {
        std::fs::write(backup.join("etcd-snapshot.db"), host).unwrap();
        let out = restic(&["backup", "--tag", "etcd", "--host", host, "--time", time])
            .arg(&backup)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    // Another process holds an exclusive lock (`key passwd` blocks on its FIFO).
    let fifo = root.join("new-password.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let mut lock = restic(&[
        "key",
        "passwd",
        "--new-password-file",
        fifo.to_str().unwrap(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_until("restic takes its lock", Duration::from_secs(30), || {
        std::fs::read_dir(repository.join("locks")).is_ok_and(|mut l| l.next().is_some())
    });

    let work = Drbook::new()
        .file("s3-fetch.yaml", &s3_fetch_runbook(&backup))
        .targets(&format!(
            "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  prod:\n    environment: production\n    \
             restic_repository: \"s3:http://127.0.0.1:9/kubermatic-master-backups\"\n    \
             offsite_restic_repository: \"{}\"\n",
            repository.display()
        ));
    let run = |id: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            "s3-fetch.yaml",
            "--target",
            "prod",
            "--targets",
            "drbook.targets.yaml",
            "--run-id",
            id,
            "--declared-at",
            "2026-11-20T11:15:00Z",
            "-i",
            "leader_node=cp-0",
            "-i",
            "leader_ip=10.0.0.11",
            "-i",
            "control_plane_ips=10.0.0.11",
            "-i",
            "encryption_at_rest=false",
        ];
        args.extend_from_slice(extra);
        let backup_dir = format!("backup_dir={}", root.join(id).display());
        args.extend_from_slice(&["-i", &backup_dir]);
        work.clone()
            .args(args)
            .envs(&[
                ("RESTIC_PASSWORD", PASSWORD),
                ("AWS_ACCESS_KEY_ID", "unused"),
                ("AWS_SECRET_ACCESS_KEY", "unused"),
            ])
            .limit(Duration::from_secs(120))
            .run()
    };
    let newest = run("newest", &[]);
    let older = run("older", &["-i", "restore_before=2026-11-20T10:30:00Z"]);
    let _ = lock.kill();
    let _ = lock.wait();

    assert_eq!(newest.code, 0, "{}\n{}", newest.stdout, newest.stderr);
    assert_eq!(
        std::fs::read_to_string(
            root.join("newest")
                .join(backup.strip_prefix("/").unwrap())
                .join("etcd-snapshot.db")
        )
        .unwrap(),
        "cp-2"
    );
    assert_eq!(older.code, 0, "{}\n{}", older.stdout, older.stderr);
    assert_eq!(
        std::fs::read_to_string(
            root.join("older")
                .join(backup.strip_prefix("/").unwrap())
                .join("etcd-snapshot.db")
        )
        .unwrap(),
        "cp-0"
    );
}

/// B3, B6 S3: the revision is bumped by default, kubelets are restarted, and the RTO
/// clock stops at `/readyz` with every control-plane node, not at the leader's etcd.
#[test]
fn s3_bumps_the_revision_restarts_kubelets_and_stops_the_clock_at_readyz() {
    let runbook = shipped(S3);
    let bump = runbook
        .runbook
        .spec
        .inputs
        .iter()
        .find(|i| i.name.value == "bump_revision")
        .unwrap();
    assert_eq!(bump.default.as_ref().unwrap().value, json!(1000000000));
    let marked: Vec<&str> = runbook
        .runbook
        .spec
        .steps
        .iter()
        .filter(|s| s.marks.is_some())
        .map(|s| s.id.value.as_str())
        .collect();
    assert_eq!(marked, ["control_plane_ready"]);
    assert!(index(&runbook, "control_plane_ready") < index(&runbook, "restart_kubelets"));
    let prompt = match &step(&runbook, "restart_kubelets").body {
        StepBody::Checkpoint(c) => c.prompt.value.clone(),
        StepBody::Action(_) => panic!("a checkpoint"),
    };
    assert!(prompt.contains("kubelet"), "{prompt}");
}

/// B4, B5 S3: the final etcd check reads the members' addresses from etcd (recreated
/// VMs get new ones), and an IPv6 leader address is bracketed in the peer URL.
#[test]
fn s3_takes_member_addresses_from_etcd_and_brackets_ipv6() {
    let runbook = shipped(S3);
    let endpoints = param(step(&runbook, "etcd_all_members"), "endpoints");
    let context = json!({"steps": {"etcd_members": {"outputs": {"members": [
        {"client_urls": ["https://10.0.0.21:2379"]},
        {"client_urls": ["https://10.0.0.22:2379"]},
    ]}}}});
    let rendered = drbook::template::environment()
        .render_str(&endpoints, &context)
        .unwrap();
    assert_eq!(rendered, "https://10.0.0.21:2379,https://10.0.0.22:2379");

    let out = drbook(
        &repo_root(),
        &[
            "plan",
            S3,
            "-i",
            "leader_node=cp-0",
            "-i",
            "leader_ip=fd00::11",
            "-i",
            "control_plane_ips=a,b,c",
            "-i",
            "encryption_at_rest=false",
        ],
    );
    assert!(
        out.stdout
            .contains("\"peer_url\":\"https://[fd00::11]:2380\""),
        "{}",
        out.stdout
    );
    let out = drbook(
        &repo_root(),
        &[
            "plan",
            S3,
            "-i",
            "leader_node=cp-0",
            "-i",
            "leader_ip=10.0.0.11",
            "-i",
            "control_plane_ips=a,b,c",
            "-i",
            "encryption_at_rest=false",
        ],
    );
    assert!(
        out.stdout
            .contains("\"peer_url\":\"https://10.0.0.11:2380\""),
        "{}",
        out.stdout
    );
    assert!(param(step(&runbook, "preflight"), "run").contains("LEADER_IP"));
}

const S7: &str = "runbooks/kubeone/pki-recovery.yaml";

/// A directory with executables `name` that log their arguments to `calls.log` and
/// print `output`; put first on PATH.
fn fake_tools(dir: &Path, tools: &[(&str, &str)]) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, output) in tools {
        let path = bin.join(name);
        let log = dir.join("calls.log");
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{}'\ncat <<'FAKE_OUTPUT'\n{output}\nFAKE_OUTPUT\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// B7 S7: leaf certificates and kubeconfigs that are missing are created with
/// `kubeadm init phase` before `kubeadm certs renew all` (which skips them); without
/// the kubeadm configuration the step says what to give instead of passing.
#[test]
fn s7_creates_missing_leaf_certificates_before_renewing() {
    let runbook = shipped(S7);
    let renew = step(&runbook, "renew_leafs");
    let dir = tempfile::tempdir().unwrap();
    let kubernetes = dir.path().join("kubernetes");
    let pki = kubernetes.join("pki");
    std::fs::create_dir_all(pki.join("etcd")).unwrap();
    let path = fake_tools(dir.path(), &[("kubeadm", "")]);
    let log = dir.path().join("calls.log");
    let pki_s = pki.to_str().unwrap();
    // Everything is missing, no configuration: refused, naming the input.
    let out = run_script(renew, &[("PATH", &path), ("PKI", pki_s), ("CFG", "")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubeadm_config"));
    assert!(!log.exists(), "kubeadm did not run");
    // With the configuration: created, then renewed.
    let out = run_script(
        renew,
        &[
            ("PATH", &path),
            ("PKI", pki_s),
            ("CFG", "/root/kubeone/cfg/control_plane_full_1.yaml"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "kubeadm init phase certs all --config /root/kubeone/cfg/control_plane_full_1.yaml",
            "kubeadm init phase kubeconfig all --config /root/kubeone/cfg/control_plane_full_1.yaml",
            "kubeadm certs renew all",
        ]
    );
    // Nothing missing: only the renewal.
    std::fs::remove_file(&log).unwrap();
    for f in [
        "apiserver.crt",
        "apiserver-kubelet-client.crt",
        "apiserver-etcd-client.crt",
        "front-proxy-client.crt",
        "etcd/server.crt",
        "etcd/peer.crt",
        "etcd/healthcheck-client.crt",
    ] {
        std::fs::write(pki.join(f), "cert").unwrap();
    }
    for f in [
        "admin.conf",
        "controller-manager.conf",
        "scheduler.conf",
        "kubelet.conf",
    ] {
        std::fs::write(kubernetes.join(f), "conf").unwrap();
    }
    let out = run_script(renew, &[("PATH", &path), ("PKI", pki_s), ("CFG", "")]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "kubeadm certs renew all\n"
    );
}

/// B8, B9 S7: the checks after the restart ask this node's API server, not the load
/// balancer; etcd's quorum is checked before the restart, and etcd restarts last.
#[test]
fn s7_checks_the_repaired_node_and_restarts_etcd_last_after_a_quorum_check() {
    let runbook = shipped(S7);
    let probe = param(step(&runbook, "api_ready"), "probe");
    assert!(
        probe.contains("--server '{{ inputs.api_server }}'"),
        "{probe}"
    );
    let token = param(step(&runbook, "service_account_tokens"), "run");
    assert!(token.contains("--server \"$SERVER\""), "{token}");
    let default = runbook
        .runbook
        .spec
        .inputs
        .iter()
        .find(|i| i.name.value == "api_server")
        .and_then(|i| i.default.as_ref())
        .map(|d| d.value.clone());
    assert_eq!(default, Some(json!("https://127.0.0.1:6443")));
    assert!(
        index(&runbook, "etcd_quorum_before_restart") < index(&runbook, "restart_control_plane")
    );
    assert!(index(&runbook, "etcd_members_healthy") < index(&runbook, "restart_control_plane"));
    let text = step(&runbook, "restart_control_plane")
        .description
        .as_ref()
        .unwrap()
        .value
        .clone();
    let first = text
        .find("manifests/kube-*.yaml")
        .expect("the other components first");
    let etcd = text.find("manifests/etcd.yaml").expect("etcd on its own");
    assert!(first < etcd, "{text}");
}

/// B10 S7: the backup's CA is compared with the CA the cluster publishes
/// (`kube-public/cluster-info`), not with this node's own, possibly stale, kubeconfig.
#[test]
fn s7_compares_the_backup_ca_with_the_published_one() {
    let runbook = shipped(S7);
    let check = step(&runbook, "backup_is_trusted_ca");
    let dir = tempfile::tempdir().unwrap();
    let ca = |name: &str| {
        let key = dir.path().join(format!("{name}.key"));
        let crt = dir.path().join(format!("{name}.crt"));
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-subj",
            ])
            .arg(format!("/CN={name}"))
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        crt
    };
    let live = ca("live-ca");
    let stale = ca("stale-ca");
    let b64 = |path: &Path| {
        let out = Command::new("base64")
            .arg("-w0")
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    // This node's kubeconfig is as stale as its PKI.
    let kubeconfig = dir.path().join("admin.conf");
    std::fs::write(
        &kubeconfig,
        format!(
            "clusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://lb.example:6443\n",
            b64(&stale)
        ),
    )
    .unwrap();
    let cluster_info = format!(
        "{{\"kind\":\"ConfigMap\",\"data\":{{\"kubeconfig\":\"apiVersion: v1\\nclusters:\\n- cluster:\\n    certificate-authority-data: {}\\n    server: https://lb.example:6443\\n\"}}}}",
        b64(&live)
    );
    let path = fake_tools(dir.path(), &[("curl", &cluster_info)]);
    let env = |backup: &Path| {
        vec![
            ("PATH".to_string(), path.clone()),
            (
                "KUBECONFIG_FILE".to_string(),
                kubeconfig.display().to_string(),
            ),
            ("BACKUP_CA".to_string(), backup.display().to_string()),
        ]
    };
    let run = |backup: &Path| {
        let env = env(backup);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_script(check, &env)
    };
    let out = run(&live);
    assert!(out.status.success(), "{out:?}");
    let calls = std::fs::read_to_string(dir.path().join("calls.log")).unwrap();
    assert!(
        calls.contains(
            "https://lb.example:6443/api/v1/namespaces/kube-public/configmaps/cluster-info"
        ),
        "{calls}"
    );
    // A backup with the node's stale CA is refused, though the kubeconfig agrees.
    let out = run(&stale);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the cluster publishes CA"));
}

/// B12 S8: an off-site copy in Azure Blob (as the community rclone syncer mirrors)
/// gets rclone's `azureblob` backend, S3 keeps `s3`, and extra rclone flags (a private
/// CA bundle for MinIO over https) reach the copy, the check and the mirror.
#[test]
fn s8_supports_azure_blob_off_site_and_rclone_flags() {
    let runbook = shipped(S8);
    let env = drbook::template::environment();
    let secrets = json!({"offsite_access_key": "AK", "offsite_secret_key": "SK"});
    let azure = json!({
        "target": {"offsite": {"type": "azureblob", "account": "kkpbackups"}},
        "secrets": secrets,
    });
    let s3 = json!({
        "target": {"offsite": {"provider": "AWS", "endpoint": "https://s3.example", "region": "eu-central-1"}},
        "secrets": secrets,
    });
    for (id, side) in [
        ("copy_back", "source_remote"),
        ("copy_complete", "source_remote"),
        ("mirror_once", "destination_remote"),
    ] {
        // The remote is one mapping for both backends; the action leaves out empty
        // options and rclone reads only those of the `type` it is given.
        let options = remote_options(step(&runbook, id), side);
        let remote = |context: &serde_json::Value| {
            let mut rendered = serde_json::Map::new();
            for (key, template) in &options {
                let value = drbook::template::render::value(&env, template, context).unwrap();
                if value != json!("") {
                    rendered.insert(key.clone(), value);
                }
            }
            serde_json::Value::Object(rendered)
        };
        let on_azure = remote(&azure);
        assert_eq!(on_azure["type"], "azureblob", "{id}");
        assert_eq!(on_azure["account"], "kkpbackups", "{id}");
        assert_eq!(on_azure["key"], "SK", "{id}");
        assert!(on_azure.get("endpoint").is_none(), "{id}: {on_azure}");
        let on_s3 = remote(&s3);
        assert_eq!(on_s3["type"], "s3", "{id}");
        assert_eq!(on_s3["provider"], "AWS", "{id}");
        assert_eq!(on_s3["access_key_id"], "AK", "{id}");
        assert_eq!(on_s3["secret_access_key"], "SK", "{id}");
        assert!(on_s3.get("account").is_none(), "{id}: {on_s3}");
        assert_eq!(
            param(step(&runbook, id), "flags"),
            "{{ inputs.rclone_flags }}"
        );
    }
    // S3's stock-taking does not run against Azure.
    assert!(!runs(step(&runbook, "offsite_newest"), &azure));
    assert!(runs(step(&runbook, "offsite_newest"), &s3));
}

/// B14 S8: the copied repository is read back with `restic check`, which fails on a
/// repository that lost a pack (a mirror of a live repository is not crash-consistent);
/// B13: the RPO objective allows for the mirror's lag.
#[test]
fn s8_restic_check_catches_a_damaged_copy() {
    let runbook = shipped(S8);
    let objectives = runbook.runbook.spec.objectives.as_ref().unwrap();
    assert_eq!(
        objectives.rpo.value,
        std::time::Duration::from_secs(3 * 3600)
    );
    let check = step(&runbook, "minio_restic_check");
    let dir = tempfile::tempdir().unwrap();
    let repository = dir.path().join("repo");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("etcd-snapshot.db"), "x".repeat(4096)).unwrap();
    let env = [
        ("RESTIC_REPOSITORY", repository.to_str().unwrap()),
        ("RESTIC_PASSWORD", "drbook-canary-check-pw"),
        ("SUBSET", "100%"),
        ("HOME", dir.path().to_str().unwrap()),
    ];
    let restic = |args: &[&str]| {
        let out = Command::new(crate::support::s3::require_tool("restic"))
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    restic(&["init"]);
    restic(&["backup", "--tag", "etcd", data.to_str().unwrap()]);
    let out = run_script(check, &env);
    assert!(out.status.success(), "{out:?}");
    // A pack that changed under the mirror (a prune repacking it mid-copy).
    let packs = repository.join("data");
    let pack = std::fs::read_dir(&packs)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .next()
        .expect("a pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&pack, bytes).unwrap();
    let out = run_script(check, &env);
    assert!(!out.status.success(), "{out:?}");
}

/// B4 S3: the control-plane Nodes of VMs that were recreated are found (not Ready, no
/// etcd member at their address) and removed behind a confirm, so that the wait for
/// every control-plane Node does not time out on them.
#[test]
fn s3_finds_stale_control_plane_nodes_of_recreated_vms() {
    let runbook = shipped(S3);
    assert!(index(&runbook, "etcd_members") < index(&runbook, "stale_nodes"));
    assert!(index(&runbook, "delete_stale_nodes") < index(&runbook, "remove_stale_nodes"));
    assert!(index(&runbook, "remove_stale_nodes") < index(&runbook, "control_plane_ready"));
    let dir = tempfile::tempdir().unwrap();
    let nodes = "cp-0.example True 10.0.0.11\nip-172-31-221-235 False 172.31.221.235\ncp-new False 10.0.0.22\ncp-2.example True 10.0.0.13";
    let path = fake_tools(dir.path(), &[("kubectl", nodes)]);
    let members = "https://10.0.0.11:2380 https://10.0.0.22:2380 https://10.0.0.13:2380 ";
    let out = run_script(
        step(&runbook, "stale_nodes"),
        &[
            ("PATH", &path),
            ("KUBECONFIG", "/etc/kubernetes/admin.conf"),
            ("MEMBER_PEERS", members),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "STALE=ip-172-31-221-235"
    );
    // The rendered member list the step gets.
    let template = match &step(&runbook, "stale_nodes").body {
        StepBody::Action(call) => call
            .with
            .iter()
            .find(|(k, _)| k.value == "env")
            .map(|(_, node)| node.to_json()["MEMBER_PEERS"].as_str().unwrap().to_string())
            .unwrap(),
        StepBody::Checkpoint(_) => panic!("an action"),
    };
    let context = json!({"steps": {"etcd_members": {"outputs": {"members": [
        {"peer_urls": ["https://10.0.0.11:2380"]},
        {"peer_urls": ["https://10.0.0.22:2380"]},
    ]}}}});
    let rendered = drbook::template::environment()
        .render_str(&template, &context)
        .unwrap();
    assert_eq!(rendered, "https://10.0.0.11:2380 https://10.0.0.22:2380 ");
    // Nothing stale: nothing asked, nothing deleted.
    let none =
        json!({"steps": {"stale_nodes": {"outputs": {"STALE": ""}}, "delete_stale_nodes": {}}});
    assert!(!runs(step(&runbook, "delete_stale_nodes"), &none));
    assert!(!runs(step(&runbook, "remove_stale_nodes"), &none));
}
