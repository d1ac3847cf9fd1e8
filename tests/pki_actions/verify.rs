//! `pki.verify`: a good PKI passes in both layouts and reports its fingerprints; each
//! way of breaking one, one at a time on a fresh PKI, gives its own finding naming the
//! file, the problem and the fix; a PKI that is not its reference fails, a CA that
//! expires soon only warns, and every finding is reported, not only the first.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use drbook::actions::ActionEvent;
use serde_json::{Value, json};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

use super::{execute, ok, refused, sha256};
use crate::support::pki::{Layout, Pki, SHARED, ca_params, ec_keys, rsa_keys};

/// A fresh kubeadm PKI in `<tmp>/pki`.
fn fresh() -> (TempDir, Pki) {
    let tmp = TempDir::new().unwrap();
    let pki = Pki::kubeadm(&tmp.path().join("pki"));
    (tmp, pki)
}

/// Breaks a fresh kubeadm PKI with `breakage`, runs `pki.verify` on it and returns the
/// message, which must list exactly one finding.
fn one_finding(breakage: impl FnOnce(&mut Pki, &Path)) -> String {
    let (tmp, mut pki) = fresh();
    breakage(&mut pki, tmp.path());
    let err = refused("pki.verify", json!({"dir": "pki"}), tmp.path());
    let dir = tmp.path().join("pki");
    assert!(
        err.starts_with(&format!(
            "the PKI in `{}` does not pass verification (1 problem):\n  - ",
            dir.display()
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
    err.lines()
        .nth(1)
        .unwrap()
        .trim_start_matches("  - ")
        .to_string()
}

/// The DER of the first PEM block of `path`.
fn der(path: &Path) -> Vec<u8> {
    let text = std::fs::read(path).unwrap();
    x509_parser::pem::parse_x509_pem(&text).unwrap().1.contents
}

fn later(days: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(days)
}

// ----- pki.verify: good PKIs ------------------------------------------------------------

#[test]
fn pki_verify_passes_a_good_kubeadm_pki_and_reports_its_fingerprints() {
    let (tmp, pki) = fresh();
    let (result, events) = execute("pki.verify", json!({"dir": "pki"}), tmp.path());
    let out = Value::Object(result.unwrap());
    assert_eq!(out["ok"], json!(true));
    assert_eq!(out["warnings"], json!([]));
    assert!(events.is_empty(), "{events:?}");
    let fingerprints = out["fingerprints"].as_object().unwrap();
    assert_eq!(
        fingerprints.keys().cloned().collect::<Vec<_>>().len(),
        8,
        "{fingerprints:?}"
    );
    for name in SHARED {
        assert!(
            fingerprints[name].as_str().unwrap().starts_with("sha256:"),
            "{name}"
        );
    }
    let ca_der = sha256(&der(&pki.path("ca.crt")));
    assert_eq!(fingerprints["ca.crt"], json!(format!("sha256:{ca_der}")));
    assert_eq!(out["ca_fingerprint"], fingerprints["ca.crt"]);
    assert_eq!(
        fingerprints["sa.pub"],
        json!(format!("sha256:{}", sha256(&der(&pki.path("sa.pub")))))
    );
    // The etcd CA is the one that ends first.
    let etcd_end = pki.cas["etcd/ca"].params.not_after.unix_timestamp();
    let reported =
        chrono::DateTime::parse_from_rfc3339(out["not_after"].as_str().unwrap()).unwrap();
    assert_eq!(reported.timestamp(), etcd_end);
}

#[test]
fn pki_verify_passes_a_kubeone_backup_equal_to_its_source_whatever_the_pem_form() {
    let (tmp, pki) = fresh();
    let backup = pki.copy_shared(&tmp.path().join("backup/pki"), Layout::KubeoneBackup);
    // The same key in another PEM form is the same key: PKCS#8 instead of PKCS#1.
    backup.write("ca.key", &rsa_keys()[0].pkcs8, 0o600);
    let out = ok(
        "pki.verify",
        json!({"dir": "pki", "reference": "backup/pki", "reference_layout": "kubeone-backup"}),
        tmp.path(),
    );
    let theirs = ok(
        "pki.verify",
        json!({"dir": "backup/pki", "layout": "kubeone-backup"}),
        tmp.path(),
    );
    assert_eq!(out["fingerprints"], theirs["fingerprints"]);
    assert_eq!(out["ok"], json!(true));
}

#[test]
fn pki_verify_names_the_layout_to_use_instead_of_guessing() {
    let tmp = TempDir::new().unwrap();
    Pki::kubeone_backup(&tmp.path().join("backup"));
    let err = refused("pki.verify", json!({"dir": "backup"}), tmp.path());
    assert!(
        err.ends_with(
            "but it holds one in the kubeone-backup layout; set `layout: kubeone-backup`"
        ),
        "{err}"
    );
    assert!(err.contains("(`ca.crt`, `ca.key`, `sa.key`, `sa.pub`, `front-proxy-ca.crt`, `front-proxy-ca.key` are missing)"), "{err}");
    let err = refused("pki.verify", json!({"dir": "nowhere"}), tmp.path());
    assert!(err.contains("(parameter `dir`) does not exist"), "{err}");
}

// ----- pki.verify: one breakage at a time --------------------------------------------

#[test]
fn pki_verify_finds_a_ca_key_that_does_not_belong_to_its_certificate() {
    let finding = one_finding(|pki, _| {
        std::fs::copy(pki.path("front-proxy-ca.key"), pki.path("ca.key")).unwrap();
    });
    assert_eq!(
        finding,
        "ca.key: does not belong to ca.crt: the public key derived from it (RSA 2048) is not the one in the certificate (RSA 2048); fix: a CA's certificate and key must come from the same backup: restore ca.crt and ca.key together with `pki.restore`"
    );
}

#[test]
fn pki_verify_fails_an_expired_ca() {
    let finding = one_finding(|pki, _| {
        pki.reissue_ca("ca", |p| {
            p.not_before = later(-400);
            p.not_after = later(-3);
        })
    });
    assert!(finding.starts_with("ca.crt: expired on "), "{finding}");
    assert!(finding.contains(" (3 days ago); fix: restore a backup whose CA is still valid, or re-sign the CA certificate with its existing key"), "{finding}");
}

#[test]
fn pki_verify_fails_a_ca_that_is_not_valid_yet() {
    let finding = one_finding(|pki, _| pki.reissue_ca("etcd/ca", |p| p.not_before = later(5)));
    assert!(
        finding.starts_with("etcd/ca.crt: is not valid yet: valid from "),
        "{finding}"
    );
    assert!(
        finding.contains("(in 4 days); fix: check the clock of this machine (`date -u`"),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_a_ca_without_ca_true() {
    let finding =
        one_finding(|pki, _| pki.reissue_ca("front-proxy-ca", |p| p.is_ca = rcgen::IsCa::NoCa));
    assert_eq!(
        finding,
        "front-proxy-ca.crt: is not a CA certificate: basicConstraints CA:TRUE is missing; fix: this is not a CA (perhaps a leaf certificate was copied over it): restore front-proxy-ca.crt and its key from the backup with `pki.restore`"
    );
}

#[test]
fn pki_verify_fails_a_ca_that_may_not_sign_certificates() {
    let finding = one_finding(|pki, _| {
        pki.reissue_ca("ca", |p| {
            p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature]
        })
    });
    assert!(
        finding.starts_with("ca.crt: may not sign certificates: its keyUsage lacks keyCertSign; fix: this is not a CA"),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_a_leaf_signed_by_another_ca() {
    let finding = one_finding(|pki, _| pki.issue_leaf("etcd/server.crt", "front-proxy-ca", |_| {}));
    assert_eq!(
        finding,
        "etcd/server.crt: was not issued by etcd/ca.crt: its issuer is `CN=kubernetes-front-proxy-ca`, but etcd/ca.crt is `CN=etcd-ca`; fix: renew it, which re-signs it with the CA on disk: `kubeadm certs renew etcd-server`"
    );
}

#[test]
fn pki_verify_fails_a_leaf_signed_by_an_impostor_ca_of_the_same_name() {
    let finding = one_finding(|pki, _| {
        let impostor = rcgen::Issuer::new(ca_params("etcd-ca"), ec_keys()[1].pair());
        pki.issue_leaf_by("etcd/peer.crt", &impostor, |_| {});
    });
    assert!(
        finding.starts_with("etcd/peer.crt: names etcd/ca.crt as its issuer, but its signature does not verify with etcd/ca.crt's key"),
        "{finding}"
    );
    assert!(
        finding.ends_with(
            "fix: renew it, which re-signs it with the CA on disk: `kubeadm certs renew etcd-peer`"
        ),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_an_expired_leaf() {
    let finding = one_finding(|pki, _| {
        pki.issue_leaf("apiserver.crt", "ca", |p| {
            p.not_before = later(-400);
            p.not_after = later(-35);
        })
    });
    assert!(
        finding.starts_with("apiserver.crt: expired on "),
        "{finding}"
    );
    assert!(finding.ends_with("(35 days ago); fix: renew it, which re-signs it with the CA on disk: `kubeadm certs renew apiserver`"), "{finding}");
}

#[test]
fn pki_verify_fails_a_missing_file() {
    let finding = one_finding(|pki, _| std::fs::remove_file(pki.path("sa.pub")).unwrap());
    assert_eq!(
        finding,
        "sa.pub: is missing; fix: restore it from the backup with `pki.restore` rather than generating a new one (a new service-account key invalidates every ServiceAccount token)"
    );
}

#[test]
fn pki_verify_fails_an_empty_file() {
    let finding = one_finding(|pki, _| pki.write("front-proxy-ca.crt", "", 0o644));
    assert!(
        finding.starts_with("front-proxy-ca.crt: is empty (0 bytes): a copy or restore did not finish; fix: restore it from the backup with `pki.restore`"),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_a_file_that_is_not_pem() {
    let finding = one_finding(|pki, _| pki.write("etcd/ca.key", "not a key\n\u{1}\u{2}", 0o600));
    assert!(
        finding.starts_with("etcd/ca.key: is not PEM: it holds no `-----BEGIN …-----` block; fix: restore it from the backup"),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_a_certificate_where_a_key_belongs() {
    let finding = one_finding(|pki, _| {
        std::fs::copy(pki.path("sa.pub"), pki.path("sa.key")).unwrap();
        std::fs::set_permissions(pki.path("sa.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    });
    assert!(
        finding.starts_with("sa.key: holds a `PUBLIC KEY` block where a private key (`RSA PRIVATE KEY`, `EC PRIVATE KEY` or `PRIVATE KEY`) belongs; fix:"),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_a_key_readable_by_others() {
    let mut key_path = PathBuf::new();
    let finding = one_finding(|pki, _| {
        key_path = pki.path("ca.key");
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    });
    assert_eq!(
        finding,
        format!(
            "ca.key: can be read or written by group or others (mode 0644); a private key must be readable by its owner only; fix: chmod 600 {}",
            key_path.display()
        )
    );
}

#[test]
fn pki_verify_fails_a_leaf_key_readable_by_others() {
    let finding = one_finding(|pki, _| {
        std::fs::set_permissions(
            pki.dir.join("etcd/peer.key"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
    });
    assert!(
        finding.starts_with("etcd/peer.key: can be read or written by group or others (mode 0640)"),
        "{finding}"
    );
}

#[test]
fn pki_verify_fails_a_public_key_that_does_not_match_the_private_one() {
    let finding = one_finding(|pki, _| pki.write("sa.pub", &rsa_keys()[3].public_pem(), 0o644));
    assert_eq!(
        finding,
        "sa.pub: is not the public key of sa.key: it holds a RSA 2048 key, and the key derived from sa.key (RSA 2048) is a different one; fix: restore sa.pub and sa.key together from the same backup with `pki.restore` (a new service-account key invalidates every ServiceAccount token)"
    );
}

#[test]
fn pki_verify_fails_a_symbolic_link_among_the_files() {
    let finding = one_finding(|pki, tmp| {
        let elsewhere = tmp.join("elsewhere.crt");
        std::fs::rename(pki.path("ca.crt"), &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, pki.path("ca.crt")).unwrap();
    });
    assert!(
        finding.starts_with("ca.crt: is a symbolic link to `"),
        "{finding}"
    );
    assert!(finding.contains("elsewhere.crt`; a PKI must be real files (a link can change or dangle); fix: replace it with the file it points to: `cp --remove-destination"), "{finding}");
}

#[test]
fn pki_verify_fails_a_pki_that_is_not_the_reference() {
    let (tmp, pki) = fresh();
    let mut reference = pki.copy_shared(&tmp.path().join("backup"), Layout::Kubeadm);
    // The backup has another cluster CA: another key, another certificate.
    reference.cas.get_mut("ca").unwrap().key = &rsa_keys()[4];
    reference.write("ca.key", &rsa_keys()[4].traditional, 0o600);
    reference.reissue_ca("ca", |_| {});
    let err = refused(
        "pki.verify",
        json!({"dir": "pki", "reference": "backup"}),
        tmp.path(),
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].ends_with("does not pass verification (2 problems):"),
        "{err}"
    );
    let ours = sha256(&der(&pki.path("ca.crt")));
    let theirs = sha256(&der(&reference.path("ca.crt")));
    assert_eq!(
        lines[1],
        format!(
            "  - ca.crt: differs from the reference: sha256:{} here, sha256:{} in `{}`; this PKI is not the backup's; fix: install the backup's files with `pki.restore` (the current ones are kept as `<name>.drbook-<timestamp>`), or point `reference` at the backup this PKI came from",
            &ours[..16],
            &theirs[..16],
            reference.path("ca.crt").display()
        )
    );
    assert!(
        lines[2].starts_with("  - ca.key: differs from the reference: sha256:"),
        "{err}"
    );
}

#[test]
fn pki_verify_warns_of_a_ca_expiring_soon_but_passes() {
    let (tmp, mut pki) = fresh();
    pki.reissue_ca("front-proxy-ca", |p| {
        p.not_after = later(10) + Duration::hours(1)
    });
    let (result, events) = execute("pki.verify", json!({"dir": "pki"}), tmp.path());
    let out = Value::Object(result.unwrap());
    let warnings = out["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.starts_with("front-proxy-ca.crt expires on "),
        "{warning}"
    );
    assert!(
        warning.contains(", in 10 days (sooner than warn_within, 30 days); plan its renewal"),
        "{warning}"
    );
    assert_eq!(events, vec![ActionEvent::Progress(warning.to_string())]);
    // A shorter horizon: no warning.
    let out = ok(
        "pki.verify",
        json!({"dir": "pki", "warn_within": "7d"}),
        tmp.path(),
    );
    assert_eq!(out["warnings"], json!([]));
}

#[test]
fn pki_verify_reports_every_finding_not_only_the_first() {
    let (tmp, pki) = fresh();
    std::fs::remove_file(pki.path("ca.crt")).unwrap();
    std::fs::set_permissions(pki.path("sa.key"), std::fs::Permissions::from_mode(0o604)).unwrap();
    pki.issue_leaf("front-proxy-client.crt", "ca", |_| {});
    let err = refused("pki.verify", json!({"dir": "pki"}), tmp.path());
    assert!(
        err.contains("(3 problems):\n  - ca.crt: is missing; fix: "),
        "{err}"
    );
    assert!(
        err.contains("\n  - sa.key: can be read or written by group or others (mode 0604)"),
        "{err}"
    );
    assert!(
        err.contains("\n  - front-proxy-client.crt: was not issued by front-proxy-ca.crt"),
        "{err}"
    );
}
