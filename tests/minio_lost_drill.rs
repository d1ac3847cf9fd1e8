//! The shipped "MinIO lost" runbook (`runbooks/kkp/minio-lost.yaml`, scenario S8) as an
//! unattended drill through the real drbook, against a real S3 server (moto on
//! 127.0.0.1), real rclone and real restic: one server plays both the staging MinIO
//! (buckets `kkpbackup`, `kubermatic-master-backups`) and the off-site copy (the same
//! buckets with the prefix `offsite-`). The drill's inject empties MinIO; the recovery
//! must bring every object back from the off-site copy, read the restic repository in
//! both places, run the mirror once without deleting anything off-site, and never show
//! or record a secret.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY, require_tool};
use crate::support::{Drbook, repo_root, write};

/// The restic repository's password: a canary like the S3 secret.
const RESTIC_PASSWORD: &str = "drbook-canary-restic-pw-51ad";

/// The drill copies a few objects and lists a restic repository twice.
const DRILL_LIMIT: Duration = Duration::from_secs(120);

const BUCKETS: [&str; 2] = ["kkpbackup", "kubermatic-master-backups"];

/// Runs `program` with only PATH and HOME of this process plus `env`: the machine may
/// export AWS_CA_BUNDLE, which breaks rclone on plain HTTP.
fn run_tool(program: &Path, args: &[&str], env: &[(String, String)]) -> String {
    let mut command = Command::new(program);
    command.args(args).env_clear();
    for name in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let out = command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("the tool runs");
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn restic_env(server: &S3Server) -> Vec<(String, String)> {
    vec![
        (
            "RESTIC_REPOSITORY".into(),
            format!("s3:{}/kubermatic-master-backups", server.endpoint()),
        ),
        ("RESTIC_PASSWORD".into(), RESTIC_PASSWORD.into()),
        ("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY.into()),
    ]
}

fn rclone_env(server: &S3Server) -> Vec<(String, String)> {
    [
        ("TYPE", "s3".to_string()),
        ("PROVIDER", "Other".to_string()),
        ("ENDPOINT", server.endpoint()),
        ("ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("RCLONE_CONFIG_S3_{k}"), v))
    .collect()
}

/// Fills the staging MinIO the way the platform does (KKP etcd backups as flat objects,
/// a restic repository with two `etcd` snapshots), then mirrors it off-site with rclone,
/// as the CronJob would.
fn populate(server: &S3Server, work: &Path) {
    for bucket in BUCKETS {
        server.create_bucket(bucket);
        server.create_bucket(&format!("offsite-{bucket}"));
    }
    for (i, when) in ["2026-11-24t09-20-00", "2026-11-24t09-40-00"]
        .iter()
        .enumerate()
    {
        let body = format!("etcd snapshot {i} of cluster zvc78xnnz7\n").repeat(200);
        server.put(
            "kkpbackup",
            &format!("zvc78xnnz7-default-backups-{when}.db.gz"),
            body.as_bytes(),
        );
    }
    let restic = require_tool("restic");
    let backup = work.join("backup");
    std::fs::create_dir_all(backup.join("pki/kubernetes")).unwrap();
    std::fs::write(backup.join("etcd-snapshot.db"), b"not a real snapshot").unwrap();
    std::fs::write(backup.join("pki/kubernetes/ca.crt"), b"certificate").unwrap();
    let env = restic_env(server);
    run_tool(&restic, &["init"], &env);
    for time in ["2026-11-24 09:00:00", "2026-11-24 09:30:00"] {
        let path = backup.display().to_string();
        run_tool(
            &restic,
            &[
                "backup", "--tag", "etcd", "--host", "cp-0", "--time", time, &path,
            ],
            &env,
        );
    }
    let rclone = require_tool("rclone");
    for bucket in BUCKETS {
        run_tool(
            &rclone,
            &[
                "--config",
                "/dev/null",
                "sync",
                &format!("s3:{bucket}"),
                &format!("s3:offsite-{bucket}"),
            ],
            &rclone_env(server),
        );
    }
}

fn targets(server: &S3Server) -> String {
    let endpoint = server.endpoint();
    format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    \
         restic_repository: \"s3:{endpoint}/kubermatic-master-backups\"\n    \
         offsite_restic_repository: \"s3:{endpoint}/offsite-kubermatic-master-backups\"\n    \
         minio:\n      endpoint: \"{endpoint}\"\n    \
         offsite:\n      endpoint: \"{endpoint}\"\n      provider: Other\n      region: us-east-1\n      bucket_prefix: offsite-\n"
    )
}

const ANSWERS: &str = "declare: true\napprove: true\nrebuild_minio: true\nconsumers: true\nsign_off: drill DR-42, all buckets back\n";

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_minio_lost_drill_brings_every_object_back_from_the_off_site_copy() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    populate(&server, dir.path());
    let before: Vec<Vec<String>> = BUCKETS.iter().map(|b| server.keys(b)).collect();
    let offsite_before: Vec<Vec<String>> = BUCKETS
        .iter()
        .map(|b| server.keys(&format!("offsite-{b}")))
        .collect();
    assert_eq!(before, offsite_before, "the mirror copied everything");
    assert!(before[1].iter().any(|k| k.starts_with("snapshots/")));

    let targets = write(dir.path(), "targets.yaml", &targets(&server));
    let answers = write(dir.path(), "answers.yaml", ANSWERS);
    let state = dir.path().join("state");
    let runbook = repo_root().join("runbooks/kkp/minio-lost.yaml");
    let out = Drbook::in_dir(dir.path())
        .args([
            "drill",
            runbook.to_str().unwrap(),
            "--target",
            "staging",
            "--targets",
            targets.to_str().unwrap(),
            "--answers",
            answers.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--run-id",
            "s8-drill",
            "-i",
            &format!("buckets={}", BUCKETS.join(",")),
        ])
        .envs(&[
            ("MINIO_ACCESS_KEY", ACCESS_KEY),
            ("MINIO_SECRET_KEY", SECRET_KEY),
            ("OFFSITE_ACCESS_KEY", ACCESS_KEY),
            ("OFFSITE_SECRET_KEY", SECRET_KEY),
            ("RESTIC_PASSWORD", RESTIC_PASSWORD),
            // What an operator's shell may carry: drbook's tools must not pick it up.
            ("AWS_CA_BUNDLE", "/nonexistent/ca-bundle.pem"),
        ])
        .limit(DRILL_LIMIT)
        .run();
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert!(
        out.status.success(),
        "the drill failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // Every object is back in MinIO, and nothing off-site was deleted.
    let after: Vec<Vec<String>> = BUCKETS.iter().map(|b| server.keys(b)).collect();
    assert_eq!(after, before);
    let offsite_after: Vec<Vec<String>> = BUCKETS
        .iter()
        .map(|b| server.keys(&format!("offsite-{b}")))
        .collect();
    assert_eq!(offsite_after, offsite_before);

    // The record: the inject emptied MinIO, the copy and check ran per bucket, the
    // restic repository was read in both places, the guarded mirror deleted nothing.
    let journal = std::fs::read_to_string(state.join("runs/s8-drill/journal.jsonl")).unwrap();
    let records: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let finished = |step: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["event"]["type"] == "step_finished" && r["event"]["step"] == step)
            .collect()
    };
    for step in [
        "drill_empty_minio",
        "offsite_newest",
        "copy_back",
        "copy_complete",
        "mirror_once",
    ] {
        let ends = finished(step);
        assert_eq!(ends.len(), BUCKETS.len(), "{step}: {ends:#?}");
        assert!(
            ends.iter()
                .all(|r| r["event"]["outcome"]["result"] == "succeeded"),
            "{step}: {ends:#?}"
        );
    }
    for step in ["offsite_restic", "minio_restic"] {
        let ends = finished(step);
        assert_eq!(ends.len(), 1, "{step}");
        assert_eq!(ends[0]["event"]["outcome"]["outputs"]["count"], 2, "{step}");
    }
    assert!(
        finished("mirror_once")
            .iter()
            .all(|r| r["event"]["outcome"]["outputs"]["deleted"] == 0),
        "the mirror deleted something off-site"
    );
    assert!(stdout.contains("RPO"), "{stdout}");

    // No secret anywhere: terminal output, journal, any file of the run.
    for secret in [SECRET_KEY, RESTIC_PASSWORD] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
        for file in files(&state) {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            assert!(!text.contains(secret), "{} holds a secret", file.display());
        }
    }
}
