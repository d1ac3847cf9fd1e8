//! The member table of `etcd.snapshot.restore`: one row per member (name, peer URL,
//! data directory), from which every restore flag is generated.
//!
//! The rules live here once and are applied twice: by `drbook validate` to the table as
//! written (with the location of the offending value, see `runbook/check/member_table.rs`)
//! and by the action to the table as rendered, because a template may produce it. The
//! rules are what etcd would otherwise find out half-way through a restore, or worse,
//! what it would accept and then run as a broken cluster: a peer URL it cannot parse, two
//! members with the same name (one silently wins in `--initial-cluster`), two members
//! restored into the same directory.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::EtcdError;

/// The keys of one row, in the order the docs list them.
pub(crate) const MEMBER_KEYS: [&str; 3] = ["name", "peer_url", "data_dir"];

/// What a row needs, for help texts.
pub(crate) const MEMBER_HELP: &str =
    "every member needs `name`, `peer_url` (like `https://10.0.0.1:2380`) and `data_dir`";

/// One member to restore, as the action uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub name: String,
    pub peer_url: String,
    /// Absolute: a relative `data_dir` is taken from the run's work directory.
    pub data_dir: PathBuf,
}

/// Why `name` cannot name a member, if it cannot. `,` and `=` would break the
/// `name=url,name=url` syntax of `--initial-cluster`.
pub(crate) fn name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.contains([',', '=']) {
        Some("contains `,` or `=`, which `--initial-cluster` uses as separators")
    } else if name.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else {
        None
    }
}

/// How a peer URL is written, for help texts.
pub(crate) const PEER_URL_HELP: &str = "write it like `https://10.0.0.1:2380`: scheme, host and port, as `--initial-advertise-peer-urls` takes it";

/// Why `url` is not a peer URL etcd accepts for one member (`http(s)://host:port`), if it
/// is not. One URL per member: a list of peer URLs is beyond what this action restores.
pub(crate) fn peer_url_problem(url: &str) -> Option<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("has no scheme (`https://` or `http://`)".into());
    };
    if scheme != "http" && scheme != "https" {
        return Some(format!(
            "has the scheme `{scheme}`; etcd peer URLs use `http` or `https`"
        ));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(',') {
        return Some("holds several URLs; one member has one peer URL here".into());
    }
    if rest.contains(['/', '?', '#']) {
        return Some("has a path; a peer URL is only scheme, host and port".into());
    }
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        // An IPv6 address: `[::1]:2380`.
        let Some((host, after)) = bracketed.split_once(']') else {
            return Some("has an unclosed `[` in its host".into());
        };
        (host, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '@') {
        return Some("has no valid host".into());
    }
    match port {
        None => Some("has no port; etcd does not assume 2380".into()),
        Some(port) => match port.parse::<u16>() {
            Ok(0) | Err(_) => Some(format!("has the port `{port}`, which is not 1 to 65535")),
            Ok(_) => None,
        },
    }
}

/// Why `dir` cannot be a data directory, if it cannot.
pub(crate) fn data_dir_problem(dir: &str) -> Option<&'static str> {
    if dir.trim().is_empty() {
        Some("is empty")
    } else if Path::new(dir).parent().is_none() {
        Some("is the root directory")
    } else {
        None
    }
}

/// The member table as rendered at run time, checked by the same rules as `validate`
/// applies. All problems are reported together.
pub(crate) fn parse(value: Option<&Value>, workdir: &Path) -> Result<Vec<Member>, EtcdError> {
    let bad = |problem: String| EtcdError::BadParam {
        name: "members",
        problem,
    };
    let rows = match value {
        None | Some(Value::Null) => return Err(bad("is missing".into())),
        Some(Value::Array(rows)) => rows,
        Some(_) => {
            return Err(bad(format!("must be a list of members; {MEMBER_HELP}")));
        }
    };
    if rows.is_empty() {
        return Err(bad("lists no members".into()));
    }
    let mut problems = Vec::new();
    let mut members = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let number = i + 1;
        let Some(row) = row.as_object() else {
            problems.push(format!("member {number} is not a mapping"));
            continue;
        };
        for key in row.keys() {
            if !MEMBER_KEYS.contains(&key.as_str()) {
                problems.push(format!("member {number} has the unknown key `{key}`"));
            }
        }
        let mut field = |key: &str| match row.get(key) {
            Some(Value::String(text)) => Some(text.clone()),
            None | Some(Value::Null) => {
                problems.push(format!("member {number} is missing `{key}`"));
                None
            }
            Some(_) => {
                problems.push(format!("`{key}` of member {number} is not a string"));
                None
            }
        };
        let (name, peer_url, data_dir) = (field("name"), field("peer_url"), field("data_dir"));
        if let Some(problem) = name.as_deref().and_then(name_problem) {
            problems.push(format!("`name` of member {number} {problem}"));
        }
        if let Some(problem) = peer_url.as_deref().and_then(peer_url_problem) {
            problems.push(format!(
                "`peer_url` of member {number} (`{}`) {problem}; {PEER_URL_HELP}",
                peer_url.as_deref().unwrap_or_default()
            ));
        }
        if let Some(problem) = data_dir.as_deref().and_then(data_dir_problem) {
            problems.push(format!("`data_dir` of member {number} {problem}"));
        }
        if let (Some(name), Some(peer_url), Some(data_dir)) = (name, peer_url, data_dir) {
            members.push((
                number,
                Member {
                    name,
                    peer_url: peer_url.trim_end_matches('/').to_string(),
                    data_dir: normalize(&workdir.join(data_dir)),
                },
            ));
        }
    }
    for (a, (number_a, first)) in members.iter().enumerate() {
        for (number_b, second) in &members[a + 1..] {
            for (key, same) in [
                ("name", first.name == second.name),
                ("peer_url", first.peer_url == second.peer_url),
                ("data_dir", first.data_dir == second.data_dir),
            ] {
                if same {
                    problems.push(format!(
                        "member {number_b} has the same `{key}` as member {number_a}"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(members.into_iter().map(|(_, m)| m).collect())
    } else {
        Err(bad(format!(
            "is not a usable member table: {}",
            problems.join("; ")
        )))
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (the directory may not exist
/// yet), so two spellings of one directory count as the same.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `--initial-cluster`: every member's `name=peer_url`, in table order.
pub(crate) fn initial_cluster(members: &[Member]) -> String {
    members
        .iter()
        .map(|m| format!("{}={}", m.name, m.peer_url))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn peer_urls_must_be_scheme_host_port() {
        for good in [
            "http://127.0.0.1:2380",
            "https://etcd-0.example:2380",
            "https://[fd00::1]:2380",
            "https://10.0.0.1:2380/",
        ] {
            assert_eq!(peer_url_problem(good), None, "{good}");
        }
        for (bad, why) in [
            ("10.0.0.1:2380", "has no scheme"),
            ("tcp://10.0.0.1:2380", "has the scheme `tcp`"),
            ("https://10.0.0.1", "has no port"),
            ("https://10.0.0.1:99999", "has the port `99999`"),
            ("https://10.0.0.1:2380/peer", "has a path"),
            ("https://:2380", "has no valid host"),
            ("https://a:2380,https://b:2380", "holds several URLs"),
        ] {
            let problem = peer_url_problem(bad).unwrap_or_default();
            assert!(problem.starts_with(why), "{bad}: {problem}");
        }
    }

    #[test]
    fn names_must_fit_initial_cluster() {
        assert_eq!(name_problem("cp-0.example"), None);
        assert!(name_problem("a=b").is_some());
        assert!(name_problem("a,b").is_some());
        assert!(name_problem(" ").is_some());
    }

    #[test]
    fn a_table_is_parsed_with_data_dirs_from_the_work_directory() {
        let table = json!([
            {"name": "m0", "peer_url": "http://127.0.0.1:2380", "data_dir": "m0.etcd"},
            {"name": "m1", "peer_url": "http://127.0.0.1:2381/", "data_dir": "/var/lib/etcd"},
        ]);
        let members = parse(Some(&table), Path::new("/run/work")).unwrap();
        assert_eq!(members[0].data_dir, PathBuf::from("/run/work/m0.etcd"));
        assert_eq!(members[1].peer_url, "http://127.0.0.1:2381");
        assert_eq!(
            initial_cluster(&members),
            "m0=http://127.0.0.1:2380,m1=http://127.0.0.1:2381"
        );
    }

    #[test]
    fn every_problem_of_a_table_is_reported() {
        let table = json!([
            {"name": "m0", "peer_url": "http://127.0.0.1:2380", "data_dir": "d/../m0"},
            {"name": "m0", "peer_url": "127.0.0.1:2381", "data_dir": "m0"},
            {"name": "m2", "peer_urls": "x"},
        ]);
        let err = parse(Some(&table), Path::new("/w"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "parameter `members` is not a usable member table: \
             `peer_url` of member 2 (`127.0.0.1:2381`) has no scheme (`https://` or `http://`); \
             write it like `https://10.0.0.1:2380`: scheme, host and port, as `--initial-advertise-peer-urls` takes it; \
             member 3 has the unknown key `peer_urls`; member 3 is missing `peer_url`; \
             member 3 is missing `data_dir`; member 2 has the same `name` as member 1; \
             member 2 has the same `data_dir` as member 1"
        );
    }
}
