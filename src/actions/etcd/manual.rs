//! The etcd actions done by hand with `etcdctl` and `etcdutl`, with the same flags the
//! actions pass (see `tool.rs` and `snapshot_restore.rs`): `etcdutl` for offline snapshot
//! work where it exists (3.5 and later), else `ETCDCTL_API=3 etcdctl`.

use crate::actions::by_hand::{Given, quote};

/// `ETCDCTL_API=3 etcdctl` with the connection flags of the step.
fn etcdctl(given: &Given, endpoints: &str) -> String {
    let mut line = format!("ETCDCTL_API=3 etcdctl --endpoints={}", quote(endpoints));
    for flag in ["cacert", "cert", "key"] {
        if let Some(path) = given.opt(flag) {
            line.push_str(&format!(" --{flag}={}", quote(&path)));
        }
    }
    if let Some(timeout) = given.opt("timeout") {
        line.push_str(&format!(" --command-timeout={}", quote(&timeout)));
    }
    line
}

fn endpoints(given: &Given) -> String {
    match given.list("endpoints") {
        list if list.is_empty() => "<endpoints>".into(),
        list => list.join(","),
    }
}

/// The snapshot to read: a gzip is unpacked first, as the actions do.
fn unpacked(given: &Given, lines: &mut Vec<String>) -> String {
    let file = given.text("file");
    match file.strip_suffix(".gz") {
        Some(db) => {
            lines.push(format!("gunzip -k {}", quote(&file)));
            db.to_string()
        }
        None => file,
    }
}

/// The offline tool, as the step's `etcdctl` parameter names it (`tool.rs`): a binary
/// named like `etcdctl` needs `ETCDCTL_API=3`; by default `etcdutl`, with the 3.4
/// spelling as a comment for hosts that have only `etcdctl`.
struct Offline {
    tool: String,
    /// Whether to add the `etcdctl` (3.4) alternative.
    alternative: bool,
}

impl Offline {
    fn of(given: &Given) -> Offline {
        match given.opt("etcdctl") {
            None => Offline {
                tool: "etcdutl".into(),
                alternative: true,
            },
            Some(path) if path.rsplit('/').next().unwrap_or("").contains("etcdctl") => Offline {
                tool: format!("ETCDCTL_API=3 {}", quote(&path)),
                alternative: false,
            },
            Some(path) => Offline {
                tool: quote(&path),
                alternative: false,
            },
        }
    }

    fn alternative(&self, lines: &mut Vec<String>, what: &str) {
        if self.alternative {
            lines.push(format!(
                "# etcd 3.4: ETCDCTL_API=3 etcdctl snapshot {what} with the same arguments"
            ));
        }
    }
}

fn status(given: &Given, db: &str) -> Vec<String> {
    let offline = Offline::of(given);
    let mut lines = vec![format!(
        "{} snapshot status {} -w table",
        offline.tool,
        quote(db)
    )];
    offline.alternative(&mut lines, "status");
    lines.push(format!("sha256sum {}", quote(db)));
    lines
}

pub(crate) fn health(given: &Given) -> Vec<String> {
    let rule = if given.opt("mode").as_deref() == Some("quorum") {
        "more than half of the endpoints must say healthy"
    } else {
        "every endpoint must say healthy"
    };
    vec![
        format!("{} endpoint health", etcdctl(given, &endpoints(given))),
        format!("# {rule}"),
    ]
}

pub(crate) fn members(given: &Given) -> Vec<String> {
    vec![format!(
        "{} member list -w table",
        etcdctl(given, &endpoints(given))
    )]
}

pub(crate) fn status_table(given: &Given) -> Vec<String> {
    vec![format!(
        "{} endpoint status -w table",
        etcdctl(given, &endpoints(given))
    )]
}

pub(crate) fn snapshot_save(given: &Given) -> Vec<String> {
    let file = given.text("file");
    let mut lines = vec![format!(
        "{} snapshot save {}",
        etcdctl(given, &given.text("endpoint")),
        quote(&file)
    )];
    lines.extend(status(given, &file));
    lines
}

pub(crate) fn snapshot_verify(given: &Given) -> Vec<String> {
    let mut lines = Vec::new();
    let db = unpacked(given, &mut lines);
    lines.extend(status(given, &db));
    lines.push("# it must print the hash, revision and key count without an error".into());
    lines
}

/// One `snapshot restore` per member, with the flags `restore_args` generates from the
/// one member table, into an empty data directory; but without `--skip-hash-check`: by
/// hand, the tool's own check of each copy is the check (drbook's identity guard is not
/// there).
pub(crate) fn snapshot_restore(given: &Given) -> Vec<String> {
    let mut lines = Vec::new();
    let db = unpacked(given, &mut lines);
    let offline = Offline::of(given);
    lines.push(format!(
        "{} snapshot status {} -w table   # check it first",
        offline.tool,
        quote(&db)
    ));
    let members: Vec<(String, String, String)> = match given.raw("members") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|m| {
                let field = |k: &str| match m.get(k) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => format!("<{k}>"),
                };
                (field("name"), field("peer_url"), field("data_dir"))
            })
            .collect(),
        _ => vec![],
    };
    let (cluster, each): (String, Vec<(String, String, String)>) = if members.is_empty() {
        lines.push(format!(
            "# once for each member of {}",
            given.text("members")
        ));
        (
            "<name-1>=<peer_url-1>,<name-2>=<peer_url-2>,…".into(),
            vec![("<name>".into(), "<peer_url>".into(), "<data_dir>".into())],
        )
    } else {
        let cluster = members
            .iter()
            .map(|(name, url, _)| format!("{name}={url}"))
            .collect::<Vec<_>>()
            .join(",");
        (cluster, members)
    };
    let bump = given.opt("bump_revision");
    for (name, peer_url, data_dir) in each {
        lines.push(format!(
            "# member {name}: {} must be missing or empty{}",
            data_dir,
            if given.flag("move_aside") {
                " (move a full one aside first, never delete it)"
            } else {
                ""
            }
        ));
        if given.flag("move_aside") {
            lines.push(format!(
                "mv {0} {0}.drbook-$(date -u +%Y%m%dT%H%M%SZ)",
                quote(&data_dir)
            ));
        }
        let mut restore = format!(
            "{} snapshot restore {} --name {} --initial-cluster {} --initial-advertise-peer-urls {} --initial-cluster-token {} --data-dir {}",
            offline.tool,
            quote(&db),
            quote(&name),
            quote(&cluster),
            quote(&peer_url),
            given.word("token"),
            quote(&data_dir)
        );
        if let Some(bump) = &bump {
            restore.push_str(&format!(
                " --bump-revision {} --mark-compacted",
                quote(bump)
            ));
        }
        lines.push(restore);
    }
    offline.alternative(&mut lines, "restore");
    lines
}

pub(crate) fn verify(given: &Given) -> Vec<String> {
    let ctl = etcdctl(given, &endpoints(given));
    let mut lines = vec![format!("{ctl} endpoint status -w table")];
    if let Some(min) = given.opt("min_revision") {
        lines.push(format!("# the revision must be at least {min}"));
    }
    let prefix = given.opt("prefix").unwrap_or_else(|| "\"\"".into());
    let from_key = if given.opt("prefix").is_some() {
        "--prefix"
    } else {
        "--from-key"
    };
    lines.push(format!(
        "{ctl} get {} {from_key} --count-only -w fields",
        if prefix == "\"\"" {
            prefix
        } else {
            quote(&prefix)
        }
    ));
    if let Some(keys) = given.opt("expect_keys") {
        lines.push(format!("# \"Count\" must be {keys}"));
    }
    for key in given.list("canaries_present") {
        lines.push(format!(
            "{ctl} get {} --print-value-only   # must print a value",
            quote(&key)
        ));
    }
    for key in given.list("canaries_absent") {
        lines.push(format!(
            "{ctl} get {} --print-value-only   # must print nothing",
            quote(&key)
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
    fn restore_prints_one_command_per_member_with_the_whole_cluster() {
        let lines = snapshot_restore(&given(json!({
            "file": "/b/s.db.gz",
            "token": "t1",
            "members": [
                {"name": "m0", "peer_url": "http://10.0.0.1:2380", "data_dir": "/var/lib/etcd"},
                {"name": "m1", "peer_url": "http://10.0.0.2:2380", "data_dir": "/var/lib/etcd"},
            ],
        })));
        assert_eq!(lines[0], "gunzip -k /b/s.db.gz");
        let restores: Vec<_> = lines
            .iter()
            .filter(|l| l.starts_with("etcdutl snapshot restore"))
            .collect();
        assert_eq!(restores.len(), 2);
        assert_eq!(
            restores[1].as_str(),
            "etcdutl snapshot restore /b/s.db --name m1 --initial-cluster m0=http://10.0.0.1:2380,m1=http://10.0.0.2:2380 --initial-advertise-peer-urls http://10.0.0.2:2380 --initial-cluster-token t1 --data-dir /var/lib/etcd"
        );
    }

    #[test]
    fn the_step_s_tool_is_used_as_the_action_uses_it() {
        let etcdctl = snapshot_verify(&given(
            json!({"file": "s.db", "etcdctl": "/opt/etcd/etcdctl"}),
        ));
        assert_eq!(
            etcdctl[0],
            "ETCDCTL_API=3 /opt/etcd/etcdctl snapshot status s.db -w table"
        );
        assert!(!etcdctl.iter().any(|l| l.starts_with("# etcd 3.4")));
        let etcdutl = snapshot_verify(&given(json!({"file": "s.db", "etcdctl": "/opt/etcdutl"})));
        assert_eq!(etcdutl[0], "/opt/etcdutl snapshot status s.db -w table");
    }

    #[test]
    fn a_member_table_from_a_template_is_a_placeholder() {
        let lines = snapshot_restore(&given(json!({
            "file": "s.db", "token": "t", "members": "{{ target.etcd.members }}",
        })));
        assert!(lines.contains(&"# once for each member of {{ target.etcd.members }}".to_string()));
        assert!(
            lines.iter().any(|l| l.contains("--name <name>")),
            "{lines:?}"
        );
    }
}
