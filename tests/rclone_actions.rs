//! The rclone actions against real rclone and a real S3 server (moto, `support::s3`):
//! a `minio` bucket mirrored to an `offsite` bucket as the KKP syncer does. Copy and
//! sync move every object (keys and content compared); the deletion guard refuses an
//! emptied source and deletions over `max_delete`, and the off-site keys are compared
//! before and after to prove nothing was deleted; check counts matching and differing
//! trees; a local directory works as either side; failures name the side, endpoint and
//! fix; and a `drbook run` in an environment that would break rclone (a bad
//! `AWS_CA_BUNDLE`, a stray `RCLONE_CONFIG_DRBOOKSRC_ENDPOINT`) still works, without the
//! secret key appearing anywhere.
//!
//! Nothing here sleeps to synchronise: the S3 server is polled until it answers, and a
//! drbook process is killed if it outlives its limit.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::actions;
use crate::support::etcd::free_port;
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY, require_tool};
use crate::support::{Drbook, write};

/// The longest one `drbook run` here may take.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Flags that make a failing connection fail at once instead of after rclone's retries.
const FAIL_FAST: [&str; 2] = ["--retries=1", "--low-level-retries=1"];

/// The outputs of an action that must succeed (run through `support::actions`, which
/// also checks that the secret key leaks nowhere).
fn ok(name: &str, params: Value, workdir: &Path) -> Value {
    actions::ok(name, params, workdir, &[SECRET_KEY])
}

/// The message of an action that must fail.
fn refused(name: &str, params: Value, workdir: &Path) -> String {
    actions::refused(name, params, workdir, &[SECRET_KEY])
}

/// Backend options for a bucket on `endpoint`, as a runbook writes them.
fn remote(endpoint: &str) -> Value {
    json!({
        "type": "s3",
        "provider": "Other",
        "endpoint": endpoint,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
    })
}

/// Parameters for `minio` → `offsite` on one server, with `extra` merged in.
fn mirror(server: &S3Server, extra: Value) -> Value {
    let mut params = json!({
        "source": "minio",
        "source_remote": remote(&server.endpoint()),
        "destination": "offsite",
        "destination_remote": remote(&server.endpoint()),
    });
    for (key, value) in extra.as_object().unwrap() {
        params[key] = value.clone();
    }
    params
}

/// A server with an empty `offsite` bucket and a `minio` bucket holding `count` objects
/// `backups/obj-NN` (plus one nested deeper), as a backup store would.
fn store(count: usize) -> S3Server {
    require_tool("rclone");
    let server = S3Server::start();
    server.create_bucket("minio");
    server.create_bucket("offsite");
    for i in 0..count {
        server.put("minio", &object(i), object_data(i).as_bytes());
    }
    server
}

fn object(i: usize) -> String {
    if i == 0 {
        "restic/data/ab/0000".to_string()
    } else {
        format!("backups/obj-{i:02}")
    }
}

fn object_data(i: usize) -> String {
    format!("backup object {i} ").repeat(i + 1)
}

/// The content of an object, read with rclone itself in an environment of its own.
fn content(server: &S3Server, bucket: &str, key: &str) -> String {
    let output = Command::new("rclone")
        .args(["--config", "/dev/null", "cat", &format!("s:{bucket}/{key}")])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("RCLONE_CONFIG_S_TYPE", "s3")
        .env("RCLONE_CONFIG_S_PROVIDER", "Other")
        .env("RCLONE_CONFIG_S_ENDPOINT", server.endpoint())
        .env("RCLONE_CONFIG_S_ACCESS_KEY_ID", ACCESS_KEY)
        .env("RCLONE_CONFIG_S_SECRET_ACCESS_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rclone cat {bucket}/{key}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn sorted(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys
}

#[test]
fn copy_transfers_every_object_and_a_second_copy_nothing() {
    let server = store(6);
    let dir = tempfile::tempdir().unwrap();
    let copied = ok("rclone.copy", mirror(&server, json!({})), dir.path());
    let total: usize = (0..6).map(|i| object_data(i).len()).sum();
    assert_eq!(copied["transferred"], 6, "{copied}");
    assert_eq!(copied["bytes"], total, "{copied}");
    assert_eq!(copied["errors"], 0, "{copied}");
    assert_eq!(sorted(server.keys("offsite")), sorted(server.keys("minio")));
    for i in 0..6 {
        assert_eq!(content(&server, "offsite", &object(i)), object_data(i));
    }

    // Only what differs moves; an object only on the destination stays.
    server.put("offsite", "only-offsite", b"kept");
    server.put("minio", &object(3), b"changed in minio");
    let again = ok("rclone.copy", mirror(&server, json!({})), dir.path());
    assert_eq!(again["transferred"], 1, "{again}");
    assert_eq!(content(&server, "offsite", &object(3)), "changed in minio");
    assert!(server.keys("offsite").contains(&"only-offsite".to_string()));
}

#[test]
fn sync_propagates_additions_and_deletions_within_the_threshold() {
    let server = store(20);
    let dir = tempfile::tempdir().unwrap();
    let first = ok("rclone.sync", mirror(&server, json!({})), dir.path());
    assert_eq!(first["transferred"], 20, "{first}");
    assert_eq!(first["would_delete"], 0, "{first}");
    assert_eq!(first["destination_files"], 0, "{first}");
    assert_eq!(first["deleted"], 0, "{first}");

    // Two of twenty deleted (10%, the default limit), one added, one changed.
    server.delete("minio", &object(4));
    server.delete("minio", &object(5));
    server.put("minio", "backups/obj-new", b"new backup");
    server.put("minio", &object(6), b"rewritten");
    let second = ok("rclone.sync", mirror(&server, json!({})), dir.path());
    assert_eq!(second["would_delete"], 2, "{second}");
    assert_eq!(second["deleted"], 2, "{second}");
    assert_eq!(second["destination_files"], 20, "{second}");
    assert_eq!(second["transferred"], 2, "{second}");
    assert_eq!(sorted(server.keys("offsite")), sorted(server.keys("minio")));
    assert_eq!(content(&server, "offsite", "backups/obj-new"), "new backup");
    assert_eq!(content(&server, "offsite", &object(6)), "rewritten");
}

#[test]
fn the_guard_never_mirrors_an_emptied_source_over_the_offsite_copy() {
    let server = store(8);
    let dir = tempfile::tempdir().unwrap();
    ok("rclone.sync", mirror(&server, json!({})), dir.path());
    let offsite_before = sorted(server.keys("offsite"));
    assert_eq!(offsite_before.len(), 8);

    // MinIO lost and rebuilt empty: the bucket is back, every object gone.
    for key in server.keys("minio") {
        server.delete("minio", &key);
    }
    for max_delete in [json!(null), json!("100%"), json!("1000")] {
        let err = refused(
            "rclone.sync",
            mirror(&server, json!({"max_delete": max_delete})),
            dir.path(),
        );
        assert!(
            err.starts_with(&format!(
                "refusing to sync: the source bucket `minio` (s3 at {}) is empty, so the sync would delete all 8 files of the destination bucket `offsite` (s3 at {}) (e.g. `backups/obj-01`, ",
                server.endpoint(),
                server.endpoint()
            )),
            "{err}"
        );
        assert!(err.contains("nothing was changed"), "{err}");
        assert!(
            err.contains("An empty source is what a lost or wiped MinIO looks like"),
            "{err}"
        );
        assert!(
            err.contains("run `rclone.copy` from the off-site copy"),
            "{err}"
        );
        assert_eq!(sorted(server.keys("offsite")), offsite_before);
    }

    // The bucket itself gone: refused too, with the same advice.
    let mut params = mirror(&server, json!({"max_delete": "100%"}));
    params["source"] = json!("minio-lost");
    let err = refused("rclone.sync", params, dir.path());
    assert!(
        err.starts_with(&format!(
            "bucket `minio-lost` (s3 at {}) does not exist (source); check `source` and the endpoint, or create the bucket. A source bucket that vanished may mean the store was lost: do not sync over the off-site copy, restore it with `rclone.copy` from there",
            server.endpoint()
        )),
        "{err}"
    );
    assert_eq!(sorted(server.keys("offsite")), offsite_before);

    // The restore direction: off-site → MinIO with copy, then verified with check.
    let restore = json!({
        "source": "offsite", "source_remote": remote(&server.endpoint()),
        "destination": "minio", "destination_remote": remote(&server.endpoint()),
    });
    let restored = ok("rclone.copy", restore.clone(), dir.path());
    assert_eq!(restored["transferred"], 8, "{restored}");
    let checked = ok("rclone.check", restore, dir.path());
    assert_eq!(checked["matching"], 8, "{checked}");
    assert_eq!(sorted(server.keys("minio")), offsite_before);
}

#[test]
fn deletions_over_max_delete_are_refused_until_it_is_raised() {
    let server = store(20);
    let dir = tempfile::tempdir().unwrap();
    ok("rclone.sync", mirror(&server, json!({})), dir.path());
    let offsite_before = sorted(server.keys("offsite"));
    for i in [1, 2, 3] {
        server.delete("minio", &object(i));
    }
    let err = refused("rclone.sync", mirror(&server, json!({})), dir.path());
    assert!(
        err.starts_with(&format!(
            "refusing to sync: it would delete 3 of the 20 files of the destination bucket `offsite` (s3 at {}) (e.g. `backups/obj-01`, `backups/obj-02`, `backups/obj-03`), more than `max_delete: 10%` allows (2); nothing was changed.",
            server.endpoint()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("if these deletions are intended, raise `max_delete` for this run (e.g. `max_delete: \"3\"`)"),
        "{err}"
    );
    assert_eq!(sorted(server.keys("offsite")), offsite_before);
    let err = refused(
        "rclone.sync",
        mirror(&server, json!({"max_delete": "2"})),
        dir.path(),
    );
    assert!(
        err.contains("more than `max_delete: 2` allows (2)"),
        "{err}"
    );
    assert_eq!(sorted(server.keys("offsite")), offsite_before);

    let synced = ok(
        "rclone.sync",
        mirror(&server, json!({"max_delete": "100%"})),
        dir.path(),
    );
    assert_eq!(synced["deleted"], 3, "{synced}");
    assert_eq!(synced["would_delete"], 3, "{synced}");
    assert_eq!(sorted(server.keys("offsite")), sorted(server.keys("minio")));
    assert_eq!(server.keys("offsite").len(), 17);
}

#[test]
fn check_reports_matching_and_differing_trees() {
    let server = store(5);
    let dir = tempfile::tempdir().unwrap();
    ok("rclone.copy", mirror(&server, json!({})), dir.path());
    let same = ok("rclone.check", mirror(&server, json!({})), dir.path());
    assert_eq!(
        same,
        json!({"matching": 5, "differences": 0, "missing_on_destination": 0, "missing_on_source": 0, "errors": 0})
    );

    server.put("minio", &object(2), b"changed after the copy");
    server.put("minio", "backups/late", b"written after the copy");
    server.put("offsite", "backups/stale", b"only off-site");
    let err = refused("rclone.check", mirror(&server, json!({})), dir.path());
    assert!(
        err.starts_with("the source and the destination differ: 1 differing, 1 missing on the destination, 1 missing on the source, 0 not comparable (e.g. "),
        "{err}"
    );
    for named in [
        "`backups/obj-02` (differs)",
        "`backups/late` (missing on the destination)",
        "`backups/stale` (missing on the source)",
    ] {
        assert!(err.contains(named), "{named}: {err}");
    }
    assert!(err.ends_with("set `allow_differences: true` if differences are expected here"));

    let counted = ok(
        "rclone.check",
        mirror(&server, json!({"allow_differences": true})),
        dir.path(),
    );
    assert_eq!(
        counted,
        json!({"matching": 4, "differences": 1, "missing_on_destination": 1, "missing_on_source": 1, "errors": 0})
    );
    // One way, a file only on the destination is no difference.
    let one_way = ok(
        "rclone.check",
        mirror(
            &server,
            json!({"one_way": "true", "allow_differences": true}),
        ),
        dir.path(),
    );
    assert_eq!(one_way["missing_on_source"], 0, "{one_way}");
    assert_eq!(one_way["missing_on_destination"], 1, "{one_way}");
    server.delete("minio", &object(2));
    server.delete("minio", "backups/late");
    server.put("minio", &object(2), object_data(2).as_bytes());
    let one_way = ok(
        "rclone.check",
        mirror(&server, json!({"one_way": true})),
        dir.path(),
    );
    assert_eq!(one_way["matching"], 5, "{one_way}");
}

#[test]
fn a_local_directory_works_as_either_side() {
    let server = store(0);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("export");
    std::fs::create_dir_all(local.join("etcd")).unwrap();
    std::fs::write(local.join("etcd/snap-1.db.gz"), b"snapshot one").unwrap();
    std::fs::write(local.join("pki.tar"), b"pki").unwrap();

    let up = json!({
        "source": "export",
        "destination": "offsite/cluster-a",
        "destination_remote": remote(&server.endpoint()),
    });
    let copied = ok("rclone.copy", up.clone(), dir.path());
    assert_eq!(copied["transferred"], 2, "{copied}");
    assert_eq!(
        sorted(server.keys("offsite")),
        ["cluster-a/etcd/snap-1.db.gz", "cluster-a/pki.tar"]
    );
    assert_eq!(ok("rclone.check", up, dir.path())["matching"], 2);

    // Down again into a directory that does not exist yet.
    let down = json!({
        "source": "offsite/cluster-a",
        "source_remote": remote(&server.endpoint()),
        "destination": "restored",
    });
    let synced = ok("rclone.sync", down, dir.path());
    assert_eq!(synced["transferred"], 2, "{synced}");
    assert_eq!(synced["destination_files"], 0, "{synced}");
    assert_eq!(
        std::fs::read(dir.path().join("restored/etcd/snap-1.db.gz")).unwrap(),
        b"snapshot one"
    );

    let err = refused(
        "rclone.copy",
        json!({"source": "no-such-dir", "destination": "elsewhere"}),
        dir.path(),
    );
    assert_eq!(
        err,
        format!(
            "local directory `{}` does not exist (source); check `source` (a relative path is taken from the run's work directory)",
            dir.path().join("no-such-dir").display()
        )
    );
}

/// A server that refuses every request as MinIO refuses an unknown access key.
fn refusing_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code><Message>The Access Key Id you provided does not exist in our records.</Message><Resource>/</Resource><RequestId>1</RequestId></Error>";
            let is_head = head.starts_with(b"HEAD ");
            let response = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                body.len(),
                if is_head { "" } else { body }
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn failures_name_the_side_the_endpoint_and_the_fix() {
    let server = store(2);
    let dir = tempfile::tempdir().unwrap();
    let fail_fast = json!(FAIL_FAST);

    // Wrong credentials on the destination.
    let denied = refusing_server();
    let mut params = mirror(&server, json!({"flags": fail_fast}));
    params["destination_remote"] = remote(&denied);
    for action in ["rclone.copy", "rclone.sync", "rclone.check"] {
        let err = refused(action, params.clone(), dir.path());
        assert!(
            err.starts_with(&format!(
                "the destination refused rclone's credentials for bucket `offsite` (s3 at {denied}): "
            )),
            "{action}: {err}"
        );
        assert!(err.contains("InvalidAccessKeyId"), "{action}: {err}");
        assert!(
            err.contains("check `access_key_id` and `secret_access_key` in `destination_remote`"),
            "{action}: {err}"
        );
    }

    // Nothing listening at the source's endpoint.
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let mut params = mirror(&server, json!({"flags": fail_fast}));
    params["source_remote"] = remote(&nobody);
    for action in ["rclone.copy", "rclone.sync", "rclone.check"] {
        let err = refused(action, params.clone(), dir.path());
        assert!(
            err.starts_with(&format!("cannot reach the source at {nobody}: ")),
            "{action}: {err}"
        );
        assert!(err.contains("connection refused"), "{action}: {err}");
        assert!(
            err.ends_with("check `endpoint` in `source_remote`, that the server runs and that this host can reach it (DNS, firewall, port)"),
            "{action}: {err}"
        );
    }

    // A missing source bucket.
    let mut params = mirror(&server, json!({"flags": fail_fast}));
    params["source"] = json!("no-such-bucket");
    let err = refused("rclone.copy", params, dir.path());
    assert!(
        err.starts_with(&format!(
            "bucket `no-such-bucket` (s3 at {}) does not exist (source); check `source`",
            server.endpoint()
        )),
        "{err}"
    );

    // An unknown backend type, a missing one, a flag that would defeat the guard.
    let mut params = mirror(&server, json!({}));
    params["destination_remote"]["type"] = json!("s4");
    let err = refused("rclone.sync", params, dir.path());
    assert!(
        err.starts_with("the destination names backend type `s4`, which this rclone does not know; fix `type` in `destination_remote`"),
        "{err}"
    );
    let mut params = mirror(&server, json!({}));
    params["source_remote"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    let err = refused("rclone.copy", params, dir.path());
    assert!(
        err.starts_with("parameter `source_remote` has no `type`"),
        "{err}"
    );
    let err = refused(
        "rclone.sync",
        mirror(&server, json!({"flags": ["--max-delete=-1"]})),
        dir.path(),
    );
    assert_eq!(
        err,
        "flag `--max-delete` in `flags` is refused: the deletion guard sets it; raise the step's `max_delete` instead"
    );
    assert!(server.keys("offsite").is_empty(), "nothing was copied");
}

/// A runbook that mirrors, checks, and restores the other way; the secret key comes from
/// the environment through `secrets:`.
fn mirror_runbook(endpoint: &str, restored: &Path) -> String {
    let restored = restored.display();
    let store = format!(
        r#"{{type: s3, provider: Minio, endpoint: "{endpoint}", access_key_id: {ACCESS_KEY}, secret_access_key: "{{{{ secrets.s3_secret }}}}"}}"#
    );
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: minio-offsite, version: 1.0.0}}
spec:
  secrets:
    - {{name: s3_secret, env: DRBOOK_TEST_S3_SECRET}}
  steps:
    - id: mirror
      action: rclone.sync
      with:
        source: minio
        source_remote: {store}
        destination: offsite
        destination_remote: {store}
    - id: verify
      action: rclone.check
      with:
        source: minio
        source_remote: {store}
        destination: offsite
        destination_remote: {store}
    - id: restore
      action: rclone.copy
      with:
        source: offsite
        source_remote: {store}
        destination: "{restored}"
"#
    )
}

#[test]
fn drbook_run_is_isolated_from_the_callers_environment_and_never_shows_the_secret() {
    let server = store(4);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let state = root.join("state");
    write(
        root,
        "mirror.yaml",
        &mirror_runbook(&server.endpoint(), &root.join("restored")),
    );
    let out = Drbook::in_dir(root)
        .args([
            "run",
            "mirror.yaml",
            "--run-id",
            "mirror",
            "--state-dir",
            state.to_str().unwrap(),
        ])
        .envs(&[
            ("DRBOOK_TEST_S3_SECRET", SECRET_KEY),
            // Either would make rclone fail if it reached it.
            ("AWS_CA_BUNDLE", "/nonexistent/ca.pem"),
            ("RCLONE_CONFIG_DRBOOKSRC_ENDPOINT", "http://127.0.0.1:1"),
            ("RCLONE_CONFIG_DRBOOKSRC_TYPE", "local"),
        ])
        .limit(RUN_LIMIT)
        .run();
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(sorted(server.keys("offsite")), sorted(server.keys("minio")));
    assert_eq!(
        std::fs::read_to_string(root.join("restored").join(object(2))).unwrap(),
        object_data(2)
    );

    let journal: Vec<Value> = std::fs::read_to_string(state.join("runs/mirror/journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outputs = |step: &str| {
        journal
            .iter()
            .map(|r| &r["event"])
            .find(|e| e["type"] == "step_finished" && e["step"] == step)
            .unwrap_or_else(|| panic!("step {step} finished: {journal:#?}"))["outcome"]["outputs"]
            .clone()
    };
    assert_eq!(outputs("mirror")["transferred"], 4);
    assert_eq!(outputs("verify")["matching"], 4);
    assert_eq!(outputs("restore")["transferred"], 4);

    // The canary: not in what drbook printed, nor in any file it kept.
    assert!(!stdout.contains(SECRET_KEY), "{stdout}");
    assert!(!stderr.contains(SECRET_KEY), "{stderr}");
    let mut stack = vec![state.clone()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(SECRET_KEY),
                    "{} holds the secret key",
                    path.display()
                );
            }
        }
    }
    assert!(files > 0, "the state dir holds the run's record");
}
