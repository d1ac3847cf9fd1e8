//! A real S3-compatible server on 127.0.0.1 for the backup-store tests: moto's server
//! (PyPI `moto[server]`), the stand-in for MinIO. Of the servers tried, it is the one
//! that passed restic's full `restic check` and rclone round trips. It keeps everything
//! in memory, accepts any access key, and is stopped by PID when the `S3Server` drops.
//!
//! `scripts/ensure-tools` installs it into a venv of its own; a test that cannot find it
//! fails with the command to run, it never passes silently.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::etcd::free_port;

/// How to get the server when it is missing.
pub const INSTALL: &str = "scripts/ensure-tools (it creates a venv with `pip install 'moto[server]'` in ~/.cache/drbook/moto)";

/// The access key and secret the tests use. moto accepts any; the secret is also the
/// canary that must never appear in drbook's output.
pub const ACCESS_KEY: &str = "AKIADRBOOKTESTKEY";
pub const SECRET_KEY: &str = "drbook-canary-s3-secret-9f2c";

/// How long the server may take to answer after it starts (Python imports dominate).
const START_LIMIT: Duration = Duration::from_secs(60);

/// `moto_server`: `$DRBOOK_MOTO_SERVER`, else the venv `scripts/ensure-tools` makes,
/// else the PATH. Panics with the install command when it is nowhere.
pub fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("DRBOOK_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")));
    if let Some(venv) = cache.map(|c| c.join("drbook/moto/bin/moto_server"))
        && venv.is_file()
    {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("moto_server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("moto_server (the test S3 server) is not installed; run {INSTALL}")
        })
}

/// A running moto server on 127.0.0.1.
pub struct S3Server {
    child: Child,
    pub port: u16,
}

impl S3Server {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> S3Server {
        let server = S3Server::launch(&[]);
        let started = Instant::now();
        let port = server.port;
        while server.request("GET", "/", b"").is_err() {
            assert!(
                started.elapsed() < START_LIMIT,
                "moto_server on port {port} did not answer within {START_LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Starts a server that speaks HTTPS with `cert` and `key` (PEM) on a free port, and
    /// waits until it accepts connections. The helpers below speak plain HTTP, so this
    /// server is only for talking to drbook.
    pub fn start_tls(cert: &Path, key: &Path) -> S3Server {
        let (cert, key) = (cert.display().to_string(), key.display().to_string());
        let server = S3Server::launch(&["-c", &cert, "-k", &key]);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", server.port)).is_err() {
            assert!(
                started.elapsed() < START_LIMIT,
                "moto_server on port {} did not listen within {START_LIMIT:?}",
                server.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn launch(args: &[&str]) -> S3Server {
        let program = moto_server();
        let port = free_port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; run {INSTALL}", program.display()));
        S3Server { child, port }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = self
            .request("PUT", &format!("/{bucket}"), b"")
            .expect("the S3 server answers");
        assert_eq!(status, 200, "creating bucket {bucket}: {body}");
    }

    /// Creates a bucket with S3 Object Lock and a default retention of `days` in
    /// COMPLIANCE mode, as docs/store.md asks of a record store.
    pub fn create_locked_bucket(&self, bucket: &str, days: u32) {
        let (status, body) = self
            .request_with(
                "PUT",
                &format!("/{bucket}"),
                &[("x-amz-bucket-object-lock-enabled", "true")],
                b"",
            )
            .expect("the S3 server answers");
        assert_eq!(status, 200, "creating locked bucket {bucket}: {body}");
        let config = format!(
            "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>{days}</Days></DefaultRetention></Rule></ObjectLockConfiguration>"
        );
        let (status, body) = self
            .request("PUT", &format!("/{bucket}?object-lock"), config.as_bytes())
            .expect("the S3 server answers");
        assert_eq!(status, 200, "configuring object lock on {bucket}: {body}");
    }

    /// The body of an object (status 200 asserted).
    pub fn get(&self, bucket: &str, key: &str) -> String {
        let (status, body) = self
            .request("GET", &format!("/{bucket}/{key}"), b"")
            .expect("the S3 server answers");
        assert_eq!(status, 200, "reading {bucket}/{key}: {body}");
        body
    }

    /// The Object Lock mode the server reports for an object (`x-amz-object-lock-mode`
    /// of a GET), if any.
    pub fn lock_mode(&self, bucket: &str, key: &str) -> Option<String> {
        let (status, head, body) = self
            .exchange("GET", &format!("/{bucket}/{key}"), &[], b"")
            .expect("the S3 server answers");
        assert_eq!(status, 200, "reading {bucket}/{key}: {body}");
        head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("x-amz-object-lock-mode")
                .then(|| value.trim().to_string())
        })
    }

    /// Stores an object.
    pub fn put(&self, bucket: &str, key: &str, data: &[u8]) {
        let (status, body) = self
            .request("PUT", &format!("/{bucket}/{key}"), data)
            .expect("the S3 server answers");
        assert_eq!(status, 200, "storing {bucket}/{key}: {body}");
    }

    /// Deletes an object.
    pub fn delete(&self, bucket: &str, key: &str) {
        let (status, body) = self
            .request("DELETE", &format!("/{bucket}/{key}"), b"")
            .expect("the S3 server answers");
        assert_eq!(status, 204, "deleting {bucket}/{key}: {body}");
    }

    /// The keys of a bucket, in S3's order (ListObjectsV2, up to 1,000).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let (status, body) = self
            .request("GET", &format!("/{bucket}?list-type=2"), b"")
            .expect("the S3 server answers");
        assert_eq!(status, 200, "listing {bucket}: {body}");
        body.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split("</Key>").next())
            .map(str::to_string)
            .collect()
    }

    /// One plain HTTP/1.1 request; the status and body. moto does not check signatures,
    /// but it refuses some operations (DELETE) without an `Authorization` header, so a
    /// syntactically plausible one is sent.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
        self.request_with(method, path, &[], body)
    }

    /// `request` with extra headers.
    fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, String)> {
        self.exchange(method, path, headers, body)
            .map(|(status, _, body)| (status, body))
    }

    /// One request: the status, the response's head and its body.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, String, String)> {
        exchange_on(self.port, method, path, headers, body)
    }
}

/// One request to the server on `port`: the status, the response's head and its body.
fn exchange_on(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String, String)> {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\n\
         {extra}Connection: close\r\n\r\n",
        port,
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text}")))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_string(), b.to_string()))
        .unwrap_or_default();
    Ok((status, head, body))
}

/// Stores an object in the server on `port`, for code that holds only its port (the
/// fake Velero server writes a restore's results as the real one does).
pub fn put_on(port: u16, bucket: &str, key: &str, data: &[u8]) {
    let (status, body) =
        request_on(port, "PUT", &format!("/{bucket}/{key}"), data).expect("the S3 server answers");
    assert_eq!(status, 200, "storing {bucket}/{key}: {body}");
}

/// One plain HTTP/1.1 request to the server on `port` (see `S3Server::request`).
fn request_on(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    exchange_on(port, method, path, &[], body).map(|(status, _, body)| (status, body))
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Panics with the Debian install command when `binary` (restic, rclone) is missing.
pub fn require_tool(binary: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(binary))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("{binary} is not installed; run scripts/ensure-tools or `apt-get install -y {binary}`")
        })
}

#[test]
fn the_server_stores_and_lists_objects() {
    let server = S3Server::start();
    server.create_bucket("bucket-b");
    server.put("bucket-b", "x/1", b"one");
    server.put("bucket-b", "x/2", b"two");
    assert_eq!(server.keys("bucket-b"), ["x/1", "x/2"]);
    server.delete("bucket-b", "x/1");
    assert_eq!(server.keys("bucket-b"), ["x/2"]);
}
