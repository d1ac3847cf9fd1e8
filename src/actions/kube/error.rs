//! What can go wrong in the Kubernetes actions, each message naming the object and what
//! to do. The client's own errors are rendered from the API server's `Status` (reason and
//! message), which never carries a credential; kubeconfig errors name the file only.

use std::path::PathBuf;

/// Why a Kubernetes action did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error(
        "no cluster to reach: give the step `kubeconfig:` (or the target a `kubeconfig` key), set $KUBECONFIG, or run drbook inside a pod"
    )]
    NoConfig,

    #[error("cannot read kubeconfig `{}`: {reason}", path.display())]
    Kubeconfig { path: PathBuf, reason: String },

    #[error("cannot use kubeconfig{}: {reason}", context.as_ref().map(|c| format!(" context `{c}`")).unwrap_or_default())]
    Context {
        context: Option<String>,
        reason: String,
    },

    #[error("cannot build a client for {server}: {reason}")]
    Client { server: String, reason: String },

    #[error(
        "cannot read the identity of the cluster at {server} (namespace `kube-system`): {reason}; check that the server is up, that the kubeconfig trusts its certificate, and that the credentials may get namespaces"
    )]
    Identity { server: String, reason: String },

    #[error(
        "wrong cluster: {server} has kube-system UID {found}, but the target pins cluster_uid {expected}; nothing was changed. Check the kubeconfig and context the step uses, or correct `cluster_uid` in the targets file"
    )]
    WrongCluster {
        server: String,
        expected: String,
        found: String,
    },

    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error(
        "the API server at {server} does not serve {kind} in {api_version}: {reason}; check `api_version` and `kind` (is the CRD installed?)"
    )]
    UnknownKind {
        server: String,
        api_version: String,
        kind: String,
        reason: String,
    },

    #[error("{object} was not found; check its name and namespace")]
    NotFound { object: String },

    #[error("cannot {verb} {object}: {reason}")]
    Api {
        verb: &'static str,
        object: String,
        reason: String,
    },

    #[error("the watch of {object} ended with an error: {reason}")]
    Watch { object: String, reason: String },
}

/// The text of a client error: the API server's reason and message when it answered, the
/// transport problem otherwise, with its causes (a TLS failure says why only in its
/// source: "client error (Connect): invalid peer certificate: UnknownIssuer").
pub(crate) fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            format!(
                "{} ({}, HTTP {})",
                status.message, status.reason, status.code
            )
        }
        other => {
            let mut text = other.to_string();
            let mut cause = std::error::Error::source(other);
            while let Some(inner) = cause {
                let said = inner.to_string();
                // Wrappers often repeat their source's text; say each thing once.
                if !text.contains(&said) {
                    text.push_str(": ");
                    text.push_str(&said);
                }
                cause = inner.source();
            }
            text
        }
    }
}

/// True when the API server answered 404.
pub(crate) fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(s) if s.code == 404)
}
