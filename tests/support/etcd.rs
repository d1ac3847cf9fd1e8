//! Real etcd clusters for tests: 1 or 3 members on 127.0.0.1, free ports, temporary data
//! directories, stopped by PID (SIGKILL: a graceful stop is slow and proves nothing here).
//!
//! A test that needs etcd and cannot find it fails with the install command; it never
//! passes silently.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian packages that provide `etcd` and `etcdctl` 3.4.
pub const INSTALL: &str = "apt-get install -y etcd-server etcd-client";

/// Panics with the install command when a binary is missing.
pub fn require(binary: &str) -> PathBuf {
    let path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(binary))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    path.unwrap_or_else(|| {
        panic!(
            "`{binary}` is not installed; this test runs a real etcd. Install it with: {INSTALL}"
        )
    })
}

/// A free TCP port on 127.0.0.1 (the listener is dropped before etcd binds it), never
/// one this test process handed out before: the kernel may give a just-released port
/// again at once, and two members of one cluster with the same peer port do not start.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on 127.0.0.1");
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// One member: its name, URLs and data directory.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub client_url: String,
    pub peer_url: String,
    pub data_dir: PathBuf,
}

/// A running etcd cluster; members are killed when it is dropped.
pub struct EtcdCluster {
    pub members: Vec<Member>,
    pub token: String,
    children: Vec<Option<Child>>,
}

impl EtcdCluster {
    /// The member table for `size` members under `root`, with fresh ports.
    pub fn plan(root: &Path, size: usize) -> Vec<Member> {
        (0..size)
            .map(|i| Member {
                name: format!("m{i}"),
                client_url: format!("http://127.0.0.1:{}", free_port()),
                peer_url: format!("http://127.0.0.1:{}", free_port()),
                data_dir: root.join(format!("m{i}.etcd")),
            })
            .collect()
    }

    /// `--initial-cluster` for a member table.
    pub fn initial_cluster(members: &[Member]) -> String {
        members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts a new cluster of `size` members and waits until it is healthy.
    pub fn start(root: &Path, size: usize) -> EtcdCluster {
        let members = Self::plan(root, size);
        let mut cluster = EtcdCluster {
            token: format!("drbook-test-{}", std::process::id()),
            members,
            children: Vec::new(),
        };
        for i in 0..size {
            let child = cluster.spawn(i, "new");
            cluster.children.push(Some(child));
        }
        cluster.wait_healthy(Duration::from_secs(30));
        cluster
    }

    /// Starts (again) the members from their existing data directories, e.g. after a
    /// restore. `initial-cluster-state` is irrelevant for existing data.
    pub fn start_existing(members: Vec<Member>, token: &str) -> EtcdCluster {
        let mut cluster = EtcdCluster {
            members,
            token: token.to_string(),
            children: Vec::new(),
        };
        for i in 0..cluster.members.len() {
            let child = cluster.spawn(i, "existing");
            cluster.children.push(Some(child));
        }
        cluster.wait_healthy(Duration::from_secs(30));
        cluster
    }

    fn spawn(&self, i: usize, state: &str) -> Child {
        let etcd = require("etcd");
        let m = &self.members[i];
        let log = std::fs::File::create(m.data_dir.with_extension("log")).expect("etcd log file");
        Command::new(etcd)
            .args(["--name", &m.name, "--data-dir"])
            .arg(&m.data_dir)
            .args([
                "--listen-client-urls",
                &m.client_url,
                "--advertise-client-urls",
                &m.client_url,
            ])
            .args([
                "--listen-peer-urls",
                &m.peer_url,
                "--initial-advertise-peer-urls",
                &m.peer_url,
            ])
            .args(["--initial-cluster", &Self::initial_cluster(&self.members)])
            .args([
                "--initial-cluster-token",
                &self.token,
                "--initial-cluster-state",
                state,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("etcd starts")
    }

    pub fn endpoints(&self) -> String {
        self.members
            .iter()
            .map(|m| m.client_url.clone())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Runs etcdctl (API v3) against the cluster and returns stdout.
    pub fn etcdctl(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(require("etcdctl"))
            .env("ETCDCTL_API", "3")
            .args([
                "--endpoints",
                &self.endpoints(),
                "--dial-timeout=2s",
                "--command-timeout=5s",
            ])
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Polls `endpoint health` on every member until all answer, or panics with the logs.
    pub fn wait_healthy(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let healthy = self.etcdctl(&["endpoint", "health", "--cluster"]).is_ok()
                && self.etcdctl(&["endpoint", "health"]).is_ok();
            if healthy {
                return;
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self
                    .members
                    .iter()
                    .map(|m| {
                        std::fs::read_to_string(m.data_dir.with_extension("log"))
                            .unwrap_or_default()
                    })
                    .collect();
                panic!(
                    "etcd cluster not healthy within {limit:?}; logs:\n{}",
                    logs.join("\n---\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `count` keys `prefix/0000..` with small values, 100 to a transaction (one
    /// etcdctl per key would take seconds for a few hundred keys).
    pub fn load(&self, prefix: &str, count: usize) {
        for start in (0..count).step_by(100) {
            // `etcdctl txn` reads: compares, blank line, success ops, blank, failure ops.
            let mut script = String::from("\n");
            for i in start..count.min(start + 100) {
                script.push_str(&format!("put {prefix}/{i:04} value-{i}\n"));
            }
            script.push_str("\n\n");
            self.etcdctl_stdin(&["txn"], &script).expect("txn of puts");
        }
    }

    /// Writes one key.
    pub fn put(&self, key: &str, value: &str) {
        self.etcdctl(&["put", key, value]).expect("put");
    }

    /// The value of `key`, if it exists.
    pub fn value(&self, key: &str) -> Option<String> {
        let out = self
            .etcdctl(&["get", key, "--print-value-only"])
            .expect("get");
        out.lines().next().map(str::to_string)
    }

    /// Runs etcdctl (API v3) against the cluster with `input` on stdin.
    pub fn etcdctl_stdin(&self, args: &[&str], input: &str) -> Result<String, String> {
        use std::io::Write;
        let mut child = Command::new(require("etcdctl"))
            .env("ETCDCTL_API", "3")
            .args([
                "--endpoints",
                &self.endpoints(),
                "--dial-timeout=2s",
                "--command-timeout=5s",
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .map_err(|e| e.to_string())?;
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Number of keys under a prefix. etcdctl 3.4 has no `--count-only`, but a range
    /// reports its full `count` whatever its `--limit`.
    pub fn count(&self, prefix: &str) -> usize {
        let out = self
            .etcdctl(&[
                "get",
                prefix,
                "--prefix",
                "--keys-only",
                "--limit",
                "1",
                "-w",
                "json",
            ])
            .expect("get");
        let json: serde_json::Value =
            serde_json::from_str(out.trim()).expect("etcdctl prints JSON");
        // An empty range leaves `count` out (protobuf omits zero).
        json["count"].as_u64().unwrap_or(0) as usize
    }

    /// Kills member `i` (SIGKILL) and waits for it to exit.
    pub fn kill_member(&mut self, i: usize) {
        if let Some(child) = self.children.get_mut(i).and_then(Option::take) {
            kill(child);
        }
    }

    /// Kills every member (SIGKILL) and waits for them to exit.
    pub fn kill(&mut self) {
        for child in self.children.iter_mut().filter_map(Option::take) {
            kill(child);
        }
    }
}

fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        self.kill();
    }
}
