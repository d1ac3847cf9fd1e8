//! The shipped "MinIO lost" runbook (`runbooks/kkp/minio-lost.yaml`, scenario S8) as an
//! unattended drill through the real drbook, against a real S3 server (moto on
//! 127.0.0.1), real rclone and real restic: one server plays both the staging MinIO
//! (buckets `kkpbackup`, `kubermatic-master-backups`) and the off-site copy (the same
//! buckets with the prefix `offsite-`). The drill's inject empties MinIO; the recovery
//! must bring every object back from the off-site copy, read the restic repository in
//! both places, run the mirror once without deleting anything off-site, and never show
//! or record a secret.
//!
//! The CronJobs (the rclone mirror, the restic addon's producer) live in Kubernetes,
//! which cannot run here: a fake `kubectl` (a shell script first on the drill's PATH)
//! keeps their `suspend` flags and active Jobs in a state file and logs every call, so
//! the tests see which CronJobs the runbook suspended, when, and whether it resumed
//! them. A second producer (KKP's user-cluster backups, which no CronJob controls) is a
//! real writer into MinIO during the whole drill.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// The rclone mirror CronJob the drill passes as `sync_cronjobs`.
const MIRROR: &str = "rclone-s3-syncer/mirror-kkp";
/// The restic addon's CronJob, the runbook's default `producer_cronjobs`.
const PRODUCER: &str = "kube-system/etcd-s3-backup";

/// A `kubectl` that answers the calls the runbook makes from a state directory:
/// `cronjobs` (`namespace/name suspend image`, one a line), `jobs.<namespace>` (active
/// Jobs as `job owner`), and `calls.log` (every call, in order).
const FAKE_KUBECTL: &str = r#"#!/bin/bash
set -eu
state="$(dirname "$0")/../kube"
echo "$*" >> "$state/calls.log"
namespace=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) namespace="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
case "${args[0]} ${args[1]}" in
  "patch cronjob")
    name="${args[2]}"
    case "${args[*]}" in *'"suspend":true'*) value=true ;; *) value=false ;; esac
    grep -q "^$namespace/$name " "$state/cronjobs" || { echo "cronjob $namespace/$name not found" >&2; exit 1; }
    awk -v id="$namespace/$name" -v v="$value" '$1 == id {$2 = v} {print}' "$state/cronjobs" > "$state/cronjobs.new"
    mv "$state/cronjobs.new" "$state/cronjobs" ;;
  "get cronjobs")
    awk '{print $1, $2, $3, ""}' "$state/cronjobs" ;;
  "get jobs")
    cat "$state/jobs.$namespace" 2>/dev/null || true ;;
  "delete job")
    if [ -f "$state/jobs.$namespace" ]; then
      awk -v job="${args[2]}" '$1 != job' "$state/jobs.$namespace" > "$state/jobs.new"
      mv "$state/jobs.new" "$state/jobs.$namespace"
    fi ;;
  *) echo "fake kubectl: unexpected call: ${args[*]}" >&2; exit 1 ;;
esac
"#;

/// The fake cluster of one drill: its CronJobs and the `kubectl` that reads them.
struct FakeKube {
    bin: PathBuf,
    state: PathBuf,
}

impl FakeKube {
    /// `cronjobs` as `(namespace/name, suspended, image)`; `jobs` as active
    /// `(namespace, job, owner)`.
    fn new(dir: &Path, cronjobs: &[(&str, bool, &str)], jobs: &[(&str, &str, &str)]) -> FakeKube {
        let bin = dir.join("bin");
        let state = dir.join("kube");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        let kubectl = bin.join("kubectl");
        std::fs::write(&kubectl, FAKE_KUBECTL).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
        let lines: String = cronjobs
            .iter()
            .map(|(id, suspended, image)| format!("{id} {suspended} {image}\n"))
            .collect();
        std::fs::write(state.join("cronjobs"), lines).unwrap();
        for (namespace, job, owner) in jobs {
            let path = state.join(format!("jobs.{namespace}"));
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(&format!("{job} {owner}\n"));
            std::fs::write(path, text).unwrap();
        }
        FakeKube { bin, state }
    }

    /// PATH with the fake `kubectl` first.
    fn path(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Whether the CronJob `id` is suspended now.
    fn suspended(&self, id: &str) -> bool {
        let text = std::fs::read_to_string(self.state.join("cronjobs")).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no cronjob {id} in the fake cluster"));
        line.split(' ').nth(1) == Some("true")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.state.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn active_jobs(&self, namespace: &str) -> String {
        std::fs::read_to_string(self.state.join(format!("jobs.{namespace}"))).unwrap_or_default()
    }
}

/// Runs the shipped S8 runbook as a drill against `server`, with the fake cluster and
/// `extra` inputs.
fn drill(
    server: &S3Server,
    dir: &Path,
    kube: &FakeKube,
    run_id: &str,
    extra: &[&str],
) -> crate::support::harness::Ran {
    let targets = write(dir, "targets.yaml", &targets(server));
    let answers = write(dir, "answers.yaml", ANSWERS);
    let state = dir.join("state");
    let runbook = repo_root().join("runbooks/kkp/minio-lost.yaml");
    let mut args: Vec<String> = [
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
        run_id,
        "-i",
        &format!("buckets={}", BUCKETS.join(",")),
        "-i",
        &format!("sync_cronjobs={MIRROR}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for input in extra {
        args.push("-i".into());
        args.push(input.to_string());
    }
    Drbook::in_dir(dir)
        .args(args)
        .envs(&[
            ("MINIO_ACCESS_KEY", ACCESS_KEY),
            ("MINIO_SECRET_KEY", SECRET_KEY),
            ("OFFSITE_ACCESS_KEY", ACCESS_KEY),
            ("OFFSITE_SECRET_KEY", SECRET_KEY),
            ("RESTIC_PASSWORD", RESTIC_PASSWORD),
            // What an operator's shell may carry: drbook's tools must not pick it up.
            ("AWS_CA_BUNDLE", "/nonexistent/ca-bundle.pem"),
        ])
        .env("PATH", kube.path())
        .limit(DRILL_LIMIT)
        .run()
}

/// The index of the first journal record of `step` with event type `kind`.
fn first(records: &[Value], kind: &str, step: &str) -> usize {
    records
        .iter()
        .position(|r| r["event"]["type"] == kind && r["event"]["step"] == step)
        .unwrap_or_else(|| panic!("no {kind} of {step} in the journal"))
}

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

    // The mirror CronJob is enabled with a Job running (as at any moment of the day),
    // and so is the restic addon's producer.
    let kube = FakeKube::new(
        dir.path(),
        &[
            (MIRROR, false, "rclone/rclone:1.68"),
            (PRODUCER, false, "restic/restic:0.17"),
        ],
        &[("rclone-s3-syncer", "mirror-kkp-29412", "mirror-kkp")],
    );

    // KKP's user-cluster backups: no CronJob the runbook can suspend, they keep
    // writing into MinIO's `kkpbackup` for the whole drill, copy included.
    let done = AtomicBool::new(false);
    let written = AtomicUsize::new(0);
    let out = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut n = 0;
            while !done.load(Ordering::SeqCst) {
                server.put(
                    "kkpbackup",
                    &format!("zvc78xnnz7-default-backups-drill-{n:04}.db.gz"),
                    b"a user-cluster backup written during the drill",
                );
                n += 1;
                written.store(n, Ordering::SeqCst);
                // The producer's pace, not a synchronisation: it writes until the drill ends.
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = drill(&server, dir.path(), &kube, "s8-drill", &[]);
        done.store(true, Ordering::SeqCst);
        out
    });
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert!(
        out.status.success(),
        "the drill failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(written.load(Ordering::SeqCst) > 0, "the producer wrote");
    let state = dir.path().join("state");

    // Every object is back in MinIO, and nothing off-site was deleted (the producer's
    // objects come on top of both).
    for (i, bucket) in BUCKETS.iter().enumerate() {
        let keys = server.keys(bucket);
        for key in &before[i] {
            assert!(keys.contains(key), "{bucket}/{key} is back in MinIO");
        }
        let offsite = server.keys(&format!("offsite-{bucket}"));
        for key in &offsite_before[i] {
            assert!(offsite.contains(key), "offsite-{bucket}/{key} survived");
        }
    }

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
    // `restic check` read the copied repository back.
    let checked = finished("minio_restic_check");
    assert_eq!(checked.len(), 1);
    assert_eq!(
        checked[0]["event"]["outcome"]["result"], "succeeded",
        "{checked:#?}"
    );
    assert!(
        finished("mirror_once")
            .iter()
            .all(|r| r["event"]["outcome"]["outputs"]["deleted"] == 0),
        "the mirror deleted something off-site"
    );
    assert!(stdout.contains("RPO"), "{stdout}");

    // The CronJobs: the mirror was suspended and its running Job deleted before
    // anything else touched storage, the restic producer was suspended before the copy
    // and resumed after the guarded mirror; both run again at the end.
    let calls = kube.calls();
    assert!(
        calls[0].contains("patch cronjob mirror-kkp") && calls[0].contains(r#""suspend":true"#),
        "{calls:#?}"
    );
    assert!(
        calls
            .iter()
            .any(|c| c.contains("delete job mirror-kkp-29412")),
        "{calls:#?}"
    );
    assert_eq!(kube.active_jobs("rclone-s3-syncer"), "");
    assert!(
        first(&records, "step_finished", "suspend_producers")
            < first(&records, "step_started", "copy_back")
    );
    assert!(
        first(&records, "step_finished", "mirror_once")
            < first(&records, "step_started", "resume_producers")
    );
    assert!(
        !kube.suspended(MIRROR) && !kube.suspended(PRODUCER),
        "{calls:#?}"
    );

    // No secret anywhere: terminal output, journal, any file of the run.
    for secret in [SECRET_KEY, RESTIC_PASSWORD] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
        for file in files(&state) {
            let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
            assert!(!text.contains(secret), "{} holds a secret", file.display());
        }
    }
}

/// A mirror CronJob nobody listed in `sync_cronjobs` is still enabled: the recovery
/// refuses before it copies anything, names the CronJob, and the off-site copy is
/// untouched. (The old runbook suspended only the listed ones and went on.)
#[test]
fn the_minio_lost_drill_refuses_while_an_unlisted_mirror_cronjob_is_enabled() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    populate(&server, dir.path());
    let offsite_before: Vec<Vec<String>> = BUCKETS
        .iter()
        .map(|b| server.keys(&format!("offsite-{b}")))
        .collect();
    let kube = FakeKube::new(
        dir.path(),
        &[
            (MIRROR, false, "rclone/rclone:1.68"),
            ("backup-mirror/velero-offsite", false, "rclone/rclone:1.68"),
            (PRODUCER, false, "restic/restic:0.17"),
        ],
        &[],
    );
    let out = drill(&server, dir.path(), &kube, "s8-enabled", &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("backup-mirror/velero-offsite"), "{all}");
    let journal = &out.journal;
    let failed = journal
        .iter()
        .find(|r| {
            r["event"]["type"] == "step_finished" && r["event"]["outcome"]["result"] == "failed"
        })
        .expect("a step failed");
    assert_eq!(failed["event"]["step"], "mirror_guard", "{failed:#?}");
    assert!(
        !journal.iter().any(|r| r["event"]["step"] == "copy_back"),
        "nothing was copied"
    );
    for bucket in BUCKETS {
        assert!(server.keys(bucket).is_empty(), "MinIO stays empty");
    }
    let offsite_after: Vec<Vec<String>> = BUCKETS
        .iter()
        .map(|b| server.keys(&format!("offsite-{b}")))
        .collect();
    assert_eq!(offsite_after, offsite_before);
    assert!(kube.suspended(MIRROR), "the listed mirror stays suspended");
}
