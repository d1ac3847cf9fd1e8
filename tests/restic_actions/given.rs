//! `restic.restore` of a full snapshot id runs restic once: the snapshot's time comes
//! from the `restic.snapshots` step that chose it (`snapshot_time`), or from what the
//! restore itself says it restores, not from listing the repository again. Proved by
//! the restic invocations a wrapper (the `restic` parameter) records, never by timing.

use std::os::unix::fs::PermissionsExt;

use super::*;

/// A restic that records its subcommand in `dir/calls`, one a line, and then runs the
/// real one.
fn logged_restic(dir: &Path) -> PathBuf {
    let path = dir.join("restic-logged");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            dir.join("calls").display(),
            require_tool("restic").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The subcommands the wrapper recorded since the last call, which clears them.
fn calls(dir: &Path) -> Vec<String> {
    let file = dir.join("calls");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    text.lines().map(str::to_string).collect()
}

#[test]
fn a_full_id_with_or_without_its_time_is_restored_by_one_restic_run() {
    let backups = Backups::new(|root| root.join("repo").display().to_string(), &[]);
    let dir = backups.dir();
    let restic = logged_restic(dir);
    let picked = ok(
        "restic.snapshots",
        backups.params(json!({"host": "cp-2", "restic": restic})),
        dir,
    );
    assert_eq!(calls(dir), ["snapshots"]);
    let id = picked["id"].as_str().unwrap();

    // The id and the time of the step that chose it: restic runs once, to restore.
    let given = ok(
        "restic.restore",
        backups.params(json!({"snapshot": id, "snapshot_time": picked["time"],
                              "target": "given", "restic": restic})),
        dir,
    );
    assert_eq!(calls(dir), ["restore"]);
    assert_eq!(given["id"], picked["id"]);
    assert_eq!(given["time"], picked["time"]);
    assert_eq!(given["restored_point"], picked["restored_point"]);
    assert_eq!(given["files"], 5);
    assert_eq!(
        std::fs::read(backups.restored("given").join("etcd-snapshot.db")).unwrap(),
        db(2)
    );

    // The id alone: the time is the one restic names as it restores, written as
    // `restic snapshots --json` writes it.
    let alone = ok(
        "restic.restore",
        backups.params(json!({"snapshot": id, "target": "alone", "restic": restic})),
        dir,
    );
    assert_eq!(calls(dir), ["restore"]);
    assert_eq!(alone["time"], picked["time"]);
    assert_eq!(alone["restored_point"], picked["restored_point"]);
    assert_eq!(
        std::fs::read(backups.restored("alone").join("etcd-snapshot.db")).unwrap(),
        db(2)
    );

    // Run again over its own finished restore (drbook died before journalling the
    // step's end): recognised from the record, with the time it recorded; restic does
    // not run at all.
    let again = ok(
        "restic.restore",
        backups.params(json!({"snapshot": id, "target": "alone", "restic": restic})),
        dir,
    );
    assert_eq!(calls(dir), Vec::<String>::new());
    assert_eq!(again["time"], picked["time"]);
    assert_eq!(again["files"], 5);

    // A short id or filters still list the repository first.
    let short = ok(
        "restic.restore",
        backups
            .params(json!({"snapshot": picked["short_id"], "target": "short", "restic": restic})),
        dir,
    );
    assert_eq!(calls(dir), ["snapshots", "restore"]);
    assert_eq!(short["time"], picked["time"]);
}

#[test]
fn a_given_time_without_its_id_or_of_another_snapshot_is_refused() {
    let backups = Backups::new(|root| root.join("repo").display().to_string(), &[]);
    let dir = backups.dir();
    let restic = logged_restic(dir);
    let second = ok(
        "restic.snapshots",
        backups.params(json!({"host": "cp-2"})),
        dir,
    );
    let third = ok(
        "restic.snapshots",
        backups.params(json!({"host": "cp-3"})),
        dir,
    );

    // Refused before restic runs.
    for (snapshot, extra, expected) in [
        (
            json!("latest"),
            json!({}),
            "parameter `snapshot_time` is given without a snapshot id: `snapshot` is `latest`, not a full id (64 hex digits); pass the `id` and the `time` of the same `restic.snapshots` step, e.g. `snapshot: \"{{ steps.pick.outputs.id }}\"` and `snapshot_time: \"{{ steps.pick.outputs.time }}\"`, or leave `snapshot_time` out",
        ),
        (
            second["short_id"].clone(),
            json!({}),
            "parameter `snapshot_time` is given without a snapshot id: `snapshot` is `",
        ),
        (
            second["id"].clone(),
            json!({"tag": "etcd"}),
            "parameter `snapshot_time` cannot go with tag `etcd`: the filters choose a snapshot by listing the repository, which a given time skips",
        ),
    ] {
        let mut params = backups.params(
            json!({"snapshot": snapshot, "snapshot_time": second["time"],
                                               "target": "out", "restic": restic}),
        );
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        let err = refused("restic.restore", params, dir);
        assert!(err.starts_with(expected), "{err}");
        assert_eq!(calls(dir), Vec::<String>::new());
    }
    let err = refused(
        "restic.restore",
        backups.params(
            json!({"snapshot": second["id"], "snapshot_time": "yesterday",
                              "target": "out", "restic": restic}),
        ),
        dir,
    );
    assert!(
        err.starts_with("parameter `snapshot_time` is not an RFC 3339 time"),
        "{err}"
    );

    // The id of one snapshot with the time of another: restic says what it restored,
    // and the restore is refused before anything reaches the target.
    let err = refused(
        "restic.restore",
        backups.params(
            json!({"snapshot": second["id"], "snapshot_time": third["time"],
                              "target": "out", "restic": restic}),
        ),
        dir,
    );
    assert_eq!(
        err,
        format!(
            "parameter `snapshot_time` is `{}`, but restic restored snapshot {} taken {}: the id and the time are not of the same snapshot; pass both from the same `restic.snapshots` step; nothing was written to the target",
            third["time"].as_str().unwrap(),
            second["short_id"].as_str().unwrap(),
            second["time"].as_str().unwrap()
        )
    );
    assert_eq!(calls(dir), ["restore"]);
    assert!(!dir.join("out").exists());
    assert!(partials(dir).is_empty());

    // A full id that is not there says what the repository holds, as a listed one does.
    let absent = "0123456789abcdef".repeat(4);
    let err = refused(
        "restic.restore",
        backups.params(json!({"snapshot": absent, "target": "out", "restic": restic})),
        dir,
    );
    assert!(
        err.starts_with(&format!(
            "snapshot `{absent}` of the restic repository `{}` does not exist; the repository holds 3 snapshots",
            backups.repository
        )),
        "{err}"
    );
    assert_eq!(calls(dir), ["restore", "snapshots"]);
    assert!(!dir.join("out").exists());
    assert!(partials(dir).is_empty());
}
