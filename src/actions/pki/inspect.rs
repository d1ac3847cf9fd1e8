//! The checks behind `pki.verify` and the source check of `pki.restore`: one pass over a
//! PKI directory that collects every finding (file, problem, fix) and every warning,
//! and keeps the bytes it read, so that a restore installs exactly the bytes that were
//! checked. It only reads.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use x509_parser::certificate::X509Certificate;

use super::content::{self, Content};
use super::error::PkiError;
use super::finding::Finding;
use super::layout::{CAS, Kind, LEAFS, Layout, PAIRS, SHARED, SharedFile, shared};

/// Which checks run, and against which time.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// A certificate expiring sooner than this is a warning.
    pub warn_within: Duration,
    pub now: DateTime<Utc>,
    /// Check leaf certificates present next to the CAs (kubeadm layout only).
    pub leafs: bool,
    /// Check that key files are not open to group or others.
    pub modes: bool,
}

/// What one pass over a PKI directory found.
#[derive(Debug)]
pub(crate) struct Inspection {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
    /// The bytes of each shared file as read, by kubeadm name (absent when unreadable).
    pub bytes: HashMap<&'static str, Vec<u8>>,
    /// `sha256:<hex>` of each shared file that parsed, by kubeadm name.
    pub fingerprints: BTreeMap<&'static str, String>,
    /// Why a shared file could not be fingerprinted, by kubeadm name.
    pub unreadable: HashMap<&'static str, String>,
    /// The earliest notAfter of the three CAs that parsed.
    pub not_after: Option<DateTime<Utc>>,
    /// Where the findings and warnings about leaf certificates start: they come last.
    pub leafs_from: (usize, usize),
}

/// Checks the PKI in `dir`, laid out as `layout` (named by parameter `layout_param`;
/// `dir_param` names the directory's parameter). Refuses a directory that is missing,
/// or that holds the other layout; every other problem is a finding.
pub(crate) fn inspect(
    dir: &Path,
    layout: Layout,
    dir_param: &'static str,
    layout_param: &'static str,
    opts: &Options,
) -> Result<Inspection, PkiError> {
    check_dir(dir, dir_param)?;
    check_layout(dir, layout, layout_param)?;
    let mut run = Run {
        dir,
        layout,
        opts,
        out: Inspection {
            findings: Vec::new(),
            warnings: Vec::new(),
            bytes: HashMap::new(),
            fingerprints: BTreeMap::new(),
            unreadable: HashMap::new(),
            not_after: None,
            leafs_from: (0, 0),
        },
        contents: HashMap::new(),
    };
    run.linked_dirs();
    for file in &SHARED {
        run.shared_file(file);
    }
    for (public, private) in PAIRS {
        run.pair(public, private);
    }
    for ca in CAS {
        run.ca(ca);
    }
    run.out.leafs_from = (run.out.findings.len(), run.out.warnings.len());
    if opts.leafs && layout == Layout::Kubeadm {
        for leaf in &LEAFS {
            run.leaf(leaf);
        }
    }
    for (name, content) in &run.contents {
        run.out.fingerprints.insert(name, content.fingerprint());
    }
    Ok(run.out)
}

/// A directory parameter that names no directory.
pub(crate) fn check_dir(dir: &Path, param: &'static str) -> Result<(), PkiError> {
    let problem = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => "is not a directory".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "does not exist; check the path (a relative path is taken from the run's work directory)".to_string()
        }
        Err(e) => format!("cannot be read: {e}"),
    };
    Err(PkiError::Dir {
        param,
        path: dir.to_path_buf(),
        problem,
    })
}

/// No silent guessing: files missing in `layout` but all there in the other one mean the
/// parameter is wrong, and the error says which value to use.
fn check_layout(dir: &Path, layout: Layout, param: &'static str) -> Result<(), PkiError> {
    let present = |path: &str| std::fs::symlink_metadata(dir.join(path)).is_ok();
    let missing: Vec<&SharedFile> = SHARED
        .iter()
        .filter(|f| !present(layout.path_of(f)))
        .collect();
    let other = layout.other();
    if missing.is_empty() || !missing.iter().all(|f| present(other.path_of(f))) {
        return Ok(());
    }
    let names: Vec<String> = missing
        .iter()
        .map(|f| format!("`{}`", layout.path_of(f)))
        .collect();
    Err(PkiError::WrongLayout {
        param,
        path: dir.to_path_buf(),
        given: layout.name(),
        found: other.name(),
        missing: format!(
            "{} {}",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" }
        ),
    })
}

/// One inspection in progress.
struct Run<'a> {
    dir: &'a Path,
    layout: Layout,
    opts: &'a Options,
    out: Inspection,
    /// The shared files that parsed, by kubeadm name.
    contents: HashMap<&'static str, Content>,
}

impl Run<'_> {
    fn rel(&self, name: &str) -> &'static str {
        self.layout.path_of(shared(name))
    }

    fn find(
        &mut self,
        file: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.out.findings.push(Finding::new(file, problem, fix));
    }

    /// How to get a good copy of a shared file, which depends on what `dir` is.
    fn refetch(&self, file: &SharedFile) -> String {
        match self.layout {
            Layout::Kubeadm => format!(
                "restore it from the backup with `pki.restore` rather than generating a new one ({})",
                file.loss
            ),
            Layout::KubeoneBackup => "this backup is incomplete or damaged: restore another snapshot (`restic snapshots`; `restic restore <id> --include /backup/pki --target .`)".to_string(),
        }
    }

    /// `etcd/` or `kubernetes/` as a symbolic link: the files under it are not here.
    fn linked_dirs(&mut self) {
        let mut seen = Vec::new();
        for file in &SHARED {
            let Some((parent, _)) = self.layout.path_of(file).split_once('/') else {
                continue;
            };
            if seen.contains(&parent) {
                continue;
            }
            seen.push(parent);
            let path = self.dir.join(parent);
            if let Some(target) = link_target(&path) {
                self.find(
                    format!("{parent}/"),
                    format!("is a symbolic link to `{target}`; the files under it are not part of this directory"),
                    format!("replace the link with a real directory holding the files: `cp -a --remove-destination \"$(readlink -f {p})\" {p}.real && mv -T {p}.real {p}`", p = path.display()),
                );
            }
        }
    }

    fn shared_file(&mut self, file: &'static SharedFile) {
        let rel = self.layout.path_of(file);
        let path = self.dir.join(rel);
        let refetch = self.refetch(file);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.find(rel, "is missing", refetch.clone());
                self.out.unreadable.insert(file.name, "is missing".into());
                return;
            }
            Err(e) => {
                self.find(rel, format!("cannot be read ({e})"), "check the permissions of the directory; run drbook as the user that owns the PKI (root)");
                self.out
                    .unreadable
                    .insert(file.name, format!("cannot be read ({e})"));
                return;
            }
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = link_target(&path).unwrap_or_default();
                self.find(
                    rel,
                    format!("is a symbolic link to `{target}`; a PKI must be real files (a link can change or dangle)"),
                    format!("replace it with the file it points to: `cp --remove-destination \"$(readlink -f {p})\" {p}`", p = path.display()),
                );
            }
            Ok(_) => {}
        }
        let problem = match std::fs::metadata(&path) {
            Err(e) => Some(format!("cannot be read ({e})")),
            Ok(meta) if meta.is_dir() => Some("is a directory, not a file".to_string()),
            Ok(meta) if !meta.is_file() => Some("is not a regular file".to_string()),
            Ok(meta) => {
                if self.opts.modes && file.kind == Kind::PrivateKey {
                    self.check_mode(rel, &path, meta.permissions().mode());
                }
                None
            }
        };
        if let Some(problem) = problem {
            self.find(rel, problem.clone(), refetch);
            self.out.unreadable.insert(file.name, problem);
            return;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let problem = format!("cannot be read ({e})");
                self.find(
                    rel,
                    problem.clone(),
                    "check its permissions; run drbook as the user that owns the PKI (root)",
                );
                self.out.unreadable.insert(file.name, problem);
                return;
            }
        };
        let parsed = if bytes.is_empty() {
            Err("is empty (0 bytes): a copy or restore did not finish".to_string())
        } else {
            content::read(file.kind, &bytes)
        };
        self.out.bytes.insert(file.name, bytes);
        match parsed {
            Ok(content) => {
                self.contents.insert(file.name, content);
            }
            Err(problem) => {
                self.find(rel, problem.clone(), refetch);
                self.out.unreadable.insert(file.name, problem);
            }
        }
    }

    /// The DER of a shared certificate that parsed.
    fn cert_der(&self, name: &str) -> Option<Vec<u8>> {
        match self.contents.get(name) {
            Some(Content::Cert { der }) => Some(der.clone()),
            _ => None,
        }
    }

    fn check_mode(&mut self, rel: &str, path: &Path, mode: u32) {
        if mode & 0o077 != 0 {
            self.find(
                rel,
                format!(
                    "can be read or written by group or others (mode {:04o}); a private key must be readable by its owner only",
                    mode & 0o7777
                ),
                format!("chmod 600 {}", path.display()),
            );
        }
    }

    fn pair(&mut self, public: &'static str, private: &'static str) {
        let (held, derived) = match (self.contents.get(public), self.contents.get(private)) {
            (Some(held), Some(Content::PrivateKey(key))) => (held.public_key(), key.public.clone()),
            _ => return,
        };
        let (public_rel, private_rel) = (self.rel(public), self.rel(private));
        match held {
            Err(problem) => {
                let fix = self.refetch(shared(public));
                self.find(public_rel, problem, fix);
            }
            Ok(held) if held == derived => {}
            Ok(held) if public == "sa.pub" => self.find(
                public_rel,
                format!(
                    "is not the public key of {private_rel}: it holds a {} key, and the key derived from {private_rel} ({}) is a different one",
                    held.describe(),
                    derived.describe()
                ),
                format!(
                    "restore {public_rel} and {private_rel} together from the same backup with `pki.restore` ({})",
                    shared(public).loss
                ),
            ),
            Ok(held) => self.find(
                private_rel,
                format!(
                    "does not belong to {public_rel}: the public key derived from it ({}) is not the one in the certificate ({})",
                    derived.describe(),
                    held.describe()
                ),
                format!(
                    "a CA's certificate and key must come from the same backup: restore {public_rel} and {private_rel} together with `pki.restore`"
                ),
            ),
        }
    }

    fn ca(&mut self, name: &'static str) {
        let Some(der) = self.cert_der(name) else {
            return;
        };
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
            return;
        };
        let rel = self.rel(name);
        let fix = format!(
            "this is not a CA (perhaps a leaf certificate was copied over it): restore {rel} and its key from the backup with `pki.restore`"
        );
        let mut findings = Vec::new();
        match cert.basic_constraints() {
            Ok(Some(bc)) if bc.value.ca => {}
            Ok(_) => findings
                .push("is not a CA certificate: basicConstraints CA:TRUE is missing".to_string()),
            Err(e) => findings.push(format!(
                "has a basicConstraints extension that does not parse ({e})"
            )),
        }
        match cert.key_usage() {
            Ok(Some(ku)) if ku.value.key_cert_sign() => {}
            Ok(Some(_)) => findings
                .push("may not sign certificates: its keyUsage lacks keyCertSign".to_string()),
            Ok(None) => findings.push(
                "may not sign certificates: it has no keyUsage extension with keyCertSign"
                    .to_string(),
            ),
            Err(e) => findings.push(format!(
                "has a keyUsage extension that does not parse ({e})"
            )),
        }
        for problem in findings {
            self.find(rel, problem, fix.clone());
        }
        let not_after = timestamp(cert.validity().not_after.timestamp());
        self.out.not_after = Some(self.out.not_after.map_or(not_after, |t| t.min(not_after)));
        let renew = "restore a backup whose CA is still valid, or re-sign the CA certificate with its existing key (the certificates it signed stay valid); a new CA means re-issuing every certificate it signed".to_string();
        self.validity(rel, &cert, &renew);
    }

    /// Not yet valid or expired: a finding; expiring within `warn_within`: a warning.
    fn validity(&mut self, rel: &str, cert: &X509Certificate<'_>, renew: &str) {
        let now = self.opts.now;
        let not_before = timestamp(cert.validity().not_before.timestamp());
        let not_after = timestamp(cert.validity().not_after.timestamp());
        if not_before > now {
            self.find(
                rel,
                format!("is not valid yet: valid from {} (in {})", rfc3339(not_before), span(not_before - now)),
                "check the clock of this machine (`date -u`; is NTP in sync?) and of the machine that issued it",
            );
        }
        if not_after <= now {
            self.find(
                rel,
                format!(
                    "expired on {} ({} ago)",
                    rfc3339(not_after),
                    span(now - not_after)
                ),
                renew,
            );
        } else if (not_after - now).to_std().unwrap_or_default() <= self.opts.warn_within {
            self.out.warnings.push(format!(
                "{rel} expires on {}, in {} (sooner than warn_within, {}); plan its renewal: {renew}",
                rfc3339(not_after),
                span(not_after - now),
                chrono::TimeDelta::from_std(self.opts.warn_within).map_or_else(|_| "a long time".to_string(), span)
            ));
        }
    }

    fn leaf(&mut self, leaf: &'static super::layout::Leaf) {
        let path = self.dir.join(leaf.cert);
        if std::fs::symlink_metadata(&path).is_err() {
            return;
        }
        let renew = format!(
            "renew it, which re-signs it with the CA on disk: `kubeadm certs renew {}`",
            leaf.kubeadm
        );
        if self.opts.modes {
            let key = self.dir.join(leaf.key);
            if let Ok(meta) = std::fs::metadata(&key) {
                self.check_mode(leaf.key, &key, meta.permissions().mode());
            }
        }
        let content = std::fs::read(&path)
            .map_err(|e| format!("cannot be read ({e})"))
            .and_then(|bytes| content::read(Kind::Cert, &bytes));
        let content = match content {
            Ok(content) => content,
            Err(problem) => {
                self.find(leaf.cert, problem, renew);
                return;
            }
        };
        let Some(cert) = content.cert() else { return };
        let ca_der = self.cert_der(leaf.ca);
        if let Some(Ok((_, ca))) = ca_der.as_deref().map(x509_parser::parse_x509_certificate) {
            let problem = if cert.issuer().as_raw() != ca.subject().as_raw() {
                Some(format!(
                    "was not issued by {}: its issuer is `{}`, but {} is `{}`",
                    leaf.ca,
                    cert.issuer(),
                    leaf.ca,
                    ca.subject()
                ))
            } else if cert.verify_signature(Some(ca.public_key())).is_err() {
                Some(format!(
                    "names {} as its issuer, but its signature does not verify with {}'s key (it was signed by another CA of the same name)",
                    leaf.ca, leaf.ca
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                self.find(leaf.cert, problem, renew.clone());
            }
        }
        self.validity(leaf.cert, &cert, &renew);
    }
}

/// Where `path` points, when it is a symbolic link.
fn link_target(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_symlink() {
        return None;
    }
    Some(
        std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".to_string()),
    )
}

fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// "12 days", "5 hours", "3 minutes".
fn span(d: chrono::TimeDelta) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.num_days() >= 2 {
        plural(d.num_days(), "day")
    } else if d.num_hours() >= 2 {
        plural(d.num_hours(), "hour")
    } else {
        plural(d.num_minutes().max(0), "minute")
    }
}
