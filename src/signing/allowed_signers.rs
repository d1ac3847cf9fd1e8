//! The allowed signers file of OpenSSH (ssh-keygen(1), "ALLOWED SIGNERS"): which key
//! belongs to whom, and for which namespaces. The same file the auditor gives
//! `ssh-keygen -Y verify -f FILE`, so drbook and OpenSSH judge a signature alike.
//!
//! Each line is `PRINCIPALS [OPTIONS] KEYTYPE BASE64 [COMMENT]`: principals are a
//! comma-separated list of patterns (`*` and `?` as wildcards), the one option read is
//! `namespaces="a,b"` (the key signs only in those). `cert-authority`, `valid-after` and
//! `valid-before` are refused with a message rather than ignored, so no line is read
//! as granting more than it says.

use std::path::{Path, PathBuf};

use ssh_key::PublicKey;
use ssh_key::public::KeyData;

/// A parsed allowed signers file.
#[derive(Debug, Clone)]
pub struct AllowedSigners {
    pub path: PathBuf,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    principals: Vec<String>,
    /// `None`: every namespace.
    namespaces: Option<Vec<String>>,
    key: KeyData,
}

/// Who a key is, for one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The principals of every line that lists the key for this namespace.
    Allowed(Vec<String>),
    /// The key is listed, but only for other namespaces.
    NotForNamespace(Vec<String>),
    /// No line lists the key.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum AllowedSignersError {
    #[error("cannot read the allowed signers file `{}`: {why}", path.display())]
    Unreadable { path: PathBuf, why: String },
    #[error(
        "`{}` line {line}: {reason}; each line is `PRINCIPALS [namespaces=\"...\"] ssh-ed25519 AAAA...` (ssh-keygen(1), ALLOWED SIGNERS)",
        path.display()
    )]
    Invalid {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

impl From<AllowedSignersError> for crate::app_error::AppError {
    fn from(error: AllowedSignersError) -> Self {
        match error {
            AllowedSignersError::Unreadable { path, why } => {
                crate::app_error::AppError::Unreadable { path, why }
            }
            invalid => crate::app_error::AppError::refused(invalid.to_string()),
        }
    }
}

impl AllowedSigners {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<AllowedSigners, AllowedSignersError> {
        let text = std::fs::read_to_string(path).map_err(|e| AllowedSignersError::Unreadable {
            path: path.to_path_buf(),
            why: crate::source::source_file::describe_io(&e),
        })?;
        AllowedSigners::parse(path, &text)
    }

    /// Parses the text of an allowed signers file; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<AllowedSigners, AllowedSignersError> {
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = parse_line(line).map_err(|reason| AllowedSignersError::Invalid {
                path: path.to_path_buf(),
                line: index + 1,
                reason,
            })?;
            entries.extend(entry);
        }
        Ok(AllowedSigners {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Who `key` is when it signs in `namespace`.
    pub fn lookup(&self, key: &KeyData, namespace: &str) -> Lookup {
        let listed: Vec<&Entry> = self.entries.iter().filter(|e| &e.key == key).collect();
        if listed.is_empty() {
            return Lookup::Unknown;
        }
        let principals = |entries: &[&Entry]| -> Vec<String> {
            let mut all: Vec<String> = Vec::new();
            for entry in entries {
                for p in &entry.principals {
                    if !all.contains(p) {
                        all.push(p.clone());
                    }
                }
            }
            all
        };
        let allowed: Vec<&Entry> = listed
            .iter()
            .copied()
            .filter(|e| {
                e.namespaces
                    .as_ref()
                    .is_none_or(|n| n.iter().any(|p| matches_pattern(p, namespace)))
            })
            .collect();
        if allowed.is_empty() {
            Lookup::NotForNamespace(principals(&listed))
        } else {
            Lookup::Allowed(principals(&allowed))
        }
    }
}

/// Whether one of `principals` (patterns) names `name`.
pub fn names(principals: &[String], name: &str) -> bool {
    principals.iter().any(|p| matches_pattern(p, name))
}

/// One line as an entry; `None` for a key of a type drbook cannot read (a signature by
/// such a key cannot be checked by drbook either, and is reported as one to check with
/// `ssh-keygen -Y verify`), so one such line does not make a whole file unusable.
fn parse_line(line: &str) -> Result<Option<Entry>, String> {
    let words = split_words(line)?;
    let mut words = words.into_iter();
    let principals = words.next().ok_or("no principals")?;
    let mut next = words.next().ok_or("no key after the principals")?;
    let mut namespaces = None;
    if !is_key_type(&next) {
        for option in split_list(&next) {
            let (name, value) = match option.split_once('=') {
                Some((n, v)) => (
                    n.to_ascii_lowercase(),
                    Some(v.trim_matches('"').to_string()),
                ),
                None => (option.to_ascii_lowercase(), None),
            };
            match (name.as_str(), value) {
                ("namespaces", Some(value)) => namespaces = Some(split_list(&value)),
                (other, _) => {
                    return Err(format!(
                        "option `{other}` is not supported by drbook (only `namespaces=\"...\"`); check this record with `ssh-keygen -Y verify` instead"
                    ));
                }
            }
        }
        next = words.next().ok_or("no key after the options")?;
    }
    let base64 = words.next().ok_or("the key has no base64 part")?;
    let key = match PublicKey::from_openssh(&format!("{next} {base64}")) {
        Ok(key) => key,
        Err(ssh_key::Error::AlgorithmUnknown | ssh_key::Error::AlgorithmUnsupported { .. })
            if !next.contains("ed25519") =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(format!(
                "the key `{next} {}…` cannot be read: {e}",
                base64.get(..12).unwrap_or(&base64)
            ));
        }
    };
    Ok(Some(Entry {
        principals: split_list(&principals),
        namespaces,
        key: key.key_data().clone(),
    }))
}

fn is_key_type(word: &str) -> bool {
    word.starts_with("ssh-") || word.starts_with("ecdsa-") || word.starts_with("sk-")
}

/// Splits a line at whitespace outside double quotes; the quotes stay in the words.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if quoted {
        return Err("a quote is not closed".into());
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// `a,"b,c",d` → a, b,c… split at commas outside quotes, quotes removed.
fn split_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut item = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => items.push(std::mem::take(&mut item)),
            c => item.push(c),
        }
    }
    items.push(item);
    items.retain(|i| !i.is_empty());
    items
}

/// OpenSSH's pattern match: `*` any run of characters, `?` any one.
fn matches_pattern(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";

    fn key() -> KeyData {
        PublicKey::from_openssh(ALICE).unwrap().key_data().clone()
    }

    #[test]
    fn principals_namespaces_and_patterns_are_read_as_openssh_reads_them() {
        let text = format!(
            "# auditors' file\n\nalice@example.com,\"ops team\" namespaces=\"drbook-journal,git\" {ALICE} alice's laptop\n"
        );
        let signers = AllowedSigners::parse(Path::new("allowed"), &text).unwrap();
        assert_eq!(
            signers.lookup(&key(), "drbook-journal"),
            Lookup::Allowed(vec!["alice@example.com".into(), "ops team".into()])
        );
        assert_eq!(
            signers.lookup(&key(), "drbook-review"),
            Lookup::NotForNamespace(vec!["alice@example.com".into(), "ops team".into()])
        );
        assert!(names(&["*@example.com".into()], "alice@example.com"));
        assert!(names(&["al?ce".into()], "alice"));
        assert!(!names(&["*@example.com".into()], "alice@example.org"));
    }

    #[test]
    fn an_option_drbook_does_not_check_is_refused_with_its_line() {
        let text = format!("alice cert-authority {ALICE}\n");
        let error = AllowedSigners::parse(Path::new("allowed"), &text)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`allowed` line 1: option `cert-authority`"),
            "{error}"
        );
    }

    #[test]
    fn keys_of_other_types_are_read_and_a_damaged_ed25519_key_is_an_error() {
        let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHto1nKZq5yvev2KTxs8L/TJSFexYarkehVx7FYbJnM5XRn23FQwS9OeKjkcrcKT+RF8vty1dIn58W6Fdz/RINc=";
        let text = format!("eve {ecdsa}\nalice {ALICE}\n");
        let signers = AllowedSigners::parse(Path::new("allowed"), &text).unwrap();
        assert_eq!(
            signers.lookup(&key(), "drbook-journal"),
            Lookup::Allowed(vec!["alice".into()])
        );
        let damaged = format!("alice {}\n", ALICE.replace("AAAAC3", "AAAAC4"));
        let error = AllowedSigners::parse(Path::new("allowed"), &damaged)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`allowed` line 1: the key `ssh-ed25519"),
            "{error}"
        );
    }
}
