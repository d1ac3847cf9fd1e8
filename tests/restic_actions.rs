//! The restic actions against the real restic binary and a real S3 server (moto, see
//! `support::s3`): three backups shaped like KubeOne's `backups-restic` addon (an etcd
//! snapshot and the control-plane CAs, tag `etcd`, one host per run), the snapshot
//! from before a time picked and restored byte-identical, the PKI alone restored with
//! `include`, an occupied target refused untouched, and each failure an operator can fix
//! (wrong password, no repository, locked repository) told apart with its fix, for an
//! S3 and a local repository.
//!
//! Every action call goes through `execute`, which also checks that neither the restic
//! password nor the S3 secret appears in any output, event or error. Nothing sleeps to
//! synchronise: the locked repository is held by a restic process that blocks on a FIFO
//! after taking its lock, and the test polls for the lock file with a deadline.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};

use crate::support::actions;
use crate::support::digest;
use crate::support::etcd::free_port;
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY, require_tool};
use crate::support::wait_until;

mod given;

/// The repository password; a canary like `SECRET_KEY`.
const PASSWORD: &str = "drbook-canary-restic-pw-5b1e";
/// A password the repository does not have; must not leak either.
const WRONG_PASSWORD: &str = "drbook-canary-wrong-pw-77d0";
const BUCKET: &str = "kubermatic-master-backups";

/// Runs action `name` once through the library API (`support::actions`), checking that
/// no secret of this test leaks.
fn execute(
    name: &str,
    params: Value,
    workdir: &Path,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    actions::execute(
        name,
        params,
        workdir,
        &[PASSWORD, WRONG_PASSWORD, SECRET_KEY],
    )
}

/// The outputs of an action that must succeed.
fn ok(name: &str, params: Value, workdir: &Path) -> Value {
    actions::ok(
        name,
        params,
        workdir,
        &[PASSWORD, WRONG_PASSWORD, SECRET_KEY],
    )
}

/// The message of an action that must fail.
fn refused(name: &str, params: Value, workdir: &Path) -> String {
    actions::refused(
        name,
        params,
        workdir,
        &[PASSWORD, WRONG_PASSWORD, SECRET_KEY],
    )
}

/// `restic args…` run by the test itself (setting up), in an environment of only
/// `env`, the PATH and a UTC time zone: nothing of the machine's `AWS_*` (it exports
/// `AWS_CA_BUNDLE`) or `RESTIC_*`. Fails the test when restic fails.
fn restic_cmd(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(require_tool("restic"));
    command
        .args(args)
        .arg("--no-cache")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TZ", "UTC")
        .envs(env.iter().copied());
    command
}

fn restic(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let output = restic_cmd(dir, env, args).output().expect("restic runs");
    assert!(
        output.status.success(),
        "restic {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The environment restic needs for the test's S3 server.
fn s3_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]
}

/// The etcd snapshot content of backup `n`: distinct per backup.
fn db(n: usize) -> Vec<u8> {
    let mut bytes = format!("fake etcd snapshot {n}\n").into_bytes();
    bytes.extend((0..4096u32).map(|i| (i as usize * (n + 7)) as u8));
    bytes
}

/// The PKI files of the addon's layout, relative to the backup directory.
const PKI: &[&str] = &[
    "pki/etcd/ca.crt",
    "pki/etcd/ca.key",
    "pki/kubernetes/ca.crt",
    "pki/kubernetes/sa.key",
];

/// A repository (`repository` as the actions take it) with three backups of
/// `root/src/backup`, like the addon's `/backup`: backup n (1..=3) is taken on host
/// `cp-n` at 2026-11-20 (9+n):00 UTC with tag `etcd` and holds `db(n)`.
struct Backups {
    root: tempfile::TempDir,
    repository: String,
    /// `env` for the actions.
    env: Value,
    /// The backed-up directory (its absolute path is the snapshot's path).
    backup_dir: PathBuf,
}

impl Backups {
    fn new(repository: impl Fn(&Path) -> String, env: &[(&'static str, &'static str)]) -> Backups {
        let root = tempfile::tempdir().unwrap();
        let repository = repository(root.path());
        let backup_dir = root.path().join("src/backup");
        for file in PKI {
            let path = backup_dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("PEM of {file}\n")).unwrap();
        }
        let mut restic_env = env.to_vec();
        restic_env.push(("RESTIC_REPOSITORY", &repository));
        restic_env.push(("RESTIC_PASSWORD", PASSWORD));
        restic(root.path(), &restic_env, &["init"]);
        for n in 1..=3 {
            std::fs::write(backup_dir.join("etcd-snapshot.db"), db(n)).unwrap();
            let host = format!("cp-{n}");
            let time = format!("2026-11-20 {:02}:00:00", 9 + n);
            restic(
                root.path(),
                &restic_env,
                &[
                    "backup",
                    "--tag",
                    "etcd",
                    "--host",
                    &host,
                    "--time",
                    &time,
                    backup_dir.to_str().unwrap(),
                ],
            );
        }
        let env = Value::Object(
            env.iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        );
        Backups {
            root,
            repository,
            env,
            backup_dir,
        }
    }

    fn dir(&self) -> &Path {
        self.root.path()
    }

    /// The common parameters, plus `extra`.
    fn params(&self, extra: Value) -> Value {
        let mut params = json!({
            "repository": self.repository,
            "password": PASSWORD,
            "env": self.env,
        });
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        params
    }

    /// Where a restore into `target` puts the backed-up directory.
    fn restored(&self, target: &str) -> PathBuf {
        self.dir()
            .join(target)
            .join(self.backup_dir.strip_prefix("/").unwrap())
    }
}

/// The regular files under `root`, relative and sorted.
fn files(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = digest(root)
        .into_iter()
        .filter(|(_, d)| !d.starts_with("dir "))
        .map(|(p, _)| p.display().to_string())
        .collect();
    names.sort();
    names
}

/// Names in `dir` that a restore may have left next to its target.
fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".drbook-partial-"))
        .collect()
}

fn s3_backups(server: &S3Server) -> Backups {
    server.create_bucket(BUCKET);
    let endpoint = server.endpoint();
    Backups::new(|_| format!("s3:{endpoint}/{BUCKET}/kubeone"), &s3_env())
}

#[test]
fn the_snapshot_before_a_time_is_picked_and_restored_byte_identical_from_s3() {
    let server = S3Server::start();
    let backups = s3_backups(&server);
    let dir = backups.dir();

    // The newest overall, then the newest before 11:30 (the second backup).
    let newest = ok(
        "restic.snapshots",
        backups.params(json!({"tag": "etcd"})),
        dir,
    );
    assert_eq!(newest["hostname"], "cp-3");
    assert_eq!(newest["count"], 3);
    let picked = ok(
        "restic.snapshots",
        backups.params(json!({"tag": "etcd", "before": "2026-11-20T12:30:00+01:00"})),
        dir,
    );
    assert_eq!(picked["hostname"], "cp-2");
    assert_eq!(picked["restored_point"], "2026-11-20T11:00:00.000Z");
    assert_eq!(picked["time"], "2026-11-20T11:00:00Z");
    assert_eq!(picked["count"], 2, "two snapshots are older than 11:30");
    assert_eq!(picked["tags"], json!(["etcd"]));
    assert_eq!(
        picked["paths"],
        json!([backups.backup_dir.display().to_string()])
    );
    let id = picked["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    assert!(id.starts_with(picked["short_id"].as_str().unwrap()));
    // "Before" is strict: the second backup's own time picks the first.
    let first = ok(
        "restic.snapshots",
        backups.params(json!({"before": "2026-11-20T11:00:00Z", "path": backups.backup_dir})),
        dir,
    );
    assert_eq!(first["hostname"], "cp-1");
    // A host filter.
    let on_cp1 = ok(
        "restic.snapshots",
        backups.params(json!({"tag": "etcd", "host": "cp-1"})),
        dir,
    );
    assert_eq!(on_cp1["id"], first["id"]);
    assert_eq!(on_cp1["count"], 1);

    // Restore the picked snapshot: its etcd snapshot is the second backup's, byte for byte.
    let restored = ok(
        "restic.restore",
        backups.params(json!({"snapshot": picked["short_id"], "target": "restore/s2"})),
        dir,
    );
    let tree = backups.restored("restore/s2");
    assert_eq!(std::fs::read(tree.join("etcd-snapshot.db")).unwrap(), db(2));
    for file in PKI {
        assert_eq!(
            std::fs::read_to_string(tree.join(file)).unwrap(),
            format!("PEM of {file}\n")
        );
    }
    assert_eq!(restored["id"], json!(id));
    assert_eq!(restored["restored_point"], "2026-11-20T11:00:00.000Z");
    assert_eq!(restored["files"], 5);
    let pki_bytes: usize = PKI.iter().map(|f| format!("PEM of {f}\n").len()).sum();
    assert_eq!(restored["bytes"], json!(db(2).len() + pki_bytes));
    assert_eq!(
        restored["target"],
        json!(dir.join("restore/s2").display().to_string())
    );
    assert!(partials(&dir.join("restore")).is_empty());

    // `latest` of the filters, only the PKI.
    let pki = ok(
        "restic.restore",
        backups.params(json!({
            "snapshot": "latest",
            "tag": "etcd",
            "include": [backups.backup_dir.join("pki")],
            "target": "pki-only",
        })),
        dir,
    );
    assert_eq!(pki["id"], newest["id"]);
    assert_eq!(pki["files"], 4);
    let prefix = backups
        .backup_dir
        .strip_prefix("/")
        .unwrap()
        .display()
        .to_string();
    let mut expected: Vec<String> = PKI.iter().map(|f| format!("{prefix}/{f}")).collect();
    expected.insert(0, ".drbook-restic-restore.json".to_string());
    assert_eq!(files(&dir.join("pki-only")), expected);

    // The same restore again (a resume after drbook died before journalling the step's
    // end) recognises its finished work by the record it left: same outputs, nothing
    // restored again.
    let before = digest(&dir.join("restore/s2"));
    let again = ok(
        "restic.restore",
        backups.params(json!({"snapshot": picked["short_id"], "target": "restore/s2"})),
        dir,
    );
    assert_eq!(again, restored);
    assert_eq!(digest(&dir.join("restore/s2")), before);

    // Another snapshot into that target is refused before restic runs, and the target
    // stays as it was.
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": "latest", "target": "restore/s2"})),
        dir,
    );
    assert!(
        err.starts_with(&format!(
            "target `{}` holds an earlier restore of snapshot {id} (includes []), not of ",
            dir.join("restore/s2").display()
        )),
        "{err}"
    );
    assert!(err.ends_with("drbook never restores over existing files: choose a new `target`, or move this one away"), "{err}");
    assert_eq!(digest(&dir.join("restore/s2")), before);
    assert!(partials(&dir.join("restore")).is_empty());

    // Any other content is refused too.
    std::fs::create_dir_all(dir.join("occupied")).unwrap();
    std::fs::write(dir.join("occupied/notes.txt"), "keep me").unwrap();
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": "latest", "target": "occupied"})),
        dir,
    );
    assert_eq!(
        err,
        format!(
            "target `{}` is not empty; drbook never restores over existing files: choose a new `target`, or move this one away",
            dir.join("occupied").display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("occupied/notes.txt")).unwrap(),
        "keep me"
    );

    // An empty target directory is fine (rename replaces it).
    std::fs::create_dir(dir.join("empty")).unwrap();
    ok(
        "restic.restore",
        backups.params(json!({"snapshot": id, "target": "empty", "include": [backups.backup_dir.join("etcd-snapshot.db")]})),
        dir,
    );
    assert_eq!(
        std::fs::read(backups.restored("empty").join("etcd-snapshot.db")).unwrap(),
        db(2)
    );
}

#[test]
fn what_does_not_match_says_what_the_repository_holds() {
    let server = S3Server::start();
    let backups = s3_backups(&server);
    let dir = backups.dir();
    let repo = &backups.repository;

    let err = refused(
        "restic.snapshots",
        backups.params(json!({"tag": "etcd", "host": "cp-9"})),
        dir,
    );
    assert!(
        err.starts_with(&format!(
            "no snapshot in the restic repository `{repo}` matches tag `etcd` and host `cp-9`; the repository holds 3 snapshots, the newest "
        )),
        "{err}"
    );
    assert!(
        err.contains("taken 2026-11-20T12:00:00.000Z on host `cp-3`, tags `etcd`"),
        "{err}"
    );
    assert!(
        err.contains("none of them matches: check the filters"),
        "{err}"
    );
    assert!(
        err.contains("filter by `tag: etcd`, not by `host`"),
        "{err}"
    );

    let err = refused(
        "restic.snapshots",
        backups.params(json!({"tag": "etcd", "before": "2026-11-20T09:00:00Z"})),
        dir,
    );
    assert!(
        err.contains("matches tag `etcd` and taken before 2026-11-20T09:00:00Z; the repository holds 3 snapshots"),
        "{err}"
    );
    assert!(
        err.ends_with("3 of them match the filters, but the oldest of those was taken 2026-11-20T10:00:00.000Z: there is no matching backup from before `before`"),
        "{err}"
    );

    // An include that matches nothing names itself and the snapshot's paths.
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": "latest", "include": ["/backup/pki"], "target": "out"})),
        dir,
    );
    assert!(
        err.contains(&format!(
            "gave no files: `include` `/backup/pki` matched nothing in the snapshot, whose paths are `{}`",
            backups.backup_dir.display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with(&format!(
            "nothing was written to `{}`",
            dir.join("out").display()
        )),
        "{err}"
    );
    assert!(!dir.join("out").exists());
    assert!(partials(dir).is_empty());

    // An id that is not there, and one that does not match the filters.
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": "0123abcd", "target": "out"})),
        dir,
    );
    assert!(
        err.starts_with(&format!(
            "snapshot `0123abcd` of the restic repository `{repo}` does not exist; the repository holds 3 snapshots"
        )),
        "{err}"
    );
    let first = ok(
        "restic.snapshots",
        backups.params(json!({"host": "cp-1"})),
        dir,
    );
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": first["id"], "host": "cp-2", "target": "out"})),
        dir,
    );
    assert!(err.contains("does not match host `cp-2`: it is "), "{err}");
    assert!(!dir.join("out").exists());
}

#[test]
fn wrong_password_and_missing_repositories_are_told_apart() {
    let server = S3Server::start();
    let backups = s3_backups(&server);
    let dir = backups.dir();
    let repo = &backups.repository;

    let mut params = backups.params(json!({"tag": "etcd"}));
    params["password"] = json!(WRONG_PASSWORD);
    let err = refused("restic.snapshots", params.clone(), dir);
    assert_eq!(
        err,
        format!(
            "the restic repository `{repo}` does not accept the password (wrong password or no key found): check the secret given as `password` against the one the backups were made with (KubeOne: key `password` of Secret `restic-config` in `kube-system`)"
        )
    );
    params["snapshot"] = json!("latest");
    params["target"] = json!("out");
    let err = refused("restic.restore", params, dir);
    assert!(err.contains("does not accept the password"), "{err}");
    assert!(!dir.join("out").exists());

    // A bucket that does not exist, and a path in the bucket without a repository.
    for repository in [
        format!("s3:{}/no-such-bucket/kubeone", server.endpoint()),
        format!("s3:{}/{BUCKET}/elsewhere", server.endpoint()),
    ] {
        let mut params = backups.params(json!({}));
        params["repository"] = json!(repository);
        let err = refused("restic.snapshots", params, dir);
        assert_eq!(
            err,
            format!(
                "there is no restic repository at `{repository}`: check `repository`; the bucket or path may be wrong, or the store lost (scenario S8: restore the store from its off-site copy, or point `repository` at the copy)"
            )
        );
    }

    // A store that does not answer is not a missing repository.
    let nobody = format!("s3:http://127.0.0.1:{}/{BUCKET}", free_port());
    let mut params = backups.params(json!({}));
    params["repository"] = json!(nobody);
    let err = refused("restic.snapshots", params, dir);
    assert!(
        err.starts_with(&format!(
            "cannot reach the store of the restic repository `{nobody}` ("
        )),
        "{err}"
    );
    assert!(err.contains("connection refused"), "{err}");
}

/// A restic process holding an exclusive lock on a local repository until dropped: `key
/// passwd` takes the lock, then blocks opening its new-password FIFO.
struct Lock {
    child: Child,
}

impl Lock {
    fn hold(dir: &Path, repository: &Path) -> Lock {
        let fifo = dir.join("new-password.fifo");
        let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let child = restic_cmd(
            dir,
            &[
                ("RESTIC_REPOSITORY", repository.to_str().unwrap()),
                ("RESTIC_PASSWORD", PASSWORD),
            ],
            &[
                "key",
                "passwd",
                "--new-password-file",
                fifo.to_str().unwrap(),
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let locks = repository.join("locks");
        wait_until(
            "restic key passwd takes its exclusive lock",
            Duration::from_secs(30),
            || std::fs::read_dir(&locks).is_ok_and(|mut l| l.next().is_some()),
        );
        Lock { child }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_local_repository_works_and_a_lock_or_a_missing_path_is_explained() {
    let backups = Backups::new(|root| root.join("repo").display().to_string(), &[]);
    let dir = backups.dir();
    // A relative local path is taken from the work directory.
    let mut params = backups.params(json!({"tag": "etcd", "before": "2026-11-20T11:30:00Z"}));
    params["repository"] = json!("repo");
    params.as_object_mut().unwrap().remove("env");
    let picked = ok("restic.snapshots", params.clone(), dir);
    assert_eq!(picked["hostname"], "cp-2");
    params["snapshot"] = picked["id"].clone();
    params["target"] = json!("restored");
    let restored = ok("restic.restore", params, dir);
    assert_eq!(restored["files"], 5);
    assert_eq!(
        std::fs::read(backups.restored("restored").join("etcd-snapshot.db")).unwrap(),
        db(2)
    );

    let missing = dir.join("no-repo-here");
    let mut params = backups.params(json!({}));
    params["repository"] = json!("no-repo-here");
    let err = refused("restic.snapshots", params, dir);
    assert!(
        err.starts_with(&format!(
            "there is no restic repository at `{}`: check `repository`",
            missing.display()
        )),
        "{err}"
    );

    let lock = Lock::hold(dir, &dir.join("repo"));
    let err = refused("restic.snapshots", backups.params(json!({})), dir);
    assert!(
        err.starts_with(&format!(
            "the restic repository `{}` is locked (locked exclusively by PID {} on ",
            backups.repository,
            lock.child.id()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("if the process that holds the lock is gone, the lock is stale: remove it with `restic unlock`; for a read-only listing, set `no_lock: true`"),
        "{err}"
    );
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": "latest", "target": "locked"})),
        dir,
    );
    assert!(
        err.contains("is locked (locked exclusively by PID"),
        "{err}"
    );
    assert!(
        err.ends_with("remove it with `restic unlock`; a restore only reads: with read-only credentials or to read past the lock, set `no_lock: true`"),
        "{err}"
    );
    assert!(!dir.join("locked").exists());
    // A restore without the lock, as from read-only off-site credentials.
    let restored = ok(
        "restic.restore",
        backups.params(json!({"snapshot": "latest", "target": "unlocked", "no_lock": true})),
        dir,
    );
    assert_eq!(restored["files"], 5);
    // A read-only listing without the lock.
    let listed = ok(
        "restic.snapshots",
        backups.params(json!({"no_lock": true})),
        dir,
    );
    assert_eq!(listed["hostname"], "cp-3");
    drop(lock);
}

#[test]
fn a_partial_restore_left_by_a_crash_is_removed_by_the_next_attempt() {
    let backups = Backups::new(|root| root.join("repo").display().to_string(), &[]);
    let dir = backups.dir();
    // What a crashed attempt (a process that no longer exists) leaves.
    let stale = dir.join("target.drbook-partial-999999999");
    std::fs::create_dir_all(stale.join("half")).unwrap();
    std::fs::write(stale.join("half/etcd-snapshot.db"), "half").unwrap();
    let (result, events) = execute(
        "restic.restore",
        backups.params(json!({"snapshot": "latest", "target": "target"})),
        dir,
    );
    let restored = result.unwrap();
    assert_eq!(restored["files"], 5);
    assert!(!stale.exists());
    assert!(partials(dir).is_empty());
    assert!(
        events.iter().any(|e| matches!(e, ActionEvent::Progress(p) if p.contains("left by an earlier restore that did not finish"))),
        "{events:#?}"
    );
    assert_eq!(
        std::fs::read(backups.restored("target").join("etcd-snapshot.db")).unwrap(),
        db(3)
    );
}
