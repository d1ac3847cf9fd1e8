//! The PKI actions done by hand with `openssl`, `cmp`, `cp` and `install`: the same
//! checks `pki.verify` makes (CA expiry, each key matching its certificate, leaves
//! signed by their CA, equality with a reference) and the same install `pki.restore`
//! does (the eight shared files with their modes, previous files kept, never deleted).

use crate::actions::by_hand::{Given, quote};

use super::layout::{CAS, LEAFS, Layout, PAIRS, SHARED, shared};

fn layout_of(given: &Given, param: &str) -> Layout {
    match given.opt(param).as_deref() {
        Some("kubeone-backup") => Layout::KubeoneBackup,
        _ => Layout::Kubeadm,
    }
}

/// `dir/path` as one shell word.
fn at(dir: &str, path: &str) -> String {
    quote(&format!("{}/{path}", dir.trim_end_matches('/')))
}

pub(crate) fn verify(given: &Given) -> Vec<String> {
    let dir = given.text("dir");
    let layout = layout_of(given, "layout");
    let path = |name: &str| at(&dir, layout.path_of(shared(name)));
    let within = given.opt("warn_within").unwrap_or_else(|| "30d".into());
    let seconds = humantime::parse_duration(&within)
        .map(|d| d.as_secs().to_string())
        .unwrap_or_else(|_| format!("<seconds in {within}>"));
    let mut lines = vec![format!(
        "# each CA: the end date, and a warning when it expires within {within}"
    )];
    for ca in CAS {
        lines.push(format!(
            "openssl x509 -in {} -noout -subject -enddate -checkend {seconds}",
            path(ca)
        ));
    }
    lines.push("# each key matches its certificate: no output from diff".into());
    for (public, private) in PAIRS {
        let public_key = if public.ends_with(".pub") {
            format!("openssl pkey -pubin -in {}", path(public))
        } else {
            format!("openssl x509 -in {} -noout -pubkey", path(public))
        };
        lines.push(format!(
            "diff <({public_key}) <(openssl pkey -in {} -pubout)",
            path(private)
        ));
    }
    if layout == Layout::Kubeadm {
        lines.push("# each leaf present is signed by its CA".into());
        for leaf in &LEAFS {
            lines.push(format!(
                "openssl verify -CAfile {} {}",
                at(&dir, leaf.ca),
                at(&dir, leaf.cert)
            ));
        }
    }
    if let Some(reference) = given.opt("reference") {
        let theirs = layout_of(given, "reference_layout");
        lines.push(format!(
            "# the same bytes as {reference}: no output from cmp"
        ));
        for file in &SHARED {
            lines.push(format!(
                "cmp {} {}",
                at(&dir, layout.path_of(file)),
                at(&reference, theirs.path_of(file))
            ));
        }
    }
    lines
}

pub(crate) fn restore(given: &Given) -> Vec<String> {
    let from = given.text("from");
    let to = given.text("to");
    let layout = layout_of(given, "from_layout");
    let mut lines = vec![
        "# first check the backup as pki.verify does (above), then install the eight shared files;"
            .into(),
        "# the previous file of each is kept as <name>.drbook-<UTC time>".into(),
        "STAMP=$(date -u +%Y%m%dT%H%M%SZ)".into(),
        format!("install -d -m 0755 {} {}", quote(&to), at(&to, "etcd")),
    ];
    for file in &SHARED {
        let dest = at(&to, file.name);
        let kept = at(&to, &format!("{}.drbook-", file.name));
        lines.push(format!(
            "[ ! -e {dest} ] || cp -p {dest} {kept}$STAMP; install -m {:04o} {} {dest}",
            file.mode,
            at(&from, layout.path_of(file))
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::by_hand::given;

    #[test]
    fn restore_installs_keys_with_mode_0600_from_the_backup_layout() {
        let lines = restore(&given(json!({
            "from": "backup/pki", "to": "/etc/kubernetes/pki", "from_layout": "kubeone-backup",
        })));
        assert!(lines.contains(&"[ ! -e /etc/kubernetes/pki/ca.key ] || cp -p /etc/kubernetes/pki/ca.key /etc/kubernetes/pki/ca.key.drbook-$STAMP; install -m 0600 backup/pki/kubernetes/ca.key /etc/kubernetes/pki/ca.key".to_string()), "{lines:#?}");
        assert_eq!(lines.iter().filter(|l| l.contains("install -m")).count(), 8);
    }

    #[test]
    fn verify_checks_expiry_within_the_warning_time() {
        let lines = verify(&given(
            json!({"dir": "/etc/kubernetes/pki", "warn_within": "1d"}),
        ));
        assert!(lines.contains(&"openssl x509 -in /etc/kubernetes/pki/ca.crt -noout -subject -enddate -checkend 86400".to_string()), "{lines:#?}");
    }
}
