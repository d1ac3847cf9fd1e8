//! `pki.restore`: a restore installs exactly the eight shared files, keeps what it
//! replaced, changes nothing on a second run, and refuses unsafe or broken sources and
//! destinations before touching anything (proved by hashing every file of the
//! destination before and after). Last, the canary: whatever either action verifies,
//! restores or refuses, no private key's body ever appears in what it reports.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use tempfile::TempDir;

use super::{execute, ok, refused, sha256};
use crate::support::digest;
use crate::support::pki::{LEAFS, Layout, Pki, SHARED, write_file};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A backup of PKI A in the KubeOne layout at `backup/pki`, and a live kubeadm PKI B
/// (other keys and CAs, with leafs) at `live`.
fn backup_and_live(tmp: &Path) -> (Pki, Pki) {
    let a = Pki::kubeadm(&tmp.join("a"));
    let backup = a.copy_shared(&tmp.join("backup/pki"), Layout::KubeoneBackup);
    std::fs::remove_dir_all(tmp.join("a")).unwrap();
    let live = Pki::kubeadm_other(&tmp.join("live"));
    (backup, live)
}

fn kept_files(dir: &Path) -> Vec<String> {
    digest(dir)
        .keys()
        .map(|p| p.display().to_string())
        .filter(|p| p.contains(".drbook-"))
        .collect()
}

#[test]
fn pki_restore_installs_the_eight_files_keeps_the_old_ones_and_changes_nothing_twice() {
    let tmp = TempDir::new().unwrap();
    let (backup, live) = backup_and_live(tmp.path());
    let before: BTreeMap<&str, Vec<u8>> = SHARED
        .iter()
        .map(|n| (*n, std::fs::read(live.path(n)).unwrap()))
        .collect();
    let leafs_before: Vec<String> = LEAFS
        .iter()
        .map(|(leaf, _)| sha256(&std::fs::read(live.dir.join(leaf)).unwrap()))
        .collect();
    write_file(&live.dir.join(".ca.key.drbook-tmp-99999"), "half", 0o600);
    let params = json!({"from": "backup/pki", "to": "live", "from_layout": "kubeone-backup"});

    let (result, events) = execute("pki.restore", params.clone(), tmp.path());
    let out = Value::Object(result.unwrap());
    assert_eq!(out["installed"], json!(SHARED), "sa.pub differs too");
    assert_eq!(out["unchanged"], json!([]));
    for name in SHARED {
        let installed = live.path(name);
        assert_eq!(
            std::fs::read(&installed).unwrap(),
            std::fs::read(backup.path(name)).unwrap(),
            "{name}"
        );
        let want = if name.ends_with(".key") { 0o600 } else { 0o644 };
        assert_eq!(mode(&installed), want, "{name}");
        let kept = out["kept"][name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} kept: {out:#}"));
        assert!(kept.starts_with(&format!("{name}.drbook-")), "{kept}");
        assert_eq!(
            std::fs::read(live.dir.join(kept)).unwrap(),
            before[name],
            "{name}"
        );
    }
    assert!(
        !live.dir.join(".ca.key.drbook-tmp-99999").exists(),
        "stale temp file removed"
    );
    assert!(events.iter().any(|e| matches!(e, ActionEvent::Progress(p) if p.contains(".ca.key.drbook-tmp-99999, left by an earlier restore"))), "{events:?}");
    let leafs_after: Vec<String> = LEAFS
        .iter()
        .map(|(leaf, _)| sha256(&std::fs::read(live.dir.join(leaf)).unwrap()))
        .collect();
    assert_eq!(leafs_before, leafs_after, "leafs are left alone");
    // B's leafs were signed by B's CAs: each must be renewed.
    let renew: Vec<&str> = out["leafs_to_renew"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(renew, LEAFS.iter().map(|(l, _)| *l).collect::<Vec<_>>());
    let verified = ok(
        "pki.verify",
        json!({"dir": "backup/pki", "layout": "kubeone-backup"}),
        tmp.path(),
    );
    assert_eq!(out["fingerprints"], verified["fingerprints"]);

    let kept_once = kept_files(&live.dir);
    assert_eq!(kept_once.len(), 8, "{kept_once:?}");
    let snapshot = digest(&live.dir);
    let again = ok("pki.restore", params, tmp.path());
    assert_eq!(again["installed"], json!([]));
    assert_eq!(again["unchanged"], json!(SHARED));
    assert_eq!(again["kept"], json!({}));
    assert_eq!(digest(&live.dir), snapshot, "a second run changes nothing");
}

#[test]
fn pki_restore_creates_the_directory_and_never_copies_leafs() {
    let tmp = TempDir::new().unwrap();
    let source = Pki::kubeadm(&tmp.path().join("old-pki"));
    let out = ok(
        "pki.restore",
        json!({"from": "old-pki", "to": "new/pki"}),
        tmp.path(),
    );
    assert_eq!(out["installed"], json!(SHARED));
    assert_eq!(out["kept"], json!({}));
    let to = tmp.path().join("new/pki");
    assert_eq!(mode(&to), 0o755);
    assert_eq!(mode(&to.join("etcd")), 0o755);
    let mut files: Vec<String> = digest(&to)
        .into_iter()
        .filter(|(_, d)| !d.starts_with("dir"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    files.sort();
    let mut want: Vec<String> = SHARED.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(files, want, "only the eight shared files");
    for name in SHARED {
        assert_eq!(
            std::fs::read(to.join(name)).unwrap(),
            std::fs::read(source.path(name)).unwrap()
        );
    }
}

/// Runs a restore that must be refused and proves `live` did not change.
fn refused_restore(tmp: &Path, live: &Path, params: Value) -> String {
    let before = digest(live);
    let err = refused("pki.restore", params, tmp);
    assert_eq!(digest(live), before, "the destination changed: {err}");
    err
}

#[test]
fn pki_restore_refuses_a_symbolic_link_in_the_source() {
    let tmp = TempDir::new().unwrap();
    let (backup, live) = backup_and_live(tmp.path());
    let key = backup.path("ca.key");
    let real = tmp.path().join("ca.key.real");
    std::fs::rename(&key, &real).unwrap();
    std::os::unix::fs::symlink(&real, &key).unwrap();
    let err = refused_restore(
        tmp.path(),
        &live.dir,
        json!({"from": "backup/pki", "to": "live", "from_layout": "kubeone-backup"}),
    );
    assert!(err.starts_with(&format!(
        "refusing to restore from `{}`: a backup must hold real files inside it; nothing was changed (2 problems):\n  - kubernetes/ca.key: is a symbolic link to `{}`; fix: a backup must hold the files themselves",
        tmp.path().join("backup/pki").display(),
        real.display()
    )), "{err}");
    assert!(
        err.contains("\n  - kubernetes/ca.key: resolves to `"),
        "{err}"
    );
}

#[test]
fn pki_restore_refuses_a_directory_link_that_escapes_the_source() {
    let tmp = TempDir::new().unwrap();
    let (backup, live) = backup_and_live(tmp.path());
    let etcd = backup.dir.join("etcd");
    let other = tmp.path().join("backup/other");
    std::fs::rename(&etcd, &other).unwrap();
    std::os::unix::fs::symlink("../other", &etcd).unwrap();
    let err = refused_restore(
        tmp.path(),
        &live.dir,
        json!({"from": "backup/pki", "to": "live", "from_layout": "kubeone-backup"}),
    );
    assert!(err.contains("\n  - etcd/: is a symbolic link to `../other`; fix: a backup must hold the files themselves"), "{err}");
    assert!(
        err.contains(&format!(
            "\n  - etcd/: resolves to `{}`, outside `",
            other.canonicalize().unwrap().display()
        )),
        "{err}"
    );
    assert!(err.contains("\n  - etcd/ca.crt: resolves to `"), "{err}");
}

#[test]
fn pki_restore_refuses_a_source_that_does_not_pass_verification() {
    let tmp = TempDir::new().unwrap();
    let (backup, live) = backup_and_live(tmp.path());
    std::fs::copy(backup.path("sa.key"), backup.path("ca.key")).unwrap();
    let err = refused_restore(
        tmp.path(),
        &live.dir,
        json!({"from": "backup/pki", "to": "live", "from_layout": "kubeone-backup"}),
    );
    assert_eq!(
        err,
        format!(
            "refusing to restore from `{}`: it does not pass verification; nothing in `{}` was changed (1 problem):\n  - kubernetes/ca.key: does not belong to kubernetes/ca.crt: the public key derived from it (RSA 2048) is not the one in the certificate (RSA 2048); fix: a CA's certificate and key must come from the same backup: restore kubernetes/ca.crt and kubernetes/ca.key together with `pki.restore`",
            tmp.path().join("backup/pki").display(),
            tmp.path().join("live").display()
        )
    );
}

#[test]
fn pki_restore_refuses_a_destination_that_is_a_link_or_a_directory() {
    let tmp = TempDir::new().unwrap();
    let (_backup, live) = backup_and_live(tmp.path());
    let key = live.path("etcd/ca.key");
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &key).unwrap();
    std::fs::remove_file(live.path("sa.pub")).unwrap();
    std::fs::create_dir(live.path("sa.pub")).unwrap();
    let err = refused_restore(
        tmp.path(),
        &live.dir,
        json!({"from": "backup/pki", "to": "live", "from_layout": "kubeone-backup"}),
    );
    assert_eq!(
        err,
        format!(
            "refusing to install into `{to}`: nothing was changed (2 problems):\n  - sa.pub: is a directory where a file belongs; fix: move it away (`mv {to}/sa.pub {to}/sa.pub.old`), then run the step again\n  - etcd/ca.key: is a symbolic link to `/etc/passwd`; drbook does not write through links; fix: remove the link (`rm {to}/etcd/ca.key`), then run the step again",
            to = live.dir.display()
        )
    );
}

#[test]
fn pki_restore_names_the_layout_to_use() {
    let tmp = TempDir::new().unwrap();
    let (_backup, live) = backup_and_live(tmp.path());
    let err = refused_restore(
        tmp.path(),
        &live.dir,
        json!({"from": "backup/pki", "to": "live"}),
    );
    assert!(err.ends_with("set `from_layout: kubeone-backup`"), "{err}");
}

// ----- key material never leaks -----------------------------------------------------

#[test]
fn pki_actions_never_report_private_key_material() {
    let tmp = TempDir::new().unwrap();
    let (backup, live) = backup_and_live(tmp.path());
    let mut bodies = backup.key_bodies();
    bodies.extend(live.key_bodies());
    let mut reported = String::new();
    let mut record = |(result, events): (Result<Outputs, ActionError>, Vec<ActionEvent>)| {
        match result {
            Ok(outputs) => reported.push_str(&Value::Object(outputs).to_string()),
            Err(e) => reported.push_str(&format!("{e} {e:?}")),
        }
        reported.push_str(&format!("{events:?}"));
    };
    let from_backup = json!({"from": "backup/pki", "to": "live", "from_layout": "kubeone-backup"});
    record(execute(
        "pki.verify",
        json!({"dir": "live", "reference": "backup/pki", "reference_layout": "kubeone-backup"}),
        tmp.path(),
    ));
    // Keys in the wrong places, open to others, damaged.
    std::fs::copy(live.path("sa.key"), live.path("ca.key")).unwrap();
    std::fs::set_permissions(live.path("sa.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::copy(live.path("etcd/ca.key"), live.path("front-proxy-ca.crt")).unwrap();
    let damaged = std::fs::read_to_string(live.path("etcd/ca.key"))
        .unwrap()
        .replacen('M', "*", 3);
    std::fs::write(live.path("etcd/ca.key"), damaged).unwrap();
    record(execute("pki.verify", json!({"dir": "live"}), tmp.path()));
    record(execute(
        "pki.restore",
        json!({"from": "live", "to": "elsewhere"}),
        tmp.path(),
    ));
    record(execute("pki.restore", from_backup, tmp.path()));
    record(execute(
        "pki.verify",
        json!({"dir": "live", "reference": "backup/pki", "reference_layout": "kubeone-backup"}),
        tmp.path(),
    ));
    assert!(
        reported.contains("does not pass verification"),
        "the failures were recorded"
    );
    assert!(
        reported.contains("\"installed\""),
        "the restore was recorded"
    );
    for line in &bodies {
        assert!(
            !reported.contains(line.as_str()),
            "key material reported: {line}"
        );
        assert!(
            !reported.contains(&line[..16]),
            "key material reported: {line}"
        );
    }
}
