//! `s3.get`: downloads that are byte-identical (SHA-256 of the source) and leave no
//! partial file; a partial of the same version resumed, one of another version or
//! without its ETag downloaded afresh, damaged bytes caught by the MD5 check; a cancelled
//! download that leaves only its partial for the next attempt; and an existing file kept
//! when identical, never overwritten when not.

use std::time::Instant;

use drbook::actions::{ActionError, ActionEvent};
use serde_json::json;

use super::{data, execute_with, md5_of, names, ok_events, params, refused, sha256};
use crate::support::s3::S3Server;

#[test]
fn objects_are_downloaded_byte_identical() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    server.create_bucket("backups");
    let small = data(1000, 1);
    let large = data(20 << 20, 2);
    server.put("backups", "small.db.gz", &small);
    server.put("backups", "large.db.gz", &large);

    let (got, events) = ok_events(
        "s3.get",
        params(
            &server,
            "backups",
            json!({"key": "small.db.gz", "file": "small"}),
        ),
        dir,
    );
    assert_eq!(std::fs::read(dir.join("small")).unwrap(), small);
    assert_eq!(got["sha256"], sha256(&small));
    assert_eq!(got["size"], 1000);
    assert_eq!(got["file"], dir.join("small").display().to_string());
    assert_eq!(got["etag"], md5_of(&small));
    assert_eq!(
        (got["resumed_from"].clone(), got["downloaded"].clone()),
        (json!(0), json!(1000))
    );
    assert_eq!(got["already_present"], false);
    assert_eq!(got["restored_point"], got["last_modified"]);
    assert!(
        events[0].starts_with("downloading `small.db.gz` of bucket `backups` (1000 bytes)"),
        "{events:?}"
    );

    let started = Instant::now();
    let (got, events) = ok_events(
        "s3.get",
        params(
            &server,
            "backups",
            json!({"key": "large.db.gz", "file": "large"}),
        ),
        dir,
    );
    let took = started.elapsed();
    eprintln!(
        "s3.get of 20 MiB took {took:?} ({:.1} MiB/s); events: {events:?}",
        20.0 / took.as_secs_f64()
    );
    assert_eq!(got["sha256"], sha256(&large));
    assert_eq!(
        sha256(&std::fs::read(dir.join("large")).unwrap()),
        sha256(&large)
    );
    assert_eq!(got["size"], 20 << 20);
    assert!(
        events.iter().any(|e| e.contains("of 20.0 MiB")),
        "{events:?}"
    );
    assert_eq!(names(dir), ["large", "small"], "no partial file is left");
}

#[test]
fn a_partial_download_of_the_same_version_is_resumed_and_another_discarded() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    server.create_bucket("backups");
    let bytes = data(3 << 20, 3);
    server.put("backups", "snap.db.gz", &bytes);
    let etag = md5_of(&bytes);
    let half = bytes.len() / 2;
    let get = || {
        params(
            &server,
            "backups",
            json!({"key": "snap.db.gz", "file": "snap.db.gz"}),
        )
    };

    // The first half and the ETag, as an interrupted attempt leaves them.
    std::fs::write(dir.join("snap.db.gz.partial"), &bytes[..half]).unwrap();
    std::fs::write(dir.join("snap.db.gz.partial.etag"), &etag).unwrap();
    let (got, events) = ok_events("s3.get", get(), dir);
    assert_eq!(got["resumed_from"], half);
    assert_eq!(got["downloaded"], bytes.len() - half);
    assert_eq!(got["sha256"], sha256(&bytes));
    assert_eq!(std::fs::read(dir.join("snap.db.gz")).unwrap(), bytes);
    assert!(
        events.iter().any(|e| e.starts_with(&format!(
            "resuming `snap.db.gz` of bucket `backups` at byte {half}"
        ))),
        "{events:?}"
    );
    assert_eq!(names(dir), ["snap.db.gz"]);
    std::fs::remove_file(dir.join("snap.db.gz")).unwrap();

    // A partial of another version of the object: discarded, downloaded afresh.
    std::fs::write(dir.join("snap.db.gz.partial"), data(half, 9)).unwrap();
    std::fs::write(
        dir.join("snap.db.gz.partial.etag"),
        "0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    let (got, events) = ok_events("s3.get", get(), dir);
    assert_eq!(got["resumed_from"], 0);
    assert_eq!(got["sha256"], sha256(&bytes));
    assert!(
        events.iter().any(|e| e.contains("discarding")
            && e.contains("another version of the object (ETag 0123456789abcdef0123456789abcdef")),
        "{events:?}"
    );
    std::fs::remove_file(dir.join("snap.db.gz")).unwrap();

    // A partial without its ETag cannot be trusted either.
    std::fs::write(dir.join("snap.db.gz.partial"), &bytes[..half]).unwrap();
    let (got, _) = ok_events("s3.get", get(), dir);
    assert_eq!(got["resumed_from"], 0);
    std::fs::remove_file(dir.join("snap.db.gz")).unwrap();

    // Damaged bytes under the right ETag: the MD5 check catches them, the partial goes.
    let mut damaged = bytes[..half].to_vec();
    damaged[10] ^= 0xff;
    std::fs::write(dir.join("snap.db.gz.partial"), &damaged).unwrap();
    std::fs::write(dir.join("snap.db.gz.partial.etag"), &etag).unwrap();
    let err = refused("s3.get", get(), dir);
    let partial = dir.join("snap.db.gz.partial");
    assert!(
        err.starts_with(&format!(
            "the download of object `snap.db.gz` in bucket `backups` at {} is corrupt: its MD5 is ",
            server.endpoint()
        )) && err.contains(&format!(
            "but the object's ETag says {etag}; the partial file `{}` was deleted",
            partial.display()
        )),
        "{err}"
    );
    assert_eq!(names(dir), Vec::<String>::new());
    let (got, _) = ok_events("s3.get", get(), dir);
    assert_eq!(got["sha256"], sha256(&bytes));
}

#[test]
fn a_cancelled_download_leaves_only_its_partial_which_the_next_attempt_resumes() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    server.create_bucket("backups");
    let bytes = data(20 << 20, 4);
    server.put("backups", "big", &bytes);
    let get = || params(&server, "backups", json!({"key": "big", "file": "big"}));
    let started =
        |e: &ActionEvent| matches!(e, ActionEvent::Progress(t) if t.starts_with("downloading"));
    let (result, _) = execute_with("s3.get", get(), dir, Some(&started));
    assert!(matches!(result, Err(ActionError::Cancelled)), "{result:?}");
    assert_eq!(names(dir), ["big.partial", "big.partial.etag"]);
    let kept = std::fs::metadata(dir.join("big.partial")).unwrap().len();
    let (got, _) = ok_events("s3.get", get(), dir);
    assert_eq!(got["resumed_from"], kept);
    assert_eq!(got["sha256"], sha256(&bytes));
    assert_eq!(names(dir), ["big"]);
}

#[test]
fn an_existing_file_is_kept_when_identical_and_never_overwritten_when_not() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    server.create_bucket("backups");
    let bytes = data(100_000, 5);
    server.put("backups", "snap", &bytes);
    let get = |file: &str| params(&server, "backups", json!({"key": "snap", "file": file}));

    std::fs::write(dir.join("same"), &bytes).unwrap();
    let (got, events) = ok_events("s3.get", get("same"), dir);
    assert_eq!(got["downloaded"], 0);
    assert_eq!(got["already_present"], true);
    assert_eq!(got["sha256"], sha256(&bytes));
    assert!(
        events
            .iter()
            .any(|e| e.ends_with("(same size and MD5); nothing downloaded")),
        "{events:?}"
    );

    let mut other = bytes.clone();
    other[99_999] ^= 1;
    std::fs::write(dir.join("other"), &other).unwrap();
    let err = refused("s3.get", get("other"), dir);
    assert!(
        err.starts_with(&format!(
            "`{}` already exists and differs from object `snap` in bucket `backups` (its MD5 is {}, the object's ETag {}); drbook never overwrites a file: choose another `file`",
            dir.join("other").display(),
            md5_of(&other),
            md5_of(&bytes)
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(dir.join("other")).unwrap(), other);

    std::fs::write(dir.join("short"), b"short").unwrap();
    let err = refused("s3.get", get("short"), dir);
    assert!(err.contains("(it has 5 bytes, the object 100000)"), "{err}");
    assert_eq!(std::fs::read(dir.join("short")).unwrap(), b"short");
    assert_eq!(
        names(dir),
        ["other", "same", "short"],
        "no partial file is left"
    );
}
