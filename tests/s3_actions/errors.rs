//! The errors the S3 actions share: a missing bucket (the same message from each action),
//! a missing key, a secret key missing beside its access key id, and an endpoint nobody
//! listens on, refused quickly and with nothing written.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{names, params, refused};
use crate::support::etcd::free_port;
use crate::support::s3::S3Server;

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
