//! A PKI factory for the PKI action tests: a complete kubeadm-like PKI in a directory
//! (the eight shared files and the leaf certificates kubeadm keeps next to them), or
//! the eight files as KubeOne's restic backup holds them, with real keys and
//! certificates, and ways to re-issue any certificate with other validity, flags or
//! issuer to break it on purpose.
//!
//! Key forms are those kubeadm writes, spread so each is read somewhere: `ca.key` and
//! `sa.key` are RSA 2048 in PKCS#1 (`RSA PRIVATE KEY`), `front-proxy-ca.key` RSA in
//! PKCS#8 (`PRIVATE KEY`), `etcd/ca.key` ECDSA P-256 in SEC1 (`EC PRIVATE KEY`).
//! RSA and CA keys are made once per test process by the `openssl` command line (rcgen
//! cannot make RSA keys with ring) and shared: a fresh PKI differs from another in its
//! certificates, and a test that needs a different key takes another one from the pool.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use super::etcd::require;

/// Where the shared files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Kubeadm,
    KubeoneBackup,
}

impl Layout {
    /// Where shared file `name` (its kubeadm path) is in this layout.
    pub fn path_of(self, name: &str) -> String {
        match self {
            Layout::Kubeadm => name.to_string(),
            Layout::KubeoneBackup if name.starts_with("etcd/") => name.to_string(),
            Layout::KubeoneBackup => format!("kubernetes/{name}"),
        }
    }
}

/// The eight shared files, by their kubeadm paths.
pub const SHARED: [&str; 8] = [
    "ca.crt",
    "ca.key",
    "sa.key",
    "sa.pub",
    "front-proxy-ca.crt",
    "front-proxy-ca.key",
    "etcd/ca.crt",
    "etcd/ca.key",
];

/// The leaf certificates and their CAs (kubeadm layout only).
pub const LEAFS: [(&str, &str); 7] = [
    ("apiserver.crt", "ca"),
    ("apiserver-kubelet-client.crt", "ca"),
    ("front-proxy-client.crt", "front-proxy-ca"),
    ("apiserver-etcd-client.crt", "etcd/ca"),
    ("etcd/server.crt", "etcd/ca"),
    ("etcd/peer.crt", "etcd/ca"),
    ("etcd/healthcheck-client.crt", "etcd/ca"),
];

/// One private key in the forms the tests need.
#[derive(Debug)]
pub struct Key {
    /// PKCS#8 PEM, which rcgen (with ring) signs with.
    pub pkcs8: String,
    /// The "traditional" PEM: PKCS#1 for RSA, SEC1 for EC.
    pub traditional: String,
}

impl Key {
    pub fn pair(&self) -> KeyPair {
        KeyPair::from_pem(&self.pkcs8).expect("rcgen reads the openssl key")
    }

    /// The `PUBLIC KEY` PEM (SubjectPublicKeyInfo).
    pub fn public_pem(&self) -> String {
        self.pair().public_key_pem()
    }
}

/// RSA 2048 keys, made once per test process.
pub fn rsa_keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (0..6)
            .map(|_| openssl_key(&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]))
            .collect()
    })
}

/// ECDSA P-256 keys, made once per test process.
pub fn ec_keys() -> &'static [Key] {
    static KEYS: OnceLock<Vec<Key>> = OnceLock::new();
    KEYS.get_or_init(|| {
        (0..2)
            .map(|_| openssl_key(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]))
            .collect()
    })
}

fn openssl_key(genpkey: &[&str]) -> Key {
    let openssl = require("openssl");
    let run = |args: &[&str], input: Option<&str>| -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new(&openssl)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("openssl runs");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.unwrap_or("").as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let pkcs8 = run(&[&["genpkey"][..], genpkey].concat(), None);
    let traditional = run(&["pkey", "-traditional"], Some(&pkcs8));
    Key { pkcs8, traditional }
}

/// A certificate authority of a test PKI: its key, and the parameters its certificate
/// was made from (so it can be re-issued with the same key).
pub struct Ca {
    pub key: &'static Key,
    pub params: CertificateParams,
}

impl Ca {
    pub fn issuer(&self) -> Issuer<'_, KeyPair> {
        Issuer::from_params(&self.params, self.key.pair())
    }
}

/// A PKI written into `dir`.
pub struct Pki {
    pub dir: PathBuf,
    pub layout: Layout,
    /// By name: `ca`, `front-proxy-ca`, `etcd/ca`.
    pub cas: BTreeMap<&'static str, Ca>,
}

/// Parameters of a CA certificate as kubeadm makes them: 10 years, CA:TRUE, keyCertSign.
pub fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    params
}

/// Parameters of a leaf certificate: a year, server and client auth.
pub fn leaf_params(common_name: &str) -> CertificateParams {
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
    params
}

impl Pki {
    /// A complete kubeadm PKI in `dir`: the eight shared files and every leaf.
    pub fn kubeadm(dir: &Path) -> Pki {
        Pki::kubeadm_with(dir, 0)
    }

    /// A complete kubeadm PKI of another cluster: every key differs from `kubeadm`'s.
    pub fn kubeadm_other(dir: &Path) -> Pki {
        Pki::kubeadm_with(dir, 1)
    }

    fn kubeadm_with(dir: &Path, set: usize) -> Pki {
        let pki = Pki::shared_only(dir, Layout::Kubeadm, set);
        for (leaf, ca) in LEAFS {
            pki.issue_leaf(leaf, ca, |_| {});
        }
        pki
    }

    /// The eight shared files in KubeOne's backup layout.
    pub fn kubeone_backup(dir: &Path) -> Pki {
        Pki::shared_only(dir, Layout::KubeoneBackup, 0)
    }

    /// The shared files with key set `set` (0 or 1): RSA keys 0–2 or 3–5, EC key 0 or 1.
    fn shared_only(dir: &Path, layout: Layout, set: usize) -> Pki {
        let rsa = &rsa_keys()[set * 3..set * 3 + 3];
        let ec = &ec_keys()[set];
        let mut cas = BTreeMap::new();
        cas.insert(
            "ca",
            Ca {
                key: &rsa[0],
                params: ca_params("kubernetes-ca"),
            },
        );
        cas.insert(
            "front-proxy-ca",
            Ca {
                key: &rsa[1],
                params: ca_params("kubernetes-front-proxy-ca"),
            },
        );
        let mut etcd = ca_params("etcd-ca");
        // The etcd CA ends first, so `not_after` has one right answer.
        etcd.not_after = OffsetDateTime::now_utc() + Duration::days(3000);
        cas.insert(
            "etcd/ca",
            Ca {
                key: ec,
                params: etcd,
            },
        );
        let pki = Pki {
            dir: dir.to_path_buf(),
            layout,
            cas,
        };
        for name in ["ca", "front-proxy-ca", "etcd/ca"] {
            pki.write_ca(name);
        }
        pki.write("ca.key", &rsa[0].traditional, 0o600);
        pki.write("front-proxy-ca.key", &rsa[1].pkcs8, 0o600);
        pki.write("etcd/ca.key", &ec.traditional, 0o600);
        pki.write("sa.key", &rsa[2].traditional, 0o600);
        pki.write("sa.pub", &rsa[2].public_pem(), 0o644);
        pki
    }

    /// Where shared file `name` (kubeadm path) is.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(self.layout.path_of(name))
    }

    /// Writes `text` to shared file `name` with `mode`.
    pub fn write(&self, name: &str, text: &str, mode: u32) {
        write_file(&self.path(name), text, mode);
    }

    /// (Re)writes the certificate of CA `name` from its parameters.
    fn write_ca(&self, name: &str) {
        let ca = &self.cas[name];
        let cert = ca.params.self_signed(&ca.key.pair()).unwrap();
        self.write(&format!("{name}.crt"), &cert.pem(), 0o644);
    }

    /// Re-issues CA `name` with the same key and `change`d parameters; leafs it signed
    /// still verify against it.
    pub fn reissue_ca(&mut self, name: &str, change: impl FnOnce(&mut CertificateParams)) {
        let ca = self.cas.get_mut(name).unwrap();
        change(&mut ca.params);
        self.write_ca(name);
    }

    /// Issues leaf certificate `leaf` (kubeadm path) and its key, signed by CA `ca`, with
    /// `change`d parameters.
    pub fn issue_leaf(&self, leaf: &str, ca: &str, change: impl FnOnce(&mut CertificateParams)) {
        let issuer = self.cas[ca].issuer();
        self.issue_leaf_by(leaf, &issuer, change);
    }

    /// Issues leaf `leaf` signed by any issuer.
    pub fn issue_leaf_by(
        &self,
        leaf: &str,
        issuer: &Issuer<'_, KeyPair>,
        change: impl FnOnce(&mut CertificateParams),
    ) {
        let stem = leaf.trim_end_matches(".crt");
        let mut params = leaf_params(stem);
        change(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, issuer).unwrap();
        write_file(&self.dir.join(leaf), &cert.pem(), 0o644);
        write_file(
            &self.dir.join(format!("{stem}.key")),
            &key.serialize_pem(),
            0o600,
        );
    }

    /// Copies the eight shared files into `dir` in `layout` (modes kept), as a backup of
    /// this PKI would hold them.
    pub fn copy_shared(&self, dir: &Path, layout: Layout) -> Pki {
        for name in SHARED {
            let to = dir.join(layout.path_of(name));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(self.path(name), &to).unwrap();
        }
        Pki {
            dir: dir.to_path_buf(),
            layout,
            cas: self
                .cas
                .iter()
                .map(|(n, ca)| {
                    (
                        *n,
                        Ca {
                            key: ca.key,
                            params: ca.params.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The base64 lines of every private key file of this PKI: none may ever appear in
    /// what drbook reports.
    pub fn key_bodies(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for name in ["ca.key", "sa.key", "front-proxy-ca.key", "etcd/ca.key"] {
            let text = std::fs::read_to_string(self.path(name)).unwrap();
            lines.extend(
                text.lines()
                    .filter(|l| !l.starts_with("-----") && l.len() >= 16)
                    .map(str::to_string),
            );
        }
        assert!(lines.len() > 20, "the keys have bodies");
        lines
    }
}

/// Writes `text` to `path` (creating its directory) with `mode`.
pub fn write_file(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
