//! The restic actions done by hand: the repository and password as restic's own
//! environment variables (the password as a reference to where the secret comes from,
//! never its value), then `restic snapshots` or `restic restore … --verify` with the
//! step's filters.

use crate::actions::by_hand::{Given, export, quote};

/// The environment and global flags every restic command of the step needs.
fn setup(given: &Given) -> (Vec<String>, String) {
    let mut lines = vec![export("RESTIC_REPOSITORY", &given.text("repository"))];
    let password = given.text("password");
    // `"$RESTIC_PASSWORD"` means the secret already is in that variable.
    if password == "\"$RESTIC_PASSWORD\"" {
        lines.push("# RESTIC_PASSWORD must hold the repository's password".into());
    } else {
        lines.push(export("RESTIC_PASSWORD", &password));
    }
    for (name, value) in given.map("env") {
        lines.push(export(&name, &value));
    }
    let mut restic = given
        .opt("restic")
        .map_or_else(|| "restic".into(), |r| quote(&r));
    if let Some(cacert) = given.opt("cacert") {
        restic.push_str(&format!(" --cacert {}", quote(&cacert)));
    }
    (lines, restic)
}

fn filters(given: &Given) -> String {
    let mut out = String::new();
    for flag in ["tag", "host", "path"] {
        if let Some(value) = given.opt(flag) {
            out.push_str(&format!(" --{flag} {}", quote(&value)));
        }
    }
    out
}

pub(crate) fn snapshots(given: &Given) -> Vec<String> {
    let (mut lines, restic) = setup(given);
    lines.push(format!(
        "{restic} snapshots{}{}",
        filters(given),
        if given.flag("no_lock") {
            " --no-lock"
        } else {
            ""
        }
    ));
    match given.opt("before") {
        Some(before) => lines.push(format!(
            "# use the newest snapshot taken before {before}: write down its ID and time"
        )),
        None => lines
            .push("# use the newest snapshot (the last line): write down its ID and time".into()),
    }
    lines
}

pub(crate) fn restore(given: &Given) -> Vec<String> {
    let (mut lines, restic) = setup(given);
    let target = given.text("target");
    lines.push(format!("# {target} must not exist, or be empty"));
    let mut restore = format!(
        "{restic} restore {}{} --target {} --verify",
        given.word("snapshot"),
        // restic applies the filters when choosing `latest`.
        if given.opt("snapshot").as_deref() == Some("latest") {
            filters(given)
        } else {
            String::new()
        },
        quote(&target)
    );
    for include in given.list("include") {
        restore.push_str(&format!(" --include {}", quote(&include)));
    }
    lines.push(restore);
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::by_hand::given;

    #[test]
    fn restore_verifies_and_keeps_the_password_a_reference() {
        let lines = restore(&given(json!({
            "repository": "s3:http://127.0.0.1:9000/b", "password": "\"$REPO_PASS\"",
            "snapshot": "{{ steps.pick.outputs.id }}", "target": "restored", "include": ["/backup/pki"],
        })));
        assert_eq!(
            lines[0],
            "export RESTIC_REPOSITORY=s3:http://127.0.0.1:9000/b"
        );
        assert_eq!(lines[1], "export RESTIC_PASSWORD=\"$REPO_PASS\"");
        assert_eq!(
            lines.last().unwrap(),
            "restic restore \"{{ steps.pick.outputs.id }}\" --target restored --verify --include /backup/pki"
        );
    }

    #[test]
    fn snapshots_filter_by_tag() {
        let lines = snapshots(&given(
            json!({"repository": "/r", "password": "\"$RESTIC_PASSWORD\"", "tag": "etcd"}),
        ));
        assert_eq!(lines[2], "restic snapshots --tag etcd");
    }
}
