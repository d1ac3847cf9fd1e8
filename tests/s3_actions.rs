//! The S3 actions against a real S3 server (moto, `support::s3`): listing with and
//! without a prefix; the newest backup with a suffix and before a time; downloads that
//! are byte-identical (SHA-256 of the source), resumed from a partial of the same
//! version, restarted from one of another, never replacing a different file; the
//! errors for a missing bucket, a missing key and an endpoint nobody listens on; and a
//! fetch driven end to end by `drbook run` with the secret key from a runbook secret.
//!
//! Every helper checks that the secret key (the canary) appears in no output, event or
//! error message. Nothing sleeps to synchronise: objects with distinct times are made by
//! polling the server's clock (moto keeps whole seconds).

use std::path::Path;
use std::time::{Duration, Instant};

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::actions;
use crate::support::etcd::free_port;
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::support::{finish_within, spawn, wait_until, write};

/// The longest one `drbook run` here may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Fails the test when the secret key appears in `text`.
fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_KEY),
        "the secret key appears in {what}: {text}"
    );
}

/// Runs action `name` once through the library API (`support::actions`), cancelling it
/// when `cancel_on` matches an event; checks that the secret key leaks nowhere.
fn execute_with(
    name: &str,
    params: Value,
    workdir: &Path,
    cancel_on: Option<&dyn Fn(&ActionEvent) -> bool>,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    actions::execute_until(name, params, workdir, &[SECRET_KEY], cancel_on)
}

fn execute(
    name: &str,
    params: Value,
    workdir: &Path,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    execute_with(name, params, workdir, None)
}

/// The outputs and events of an action that must succeed.
fn ok_events(name: &str, params: Value, workdir: &Path) -> (Value, Vec<String>) {
    match execute(name, params, workdir) {
        (Ok(outputs), events) => (Value::Object(outputs), progress(&events)),
        (Err(e), events) => panic!("{name} failed: {e}\nevents: {events:#?}"),
    }
}

fn ok(name: &str, params: Value, workdir: &Path) -> Value {
    ok_events(name, params, workdir).0
}

/// The message of an action that must fail.
fn refused(name: &str, params: Value, workdir: &Path) -> String {
    match execute(name, params, workdir) {
        (Ok(outputs), _) => panic!("{name} succeeded: {outputs:#?}"),
        (Err(e), _) => e.to_string(),
    }
}

/// The texts of the progress events.
fn progress(events: &[ActionEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ActionEvent::Progress(text) => Some(text.clone()),
            ActionEvent::Output { .. } => None,
        })
        .collect()
}

/// The connection parameters for `bucket` of `server`, plus `extra`.
fn params(server: &S3Server, bucket: &str, extra: Value) -> Value {
    let mut params = json!({
        "endpoint": server.endpoint(),
        "bucket": bucket,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
    });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// `len` bytes that differ from object to object (`seed`) and do not repeat.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

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

/// The MD5 of `bytes` in hex: what a single-part upload's ETag is.
fn md5_of(bytes: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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

#[test]
fn missing_buckets_keys_credentials_and_servers_are_named() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    server.create_bucket("backups");
    server.put("backups", "there", b"x");
    let endpoint = server.endpoint();

    let no_bucket = format!(
        "bucket `nothere` does not exist at {endpoint}; check `bucket` (names are case-sensitive), `endpoint` and `region`"
    );
    assert_eq!(
        refused("s3.list", params(&server, "nothere", json!({})), dir),
        no_bucket
    );
    assert_eq!(
        refused("s3.latest", params(&server, "nothere", json!({})), dir),
        no_bucket
    );
    assert_eq!(
        refused(
            "s3.get",
            params(&server, "nothere", json!({"key": "there", "file": "f"})),
            dir
        ),
        no_bucket
    );
    assert_eq!(
        refused(
            "s3.get",
            params(&server, "backups", json!({"key": "missing", "file": "f"})),
            dir
        ),
        format!(
            "object `missing` in bucket `backups` at {endpoint} does not exist; check `key`, or find the object with `s3.list` or `s3.latest`"
        )
    );

    let mut anonymous = params(&server, "backups", json!({}));
    anonymous
        .as_object_mut()
        .unwrap()
        .remove("secret_access_key");
    let err = refused("s3.list", anonymous, dir);
    assert!(
        err.starts_with("parameter `secret_access_key` is (`access_key_id` is given) missing"),
        "{err}"
    );

    let port = free_port();
    let mut nobody = params(&server, "backups", json!({"key": "there", "file": "f"}));
    nobody["endpoint"] = json!(format!("http://127.0.0.1:{port}"));
    let started = Instant::now();
    let err = refused("s3.get", nobody.clone(), dir);
    let took = started.elapsed();
    eprintln!("a refused connection failed after {took:?}");
    assert_eq!(
        err,
        format!(
            "cannot reach the S3 endpoint http://127.0.0.1:{port} (connection refused); check `endpoint` (scheme, host and port) and that the store runs and is reachable from here"
        )
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(refused("s3.list", nobody, dir), err);
    assert_eq!(names(dir), Vec::<String>::new(), "nothing was written");
}

/// The runbook that finds the newest backup and fetches it, the secret key from the
/// environment; `path_style` is a template, which renders as Jinja's `True`.
fn fetch_runbook(endpoint: &str, file: &Path) -> String {
    let file = file.display();
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: s3-fetch, version: 1.0.0}}
spec:
  secrets:
    - {{name: s3_secret_key, env: DRBOOK_TEST_S3_SECRET}}
  steps:
    - id: latest
      action: s3.latest
      with:
        endpoint: "{endpoint}"
        bucket: backups
        access_key_id: {ACCESS_KEY}
        secret_access_key: "{{{{ secrets.s3_secret_key }}}}"
        prefix: c1-default-backups-
        suffix: .db.gz
    - id: fetch
      action: s3.get
      with:
        endpoint: "{endpoint}"
        bucket: backups
        access_key_id: {ACCESS_KEY}
        secret_access_key: "{{{{ secrets.s3_secret_key }}}}"
        path_style: "{{{{ 1 == 1 }}}}"
        key: "{{{{ steps.latest.outputs.key }}}}"
        file: "{file}"
"#
    )
}

#[test]
fn drbook_run_fetches_the_newest_backup_and_never_records_the_secret() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    server.create_bucket("backups");
    let bytes = data(1 << 20, 6);
    server.put(
        "backups",
        "c1-default-backups-2026-01-01t00-00-00.db.gz",
        &bytes,
    );
    let file = root.join("fetched.db.gz");
    write(
        root,
        "fetch.yaml",
        &fetch_runbook(&server.endpoint(), &file),
    );
    let state = root.join("state");
    let child = spawn(
        root,
        &[
            "run",
            "fetch.yaml",
            "--run-id",
            "fetch",
            "--state-dir",
            &state.display().to_string(),
        ],
        &[
            ("DRBOOK_OPERATOR", "test-operator"),
            ("DRBOOK_TEST_S3_SECRET", SECRET_KEY),
        ],
    );
    let out = finish_within(child, RUN_LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    assert_no_secret("stdout", &stdout);
    assert_no_secret("stderr", &stderr);

    let journal = std::fs::read_to_string(state.join("runs/fetch/journal.jsonl")).unwrap();
    let fetched = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event"]["type"] == "step_finished" && r["event"]["step"] == "fetch")
        .expect("the fetch step finished");
    assert_eq!(
        fetched["event"]["outcome"]["outputs"]["sha256"],
        sha256(&bytes)
    );

    let mut files = 0;
    let mut stack = vec![state.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                assert_no_secret(&path.display().to_string(), &text);
            }
        }
    }
    assert!(files > 0, "the run left a record");
}
