//! Where run records live, and the one owner of a run's directory:
//! `<state dir>/runs/<run id>/` holds the runbook's exact bytes, their SHA-256, the
//! journal, the lock and the work directory.
//!
//! The state directory is `--state-dir`, else `$DRBOOK_STATE_DIR`, else
//! `$XDG_STATE_HOME/drbook`, else `~/.local/state/drbook`; it is resolved once per
//! command. Records hold step output (member lists, PKI findings, backup names,
//! whatever a shell step printed), so they are the owner's alone, as kubectl and ssh
//! treat their files: directories 0700, files 0600.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::app_error::AppError;
use crate::journal::{Journal, JournalWriter, RunLock, reader};

/// Mode of every directory of a run record.
const PRIVATE_DIR: u32 = 0o700;
/// Mode of every file of a run record.
pub(crate) const PRIVATE_FILE: u32 = 0o600;

/// The resolved state directory of this command.
#[derive(Debug, Clone)]
pub struct StateDir {
    pub path: PathBuf,
    /// Whether a pasted `drbook resume ID` would find this directory by itself.
    is_default: bool,
}

impl StateDir {
    /// Resolves the state directory from the flag and the environment.
    pub fn resolve(flag: Option<&Path>) -> Result<StateDir, AppError> {
        let env = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let default = env("XDG_STATE_HOME")
            .map(|d| d.join("drbook"))
            .or_else(|| env("HOME").map(|h| h.join(".local/state/drbook")));
        let path = flag
            .map(Path::to_path_buf)
            .or_else(|| env("DRBOOK_STATE_DIR"))
            .or_else(|| default.clone())
            .ok_or_else(|| {
                AppError::usage(
                    "cannot find a state directory (no $HOME): pass `--state-dir DIR` or set $DRBOOK_STATE_DIR",
                )
            })?;
        let is_default = default.is_some_and(|d| same_dir(&d, &path));
        Ok(StateDir { path, is_default })
    }

    /// A warning when the existing state directory can be read or written by others.
    pub fn loose_permissions(&self) -> Option<String> {
        let mode = std::fs::metadata(&self.path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "the state directory {} is accessible to other users (mode {:o}); run records hold step output: `chmod 700 {}`",
                self.path.display(),
                mode & 0o777,
                self.path.display()
            )
        })
    }

    /// The run directory of `id`, after checking the id cannot point anywhere else.
    pub fn run(&self, id: &str) -> Result<RunDir, AppError> {
        check_run_id(id)?;
        Ok(RunDir {
            id: id.to_string(),
            path: self.path.join("runs").join(id),
        })
    }

    /// The ids of every run directory, sorted (ids start with their UTC start time).
    pub fn run_ids(&self) -> Result<Vec<String>, AppError> {
        let runs = self.path.join("runs");
        let mut ids: Vec<String> = match std::fs::read_dir(&runs) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(AppError::unreadable(runs, &e)),
        };
        ids.sort();
        Ok(ids)
    }

    /// The exact command that continues `id`, ready to paste.
    pub fn resume_command(&self, id: &str) -> String {
        if self.is_default {
            format!("drbook resume {id}")
        } else {
            // Absolute, so the command works from any directory it is pasted in.
            let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
            format!("drbook resume {id} --state-dir {}", path.display())
        }
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    absolute(a) == absolute(b)
}

/// The files of one run.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

/// A run directory opened for writing: locked, its journal read and verified.
pub struct OpenRun {
    pub dir: RunDir,
    pub lock: RunLock,
    pub journal: Journal,
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

    /// Creates the run directory with the runbook's exact bytes, its hash, the work
    /// directory, the lock and an empty journal. Refuses an existing run.
    pub fn create(&self, bytes: &[u8], sha256: &str) -> Result<(RunLock, JournalWriter), AppError> {
        if self.path.exists() {
            let state = self.path.parent().and_then(Path::parent);
            return Err(AppError::refused(format!(
                "run `{}` already exists in {}; choose another `--run-id`, or continue it with `drbook resume {}`",
                self.id,
                state.map_or_else(String::new, |s| s.display().to_string()),
                self.id
            )));
        }
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            AppError::failed(format!("cannot {what} in `{}`: {e}", self.path.display()))
        };
        private_dir(&self.path).map_err(|e| fail("create the run directory", &e))?;
        let lock = RunLock::acquire(&self.path, &self.id)?;
        write_durably(&self.runbook(), bytes).map_err(|e| fail("copy the runbook", &e))?;
        write_durably(
            &self.runbook_sha256(),
            format!("{sha256}  runbook.yaml\n").as_bytes(),
        )
        .map_err(|e| fail("write the runbook hash", &e))?;
        private_dir(&self.workdir()).map_err(|e| fail("create the work directory", &e))?;
        // The journal syncs the run directory when it creates its file; the `runs/<id>`
        // entry itself lives in `runs/`, which is synced here.
        if let Some(runs) = self.path.parent() {
            std::fs::File::open(runs)
                .and_then(|d| d.sync_all())
                .map_err(|e| fail("sync the runs directory", &e))?;
        }
        let writer = JournalWriter::create(&self.journal())?;
        Ok((lock, writer))
    }

    /// Opens an existing run to continue it: it exists, no other process writes it,
    /// and its journal verifies.
    pub fn open(self, state: &StateDir) -> Result<OpenRun, AppError> {
        self.must_exist(state)?;
        let lock = RunLock::acquire(&self.path, &self.id)?;
        let journal = reader::read(&self.journal())?;
        Ok(OpenRun {
            dir: self,
            lock,
            journal,
        })
    }

    /// Reads an existing run without taking it: its verified journal, and whether
    /// another process is writing it right now.
    pub fn inspect(&self, state: &StateDir) -> Result<(Journal, bool), AppError> {
        self.must_exist(state)?;
        let journal = reader::read(&self.journal())?;
        Ok((journal, self.is_locked()))
    }

    /// True while another process holds the run's lock.
    pub fn is_locked(&self) -> bool {
        std::fs::File::open(self.path.join("lock"))
            .map(|f| matches!(f.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)))
            .unwrap_or(false)
    }

    fn must_exist(&self, state: &StateDir) -> Result<(), AppError> {
        if self.journal().is_file() {
            Ok(())
        } else {
            Err(AppError::NoSuchRun {
                id: self.id.clone(),
                state_dir: state.path.clone(),
            })
        }
    }
}

/// Creates `path` and its missing parents as 0700 directories.
fn private_dir(path: &Path) -> std::io::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR)
        .create(path)
}

/// Writes a new 0600 file and fsyncs it: the record must keep the runbook it ran after
/// a crash.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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
fn check_run_id(id: &str) -> Result<(), AppError> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(AppError::usage(format!(
            "run id `{id}` is not usable: use 1 to 128 letters, digits, `-`, `_` or `.`, not starting with `.`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(path: &Path) -> StateDir {
        StateDir {
            path: path.to_path_buf(),
            is_default: false,
        }
    }

    #[test]
    fn run_ids_sort_by_time_and_refuse_paths() {
        let id = new_run_id();
        assert_eq!(id.len(), "20261124T071000Z-abcdef".len());
        assert!(check_run_id(&id).is_ok());
        for bad in ["", "../x", ".hidden", "a/b", "a b"] {
            assert!(check_run_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_new_record_is_readable_by_its_owner_only() {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let state = state(&tmp.path().join("state"));
        let dir = state.run("r1").expect("a valid id");
        let (_lock, _writer) = dir.create(b"runbook", "abc").expect("created");
        let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        for path in [
            &state.path,
            &state.path.join("runs"),
            &dir.path,
            &dir.workdir(),
        ] {
            assert_eq!(mode(path), 0o700, "{}", path.display());
        }
        for path in [
            dir.runbook(),
            dir.runbook_sha256(),
            dir.journal(),
            dir.path.join("lock"),
        ] {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
        assert!(state.loose_permissions().is_none());
        std::fs::set_permissions(&state.path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let warning = state.loose_permissions().expect("a warning");
        assert!(warning.contains("mode 755"), "{warning}");
    }

    #[test]
    fn an_existing_run_is_refused_and_left_alone() {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let state = state(tmp.path());
        let dir = state.run("r1").expect("a valid id");
        drop(dir.create(b"one", "1").expect("created"));
        let again = dir.create(b"two", "2").expect_err("refused");
        assert!(matches!(again, AppError::Refused(_)), "{again:?}");
        assert_eq!(std::fs::read(dir.runbook()).expect("kept"), b"one");
    }

    #[test]
    fn the_resume_hint_names_a_state_dir_that_is_not_the_default() {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        assert_eq!(
            state(tmp.path()).resume_command("r1"),
            format!("drbook resume r1 --state-dir {}", tmp.path().display())
        );
    }
}
