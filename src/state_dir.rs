//! Where run records live: `<state dir>/runs/<run id>/`.
//!
//! The state directory is `--state-dir`, else `$DRBOOK_STATE_DIR`, else
//! `$XDG_STATE_HOME/drbook`, else `~/.local/state/drbook`.

use std::path::{Path, PathBuf};

use chrono::Utc;

/// The files of one run.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

impl RunDir {
    pub fn journal(&self) -> PathBuf {
        self.path.join("journal.jsonl")
    }
    /// The exact bytes of the runbook the run started with.
    pub fn runbook(&self) -> PathBuf {
        self.path.join("runbook.yaml")
    }
    pub fn runbook_sha256(&self) -> PathBuf {
        self.path.join("runbook.sha256")
    }
    /// The work directory commands run in unless a step says otherwise.
    pub fn workdir(&self) -> PathBuf {
        self.path.join("work")
    }
}

/// Resolves the state directory; `None` when no home can be found either.
pub fn resolve(flag: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("DRBOOK_STATE_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = env("XDG_STATE_HOME") {
        return Ok(dir.join("drbook"));
    }
    if let Some(home) = env("HOME") {
        return Ok(home.join(".local/state/drbook"));
    }
    Err("cannot find a state directory: set --state-dir or $DRBOOK_STATE_DIR".into())
}

pub fn run_dir(state_dir: &Path, id: &str) -> RunDir {
    RunDir {
        id: id.to_string(),
        path: state_dir.join("runs").join(id),
    }
}

/// A new run id: UTC time (sorts by start) and 6 random hex digits (unique when two runs
/// start in the same second).
pub fn new_run_id() -> String {
    let mut random = [0u8; 3];
    // /dev/urandom always exists on the Linux hosts drbook runs on; should it not, the
    // process id still separates concurrent runs.
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .is_err()
    {
        random.copy_from_slice(&std::process::id().to_be_bytes()[1..]);
    }
    format!(
        "{}-{:02x}{:02x}{:02x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        random[0],
        random[1],
        random[2]
    )
}

/// A run id chosen by automation (`--run-id`) becomes a directory name: it must not be
/// able to point anywhere else.
pub fn check_run_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "run id `{id}` is not usable: use 1 to 128 letters, digits, `-`, `_` or `.`, not starting with `.`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time_and_refuse_paths() {
        let id = new_run_id();
        assert_eq!(id.len(), "20261124T071000Z-abcdef".len());
        assert!(check_run_id(&id).is_ok());
        for bad in ["", "../x", ".hidden", "a/b", "a b"] {
            assert!(check_run_id(bad).is_err(), "{bad}");
        }
    }
}
