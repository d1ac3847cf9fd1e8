//! `etcd.snapshot.restore` verifies the snapshot while the members are already being
//! restored into their staging directories, against real etcd 3.4 tools: a snapshot
//! refused while the restores run, or written to while they run, leaves every data
//! directory byte-identical and no staging directory behind, and drbook killed with SIGKILL in the middle of the
//! overlapped verify and restore resumes to a cluster with every key back.
//!
//! The order of events is forced by wrapping the real etcdctl, never by sleeping: the
//! wrapper's `snapshot status` waits (bounded) until the restores have reached the
//! point the test is about.

use super::*;

/// A 200-key snapshot `snap.db` in `root` and three data directories that a refused
/// restore must leave as they were (`three_data_dirs`), with their member table and
/// their digests now.
fn snapshot_and_three_data_dirs(
    root: &Path,
) -> (
    Value,
    [PathBuf; 3],
    [std::collections::BTreeMap<PathBuf, String>; 3],
) {
    let (mut cluster, _saved) = cluster_with_snapshot(root, 200);
    let members = cluster.members.clone();
    cluster.kill();
    let (restore_table, dirs) = three_data_dirs(root, &members);
    let before = digests(&dirs);
    (restore_table, dirs, before)
}

/// Shell code that waits, at most 20 s, until `file` has at least `lines` lines.
fn wait_for_lines(file: &Path, lines: usize) -> String {
    format!(
        "n=0; until [ \"$(cat '{}' 2>/dev/null | wc -l)\" -ge {lines} ] || [ $n -ge 2000 ]; do n=$((n + 1)); sleep 0.01; done",
        file.display()
    )
}

/// The real etcdctl restores all three members into their staging directories and
/// then keeps running (as a slower restore would); only then does `snapshot status`
/// refuse the snapshot, as it refuses a damaged database. The restores still running
/// are stopped, their staging directories removed, and every data directory (the old
/// member's, which `move_aside: true` would have moved, an empty one and a missing one)
/// is byte-identical to what it was.
#[test]
fn a_snapshot_refused_while_the_restores_run_leaves_every_data_dir_as_it_was() {
    require("etcd");
    let etcdctl = require("etcdctl");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (restore_table, dirs, before) = snapshot_and_three_data_dirs(root);

    let pids = root.join("etcdctl.pids");
    let restored = root.join("restored");
    let wrapper = script(
        root,
        "etcdctl-refusing",
        &format!(
            "#!/bin/sh\n\
             echo \"$$ $1 $2\" >> '{pids}'\n\
             case \"$1 $2\" in\n\
             'snapshot restore') '{etcdctl}' \"$@\" || exit $?; echo $$ >> '{restored}'; exec sleep 60 ;;\n\
             'snapshot status') {wait}; echo 'Error: invalid database' >&2; exit 1 ;;\n\
             *) exec '{etcdctl}' \"$@\" ;;\n\
             esac\n",
            pids = pids.display(),
            etcdctl = etcdctl.display(),
            restored = restored.display(),
            wait = wait_for_lines(&restored, 3),
        ),
    );

    let err = refused(
        "etcd.snapshot.restore",
        json!({"file": "snap.db", "members": restore_table, "token": "t", "move_aside": true,
               "etcdctl": wrapper}),
        root,
    );
    assert_eq!(
        err,
        format!(
            "snapshot `{}` was refused by `etcdctl snapshot status`: Error: invalid database",
            root.join("snap.db").display()
        )
    );
    // The three restores had finished writing their staging directories when the
    // snapshot was refused.
    assert_eq!(
        std::fs::read_to_string(&restored).unwrap().lines().count(),
        3
    );
    for (pid, what) in invocations(&pids) {
        assert!(ended(pid), "etcdctl {what} ({pid}) still runs");
    }
    assert_untouched(root, &dirs, &before);
}

/// The real etcdctl restores with `--skip-hash-check` (drbook checks the trailer once
/// itself), so the snapshot must be the file drbook checked until the restores end: one
/// written to while the members are restored from it (here, once a restore has
/// finished, its modification time changes as a download still running would change
/// it) is refused, although its bytes still hash right, and nothing is put in place.
#[test]
fn a_snapshot_written_to_while_the_restores_run_is_refused_and_nothing_is_placed() {
    require("etcd");
    let etcdctl = require("etcdctl");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (restore_table, dirs, before) = snapshot_and_three_data_dirs(root);
    let args = root.join("restore.args");
    let wrapper = script(
        root,
        "etcdctl-and-a-writer",
        &format!(
            "#!/bin/sh\n\
             case \"$1 $2\" in\n\
             'snapshot restore') echo \"$*\" >> '{args}'; '{etcdctl}' \"$@\" || exit $?; touch -d 2001-01-01T00:00:00Z '{snapshot}' ;;\n\
             *) exec '{etcdctl}' \"$@\" ;;\n\
             esac\n",
            args = args.display(),
            etcdctl = etcdctl.display(),
            snapshot = root.join("snap.db").display(),
        ),
    );

    let err = refused(
        "etcd.snapshot.restore",
        json!({"file": "snap.db", "members": restore_table, "token": "t", "move_aside": true,
               "etcdctl": wrapper}),
        root,
    );
    assert_eq!(
        err,
        format!(
            "snapshot `{}` changed while it was being restored (something wrote to it): something is still writing or replacing it, so the restored copies cannot be trusted. Wait until whatever writes it has finished, compare its size and checksum with the source, and run the step again",
            root.join("snap.db").display()
        )
    );
    let args = std::fs::read_to_string(&args).unwrap();
    assert_eq!(args.lines().count(), 3, "{args}");
    assert!(
        args.lines().all(|l| l.ends_with(" --skip-hash-check")),
        "{args}"
    );
    assert_untouched(root, &dirs, &before);
}

/// drbook is killed with SIGKILL while the snapshot is being verified (its `snapshot
/// status` runs) and the three members are being restored from it. The restores die
/// with drbook; no data directory exists yet. At a terminal the operator answers "run
/// it again" (the data directories are still missing, which is when the action's own
/// documentation says that is safe); the step removes the unfinished staging
/// directories, runs to the end, and the cluster started from the restored
/// directories has every key of the snapshot.
#[test]
fn resume_after_kill_9_during_the_overlapped_verify_and_restore_recovers_everything() {
    require("etcd");
    let etcdctl = require("etcdctl");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");
    let (mut cluster, saved) = cluster_with_snapshot(root, 1500);
    cluster.put("/canary/after", "lost by the restore");
    cluster.kill();
    std::fs::remove_dir_all(&cluster.members[0].data_dir).unwrap();
    let members = EtcdCluster::plan(root, 3);

    // The real etcdctl, except that the restore step's `snapshot status` (the
    // verification) kills drbook, its parent, once all three restores have started.
    let pids = root.join("etcdctl.pids");
    let crashed = root.join("crashed");
    let wrapper = script(
        root,
        "etcdctl-crashing",
        &format!(
            "#!/bin/sh\n\
             echo \"$$ $1 $2\" >> '{pids}'\n\
             if [ \"$1 $2\" = 'snapshot status' ] && [ ! -e '{crashed}' ] && [ \"$(cat /proc/$PPID/comm)\" = drbook ]; then\n\
             n=0; until [ \"$(grep -c ' snapshot restore$' '{pids}')\" -ge 3 ] || [ $n -ge 2000 ]; do n=$((n + 1)); sleep 0.01; done\n\
             grep -c ' snapshot restore$' '{pids}' > '{crashed}'; kill -9 $PPID\n\
             fi\n\
             exec '{etcdctl}' \"$@\"\n",
            pids = pids.display(),
            crashed = crashed.display(),
            etcdctl = etcdctl.display(),
        ),
    );
    write(
        root,
        "restore.yaml",
        &restore_runbook_with(&members, &wrapper),
    );
    run_killed_in_the_restore(root, &state, &root.join("snap.db"));
    assert_eq!(
        std::fs::read_to_string(&crashed).unwrap().trim(),
        "3",
        "all three restores had started when drbook was killed"
    );
    crate::support::wait_until(
        "every etcdctl of the killed run ended",
        Duration::from_secs(20),
        || invocations(&pids).iter().all(|(pid, _)| ended(*pid)),
    );
    for m in &members {
        assert!(!m.data_dir.exists(), "{} was touched", m.data_dir.display());
    }

    let (code, shown) = resume_at_a_terminal_rerunning(root, &state, "restore", "restore");
    assert_eq!(code, 0, "{shown}");
    assert!(
        drbook_leftovers(root).is_empty(),
        "{:?}",
        drbook_leftovers(root)
    );
    let records = journal(&state, "restore");
    let restore = outputs(&records, "restore");
    assert_eq!(restore["sha256"], saved["sha256"]);
    assert_eq!(restore["revision"], saved["revision"]);
    for (pid, what) in invocations(&pids) {
        assert!(ended(pid), "etcdctl {what} ({pid}) still runs");
    }

    let cluster = EtcdCluster::start_existing(members, "drbook-restored");
    assert_eq!(cluster.count("/k/"), 1500);
    assert_eq!(cluster.value("/canary/before").as_deref(), Some("yes"));
    assert_eq!(cluster.value("/canary/after"), None);
}
