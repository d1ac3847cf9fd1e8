//! The KubeOne backup made the way the `backups-restic` addon makes it (a real etcd
//! snapshot and a real PKI under one directory, `restic backup --tag etcd` into a real
//! S3 server), then fetched and reinstated through `drbook run` the way the quorum-loss
//! runbook does: the newest backup from before the incident picked by time, restored,
//! its PKI and snapshot verified, the PKI installed and checked against the backup, and
//! etcd restored from the snapshot. The test then starts the restored member: what was
//! written before that backup is there, what came after it is not.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::etcd::{EtcdCluster, Member};
use crate::support::pki::Pki;
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::support::{Drbook, write};

const RESTIC_PASSWORD: &str = "drbook-canary-roundtrip-pw-7e1b";

/// Restic, a restore of a small snapshot, a few verifications.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// `restic` on the test's repository, with its password.
fn restic(repository: &str, args: &[&str]) {
    crate::support::restic::restic(repository, RESTIC_PASSWORD, args);
}

/// The part of the quorum-loss runbook that fetches and reinstates the backup, on
/// paths of this test.
fn runbook(member: &Member) -> String {
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: backup-roundtrip, version: 1.0.0}}
spec:
  objectives: {{rto: 10m, rpo: 30m}}
  secrets:
    - {{name: restic_password, env: RESTIC_PASSWORD}}
    - {{name: s3_key, env: AWS_ACCESS_KEY_ID}}
    - {{name: s3_secret, env: AWS_SECRET_ACCESS_KEY}}
  inputs:
    - {{name: repository, type: string}}
    - {{name: backup_path, type: string}}
  steps:
    - id: find_backup
      action: restic.snapshots
      with:
        repository: "{{{{ inputs.repository }}}}"
        password: "{{{{ secrets.restic_password }}}}"
        env: {{AWS_ACCESS_KEY_ID: "{{{{ secrets.s3_key }}}}", AWS_SECRET_ACCESS_KEY: "{{{{ secrets.s3_secret }}}}"}}
        tag: etcd
        before: "{{{{ run.declared_at }}}}"
    - id: fetch_backup
      action: restic.restore
      with:
        repository: "{{{{ inputs.repository }}}}"
        password: "{{{{ secrets.restic_password }}}}"
        env: {{AWS_ACCESS_KEY_ID: "{{{{ secrets.s3_key }}}}", AWS_SECRET_ACCESS_KEY: "{{{{ secrets.s3_secret }}}}"}}
        snapshot: "{{{{ steps.find_backup.outputs.id }}}}"
        target: restored
    - id: verify_pki_backup
      action: pki.verify
      with:
        dir: "restored{{{{ inputs.backup_path }}}}/pki"
        layout: kubeone-backup
    - id: verify_snapshot
      action: etcd.snapshot.verify
      with: {{file: "restored{{{{ inputs.backup_path }}}}/etcd-snapshot.db"}}
    - id: place_pki
      action: pki.restore
      with:
        from: "restored{{{{ inputs.backup_path }}}}/pki"
        from_layout: kubeone-backup
        to: pki
    - id: pki_installed
      action: pki.verify
      with:
        dir: pki
        reference: "restored{{{{ inputs.backup_path }}}}/pki"
        reference_layout: kubeone-backup
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: "restored{{{{ inputs.backup_path }}}}/etcd-snapshot.db"
        token: roundtrip
        snapshot_time: "{{{{ steps.find_backup.outputs.time }}}}"
        members:
          - {{name: {name}, peer_url: "{peer}", data_dir: "{data}"}}
      marks: recovered
"#,
        name = member.name,
        peer = member.peer_url,
        data = member.data_dir.display(),
    )
}

/// The finished steps of a run, by id, with their outputs.
fn outputs(state: &Path, step: &str) -> Value {
    let journal = std::fs::read_to_string(state.join("runs/roundtrip/journal.jsonl")).unwrap();
    journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event"]["type"] == "step_finished" && r["event"]["step"] == step)
        .unwrap_or_else(|| panic!("step {step} finished"))["event"]["outcome"]["outputs"]
        .clone()
}

#[test]
fn a_restic_backup_of_etcd_and_the_pki_in_s3_is_picked_by_time_and_reinstated() {
    let server = S3Server::start();
    server.create_bucket("kubermatic-master-backups");
    let repository = format!("s3:{}/kubermatic-master-backups", server.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();

    // The addon's directory: the etcd snapshot and the eight shared PKI files.
    let backup = root.join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let pki = Pki::kubeone_backup(&backup.join("pki"));
    let cluster = EtcdCluster::start(root, 1);
    cluster.load("/registry/things/", 50);
    cluster.put("/canary/before-first-backup", "yes");
    let snapshot = backup.join("etcd-snapshot.db");
    let save = |what: &str| {
        cluster
            .etcdctl(&["snapshot", "save", snapshot.to_str().unwrap()])
            .unwrap_or_else(|e| panic!("snapshot {what}: {e}"));
    };
    save("one");
    restic(&repository, &["init"]);
    let path = backup.to_str().unwrap();
    restic(
        &repository,
        &[
            "backup",
            "--tag",
            "etcd",
            "--host",
            "cp-0",
            "--time",
            "2026-11-20 10:00:00",
            path,
        ],
    );
    // A later backup, after the incident: it must not be picked.
    cluster.put("/canary/after-first-backup", "yes");
    save("two");
    restic(
        &repository,
        &[
            "backup",
            "--tag",
            "etcd",
            "--host",
            "cp-1",
            "--time",
            "2026-11-20 10:30:00",
            path,
        ],
    );
    drop(cluster);

    let restored_member = EtcdCluster::plan(&root.join("restored-etcd"), 1).remove(0);
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    write(&work, "roundtrip.yaml", &runbook(&restored_member));
    let state = root.join("state");
    let out = Drbook::in_dir(&work)
        .args([
            "run",
            "roundtrip.yaml",
            "--state-dir",
            state.to_str().unwrap(),
            "--run-id",
            "roundtrip",
            "--declared-at",
            "2026-11-20T10:15:00Z",
            "-i",
            &format!("repository={repository}"),
            "-i",
            &format!("backup_path={path}"),
        ])
        .envs(&[
            ("RESTIC_PASSWORD", RESTIC_PASSWORD),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_CA_BUNDLE", "/nonexistent/ca-bundle.pem"),
        ])
        .limit(RUN_LIMIT)
        .run();
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert!(
        out.status.success(),
        "the run failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // The backup from before the incident was picked, and RPO measured from it.
    let picked = outputs(&state, "find_backup");
    assert_eq!(picked["hostname"], "cp-0");
    assert_eq!(picked["restored_point"], "2026-11-20T10:00:00.000Z");
    assert!(stdout.contains("RPO 15m / objective 30m met"), "{stdout}");

    // The PKI is installed byte for byte and equal to the backup by fingerprint
    // (relative paths of a run are in its work directory).
    let installed = state.join("runs/roundtrip/work/pki");
    for name in crate::support::pki::SHARED {
        assert_eq!(
            std::fs::read(installed.join(name)).unwrap(),
            std::fs::read(pki.path(name)).unwrap(),
            "{name}"
        );
    }
    assert_eq!(
        outputs(&state, "pki_installed")["fingerprints"],
        outputs(&state, "verify_pki_backup")["fingerprints"]
    );

    // The restored member holds what was written before the picked backup only.
    let restored = EtcdCluster::start_existing(vec![restored_member], "roundtrip");
    assert_eq!(restored.count("/registry/things/"), 50);
    assert_eq!(
        restored.value("/canary/before-first-backup").as_deref(),
        Some("yes")
    );
    assert_eq!(restored.value("/canary/after-first-backup"), None);

    for secret in [RESTIC_PASSWORD, SECRET_KEY] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
        let journal = std::fs::read_to_string(state.join("runs/roundtrip/journal.jsonl")).unwrap();
        assert!(!journal.contains(secret));
    }
}
