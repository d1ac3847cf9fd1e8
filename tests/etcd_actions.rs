//! The etcd actions against real etcd 3.4 processes (`support::etcd`): snapshot, wipe,
//! restore and start again with every key back; every kind of damaged snapshot refused
//! before any data directory changes (proved by hashing every file before and after);
//! data directories refused, locked or moved aside; the live-API actions against a
//! running three-member cluster; and one recovery driven end to end by `drbook run`.
//!
//! Nothing here sleeps to synchronise: the harness polls etcd's health with a deadline,
//! and every drbook process is killed if it outlives its limit.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::actions;
use crate::support::digest;
use crate::support::etcd::{EtcdCluster, Member, require};
use crate::support::{Drbook, write};

mod overlap;

/// The longest one `drbook run` here may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Runs action `name` once through the library API (`support::actions`), checking that
/// no secret of this test leaks.
fn execute(
    name: &str,
    params: Value,
    workdir: &Path,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    actions::execute(name, params, workdir, &[])
}

/// The outputs of an action that must succeed.
fn ok(name: &str, params: Value, workdir: &Path) -> Value {
    actions::ok(name, params, workdir, &[])
}

/// The message of an action that must fail.
fn refused(name: &str, params: Value, workdir: &Path) -> String {
    actions::refused(name, params, workdir, &[])
}

/// The member table of a cluster, as the restore takes it.
fn table(members: &[Member]) -> Value {
    Value::Array(
        members
            .iter()
            .map(|m| json!({"name": m.name, "peer_url": m.peer_url, "data_dir": m.data_dir}))
            .collect(),
    )
}

fn endpoints(cluster: &EtcdCluster) -> Value {
    json!(
        cluster
            .members
            .iter()
            .map(|m| m.client_url.clone())
            .collect::<Vec<_>>()
    )
}

fn sha256_of(path: &Path) -> String {
    base16ct::lower::encode_string(&Sha256::digest(std::fs::read(path).unwrap()))
}

/// The names in `dir` that drbook may have created next to data directories.
fn drbook_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".drbook-"))
        .collect()
}

/// Three data directories in three states, for a restore that must leave them as they
/// were: the member's old data (which `move_aside: true` would move), an empty one and a
/// missing one; with the member table that restores into them.
fn three_data_dirs(root: &Path, members: &[Member]) -> (Value, [PathBuf; 3]) {
    let old = members[0].data_dir.clone();
    let empty = root.join("empty.etcd");
    std::fs::create_dir(&empty).unwrap();
    let missing = root.join("missing.etcd");
    let table = json!([
        {"name": "a", "peer_url": members[0].peer_url, "data_dir": old},
        {"name": "b", "peer_url": "http://127.0.0.1:1", "data_dir": empty},
        {"name": "c", "peer_url": "http://127.0.0.1:2", "data_dir": missing},
    ]);
    (table, [old, empty, missing])
}

/// The digest of each directory's tree.
fn digests(dirs: &[PathBuf; 3]) -> [std::collections::BTreeMap<PathBuf, String>; 3] {
    dirs.each_ref().map(|d| digest(d))
}

/// Fails unless every directory's tree is still `before` and `root` holds nothing drbook
/// leaves next to a data directory (no staging directory, nothing moved aside).
fn assert_untouched(
    root: &Path,
    dirs: &[PathBuf; 3],
    before: &[std::collections::BTreeMap<PathBuf, String>; 3],
) {
    assert_eq!(before, &digests(dirs), "a data directory changed");
    assert!(
        drbook_leftovers(root).is_empty(),
        "{:?}",
        drbook_leftovers(root)
    );
}

/// Writes the executable shell script `name` in `dir`: a wrapper around the real
/// etcdctl that forces the order of events a test is about.
fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = write(dir, name, text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A running one-member cluster with `keys` keys under `/k` and a canary, and a snapshot
/// of it taken by `etcd.snapshot.save` into `root/snap.db`; returns the save's outputs.
fn cluster_with_snapshot(root: &Path, keys: usize) -> (EtcdCluster, Value) {
    let cluster = EtcdCluster::start(root, 1);
    cluster.load("/k", keys);
    cluster.put("/canary/before", "yes");
    let saved = ok(
        "etcd.snapshot.save",
        json!({"endpoint": cluster.members[0].client_url, "file": "snap.db"}),
        root,
    );
    (cluster, saved)
}

#[test]
fn a_single_member_is_saved_wiped_and_restored_with_every_key() {
    require("etcd");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (mut cluster, saved) = cluster_with_snapshot(root, 300);
    let file = root.join("snap.db");
    assert_eq!(saved["file"], file.display().to_string());
    assert_eq!(saved["sha256"], sha256_of(&file));
    assert_eq!(saved["size"], std::fs::metadata(&file).unwrap().len());
    assert_eq!(saved["keys"], 301, "{saved}");
    assert!(saved["revision"].as_i64().unwrap() >= 2, "{saved}");
    assert!(!root.join("snap.db.partial").exists());

    // Taken again into the same file: the cluster has not changed, so it is the very
    // same snapshot and the step succeeds; once it has changed it is refused.
    let again = ok(
        "etcd.snapshot.save",
        json!({"endpoint": cluster.members[0].client_url, "file": "snap.db"}),
        root,
    );
    assert_eq!(again["sha256"], saved["sha256"]);
    cluster.put("/canary/after", "written after the snapshot");
    let err = refused(
        "etcd.snapshot.save",
        json!({"endpoint": cluster.members[0].client_url, "file": "snap.db"}),
        root,
    );
    assert!(
        err.contains("already exists and holds a different snapshot"),
        "{err}"
    );
    assert_eq!(sha256_of(&file), saved["sha256"].as_str().unwrap());
    assert!(!root.join("snap.db.partial").exists());

    let members = cluster.members.clone();
    cluster.kill();
    std::fs::remove_dir_all(&members[0].data_dir).unwrap();

    let started = Instant::now();
    let restored = ok(
        "etcd.snapshot.restore",
        json!({"file": "snap.db", "members": table(&members), "token": "restored-1"}),
        root,
    );
    let took = started.elapsed();
    let mtime: chrono::DateTime<chrono::Utc> =
        std::fs::metadata(&file).unwrap().modified().unwrap().into();
    assert_eq!(
        restored["restored_point"],
        mtime.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    assert_eq!(restored["revision"], saved["revision"]);
    assert_eq!(restored["members"][0]["name"], "m0");
    assert_eq!(restored["members"][0]["moved_aside"], Value::Null);
    assert!(
        drbook_leftovers(root).is_empty(),
        "{:?}",
        drbook_leftovers(root)
    );
    eprintln!("restore of a 1-member snapshot took {took:?}");

    let cluster = EtcdCluster::start_existing(members, "restored-1");
    assert_eq!(cluster.count("/k/"), 300);
    assert_eq!(cluster.value("/k/0299").as_deref(), Some("value-299"));
    assert_eq!(cluster.value("/canary/before").as_deref(), Some("yes"));
    assert_eq!(cluster.value("/canary/after"), None);
}

#[test]
fn each_damaged_snapshot_is_refused_before_any_data_dir_is_touched() {
    require("etcd");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (mut cluster, saved) = cluster_with_snapshot(root, 50);
    let members = cluster.members.clone();
    cluster.kill();
    let good = std::fs::read(root.join("snap.db")).unwrap();

    // The damaged files.
    let files = root.join("files");
    std::fs::create_dir(&files).unwrap();
    let put = |name: &str, bytes: &[u8]| std::fs::write(files.join(name), bytes).unwrap();
    std::fs::copy(
        members[0].data_dir.join("member/snap/db"),
        files.join("raw.db"),
    )
    .unwrap();
    put("truncated.db", &good[..good.len() - 1000]);
    put("cut-at-page.db", &good[..good.len() - 32 - 4096]);
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x20;
    put("flipped.db", &flipped);
    let gzip = |bytes: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    };
    put(
        "notes.db.gz",
        &gzip(b"restore notes: call the on-call lead first\n"),
    );
    let good_gz = gzip(&good);
    put("cut.db.gz", &good_gz[..good_gz.len() / 2]);
    put("empty.db", b"");
    put("good.db.gz", &good_gz);

    let (restore_table, dirs) = three_data_dirs(root, &members);
    let before = digests(&dirs);

    let cases = [
        (
            "raw.db",
            "is a copy of member/snap/db, not an `etcdctl snapshot save` file; its integrity cannot be checked",
        ),
        ("truncated.db", "is truncated: "),
        ("cut-at-page.db", "is truncated: "),
        ("flipped.db", "is corrupt: its SHA-256 trailer says "),
        (
            "notes.db.gz",
            "is gzip-compressed, but the file inside is not an etcd snapshot",
        ),
        (
            "cut.db.gz",
            "looks gzip-compressed but cannot be decompressed",
        ),
        ("empty.db", "is empty (0 bytes)"),
        ("absent.db", "does not exist"),
    ];
    for (name, expected) in cases {
        let path = files.join(name);
        let want = format!("snapshot `{}` {expected}", path.display());
        let verify = refused("etcd.snapshot.verify", json!({"file": path}), root);
        assert!(verify.starts_with(&want), "verify of {name}: {verify}");
        let restore = refused(
            "etcd.snapshot.restore",
            json!({"file": path, "members": restore_table, "token": "t", "move_aside": true}),
            root,
        );
        assert!(restore.starts_with(&want), "restore of {name}: {restore}");
        let after = digests(&dirs);
        assert_eq!(before, after, "restore of {name} changed a data directory");
        assert!(
            drbook_leftovers(root).is_empty(),
            "{name}: {:?}",
            drbook_leftovers(root)
        );
        assert_eq!(
            std::fs::read_dir(&files).unwrap().count(),
            8,
            "{name}: a temporary file was left next to the snapshots"
        );
    }

    // The good snapshot, gzip'd, verifies with the hash of the uncompressed file.
    let verified = ok(
        "etcd.snapshot.verify",
        json!({"file": files.join("good.db.gz")}),
        root,
    );
    assert_eq!(verified["sha256"], saved["sha256"]);
    assert_eq!(verified["revision"], saved["revision"]);
    assert_eq!(verified["compressed"], true);
    assert!(verified["total_keys"].as_u64().unwrap() >= 51, "{verified}");

    // etcd 3.4.23 cannot bump revisions: refused before anything changes.
    let err = refused(
        "etcd.snapshot.restore",
        json!({"file": "snap.db", "members": restore_table, "token": "t", "move_aside": true,
               "bump_revision": 1_000_000_000, "mark_compacted": true}),
        root,
    );
    assert!(err.contains("does not support `--bump-revision`"), "{err}");
    assert_eq!(before, digests(&dirs));
}

#[test]
fn a_data_dir_in_use_or_not_empty_is_refused_and_moved_aside_on_request() {
    require("etcd");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (mut cluster, _saved) = cluster_with_snapshot(root, 20);
    let members = cluster.members.clone();
    let data_dir = members[0].data_dir.clone();
    let params = |move_aside: bool| json!({"file": "snap.db", "members": table(&members), "token": "again", "move_aside": move_aside});

    // While etcd runs on it, not even `move_aside` may touch it.
    let err = refused("etcd.snapshot.restore", params(true), root);
    assert!(
        err.contains("an etcd process still has this data directory open"),
        "{err}"
    );
    cluster.put("/canary/after", "only in the old data");
    cluster.kill();

    let before = digest(&data_dir);
    let err = refused("etcd.snapshot.restore", params(false), root);
    assert_eq!(
        err,
        format!(
            "a data directory is not empty: `{}`; nothing was changed. Set `move_aside: true` to have drbook rename it to `<dir>.drbook-<timestamp>` (never deleted), or empty it yourself",
            data_dir.display()
        )
    );
    assert_eq!(digest(&data_dir), before);

    let restored = ok("etcd.snapshot.restore", params(true), root);
    let aside = PathBuf::from(restored["members"][0]["moved_aside"].as_str().unwrap());
    let name = aside.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("m0.etcd.drbook-") && name.ends_with('Z'),
        "{name}"
    );
    assert_eq!(
        digest(&aside),
        before,
        "the old data directory was moved intact"
    );

    let cluster = EtcdCluster::start_existing(members, "again");
    assert_eq!(cluster.count("/k/"), 20);
    assert_eq!(cluster.value("/canary/after"), None);
}

/// The runbook that saves and checks a snapshot of a live cluster.
fn save_runbook(endpoints: &str, file: &Path) -> String {
    let file = file.display();
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: etcd-save, version: 1.0.0}}
spec:
  steps:
    - id: health
      action: etcd.health
      with: {{endpoints: [{endpoints}]}}
    - id: members
      action: etcd.members
      with: {{endpoints: [{endpoints}]}}
    - id: status
      action: etcd.status
      with: {{endpoints: [{endpoints}]}}
    - id: save
      action: etcd.snapshot.save
      with:
        endpoint: "{{{{ steps.status.outputs.endpoints[0].endpoint }}}}"
        file: "{file}"
    - id: check
      action: etcd.snapshot.verify
      with: {{file: "{{{{ steps.save.outputs.file }}}}"}}
"#
    )
}

/// The runbook that restores three members and verifies the restarted cluster.
fn restore_runbook(members: &[Member]) -> String {
    let rows: String = members
        .iter()
        .map(|m| {
            format!(
                "        - {{name: {}, peer_url: \"{}\", data_dir: \"{}\"}}\n",
                m.name,
                m.peer_url,
                m.data_dir.display()
            )
        })
        .collect();
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: etcd-restore, version: 1.0.0}}
spec:
  inputs:
    - {{name: snapshot, type: string}}
  steps:
    - id: verify_snapshot
      action: etcd.snapshot.verify
      with: {{file: "{{{{ inputs.snapshot }}}}"}}
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: "{{{{ inputs.snapshot }}}}"
        token: drbook-restored
        snapshot_time: "2026-01-01T00:00:00Z"
        members:
{rows}"#
    )
}

/// `restore_runbook` with its restore step run by `etcdctl` instead of the PATH's.
fn restore_runbook_with(members: &[Member], etcdctl: &Path) -> String {
    let runbook = restore_runbook(members).replace(
        "        token: drbook-restored\n",
        &format!(
            "        token: drbook-restored\n        etcdctl: \"{}\"\n",
            etcdctl.display()
        ),
    );
    assert!(
        runbook.contains(&etcdctl.display().to_string()),
        "{runbook}"
    );
    runbook
}

/// `drbook run restore.yaml` (run id `restore`) from `snapshot`, expecting the run to be
/// killed with SIGKILL by the test's etcdctl wrapper.
fn run_killed_in_the_restore(root: &Path, state: &Path, snapshot: &Path) {
    use std::os::unix::process::ExitStatusExt;
    let state_arg = state.display().to_string();
    let snapshot_input = format!("snapshot={}", snapshot.display());
    let killed = Drbook::in_dir(root)
        .args([
            "run",
            "restore.yaml",
            "--run-id",
            "restore",
            "--state-dir",
            &state_arg,
            "-i",
            &snapshot_input,
        ])
        .limit(RUN_LIMIT)
        .run();
    assert_eq!(
        killed.status.signal(),
        Some(9),
        "drbook was not killed in the restore: {:?}\nstdout:\n{}\nstderr:\n{}",
        killed.status,
        killed.stdout,
        killed.stderr
    );
}

fn journal(state: &Path, run: &str) -> Vec<Value> {
    std::fs::read_to_string(state.join("runs").join(run).join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The outputs of step `step` in a journal.
fn outputs(journal: &[Value], step: &str) -> Value {
    journal
        .iter()
        .map(|r| &r["event"])
        .find(|e| e["type"] == "step_finished" && e["step"] == step)
        .unwrap_or_else(|| panic!("step {step} finished: {journal:#?}"))["outcome"]["outputs"]
        .clone()
}

fn drbook_run(dir: &Path, args: &[&str]) {
    let out = Drbook::in_dir(dir).args(args).limit(RUN_LIMIT).run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "drbook {args:?}\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn a_three_member_cluster_is_recovered_through_drbook_run() {
    require("etcd");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");
    let state_arg = state.display().to_string();
    let mut cluster = EtcdCluster::start(root, 3);
    cluster.load("/k", 200);
    cluster.put("/canary/before", "yes");
    let eps = cluster.endpoints();

    // Save: health, members and status of the live cluster, then a snapshot.
    let snap = root.join("snap.db");
    write(root, "save.yaml", &save_runbook(&eps, &snap));
    drbook_run(
        root,
        &[
            "run",
            "save.yaml",
            "--run-id",
            "save",
            "--state-dir",
            &state_arg,
        ],
    );
    let saved = journal(&state, "save");
    let health = outputs(&saved, "health");
    assert_eq!(
        (health["healthy"].clone(), health["total"].clone()),
        (json!(3), json!(3))
    );
    let listed = outputs(&saved, "members");
    assert_eq!(listed["count"], 3);
    let mut names: Vec<&str> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["m0", "m1", "m2"]);
    for m in listed["members"].as_array().unwrap() {
        let member = cluster
            .members
            .iter()
            .find(|c| c.name == m["name"])
            .unwrap();
        assert_eq!(m["peer_urls"], json!([member.peer_url]));
        assert_eq!(m["client_urls"], json!([member.client_url]));
        assert_eq!(m["id"].as_str().unwrap().len(), 16);
    }
    let status = outputs(&saved, "status");
    let per_endpoint = status["endpoints"].as_array().unwrap();
    assert_eq!(per_endpoint.len(), 3);
    assert_eq!(
        per_endpoint
            .iter()
            .filter(|e| e["is_leader"] == true)
            .count(),
        1
    );
    assert!(per_endpoint.iter().all(|e| e["leader"] == status["leader"]));
    assert!(
        per_endpoint
            .iter()
            .all(|e| e["version"].as_str().unwrap().starts_with("3."))
    );
    let snapshot = outputs(&saved, "save");
    let checked = outputs(&saved, "check");
    assert_eq!(snapshot["sha256"], checked["sha256"]);
    assert_eq!(snapshot["revision"], checked["revision"]);
    assert_eq!(snapshot["keys"], 201);

    // Lose the cluster: a write after the snapshot, then every member and its data.
    cluster.put("/canary/after", "lost by the restore");
    let members = cluster.members.clone();
    cluster.kill();
    for m in &members {
        std::fs::remove_dir_all(&m.data_dir).unwrap();
    }

    // Restore the three members from the snapshot.
    write(root, "restore.yaml", &restore_runbook(&members));
    let started = Instant::now();
    drbook_run(
        root,
        &[
            "run",
            "restore.yaml",
            "--run-id",
            "restore",
            "--state-dir",
            &state_arg,
            "-i",
            &format!("snapshot={}", snap.display()),
        ],
    );
    eprintln!(
        "drbook run of the 3-member restore took {:?}",
        started.elapsed()
    );
    let restored = journal(&state, "restore");
    let restore = outputs(&restored, "restore");
    assert_eq!(restore["restored_point"], "2026-01-01T00:00:00.000Z");
    assert_eq!(restore["revision"], snapshot["revision"]);
    assert_eq!(restore["members"].as_array().unwrap().len(), 3);
    let finished = restored.last().unwrap();
    assert_eq!(finished["event"]["type"], "run_finished", "{finished}");
    eprintln!("restore step outputs: {restore}");

    let cluster = EtcdCluster::start_existing(members, "drbook-restored");
    assert_eq!(cluster.count("/k/"), 200);

    // The restored cluster through the live-API actions.
    let verified = ok(
        "etcd.verify",
        json!({
            "endpoints": endpoints(&cluster),
            "min_revision": snapshot["revision"],
            "expect_keys": snapshot["keys"],
            "canaries_present": ["/canary/before"],
            "canaries_absent": ["/canary/after"],
        }),
        root,
    );
    assert_eq!(verified["members"], 3);
    assert_eq!(verified["keys"], 201);
    assert_ne!(verified["leader"], "0000000000000000");

    let err = refused(
        "etcd.verify",
        json!({"endpoints": endpoints(&cluster), "expect_keys": 202, "canaries_present": ["/canary/after"]}),
        root,
    );
    assert!(
        err.starts_with("the cluster does not pass verification: "),
        "{err}"
    );
    for m in &cluster.members {
        assert!(
            err.contains(&format!("{} holds 201 keys, expected 202", m.client_url)),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{} lacks the canary key `/canary/after`",
                m.client_url
            )),
            "{err}"
        );
    }
    let err = refused(
        "etcd.verify",
        json!({"endpoints": endpoints(&cluster), "prefix": "/k/", "expect_keys": 200, "canaries_absent": ["/canary/before"]}),
        root,
    );
    assert!(
        err.contains("still holds the key `/canary/before` that should be absent"),
        "{err}"
    );
    assert!(
        !err.contains("keys under"),
        "the count under the prefix was right: {err}"
    );

    // Health of a cluster with one member down: not `all`, but a quorum.
    let mut cluster = cluster;
    let down = cluster.members[2].client_url.clone();
    let quorum = ok(
        "etcd.health",
        json!({"endpoints": endpoints(&cluster), "mode": "quorum"}),
        root,
    );
    assert_eq!(quorum["healthy"], 3);
    // Every member answered for the one cluster, each as itself.
    let cluster_id = quorum["cluster_id"].as_str().unwrap();
    assert_eq!(cluster_id.len(), 16, "{quorum}");
    let answers = quorum["endpoints"].as_array().unwrap();
    assert!(
        answers.iter().all(|e| e["cluster_id"] == cluster_id),
        "{quorum}"
    );
    let member_ids: std::collections::BTreeSet<&str> = answers
        .iter()
        .map(|e| e["member_id"].as_str().unwrap())
        .collect();
    assert_eq!(member_ids.len(), 3, "{quorum}");
    cluster.kill_member(2);
    // If the killed member led, the others answer "leader changed" until they have
    // elected a new leader: poll, as a runbook would with `retry`.
    let deadline = Instant::now() + Duration::from_secs(20);
    let quorum = loop {
        match execute(
            "etcd.health",
            json!({"endpoints": endpoints(&cluster), "mode": "quorum", "timeout": "2s"}),
            root,
        ) {
            (Ok(outputs), _) => break Value::Object(outputs),
            (Err(e), _) => assert!(Instant::now() < deadline, "no quorum within 20s: {e}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(quorum["healthy"], 2);
    let err = refused(
        "etcd.health",
        json!({"endpoints": endpoints(&cluster), "timeout": "2s"}),
        root,
    );
    assert!(
        err.starts_with("2 of 3 endpoints are healthy, and `mode: all` needs every one: "),
        "{err}"
    );
    assert!(err.contains(&down), "{err}");
}

/// Two healthy clusters behind one step's endpoints, as when another etcd took a
/// member's port or an address was mistyped: each endpoint is healthy on its own, but
/// the step fails and names which endpoint answered for which cluster.
#[test]
fn endpoints_of_two_different_clusters_fail_health_even_when_each_answers() {
    require("etcd");
    let dir = tempfile::tempdir().unwrap();
    let (meant_dir, other_dir) = (dir.path().join("meant"), dir.path().join("other"));
    std::fs::create_dir(&meant_dir).unwrap();
    std::fs::create_dir(&other_dir).unwrap();
    let mut meant = EtcdCluster::start(&meant_dir, 1);
    let mut other = EtcdCluster::start(&other_dir, 1);
    let (a, b) = (
        meant.members[0].client_url.clone(),
        other.members[0].client_url.clone(),
    );
    let alone = ok("etcd.health", json!({"endpoints": [&a]}), dir.path());
    let err = refused("etcd.health", json!({"endpoints": [&a, &b]}), dir.path());
    let other_id = ok("etcd.health", json!({"endpoints": [&b]}), dir.path())["cluster_id"].clone();
    assert_ne!(alone["cluster_id"], other_id);
    assert_eq!(
        err,
        format!(
            "the endpoints belong to more than one etcd cluster: {a} answers for cluster {}; {b} answers for cluster {}. At least one endpoint is not a member of the cluster this step means (a wrong address, or its port taken by another etcd); check the endpoints against the members' --advertise-client-urls",
            alone["cluster_id"].as_str().unwrap(),
            other_id.as_str().unwrap(),
        )
    );
    // etcd.verify says the same among its findings.
    let err = refused("etcd.verify", json!({"endpoints": [&a, &b]}), dir.path());
    assert!(
        err.contains(&format!(
            "the endpoints belong to more than one etcd cluster: {a} answers for cluster {}; {b} answers for cluster {}",
            alone["cluster_id"].as_str().unwrap(),
            other_id.as_str().unwrap(),
        )),
        "{err}"
    );
    meant.kill();
    other.kill();
}

/// Writes a CA, a server certificate for 127.0.0.1 and a client certificate into `dir`
/// with the openssl command line.
fn make_pki(dir: &Path) {
    let openssl = require("openssl");
    write(
        dir,
        "ext.cnf",
        "[srv]\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n\
         [cli]\nextendedKeyUsage=clientAuth\n",
    );
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&openssl)
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "1",
            "-subj",
            "/CN=drbook-test-ca",
        ],
    ]
    .concat());
    for (name, ext) in [("server", "srv"), ("client", "cli")] {
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        run(&[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={name}"),
            ],
        ]
        .concat());
        run(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-extensions",
            ext,
        ]);
    }
}

/// Kills the process when dropped.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn client_certificates_are_used_for_health_and_snapshots() {
    let etcd = require("etcd");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    make_pki(root);
    let client = format!("https://127.0.0.1:{}", crate::support::etcd::free_port());
    let peer = format!("http://127.0.0.1:{}", crate::support::etcd::free_port());
    let log = std::fs::File::create(root.join("etcd.log")).unwrap();
    let _etcd = Killed(
        std::process::Command::new(etcd)
            .current_dir(root)
            .args(["--name", "tls", "--data-dir", "tls.etcd"])
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &format!("tls={peer}")])
            .args(["--cert-file", "server.crt", "--key-file", "server.key"])
            .args(["--trusted-ca-file", "ca.crt", "--client-cert-auth"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let tls = json!({
        "endpoints": [client],
        "cacert": "ca.crt", "cert": "client.crt", "key": "client.key", "timeout": "2s",
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while execute("etcd.health", tls.clone(), root).0.is_err() {
        assert!(
            Instant::now() < deadline,
            "etcd with TLS not healthy within 30s: {}",
            std::fs::read_to_string(root.join("etcd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let err = refused(
        "etcd.health",
        json!({"endpoints": [client], "cacert": "ca.crt"}),
        root,
    );
    // TLS 1.3 rejects the missing certificate after the client's side of the
    // handshake is done: the error is a "BadCertificate" alert or a closed connection.
    assert!(
        err.starts_with(&format!(
            "0 of 1 endpoint is healthy, and `mode: all` needs every one: could not read from {client}: "
        )),
        "without a client certificate: {err}"
    );
    let err = refused(
        "etcd.health",
        json!({"endpoints": [client], "cert": "client.crt"}),
        root,
    );
    assert_eq!(
        err,
        "parameter `cert` and `key` go together: give both or neither"
    );

    let mut save = tls.clone();
    save["endpoint"] = json!(client);
    save["file"] = json!("tls.db");
    save.as_object_mut().unwrap().remove("endpoints");
    let saved = ok("etcd.snapshot.save", save, root);
    let verified = ok("etcd.snapshot.verify", json!({"file": "tls.db"}), root);
    assert_eq!(saved["sha256"], verified["sha256"]);
    let status = ok("etcd.status", tls, root);
    assert_eq!(status["endpoints"][0]["is_leader"], true);
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

/// The invocations a wrapper recorded in `file`, one `PID SUBCOMMAND` a line: pid and
/// subcommand (e.g. `snapshot restore`).
fn invocations(file: &Path) -> Vec<(i32, String)> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|line| {
            let (pid, what) = line.split_once(' ').unwrap_or((line, ""));
            (pid.parse().unwrap(), what.trim().to_string())
        })
        .collect()
}

/// `drbook resume run --state-dir state` on a pseudo-terminal, in `dir`; answers the
/// question about the interrupted step `step` with "run it again" (the default) and
/// returns the exit code and everything the terminal showed.
fn resume_at_a_terminal_rerunning(
    dir: &Path,
    state: &Path,
    run: &str,
    step: &str,
) -> (i32, String) {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect, Session};

    let command = Drbook::in_dir(dir)
        .env("TERM", "xterm")
        .env("DRBOOK_OPERATOR", "carol")
        .args(["resume", run, "--state-dir", state.to_str().unwrap()])
        .command();
    let mut session = Session::spawn(command).expect("drbook starts on a pty");
    session.set_expect_timeout(Some(RUN_LIMIT));
    let mut shown = String::new();
    for text in [
        format!("Step `{step}` was running when drbook stopped; check what it did. Did it finish?"),
        // The last choice: the whole question is on the screen.
        "abort the run".to_string(),
    ] {
        let found = session
            .expect(text.as_str())
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}\n{shown}"));
        shown.push_str(&String::from_utf8_lossy(found.before()));
        shown.push_str(&text);
    }
    // "run it again" is the default.
    session.send("\r").unwrap();
    let rest = session
        .expect(Eof)
        .unwrap_or_else(|e| panic!("waiting for drbook to end: {e}\n{shown}"));
    shown.push_str(&String::from_utf8_lossy(rest.before()));
    if !rest.is_empty() {
        shown.push_str(&String::from_utf8_lossy(&rest[0]));
    }
    let code = match session.get_process().wait() {
        Ok(WaitStatus::Exited(_, code)) => code,
        other => panic!("drbook ended with {other:?}\n{shown}"),
    };
    (code, shown)
}

/// drbook is killed with SIGKILL in the middle of restoring three members: member m1's
/// restore has finished into its `.drbook-restoring` directory, the others may or may
/// not have, and no data directory has been touched yet (the last phase never ran).
/// The restore asks first, so a resume without a terminal refuses and changes nothing;
/// at a terminal the operator answers "run it again" (the data directories are still
/// empty, which is when the action's own documentation says that is safe), the restore
/// removes the unfinished staging directories and runs once to the end, and the cluster
/// started from the restored directories is healthy with every key of the snapshot.
#[test]
fn resume_after_kill_9_during_a_three_member_restore_recovers_everything() {
    require("etcd");
    let etcdctl = require("etcdctl");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");
    let state_arg = state.display().to_string();
    let mut cluster = EtcdCluster::start(root, 3);
    cluster.load("/k", 2000);
    cluster.put("/canary/before", "yes");

    let snap = root.join("snap.db");
    write(
        root,
        "save.yaml",
        &save_runbook(&cluster.endpoints(), &snap),
    );
    drbook_run(
        root,
        &[
            "run",
            "save.yaml",
            "--run-id",
            "save",
            "--state-dir",
            &state_arg,
        ],
    );
    let snapshot = outputs(&journal(&state, "save"), "save");
    assert_eq!(snapshot["keys"], 2001, "{snapshot}");

    cluster.put("/canary/after", "lost by the restore");
    let members = cluster.members.clone();
    cluster.kill();
    for m in &members {
        std::fs::remove_dir_all(&m.data_dir).unwrap();
    }

    // The real etcdctl, except that right after its restore of m1 has finished it kills
    // its parent, drbook, once (the marker file). Every invocation records its pid
    // and subcommand.
    let crashed = root.join("crashed");
    let pids = root.join("etcdctl.pids");
    let wrapper = script(
        root,
        "etcdctl-crashing",
        &format!(
            "#!/bin/sh\n\
             echo \"$$ $1 $2\" >> '{pids}'\n\
             '{etcdctl}' \"$@\" || exit $?\n\
             case \" $* \" in *' restore '*' --name m1 '*)\n\
             if [ ! -e '{crashed}' ] && [ \"$(cat /proc/$PPID/comm)\" = drbook ]; then\n\
             touch '{crashed}'; kill -9 $PPID\n\
             fi ;;\n\
             esac\n",
            pids = pids.display(),
            etcdctl = etcdctl.display(),
            crashed = crashed.display(),
        ),
    );
    write(
        root,
        "restore.yaml",
        &restore_runbook_with(&members, &wrapper),
    );
    let started = Instant::now();

    run_killed_in_the_restore(root, &state, &snap);
    assert!(crashed.exists());
    // The other members' restores die with drbook: wait until every one has ended
    // before looking at the directories.
    crate::support::wait_until(
        "every etcdctl of the killed run ended",
        Duration::from_secs(20),
        || invocations(&pids).iter().all(|(pid, _)| ended(*pid)),
    );
    // The crash came before the last phase: m1 sits restored in its staging directory,
    // and no data directory exists.
    let restores = |calls: &[(i32, String)]| {
        calls
            .iter()
            .filter(|(_, what)| what == "snapshot restore")
            .count()
    };
    let restores_before_resume = restores(&invocations(&pids));
    assert!(restores_before_resume <= 3, "{:?}", invocations(&pids));
    assert!(
        root.join("m1.etcd.drbook-restoring/data/member/snap/db")
            .is_file()
    );
    for m in &members {
        assert!(!m.data_dir.exists(), "{} was touched", m.data_dir.display());
    }

    // Without a terminal the interrupted restore cannot be asked about: refused, and
    // nothing changes, neither the journal nor any directory.
    let journal_path = state.join("runs/restore/journal.jsonl");
    let journal_before = std::fs::read(&journal_path).unwrap();
    // Everything but the run's lock file, which records whoever last took the lock.
    let tree = || {
        let mut tree = digest(root);
        tree.remove(Path::new("state/runs/restore/lock"));
        tree
    };
    let tree_before = tree();
    let refused_resume = Drbook::in_dir(root)
        .args(["resume", "restore", "--state-dir", &state_arg])
        .limit(RUN_LIMIT)
        .run();
    let stderr = &refused_resume.stderr;
    assert_eq!(refused_resume.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(
            "step `restore`, which was running when drbook stopped, needs an answer, but there is no terminal to ask on"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&journal_path).unwrap(), journal_before);
    assert_eq!(tree(), tree_before, "the refused resume changed files");

    // At a terminal: the data directories are still empty, so run it again.
    let (code, shown) = resume_at_a_terminal_rerunning(root, &state, "restore", "restore");
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("left by an earlier restore that did not finish"),
        "{shown}"
    );
    eprintln!(
        "3-member restore, killed and resumed, took {:?}",
        started.elapsed()
    );
    assert!(
        drbook_leftovers(root).is_empty(),
        "{:?}",
        drbook_leftovers(root)
    );

    let records = journal(&state, "restore");
    let sessions: Vec<u64> = {
        let mut s: Vec<u64> = records
            .iter()
            .map(|r| r["session"].as_u64().unwrap())
            .collect();
        s.dedup();
        s
    };
    assert_eq!(sessions, [0, 1]);
    let of = |ty: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["event"]["type"] == ty && r["event"]["step"] == "restore")
            .collect()
    };
    let attempts: Vec<(u64, u64)> = of("step_started")
        .iter()
        .map(|r| {
            (
                r["session"].as_u64().unwrap(),
                r["event"]["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [(0, 1), (1, 2)],
        "the interrupted attempt, then one more"
    );
    let finished = of("step_finished");
    assert_eq!(finished.len(), 1, "{finished:#?}");
    assert_eq!(finished[0]["session"], 1);
    assert_eq!(finished[0]["event"]["attempt"], 2);
    let restore = outputs(&records, "restore");
    assert_eq!(restore["revision"], snapshot["revision"]);
    assert_eq!(restore["sha256"], snapshot["sha256"]);
    assert_eq!(records.last().unwrap()["event"]["type"], "run_finished");
    // Exactly one more restore of the three members after the crash; no etcdctl
    // still running.
    let calls = invocations(&pids);
    assert_eq!(restores(&calls), restores_before_resume + 3, "{calls:?}");
    for (pid, what) in &calls {
        assert!(ended(*pid), "etcdctl {what} ({pid}) still runs");
    }

    let cluster = EtcdCluster::start_existing(members, "drbook-restored");
    assert_eq!(cluster.count("/k/"), 2000);
    assert_eq!(cluster.value("/canary/before").as_deref(), Some("yes"));
    assert_eq!(cluster.value("/canary/after"), None);
    let verified = ok(
        "etcd.verify",
        json!({
            "endpoints": endpoints(&cluster),
            "min_revision": snapshot["revision"],
            "expect_keys": snapshot["keys"],
            "canaries_present": ["/canary/before"],
            "canaries_absent": ["/canary/after"],
        }),
        root,
    );
    assert_eq!(verified["members"], 3);
    assert_eq!(verified["keys"], 2001);
}
