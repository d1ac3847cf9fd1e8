//! The crash-safety phases of `etcd.snapshot.restore` (see its module doc) with a
//! stand-in tool: cancelling, a snapshot refused or written to while the members
//! restore, a member failing, a staging directory still in use, and flags refused
//! before anything runs. Nothing here reaches a data directory but the test's own.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::*;
use crate::actions::etcd::snapshot_file::tests::snapshot;
use crate::actions::execute::tests::request;
use crate::actions::process::{TERM_GRACE, tests::is_running, tests::wait_for_pids};
use crate::actions::staging_lock::StagingLock;

/// A stand-in `etcdctl` in `dir`: `snapshot status` answers at once; `snapshot
/// restore` records its pid, starts writing its `--data-dir` and then runs `restore`
/// (shell code; `$all` holds the arguments).
fn fake_etcdctl(dir: &Path, restore: &str) -> PathBuf {
    let status = "echo '{\"hash\":1,\"revision\":7,\"totalKey\":3,\"totalSize\":12288}'";
    fake_etcdctl_with(dir, status, restore)
}

/// `fake_etcdctl` whose `snapshot status` runs `status` (shell code).
fn fake_etcdctl_with(dir: &Path, status: &str, restore: &str) -> PathBuf {
    let path = dir.join("etcdctl");
    let pids = dir.join("pids");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\ncase \"$1 $2\" in\n\
             'snapshot status') {status} ;;\n\
             'snapshot restore') echo $$ >> '{}'; all=\"$*\"\n\
             while [ $# -gt 0 ]; do [ \"$1\" = --data-dir ] && mkdir -p \"$2\" && touch \"$2/db\"; shift; done\n\
             {restore} ;;\n\
             esac\n",
            pids.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A snapshot file, an old non-empty data directory `a.etcd` and a missing `b.etcd`;
/// the parameters restoring both with `move_aside`.
fn setup(dir: &Path, etcdctl: &Path) -> Value {
    std::fs::write(dir.join("snap.db"), snapshot(3)).unwrap();
    std::fs::create_dir_all(dir.join("a.etcd/member")).unwrap();
    std::fs::write(dir.join("a.etcd/member/old"), "old data").unwrap();
    json!({
        "file": "snap.db",
        "token": "t",
        "move_aside": true,
        "etcdctl": etcdctl,
        "members": [
            {"name": "a", "peer_url": "http://127.0.0.1:1", "data_dir": "a.etcd"},
            {"name": "b", "peer_url": "http://127.0.0.1:2", "data_dir": "b.etcd"},
        ],
    })
}

/// The entries of `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn cancel_stops_every_member_and_leaves_the_data_dirs_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let etcdctl = fake_etcdctl(dir.path(), "sleep 30");
    let params = setup(dir.path(), &etcdctl);
    let (req, _events, cancel) = request(params, dir.path());
    let task = tokio::spawn(SPEC.execute(req));
    let pids = wait_for_pids(&dir.path().join("pids"), 2).await;
    let started = Instant::now();
    cancel.cancel();
    let result = task.await.unwrap();
    assert!(matches!(result, Err(ActionError::Cancelled)), "{result:?}");
    assert!(started.elapsed() < TERM_GRACE, "{:?}", started.elapsed());
    for pid in pids {
        assert!(!is_running(pid), "restore {pid} survived the cancel");
    }
    assert_eq!(
        listing(dir.path()),
        ["a.etcd", "etcdctl", "pids", "snap.db"]
    );
    assert_eq!(listing(&dir.path().join("a.etcd/member")), ["old"]);
}

/// The verification overlaps the restores: a snapshot that `snapshot status` refuses
/// only once both restores run and have written into their staging directories stops
/// them, and leaves no staging directory and the data directories as they were.
#[tokio::test]
async fn a_snapshot_failing_verification_stops_the_restores_already_running() {
    let dir = tempfile::tempdir().unwrap();
    let running = dir.path().join("running");
    let status = format!(
        "n=0; until [ \"$(cat '{0}' 2>/dev/null | wc -l)\" -ge 2 ] || [ $n -ge 500 ]; \
         do n=$((n + 1)); sleep 0.01; done; echo 'Error: invalid database' >&2; exit 1",
        running.display()
    );
    let restore = format!("echo $$ >> '{}'; sleep 30", running.display());
    let etcdctl = fake_etcdctl_with(dir.path(), &status, &restore);
    let params = setup(dir.path(), &etcdctl);
    let (req, _events, _cancel) = request(params, dir.path());
    let started = Instant::now();
    let err = SPEC.execute(req).await.unwrap_err().to_string();
    assert!(started.elapsed() < TERM_GRACE + Duration::from_secs(1));
    assert_eq!(
        err,
        format!(
            "snapshot `{}` was refused by `etcdctl snapshot status`: Error: invalid database",
            dir.path().join("snap.db").display()
        )
    );
    let running = std::fs::read_to_string(&running).expect("the restores ran");
    assert_eq!(running.lines().count(), 2, "both restores were running");
    for pid in wait_for_pids(&dir.path().join("pids"), 2).await {
        assert!(!is_running(pid), "restore {pid} survived the failed check");
    }
    assert_eq!(
        listing(dir.path()),
        ["a.etcd", "etcdctl", "pids", "running", "snap.db"]
    );
    assert_eq!(listing(&dir.path().join("a.etcd/member")), ["old"]);
}

/// The tool skips its own hash check, so a snapshot written to while the members
/// are restored from it is refused by drbook, and nothing is put in place.
#[tokio::test]
async fn a_snapshot_written_to_during_the_restores_is_refused_and_nothing_is_placed() {
    let dir = tempfile::tempdir().unwrap();
    let args = dir.path().join("args");
    // Each restore records its arguments, then sets the snapshot's modification
    // time, as a writer that is not done with the file would change it.
    let restore = format!(
        "echo \"$all\" >> '{}'; touch -d 2001-01-01T00:00:00Z '{}'",
        args.display(),
        dir.path().join("snap.db").display()
    );
    let etcdctl = fake_etcdctl(dir.path(), &restore);
    let params = setup(dir.path(), &etcdctl);
    let (req, _events, _cancel) = request(params, dir.path());
    let err = SPEC.execute(req).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "snapshot `{}` changed while it was being restored (something wrote to it): something is still writing or replacing it, so the restored copies cannot be trusted. Wait until whatever writes it has finished, compare its size and checksum with the source, and run the step again",
            dir.path().join("snap.db").display()
        )
    );
    let args = std::fs::read_to_string(&args).unwrap();
    assert_eq!(args.lines().count(), 2, "{args}");
    for line in args.lines() {
        assert!(line.ends_with(" --skip-hash-check"), "{line}");
    }
    assert_eq!(
        listing(dir.path()),
        ["a.etcd", "args", "etcdctl", "pids", "snap.db"]
    );
    assert_eq!(listing(&dir.path().join("a.etcd/member")), ["old"]);
}

#[tokio::test]
async fn one_member_failing_stops_the_others_and_changes_no_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let etcdctl = fake_etcdctl(
        dir.path(),
        "case \"$all\" in *'--name b'*) echo 'Error: boom' >&2; exit 3 ;; *) sleep 30 ;; esac",
    );
    let params = setup(dir.path(), &etcdctl);
    let (req, _events, _cancel) = request(params, dir.path());
    let started = Instant::now();
    let err = SPEC.execute(req).await.unwrap_err().to_string();
    assert!(started.elapsed() < TERM_GRACE + Duration::from_secs(1));
    assert_eq!(
        err,
        "restoring member `b` failed: `etcdctl snapshot restore` exited with status 3; last stderr: Error: boom; no data directory was changed"
    );
    // Member `a` may have been stopped before it even started.
    for pid in wait_for_pids(&dir.path().join("pids"), 1).await {
        assert!(!is_running(pid), "restore {pid} survived");
    }
    assert_eq!(
        listing(dir.path()),
        ["a.etcd", "etcdctl", "pids", "snap.db"]
    );
}

#[tokio::test]
async fn a_staging_directory_still_in_use_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let etcdctl = fake_etcdctl(dir.path(), "true");
    let params = setup(dir.path(), &etcdctl);
    // What an etcdctl that outlived its drbook would hold.
    let survivor = dir.path().join("b.etcd.drbook-restoring");
    std::fs::create_dir_all(survivor.join("data/member")).unwrap();
    let held = StagingLock::try_lock(&survivor).unwrap().unwrap();
    let (req, _events, _cancel) = request(params.clone(), dir.path());
    let err = SPEC.execute(req).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "`{0}`, left by an earlier restore of this data directory, is still in use: a process holds its lock (an etcdctl or etcdutl started by an earlier drbook); no data directory was changed. Find it with `fuser -v {0}`, stop it, then run the step again",
            survivor.display()
        )
    );
    assert!(!dir.path().join("pids").exists(), "nothing was restored");
    assert!(survivor.join("data/member").is_dir());
    assert_eq!(listing(&dir.path().join("a.etcd/member")), ["old"]);

    // Once nothing holds it, it is what a crash left: removed, and the restore runs.
    drop(held);
    let (req, _events, _cancel) = request(params, dir.path());
    SPEC.execute(req).await.unwrap();
    assert_eq!(listing(&dir.path().join("b.etcd")), ["db"]);
    assert!(!survivor.exists());
}

#[tokio::test]
async fn mark_compacted_without_a_bump_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let etcdctl = fake_etcdctl(dir.path(), "true");
    let mut params = setup(dir.path(), &etcdctl);
    params["mark_compacted"] = json!(true);
    let (req, _events, _cancel) = request(params, dir.path());
    let err = SPEC.execute(req).await.unwrap_err().to_string();
    assert!(
        err.starts_with("parameter `mark_compacted` needs `bump_revision`"),
        "{err}"
    );
    assert!(!dir.path().join("pids").exists());
}
