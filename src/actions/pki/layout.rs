//! Where the PKI files live. The eight files every control-plane node shares (the three
//! CAs and the service-account key pair) are what kubeadm's manual HA setup copies and
//! what KubeOne's `backups-restic` addon backs up; they must be restored identically.
//! Leaf certificates are regenerable from the CAs and node-specific, so they are only
//! checked where kubeadm keeps them, never copied.
//!
//! Two layouts hold the shared files: kubeadm's `/etc/kubernetes/pki`, and what `restic
//! restore` of the KubeOne addon yields under `backup/pki` (`kubernetes/<name>` for the
//! six non-etcd files, `etcd/ca.{crt,key}`).

use super::error::PkiError;

/// Where the shared files are under a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `/etc/kubernetes/pki`: `ca.crt`, …, `etcd/ca.crt`.
    Kubeadm,
    /// KubeOne's restic backup, `backup/pki`: `kubernetes/ca.crt`, …, `etcd/ca.crt`.
    KubeoneBackup,
}

impl Layout {
    /// The parameter value naming the layout.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Layout::Kubeadm => "kubeadm",
            Layout::KubeoneBackup => "kubeone-backup",
        }
    }

    pub(crate) fn other(self) -> Layout {
        match self {
            Layout::Kubeadm => Layout::KubeoneBackup,
            Layout::KubeoneBackup => Layout::Kubeadm,
        }
    }

    /// The layout named by parameter `param` (default kubeadm).
    pub(crate) fn parse(param: &'static str, value: Option<&str>) -> Result<Layout, PkiError> {
        match value.map(str::trim) {
            None | Some("kubeadm") => Ok(Layout::Kubeadm),
            Some("kubeone-backup") => Ok(Layout::KubeoneBackup),
            Some(other) => Err(PkiError::BadParam {
                name: param,
                problem: format!(
                    "must be `kubeadm` (files as in /etc/kubernetes/pki) or `kubeone-backup` (files as KubeOne's restic backup holds them under backup/pki), but is `{other}`"
                ),
            }),
        }
    }

    /// Where `file` is under a directory of this layout.
    pub(crate) fn path_of(self, file: &SharedFile) -> &'static str {
        match self {
            Layout::Kubeadm => file.name,
            Layout::KubeoneBackup => file.backup,
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Cert,
    PrivateKey,
    PublicKey,
}

/// One of the eight files a control plane shares.
#[derive(Debug)]
pub(crate) struct SharedFile {
    /// Its path under `/etc/kubernetes/pki`; also its name in outputs.
    pub name: &'static str,
    /// Its path in the KubeOne backup.
    pub backup: &'static str,
    pub kind: Kind,
    /// The mode `pki.restore` installs it with.
    pub mode: u32,
    /// What breaks if it is replaced by a new one, for fixes.
    pub loss: &'static str,
}

/// The shared files, in the order outputs list them.
pub(crate) const SHARED: [SharedFile; 8] = [
    SharedFile {
        name: "ca.crt",
        backup: "kubernetes/ca.crt",
        kind: Kind::Cert,
        mode: 0o644,
        loss: "a new cluster CA breaks every kubelet, kubeconfig and kube-root-ca.crt consumer",
    },
    SharedFile {
        name: "ca.key",
        backup: "kubernetes/ca.key",
        kind: Kind::PrivateKey,
        mode: 0o600,
        loss: "a new cluster CA breaks every kubelet, kubeconfig and kube-root-ca.crt consumer",
    },
    SharedFile {
        name: "sa.key",
        backup: "kubernetes/sa.key",
        kind: Kind::PrivateKey,
        mode: 0o600,
        loss: "a new service-account key invalidates every ServiceAccount token",
    },
    SharedFile {
        name: "sa.pub",
        backup: "kubernetes/sa.pub",
        kind: Kind::PublicKey,
        mode: 0o644,
        loss: "a new service-account key invalidates every ServiceAccount token",
    },
    SharedFile {
        name: "front-proxy-ca.crt",
        backup: "kubernetes/front-proxy-ca.crt",
        kind: Kind::Cert,
        mode: 0o644,
        loss: "a new front-proxy CA breaks aggregated APIs such as metrics-server",
    },
    SharedFile {
        name: "front-proxy-ca.key",
        backup: "kubernetes/front-proxy-ca.key",
        kind: Kind::PrivateKey,
        mode: 0o600,
        loss: "a new front-proxy CA breaks aggregated APIs such as metrics-server",
    },
    SharedFile {
        name: "etcd/ca.crt",
        backup: "etcd/ca.crt",
        kind: Kind::Cert,
        mode: 0o644,
        loss: "a new etcd CA locks the API servers out of etcd until every etcd certificate is re-issued",
    },
    SharedFile {
        name: "etcd/ca.key",
        backup: "etcd/ca.key",
        kind: Kind::PrivateKey,
        mode: 0o600,
        loss: "a new etcd CA locks the API servers out of etcd until every etcd certificate is re-issued",
    },
];

/// The shared file named `name` (kubeadm path).
pub(crate) fn shared(name: &str) -> &'static SharedFile {
    SHARED
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("`{name}` is one of the shared files"))
}

/// The key pairs that must match: (certificate or public key, private key).
pub(crate) const PAIRS: [(&str, &str); 4] = [
    ("ca.crt", "ca.key"),
    ("front-proxy-ca.crt", "front-proxy-ca.key"),
    ("etcd/ca.crt", "etcd/ca.key"),
    ("sa.pub", "sa.key"),
];

/// The CA certificates.
pub(crate) const CAS: [&str; 3] = ["ca.crt", "front-proxy-ca.crt", "etcd/ca.crt"];

/// A leaf certificate kubeadm keeps next to the CAs.
#[derive(Debug)]
pub(crate) struct Leaf {
    /// Its path under `/etc/kubernetes/pki`.
    pub cert: &'static str,
    /// Its key, next to it.
    pub key: &'static str,
    /// The CA that must have signed it.
    pub ca: &'static str,
    /// Its name for `kubeadm certs renew` and `kubeadm init phase certs`.
    pub kubeadm: &'static str,
}

pub(crate) const LEAFS: [Leaf; 7] = [
    Leaf {
        cert: "apiserver.crt",
        key: "apiserver.key",
        ca: "ca.crt",
        kubeadm: "apiserver",
    },
    Leaf {
        cert: "apiserver-kubelet-client.crt",
        key: "apiserver-kubelet-client.key",
        ca: "ca.crt",
        kubeadm: "apiserver-kubelet-client",
    },
    Leaf {
        cert: "front-proxy-client.crt",
        key: "front-proxy-client.key",
        ca: "front-proxy-ca.crt",
        kubeadm: "front-proxy-client",
    },
    Leaf {
        cert: "apiserver-etcd-client.crt",
        key: "apiserver-etcd-client.key",
        ca: "etcd/ca.crt",
        kubeadm: "apiserver-etcd-client",
    },
    Leaf {
        cert: "etcd/server.crt",
        key: "etcd/server.key",
        ca: "etcd/ca.crt",
        kubeadm: "etcd-server",
    },
    Leaf {
        cert: "etcd/peer.crt",
        key: "etcd/peer.key",
        ca: "etcd/ca.crt",
        kubeadm: "etcd-peer",
    },
    Leaf {
        cert: "etcd/healthcheck-client.crt",
        key: "etcd/healthcheck-client.key",
        ca: "etcd/ca.crt",
        kubeadm: "etcd-healthcheck-client",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_name_eight_distinct_files() {
        for layout in [Layout::Kubeadm, Layout::KubeoneBackup] {
            let mut paths: Vec<_> = SHARED.iter().map(|f| layout.path_of(f)).collect();
            paths.sort();
            paths.dedup();
            assert_eq!(paths.len(), 8, "{layout:?}");
        }
        assert_eq!(
            Layout::KubeoneBackup.path_of(shared("sa.pub")),
            "kubernetes/sa.pub"
        );
        assert_eq!(
            Layout::KubeoneBackup.path_of(shared("etcd/ca.key")),
            "etcd/ca.key"
        );
    }

    #[test]
    fn layout_values_are_checked() {
        assert_eq!(Layout::parse("layout", None).unwrap(), Layout::Kubeadm);
        assert_eq!(
            Layout::parse("layout", Some("kubeone-backup")).unwrap(),
            Layout::KubeoneBackup
        );
        let err = Layout::parse("from_layout", Some("kubeone"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("parameter `from_layout` must be `kubeadm` (files as in /etc/kubernetes/pki) or `kubeone-backup`"),
            "{err}"
        );
        assert!(err.ends_with("but is `kubeone`"), "{err}");
    }
}
