//! An `https://` endpoint whose certificate a private CA signed, as MinIO inside a
//! cluster often has: without `cacert` the S3 actions refuse it, with the CA they list
//! the bucket. The server is moto with a certificate made here by openssl.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use super::refused;
use crate::support::s3::{ACCESS_KEY, SECRET_KEY, moto_server};
use crate::support::wait_until;

/// moto over TLS on 127.0.0.1, stopped by its pid when dropped.
struct TlsServer {
    child: Child,
    port: u16,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA (`ca.crt`) and a server certificate for 127.0.0.1 it signed.
fn private_ca(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "1",
        "-subj",
        "/CN=drbook test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(dir, &csr);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    );
}

fn start(dir: &Path) -> TlsServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string(), "-s", "-c"])
        .arg(dir.join("server.crt"))
        .arg("-k")
        .arg(dir.join("server.key"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = TlsServer { child, port };
    wait_until("moto listens over TLS", Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    server
}

#[test]
fn an_endpoint_with_a_private_ca_is_trusted_only_with_cacert() {
    let dir = tempfile::tempdir().unwrap();
    private_ca(dir.path());
    let server = start(dir.path());
    let endpoint = format!("https://127.0.0.1:{}", server.port);
    let params = |extra: serde_json::Value| {
        let mut params = json!({
            "endpoint": endpoint,
            "bucket": "kkpbackup",
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
        });
        params
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        params
    };
    let ca = dir.path().join("ca.crt");
    // The bucket does not exist yet: with the CA, the answer is S3's, not TLS's.
    let err = refused("s3.list", params(json!({"cacert": ca})), dir.path());
    assert!(err.contains("kkpbackup"), "{err}");
    assert!(!err.to_lowercase().contains("certificate"), "{err}");
    // Without the CA, the TLS handshake fails.
    let err = refused("s3.list", params(json!({})), dir.path());
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("connect"),
        "{err}"
    );
    // An empty cacert (a template left at its default) is none; a relative one is refused.
    let err = refused("s3.list", params(json!({"cacert": ""})), dir.path());
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("connect"),
        "{err}"
    );
    let err = refused("s3.list", params(json!({"cacert": "ca.crt"})), dir.path());
    assert!(
        err.contains("`cacert`") && err.contains("relative path"),
        "{err}"
    );
}
