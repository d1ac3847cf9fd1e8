//! The Kubernetes clients of one run, built once per cluster source and shared by its
//! steps, so a fleet runbook's thousand steps against one seed do not each read the
//! kubeconfig, set up TLS and open a connection.
//!
//! The engine makes one cache per run and hands it to every action in its request. A
//! step asks for the client of its source (`connect`); the key (`ClientKey`) is made of
//! what decides the cluster and credentials as read for this step, so a rewritten
//! kubeconfig gets a new client. Steps that ask for the same key at once (a `foreach`
//! fanning out) wait for one build instead of each making their own. A build that fails
//! is not kept: the next step tries again and reports its own error.
//!
//! Only the client (with its connection pool) and the kinds it found are shared. Every
//! step still reads the cluster's identity through it and refuses a pinned `cluster_uid`
//! that does not match (`connect`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::client_key::ClientKey;
use super::connect::{ClusterSource, Connection, build};
use super::error::KubeError;

/// One run's clients by key. Cloning shares the cache.
#[derive(Clone, Default)]
pub struct ClientCache {
    /// One cell per key, filled by the first step that builds its client. A std mutex:
    /// it is held to find or add a cell, never across an await.
    cells: Arc<Mutex<HashMap<ClientKey, Arc<Cell>>>>,
}

/// Where one key's client is kept; steps that find it empty wait for one build.
type Cell = OnceCell<Arc<Connection>>;

/// Why a built client is not kept.
enum Unkept {
    Failed(KubeError),
    /// The kubeconfig changed while the client was built: it serves this step only.
    Changed(Connection),
}

impl ClientCache {
    /// The client of `source`: the one built earlier in this run for the same key, else
    /// a new one, kept for the steps after.
    pub(crate) async fn connection(
        &self,
        source: &ClusterSource,
    ) -> Result<Arc<Connection>, KubeError> {
        let kubeconfig_env = std::env::var_os("KUBECONFIG");
        let of = source.clone();
        // Reading the kubeconfig to hash it is file I/O: off the engine's thread.
        let key = off_runtime(move || ClientKey::of(&of, kubeconfig_env))
            .await
            .flatten();
        match key {
            Some(key) => self.get_or_build(key, || build(source)).await,
            None => build(source).await.map(Arc::new),
        }
    }

    /// The connection kept under `key`, else the one `make` builds, kept when the files
    /// behind the key did not change meanwhile.
    async fn get_or_build<F, Fut>(
        &self,
        key: ClientKey,
        make: F,
    ) -> Result<Arc<Connection>, KubeError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Connection, KubeError>>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(key.clone()).or_default().clone()
        };
        let kept = cell
            .get_or_try_init(|| async {
                let connection = make().await.map_err(Unkept::Failed)?;
                let unchanged = off_runtime(move || key.still_current()).await;
                match unchanged {
                    Some(true) => Ok(Arc::new(connection)),
                    _ => Err(Unkept::Changed(connection)),
                }
            })
            .await;
        match kept {
            Ok(connection) => Ok(connection.clone()),
            Err(Unkept::Changed(connection)) => Ok(Arc::new(connection)),
            Err(Unkept::Failed(e)) => Err(e),
        }
    }

    /// How many clients the run has kept.
    #[cfg(test)]
    fn kept(&self) -> usize {
        let cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.values().filter(|cell| cell.initialized()).count()
    }
}

/// Runs blocking file work on tokio's blocking pool; `None` when it could not run.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kube::{Client, Config};

    use super::*;

    fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
        let path = dir.join("k.yaml");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{server}'}}}}]\nusers: [{{name: u, user: {{}}}}]\ncontexts: [{{name: a, context: {{cluster: c, user: u}}}}]\ncurrent-context: a\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn key(path: &Path) -> ClientKey {
        let source = ClusterSource::new(path.to_str(), None, Path::new("/"));
        ClientKey::of(&source, None).unwrap()
    }

    /// A client for an address nothing listens on: building one contacts nobody.
    fn connection(server: &str) -> Connection {
        let client = Client::try_from(Config::new(server.parse().unwrap())).unwrap();
        Connection::new(client, server.to_string(), None)
    }

    /// A builder that counts its calls and yields once, so that a second step asking
    /// at the same time gets to wait for it.
    async fn counted(builds: &AtomicUsize, server: &str) -> Result<Connection, KubeError> {
        builds.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        Ok(connection(server))
    }

    #[tokio::test]
    async fn two_steps_asking_at_once_share_one_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "http://127.0.0.1:9");
        let cache = ClientCache::default();
        let builds = AtomicUsize::new(0);
        let (a, b) = tokio::join!(
            cache.get_or_build(key(&path), || counted(&builds, "http://127.0.0.1:9")),
            cache.get_or_build(key(&path), || counted(&builds, "http://127.0.0.1:9")),
        );
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        let later = cache
            .get_or_build(key(&path), || counted(&builds, "http://127.0.0.1:9"))
            .await
            .unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 1, "a later step reuses it");
        assert_eq!(later.server, "http://127.0.0.1:9");
    }

    #[tokio::test]
    async fn a_failed_build_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "http://127.0.0.1:9");
        let cache = ClientCache::default();
        let failed = cache
            .get_or_build(key(&path), || async { Err(KubeError::NoConfig) })
            .await;
        assert!(matches!(failed, Err(KubeError::NoConfig)));
        assert_eq!(cache.kept(), 0);
        let builds = AtomicUsize::new(0);
        cache
            .get_or_build(key(&path), || counted(&builds, "http://127.0.0.1:9"))
            .await
            .expect("the next step builds again");
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert_eq!(cache.kept(), 1);
    }

    #[tokio::test]
    async fn a_kubeconfig_rewritten_during_the_build_serves_that_step_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "http://127.0.0.1:9");
        let cache = ClientCache::default();
        let first = key(&path);
        let rewrite = dir.path().to_path_buf();
        let used = cache
            .get_or_build(first.clone(), move || async move {
                kubeconfig(&rewrite, "http://127.0.0.2:9");
                Ok(connection("http://127.0.0.1:9"))
            })
            .await
            .expect("the step gets its client");
        assert_eq!(used.server, "http://127.0.0.1:9");
        assert_eq!(cache.kept(), 0, "not kept under the old bytes' key");
        assert_ne!(key(&path), first, "the next step has a key of its own");
    }

    #[tokio::test]
    async fn a_rewritten_kubeconfig_gets_a_new_client() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "http://127.0.0.1:9");
        let cache = ClientCache::default();
        let source = ClusterSource::new(path.to_str(), None, Path::new("/"));
        let first = cache.connection(&source).await.expect("a client");
        let again = cache.connection(&source).await.expect("a client");
        assert!(Arc::ptr_eq(&first, &again));
        kubeconfig(dir.path(), "http://127.0.0.2:9");
        let rebuilt = cache.connection(&source).await.expect("a client");
        assert_eq!(rebuilt.server, "http://127.0.0.2:9");
        assert_eq!(cache.kept(), 2);
    }
}
