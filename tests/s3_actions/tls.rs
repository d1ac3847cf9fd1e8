//! An HTTPS endpoint, through `drbook run`: the S3 client's TLS runs on ring (the one
//! crypto backend drbook builds) and checks the server's certificate against the
//! system's roots, which `SSL_CERT_FILE` replaces for the test.

use std::path::Path;
use std::time::Duration;

use crate::support::pki::{ca_params, ec_keys, leaf_params};
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::support::{finish_within, spawn, write};

/// The longest one `drbook run` here may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Writes a CA and a server certificate for 127.0.0.1 signed by it: `ca.crt`,
/// `server.crt`, `server.key`.
fn server_pki(dir: &Path) {
    let [ca_key, server_key] = &ec_keys()[..2] else {
        unreachable!("ec_keys makes two keys")
    };
    let ca_params = ca_params("drbook test CA");
    let ca = ca_params.clone().self_signed(&ca_key.pair()).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, ca_key.pair());
    let server = leaf_params("127.0.0.1")
        .signed_by(&server_key.pair(), &issuer)
        .unwrap();
    write(dir, "ca.crt", &ca.pem());
    write(dir, "server.crt", &server.pem());
    write(dir, "server.key", &server_key.pkcs8);
}

/// `drbook run` of one `s3.list` of bucket `missing` at `endpoint`, with `SSL_CERT_FILE`
/// set to `roots`; the run must fail, and its stderr is returned.
fn list_missing_bucket(root: &Path, endpoint: &str, roots: &Path, run_id: &str) -> String {
    write(
        root,
        "list.yaml",
        &format!(
            r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: s3-tls, version: 1.0.0}}
spec:
  secrets:
    - {{name: s3_secret_key, env: DRBOOK_TEST_S3_SECRET}}
  steps:
    - id: list
      action: s3.list
      with:
        endpoint: "{endpoint}"
        bucket: missing
        access_key_id: {ACCESS_KEY}
        secret_access_key: "{{{{ secrets.s3_secret_key }}}}"
"#
        ),
    );
    let state = root.join("state").display().to_string();
    let roots = roots.display().to_string();
    let child = spawn(
        root,
        &[
            "run",
            "list.yaml",
            "--run-id",
            run_id,
            "--state-dir",
            &state,
        ],
        &[
            ("DRBOOK_OPERATOR", "test-operator"),
            ("DRBOOK_TEST_S3_SECRET", SECRET_KEY),
            ("SSL_CERT_FILE", &roots),
            ("SSL_CERT_DIR", "/nonexistent"),
        ],
    );
    let out = finish_within(child, RUN_LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(SECRET_KEY), "{stderr}");
    stderr
}

#[test]
fn an_https_endpoint_is_reached_on_ring_and_its_certificate_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    server_pki(root);
    let server = S3Server::start_tls(&root.join("server.crt"), &root.join("server.key"));
    let endpoint = format!("https://127.0.0.1:{}", server.port);

    // Trusted: the handshake succeeds and S3 itself answers that the bucket is missing.
    let trusted = list_missing_bucket(root, &endpoint, &root.join("ca.crt"), "trusted");
    assert!(
        trusted.contains("bucket `missing` does not exist"),
        "{trusted}"
    );

    // Not trusted (the server's own certificate is no root): refused before any request.
    let untrusted = list_missing_bucket(root, &endpoint, &root.join("server.crt"), "untrusted");
    assert!(
        untrusted.contains("cannot reach the S3 endpoint"),
        "{untrusted}"
    );
    assert!(untrusted.contains("certificate"), "{untrusted}");
}
