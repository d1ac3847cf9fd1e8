//! Which cached client a step may use: everything that decides which cluster it reaches
//! and with which credentials, as read for this step.
//!
//! For a kubeconfig file that is its path, the SHA-256 of its bytes and the context
//! asked for (without one, the file's current context decides, and that is in its
//! bytes); for `$KUBECONFIG`, the variable's value and the SHA-256 of every file it
//! lists; else the in-cluster service account. A step that rewrote the kubeconfig (the
//! seed was rebuilt, its new kubeconfig copied over the old one) changes the digest, so
//! the next step builds a new client instead of reaching the old cluster. The key holds
//! no file contents and no credential: its debug form may be printed.
//!
//! What the key does not see: files the kubeconfig names by path (a client certificate,
//! a CA file) that change while the kubeconfig itself does not. The kube client re-reads
//! token files and exec plugins itself; rewrite the kubeconfig to change the others.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::connect::ClusterSource;

/// The identity of a cached client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    /// A kubeconfig the step or its target names.
    File {
        path: PathBuf,
        /// Lower-case hex SHA-256 of the file's bytes.
        sha256: String,
        context: Option<String>,
    },
    /// `$KUBECONFIG`: its value (one or more paths) and the files it lists.
    Env {
        value: OsString,
        /// Lower-case hex SHA-256 of the listed files' bytes, in order.
        sha256: String,
        context: Option<String>,
    },
    /// The in-cluster service account (the client re-reads its token itself).
    InCluster,
}

impl ClientKey {
    /// The key of `source` now, with `kubeconfig_env` the value of `$KUBECONFIG`.
    /// `None` when a kubeconfig cannot be read: such a step gets no cached client, and
    /// building one reports why, as it always did.
    pub(crate) fn of(
        source: &ClusterSource,
        kubeconfig_env: Option<OsString>,
    ) -> Option<ClientKey> {
        let context = source.context.clone();
        if let Some(path) = &source.kubeconfig {
            return Some(ClientKey::File {
                path: path.clone(),
                sha256: digest(std::slice::from_ref(path))?,
                context,
            });
        }
        // As the kube client reads `$KUBECONFIG`: blank entries are skipped, and a value
        // without any path means the in-cluster service account.
        let value = kubeconfig_env.filter(|value| listed(value).next().is_some());
        match value {
            Some(value) => Some(ClientKey::Env {
                sha256: digest(&listed(&value).collect::<Vec<_>>())?,
                value,
                context,
            }),
            None => Some(ClientKey::InCluster),
        }
    }

    /// True when the files behind the key still hold the bytes it was made from: a
    /// client built while a step rewrote its kubeconfig may come from either version,
    /// so it is used once and not kept.
    pub(crate) fn still_current(&self) -> bool {
        match self {
            ClientKey::File { path, sha256, .. } => {
                digest(std::slice::from_ref(path)).as_ref() == Some(sha256)
            }
            ClientKey::Env { value, sha256, .. } => {
                digest(&listed(value).collect::<Vec<_>>()).as_ref() == Some(sha256)
            }
            ClientKey::InCluster => true,
        }
    }
}

/// The non-blank paths of a `$KUBECONFIG` value.
fn listed(value: &OsString) -> impl Iterator<Item = PathBuf> + '_ {
    std::env::split_paths(value).filter(|path| !path.as_os_str().is_empty())
}

/// The SHA-256 of the files' bytes, each prefixed with its length so that no two lists
/// of contents hash alike; `None` when one cannot be read.
fn digest(paths: &[impl AsRef<Path>]) -> Option<String> {
    let mut hasher = Sha256::new();
    for path in paths {
        let bytes = std::fs::read(path).ok()?;
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Some(base16ct::lower::encode_string(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "token-that-must-not-show";

    fn kubeconfig(dir: &Path, name: &str, server: &str) -> PathBuf {
        let path = dir.join(name);
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{server}'}}}}]\nusers: [{{name: u, user: {{token: {SECRET}}}}}]\ncontexts: [{{name: a, context: {{cluster: c, user: u}}}}, {{name: b, context: {{cluster: c, user: u}}}}]\ncurrent-context: a\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn file_key(path: &Path, context: Option<&str>) -> ClientKey {
        let source = ClusterSource::new(path.to_str(), context, Path::new("/"));
        ClientKey::of(&source, None).expect("a readable kubeconfig has a key")
    }

    #[test]
    fn the_same_kubeconfig_and_context_read_twice_is_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "k.yaml", "https://10.0.0.1:6443");
        assert_eq!(file_key(&path, Some("a")), file_key(&path, Some("a")));
        assert_eq!(file_key(&path, None), file_key(&path, None));
    }

    #[test]
    fn another_context_path_or_content_is_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "k.yaml", "https://10.0.0.1:6443");
        let first = file_key(&path, None);
        assert_ne!(first, file_key(&path, Some("b")), "another context");
        assert_ne!(
            file_key(&path, Some("a")),
            first,
            "the current context by name is asked for differently, so kept apart"
        );
        let copy = kubeconfig(dir.path(), "copy.yaml", "https://10.0.0.1:6443");
        assert_ne!(first, file_key(&copy, None), "another file, same bytes");
        assert!(first.still_current());
        kubeconfig(dir.path(), "k.yaml", "https://10.0.0.2:6443");
        assert!(!first.still_current(), "the file was rewritten");
        assert_ne!(first, file_key(&path, None), "a rewritten kubeconfig");
    }

    #[test]
    fn kubeconfig_from_the_environment_is_keyed_by_its_value_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let one = kubeconfig(dir.path(), "one.yaml", "https://10.0.0.1:6443");
        let two = kubeconfig(dir.path(), "two.yaml", "https://10.0.0.2:6443");
        let source = ClusterSource::new(None, None, Path::new("/"));
        let env = |paths: &[&Path]| Some(std::env::join_paths(paths).unwrap());
        let both = ClientKey::of(&source, env(&[&one, &two])).unwrap();
        assert!(matches!(both, ClientKey::Env { .. }));
        assert_eq!(both, ClientKey::of(&source, env(&[&one, &two])).unwrap());
        assert_ne!(both, ClientKey::of(&source, env(&[&two, &one])).unwrap());
        assert_ne!(both, ClientKey::of(&source, env(&[&one])).unwrap());
        kubeconfig(dir.path(), "two.yaml", "https://10.0.0.3:6443");
        assert!(!both.still_current());
        assert_ne!(both, ClientKey::of(&source, env(&[&one, &two])).unwrap());
    }

    #[test]
    fn without_a_kubeconfig_the_key_is_the_in_cluster_account() {
        let source = ClusterSource::new(None, Some("ignored"), Path::new("/"));
        assert_eq!(ClientKey::of(&source, None), Some(ClientKey::InCluster));
        assert_eq!(
            ClientKey::of(&source, Some(OsString::from(":"))),
            Some(ClientKey::InCluster),
            "a value that lists no file"
        );
    }

    #[test]
    fn an_unreadable_kubeconfig_has_no_key() {
        let source = ClusterSource::new(Some("/nonexistent/k.yaml"), None, Path::new("/"));
        assert_eq!(ClientKey::of(&source, None), None);
        let env = Some(OsString::from("/nonexistent/k.yaml"));
        let source = ClusterSource::new(None, None, Path::new("/"));
        assert_eq!(ClientKey::of(&source, env), None);
    }

    #[test]
    fn the_key_shows_no_file_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path(), "k.yaml", "https://10.0.0.1:6443");
        let shown = format!("{:?}", file_key(&path, Some("a")));
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains("10.0.0.1"), "{shown}");
    }
}
