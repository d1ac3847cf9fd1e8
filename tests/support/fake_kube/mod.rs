//! A fake Kubernetes API server for tests: an in-process HTTP server on 127.0.0.1 that
//! the real `kube` client talks to through a kubeconfig, so the Kubernetes actions are
//! tested through the same code paths as against a cluster (no kube-apiserver can be
//! installed here; see domain-facts §9.3).
//!
//! What it does, as the real server does: discovery (`/api`, `/api/v1`,
//! `/apis/<group>/<version>`) for the kinds in `resources`; get and list with label
//! (`a=b`, `a!=b`, `a`, `!a`) and field (`metadata.name`, `metadata.namespace`; for
//! Events also `involvedObject.kind`/`name`/`uid`/`namespace`/`apiVersion`, `type`,
//! `reason`, `source`, `reportingComponent`; any other field is a 400 `field label not
//! supported`) selectors; create, replace (409 on a stale resourceVersion), merge and JSON patches,
//! server-side apply with field managers and conflicts (409 naming the owner; `force`),
//! delete (finalizers keep an object, with `deletionTimestamp`; built-in kinds answer a
//! `Status`, CRDs the object); the `scale` subresource; the `status` subresource of the
//! kinds that have one (KKP's, the workload kinds; not Velero's): a write of the main
//! resource keeps their status, a write of `/status` changes only it; watches (synthetic `ADDED`
//! without a version, replay from a version, 410 as an in-stream `ERROR` after
//! `compact`, `timeoutSeconds`, `end_watches` as a restart would); 404/409/422 `Status`
//! bodies with the real texts; a bearer token that must match; namespaces `default` and
//! `kube-system` with a UID per fake.
//!
//! What it does not do: authorization (RBAC), admission, defaulting and most validation
//! (only names, namespaces and negative replicas), strategic merge (treated as merge),
//! list-merge keys in apply (lists are owned whole), namespace termination (a deleted
//! namespace goes at once, its objects stay), garbage collection by owner references,
//! `generateName`, pagination (`limit`/`continue`), set-based label selectors
//! (`in`, `notin`), bookmarks, event aggregation by the server. Nothing moves by itself:
//! the test makes every change, or starts a scripted controller that does (see
//! [`Handle`]; KKP's seed controller for EtcdRestores is [`kkp`];
//! `velero::start_velero` is Velero's restore controller, its own doc says how far it
//! goes). A Terminating namespace is one a test puts with `status.phase: Terminating`. It speaks plain HTTP on 127.0.0.1, or HTTPS
//! with a certificate of its own (`start_tls`), which its kubeconfig trusts.
//!
//! It counts what a client costs it, for the tests that prove drbook reuses one: the TCP
//! connections it accepted (`connections_accepted`; a kube client keeps its connection
//! open between sequential requests, so a new one means a new client or a request made
//! while the others were busy) and the discovery documents it served
//! (`discovery_reads`).

mod fields;
mod http;
pub mod kkp;
mod objects;
mod resources;
mod status;
mod store;
mod user_cluster;
pub mod velero;
mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use store::{Key, Store};

/// What the server task and the test share.
pub struct Shared {
    store: Mutex<Store>,
    /// Signalled when a watch opens (with `store`'s lock).
    opened: Condvar,
    /// The bearer token every request must carry: a secret the tests look for in output.
    pub token: String,
    /// Bumped to end every open watch, as an API server restart or its watch timeout does.
    ends: tokio::sync::watch::Sender<u64>,
    /// TCP connections accepted.
    connections: AtomicU64,
    /// Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`) served.
    discovery: AtomicU64,
}

/// One running fake cluster. Dropping it stops the server, and with it every controller.
/// It derefs to its [`Handle`], so tests call `fake.put(…)`, `fake.change(…)` directly.
pub struct FakeKube {
    handle: Handle,
    address: SocketAddr,
    /// The PEM certificate clients must trust, when the fake speaks HTTPS.
    certificate: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeKube {
    /// Starts a fake cluster; `seed` makes its UIDs (and so its identity) its own.
    pub fn start(seed: u64) -> FakeKube {
        FakeKube::start_with(seed, None)
    }

    /// Starts a fake cluster that speaks HTTPS with a self-signed certificate for
    /// 127.0.0.1, as real API servers speak TLS.
    pub fn start_tls(seed: u64) -> FakeKube {
        let key = rcgen::KeyPair::generate().expect("a key");
        let certificate = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .expect("certificate parameters")
            .self_signed(&key)
            .expect("a self-signed certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![certificate.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("a TLS server configuration");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let mut fake = FakeKube::start_with(seed, Some(acceptor));
        fake.certificate = Some(certificate.pem());
        fake
    }

    fn start_with(seed: u64, tls: Option<tokio_rustls::TlsAcceptor>) -> FakeKube {
        let mut store = Store::new(seed);
        let token = format!("fake-token-{seed}-{}", store.new_uid());
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            opened: Condvar::new(),
            token,
            ends: tokio::sync::watch::channel(0).0,
            connections: AtomicU64::new(0),
            discovery: AtomicU64::new(0),
        });
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (runtime_sender, runtime_handle) = std::sync::mpsc::channel();
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake API server");
            let _ = runtime_sender.send(runtime.handle().clone());
            runtime.block_on(serve(serving, listener, tls, stopped));
        });
        let runtime = runtime_handle
            .recv()
            .expect("the fake API server's runtime started");
        let fake = FakeKube {
            handle: Handle { shared, runtime },
            address,
            certificate: None,
            stop: Some(stop),
            thread: Some(thread),
        };
        for namespace in ["default", "kube-system"] {
            fake.put(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
            );
        }
        fake
    }

    /// `http://127.0.0.1:<port>`, or `https://…` with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.certificate.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.address)
    }

    /// The cluster's identity: the `kube-system` namespace's UID.
    pub fn uid(&self) -> String {
        self.object("v1", "Namespace", None, "kube-system")
            .expect("kube-system exists")["metadata"]["uid"]
            .as_str()
            .expect("a UID")
            .to_string()
    }

    /// The bearer token the fake's kubeconfig carries (a secret for the tests).
    pub fn token(&self) -> &str {
        &self.handle.shared.token
    }

    /// Writes a kubeconfig for this cluster (context `fake`) into `dir`; returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        write_kubeconfig(dir, "kubeconfig", &[("fake", self)])
    }

    /// A targets file whose target `staging` allows drills and reaches this cluster
    /// through a kubeconfig written into `dir`, pinned by its `kube-system` UID.
    pub fn drill_targets(&self, dir: &Path) -> String {
        format!(
            "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    kubeconfig: {}\n    cluster_uid: {}\n",
            self.kubeconfig(dir).display(),
            self.uid()
        )
    }

    /// How many writes (create, replace, patch, delete) came through the API.
    pub fn api_writes(&self) -> u64 {
        self.lock().api_writes
    }

    /// How many TCP connections clients opened to the fake.
    pub fn connections_accepted(&self) -> u64 {
        self.handle.shared.connections.load(Ordering::SeqCst)
    }

    /// How many discovery documents the fake served.
    pub fn discovery_reads(&self) -> u64 {
        self.handle.shared.discovery.load(Ordering::SeqCst)
    }

    /// Waits until `count` watches have been opened through the API (at most 30 s).
    pub fn wait_for_watches(&self, count: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut store = self.lock();
        while store.watches_opened < count {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no watch was opened within 30 s (opened: {})",
                store.watches_opened
            );
            store = self
                .handle
                .shared
                .opened
                .wait_timeout(store, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Forgets the change history, so older resourceVersions are answered with 410.
    pub fn compact(&self) {
        self.lock().compact();
    }

    /// Ends every open watch stream; clients watch again from their last version.
    pub fn end_watches(&self) {
        self.handle.shared.ends.send_modify(|n| *n += 1);
    }
}

/// What controllers (and tests) use to read and write the fake's objects, from any
/// thread: a cheap clone of the server's shared state and of its runtime.
///
/// A controller of the fake (Velero's, KKP's) is a task on the fake's runtime
/// ([`Handle::spawn`]) that follows every change ([`Handle::subscribe`]) and writes as a
/// real controller would, through [`Handle::change`] and [`Handle::put`] (not counted
/// as API writes). It stops when the fake is dropped.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
}

impl std::ops::Deref for FakeKube {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Handle {
    /// A clone to move into a controller task.
    pub fn handle_for_controllers(&self) -> Handle {
        self.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.shared.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates or overwrites an object as test setup (not counted as an API write).
    pub fn put(&self, object: Value) -> Value {
        let kind = resources::by_kind(
            object["apiVersion"].as_str().expect("apiVersion"),
            object["kind"].as_str().expect("kind"),
        )
        .expect("a kind the fake serves");
        let name = object["metadata"]["name"]
            .as_str()
            .expect("metadata.name")
            .to_string();
        let namespace = object["metadata"]["namespace"].as_str().map(str::to_string);
        let namespace = namespace.or(kind.namespaced.then(|| "default".to_string()));
        let key = Key::new(kind, namespace.as_deref(), &name);
        self.lock()
            .commit(kind, key, object, Some(("test-setup", "Update")))
    }

    /// An object as the fake has it now.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let kind = resources::by_kind(api_version, kind).expect("a kind the fake serves");
        self.lock().get(&Key::new(kind, namespace, name)).cloned()
    }

    /// Changes an object as a controller would (not counted as an API write).
    pub fn change(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        edit: impl FnOnce(&mut Value),
    ) -> Value {
        let kind = resources::by_kind(api_version, kind).expect("a kind the fake serves");
        let key = Key::new(kind, namespace, name);
        let mut store = self.lock();
        let mut object = store.get(&key).cloned().expect("the object exists");
        edit(&mut object);
        store.commit(kind, key, object, Some(("test-controller", "Update")))
    }

    /// Deletes an object as a controller would (finalizers keep it, marked deleting; not
    /// counted as an API write); false when there was none.
    pub fn remove(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let kind = resources::by_kind(api_version, kind).expect("a kind the fake serves");
        self.lock()
            .delete(kind, &Key::new(kind, namespace, name))
            .is_ok()
    }

    /// Every object of a kind as the fake has it now, in one namespace or all.
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let kind = resources::by_kind(api_version, kind).expect("a kind the fake serves");
        self.lock()
            .list(kind, namespace)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Every change from now on (objects added, modified, deleted), for a controller.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<store::Change> {
        self.lock().subscribe()
    }

    /// Runs a controller task on the fake's runtime until the fake is dropped.
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(task);
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes a kubeconfig with one context per named fake (the first is current).
pub fn write_kubeconfig(dir: &Path, file: &str, contexts: &[(&str, &FakeKube)]) -> PathBuf {
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut named = Vec::new();
    for (name, fake) in contexts {
        let mut cluster = json!({"server": fake.url()});
        if let Some(pem) = &fake.certificate {
            use base64::Engine;
            cluster["certificate-authority-data"] =
                json!(base64::engine::general_purpose::STANDARD.encode(pem));
        }
        clusters.push(json!({"name": name, "cluster": cluster}));
        users.push(json!({"name": name, "user": {"token": fake.token()}}));
        named.push(json!({"name": name, "context": {"cluster": name, "user": name}}));
    }
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "clusters": clusters, "users": users,
        "contexts": named, "current-context": contexts.first().map(|c| c.0).unwrap_or(""),
    });
    let path = dir.join(file);
    // JSON is YAML: kubeconfig readers take it as is.
    std::fs::write(&path, serde_json::to_string_pretty(&config).expect("JSON"))
        .expect("write the kubeconfig");
    path
}

async fn serve(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        // As the real (Go) API server: no Nagle delay, so a watch event is sent at once
        // instead of waiting up to 40 ms for the client's delayed ACK.
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| http::handle(shared.clone(), request));
            let connection = http1::Builder::new();
            let _ = match tls {
                None => {
                    connection
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                }
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => {
                        connection
                            .serve_connection(TokioIo::new(stream), service)
                            .await
                    }
                    // A client that does not trust the certificate hangs up: its error says so.
                    Err(_) => return,
                },
            };
        });
    }
}
