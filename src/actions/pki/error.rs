//! Why a PKI action did not succeed. A PKI that fails its checks is one error that lists
//! every finding on its own line (file, problem, fix), because an operator fixing a
//! control plane at night wants the whole list at once. No message ever holds key
//! material: findings name files and fingerprints, never contents.

use std::path::PathBuf;

use super::finding::{Finding, count, list};

/// A failed PKI action.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error("`{}` (parameter `{param}`) {problem}", path.display())]
    Dir {
        param: &'static str,
        path: PathBuf,
        problem: String,
    },

    #[error(
        "`{}` holds no PKI in the {given} layout ({missing} missing), but it holds one in the {found} layout; set `{param}: {found}`",
        path.display()
    )]
    WrongLayout {
        param: &'static str,
        path: PathBuf,
        given: &'static str,
        found: &'static str,
        /// The files the given layout lacks, e.g. "`ca.crt`, `ca.key` are".
        missing: String,
    },

    #[error(
        "the PKI in `{}` does not pass verification ({}):\n{}",
        dir.display(), count(findings), list(findings)
    )]
    Failed {
        dir: PathBuf,
        findings: Vec<Finding>,
    },

    #[error(
        "refusing to restore from `{}`: a backup must hold real files inside it; nothing was changed ({}):\n{}",
        from.display(), count(findings), list(findings)
    )]
    UnsafeSource {
        from: PathBuf,
        findings: Vec<Finding>,
    },

    #[error(
        "refusing to restore from `{}`: it does not pass verification; nothing in `{}` was changed ({}):\n{}",
        from.display(), to.display(), count(findings), list(findings)
    )]
    SourceFailed {
        from: PathBuf,
        to: PathBuf,
        findings: Vec<Finding>,
    },

    #[error(
        "refusing to install into `{}`: nothing was changed ({}):\n{}",
        to.display(), count(findings), list(findings)
    )]
    UnsafeDestination { to: PathBuf, findings: Vec<Finding> },

    #[error("could not {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "installing `{file}` failed: {source}; {}. Each file is replaced atomically, so running the step again is safe",
        if installed.is_empty() { "no file was replaced".to_string() } else { format!("already installed: {}", installed.join(", ")) }
    )]
    Install {
        file: String,
        installed: Vec<String>,
        #[source]
        source: Box<PkiError>,
    },
}
