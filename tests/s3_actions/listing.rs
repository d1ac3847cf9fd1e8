//! `s3.list` and `s3.latest`: listings sorted with and without a prefix (plain text, not
//! a folder), a progress event per thousand objects, and the newest backup found by
//! suffix and before a time, with what the message says when nothing matches. Objects
//! with distinct times are made by polling the server's clock, never by sleeping.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{md5_of, ok, ok_events, params, refused};
use crate::support::s3::S3Server;
use crate::support::wait_until;

/// The server's time as it stamps objects: the last-modified time of a fresh object in
/// bucket `clock`.
fn server_time(server: &S3Server, dir: &Path) -> String {
    server.put("clock", "tick", b"t");
    let listed = ok("s3.list", params(server, "clock", json!({})), dir);
    listed["objects"][0]["last_modified"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Waits until the server stamps objects later than `after` (moto keeps whole seconds).
fn wait_for_a_later_time(server: &S3Server, dir: &Path, after: &str) {
    wait_until(
        "the S3 server's clock passes the last object's time",
        Duration::from_secs(5),
        || server_time(server, dir).as_str() > after,
    );
}

#[test]
fn buckets_are_listed_sorted_with_and_without_a_prefix() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    server.create_bucket("backups");
    // Uploaded out of order, flat, as KKP writes them; `c1-x` shares the text prefix.
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-20-00.db.gz",
        b"two",
    );
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-00-00.db.gz",
        b"one",
    );
    server.put(
        "backups",
        "c2-default-backups-2026-01-01t00-00-00.db.gz",
        b"other",
    );
    server.put("backups", "c1-x", b"");

    let all = ok("s3.list", params(&server, "backups", json!({})), dir.path());
    assert_eq!(all["count"], 4);
    assert_eq!(all["total_size"], 3 + 3 + 5);
    let keys: Vec<&str> = all["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "c1-default-backups-2026-01-01t00-00-00.db.gz",
            "c1-default-backups-2026-01-01t00-20-00.db.gz",
            "c1-x",
            "c2-default-backups-2026-01-01t00-00-00.db.gz",
        ]
    );
    let first = &all["objects"][0];
    assert_eq!(first["size"], 3);
    let time = first["last_modified"].as_str().unwrap();
    assert!(time.ends_with(".000Z") && time.len() == 24, "{time}");
    chrono::DateTime::parse_from_rfc3339(time).unwrap();

    // A prefix is plain text, not a folder: `c1-default` matches two keys.
    let c1 = ok(
        "s3.list",
        params(&server, "backups", json!({"prefix": "c1-default"})),
        dir.path(),
    );
    assert_eq!(c1["count"], 2);
    assert_eq!(c1["total_size"], 6);
    let none = ok(
        "s3.list",
        params(&server, "backups", json!({"prefix": "c3-"})),
        dir.path(),
    );
    assert_eq!(
        (none["count"].clone(), none["objects"].clone()),
        (json!(0), json!([]))
    );
}

#[test]
fn big_listings_report_progress_every_thousand_objects() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    server.create_bucket("many");
    let started = Instant::now();
    // One connection per object: eight at a time keep this to a few seconds.
    std::thread::scope(|scope| {
        for first in 0..8 {
            let server = &server;
            scope.spawn(move || {
                for i in (first..1001).step_by(8) {
                    server.put("many", &format!("k-{i:04}"), b"");
                }
            });
        }
    });
    eprintln!("1001 puts to moto took {:?}", started.elapsed());
    let started = Instant::now();
    let (listed, events) = ok_events("s3.list", params(&server, "many", json!({})), dir.path());
    eprintln!("s3.list of 1001 objects took {:?}", started.elapsed());
    assert_eq!(listed["count"], 1001);
    assert_eq!(listed["objects"][1000]["key"], "k-1000");
    assert_eq!(
        events,
        ["listed 1000 objects of bucket `many` so far"],
        "one event for the first full page, none for the 1001st object"
    );
}

#[test]
fn the_newest_backup_is_found_by_suffix_and_before_a_time() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    server.create_bucket("backups");
    server.create_bucket("clock");
    let started = Instant::now();
    // Two backups within one second: the later key wins the tie.
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-00-00.db.gz",
        b"a",
    );
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-20-00.db.gz",
        b"bb",
    );
    let first = ok("s3.list", params(&server, "backups", json!({})), dir);
    let t1 = first["objects"][1]["last_modified"]
        .as_str()
        .unwrap()
        .to_string();
    wait_for_a_later_time(&server, dir, &t1);
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-40-00.db.gz",
        b"ccc",
    );
    server.put("backups", "c1-default-backups-notes.txt", b"n");
    server.put(
        "backups",
        "c2-default-backups-2026-01-01t00-40-00.db.gz",
        b"other",
    );
    let latest = |extra: Value| {
        let mut with = json!({"prefix": "c1-default-backups-"});
        with.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        params(&server, "backups", with)
    };

    let newest = ok("s3.latest", latest(json!({"suffix": ".db.gz"})), dir);
    assert_eq!(
        newest["key"],
        "c1-default-backups-2026-01-01t00-40-00.db.gz"
    );
    assert_eq!(newest["size"], 3);
    assert_eq!(newest["candidates"], 3);
    assert_eq!(newest["restored_point"], newest["last_modified"]);
    let t2 = newest["last_modified"].as_str().unwrap().to_string();
    assert!(t2 > t1, "{t2} after {t1}");
    assert_eq!(newest["etag"], md5_of(b"ccc"));

    // Without the suffix the notes, stamped in the same second, are newest by key.
    let any = ok("s3.latest", latest(json!({})), dir);
    assert_eq!(any["key"], "c1-default-backups-notes.txt");
    assert_eq!(any["candidates"], 4);

    // Before the second batch: the later of the two in the first second.
    let before = ok(
        "s3.latest",
        latest(json!({"suffix": ".db.gz", "before": t2})),
        dir,
    );
    assert_eq!(
        before["key"],
        "c1-default-backups-2026-01-01t00-20-00.db.gz"
    );
    assert_eq!(before["restored_point"], t1);
    assert_eq!(before["candidates"], 2);

    // Nothing before the first backup: the message says what there was.
    let err = refused(
        "s3.latest",
        latest(json!({"suffix": ".db.gz", "before": t1})),
        dir,
    );
    let endpoint = server.endpoint();
    assert_eq!(
        err,
        format!(
            "no object in bucket `backups` at {endpoint} matches prefix `c1-default-backups-` suffix `.db.gz` and is older than `before` {t1}; 3 objects of the 4 objects under the prefix match, but none is older than `before`: the oldest is from {t1}, the newest from {t2}. No backup was taken before that time; check `before`, and whether older backups were removed by the retention (`keep`)"
        )
    );
    let err = refused("s3.latest", latest(json!({"suffix": ".tar"})), dir);
    assert!(
        err.ends_with(
            "there are 4 objects under the prefix, none with that suffix: check `suffix`"
        ),
        "{err}"
    );
    let err = refused(
        "s3.latest",
        params(&server, "backups", json!({"prefix": "c9-"})),
        dir,
    );
    assert!(
        err.starts_with(&format!(
            "no object in bucket `backups` at {endpoint} matches prefix `c9-`; there are 0 objects under the prefix: check `bucket` and `prefix`"
        )),
        "{err}"
    );
    let err = refused("s3.latest", latest(json!({"before": "yesterday"})), dir);
    assert!(
        err.starts_with("parameter `before` is not an RFC 3339 time: `yesterday` ("),
        "{err}"
    );
    eprintln!("the s3.latest test took {:?}", started.elapsed());
}
