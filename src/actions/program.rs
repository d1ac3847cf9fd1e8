//! Running an external tool an action drives (restic, rclone): found on the PATH or
//! named by the runbook, started without a shell in a process group of its own (so
//! cancelling the step stops it, see `process`, and drbook's death kills it, see
//! `lifeline`), and in an environment drbook controls.
//!
//! The environment is built, not inherited: the tool sees a few harmless variables of
//! drbook's own (`INHERITED`) and what the action passes. An operator's shell at 3 a.m.
//! may carry `AWS_CA_BUNDLE`, `AWS_PROFILE`, `RESTIC_REPOSITORY` or another store's
//! keys, and a tool that silently picks them up talks to the wrong place or fails in a
//! way nobody can explain (rclone cannot reach a plain-HTTP endpoint when
//! `AWS_CA_BUNDLE` is set, for one).
//!
//! stderr lines become the step's log as they come; stdout is kept for the action to
//! parse, and logged only when the action asks (JSON listings would flood the log).

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;

use nix::unistd::{AccessFlags, access};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::execute::{ActionError, ActionEvent};
use super::process::{self, Ending, GroupChild, SpawnError};
use super::shell::shorten;
use super::staging_lock::StagingLock;
use crate::journal::event::Stream;

/// How many stderr lines a failure message quotes.
pub(crate) const STDERR_TAIL_LINES: usize = 5;

/// The variables of drbook's own environment a tool still sees: where programs and the
/// user's cache are, temporary files, language and time zone. Nothing that selects a
/// repository, an endpoint, credentials or certificates.
const INHERITED: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "TZ",
    "XDG_CACHE_HOME",
];

/// Where a tool run reports, what stops it, and what it holds.
#[derive(Clone)]
pub(crate) struct Reporter {
    pub cancel: CancellationToken,
    pub events: UnboundedSender<ActionEvent>,
    /// Put before each logged line, e.g. `[m0] ` when members are restored at once.
    pub prefix: String,
    /// The lock of the staging directory the tool writes into, which the tool inherits
    /// and so holds while it runs (see `staging_lock`); `None` for a tool that writes
    /// into no staging directory.
    pub hold: Option<Arc<StagingLock>>,
}

impl Reporter {
    pub(crate) fn emit(&self, event: ActionEvent) {
        let _ = self.events.send(event);
    }

    pub(crate) fn progress(&self, text: impl Into<String>) {
        self.emit(ActionEvent::Progress(text.into()));
    }
}

/// A located tool binary.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    /// The tool's name for messages: `restic`, `rclone`.
    pub name: &'static str,
    pub path: PathBuf,
}

impl Program {
    /// The binary named by the step (`given`: a path, relative to the work directory, or
    /// a name looked up on the PATH), else `name` on the PATH. `install` says how to get
    /// it, for the error when it is missing.
    pub(crate) fn locate(
        name: &'static str,
        given: Option<&str>,
        workdir: &Path,
        install: &'static str,
    ) -> Result<Program, ActionError> {
        let path = match given {
            Some(given) if given.contains('/') => {
                let path = workdir.join(given);
                if !path.is_file() {
                    return Err(ActionError::ProgramMissing {
                        name,
                        looked_for: path.display().to_string(),
                        install,
                    });
                }
                path
            }
            Some(other) => on_path(other).ok_or_else(|| ActionError::ProgramMissing {
                name,
                looked_for: format!("`{other}` on the PATH"),
                install,
            })?,
            None => on_path(name).ok_or_else(|| ActionError::ProgramMissing {
                name,
                looked_for: format!("`{name}` on the PATH"),
                install,
            })?,
        };
        Ok(Program { name, path })
    }
}

/// `name` found in a directory of the PATH.
pub(crate) fn on_path(name: &str) -> Option<PathBuf> {
    search_path(name, &std::env::var_os("PATH")?)
}

/// The first `dir/name` in the PATH-style list `path` that this user may execute, as a
/// shell picks it: a file without the execute bit (a copied binary that lost its mode,
/// a README named like the tool) or a directory of that name is skipped, not started
/// to fail with "permission denied".
fn search_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file() && access(p.as_path(), AccessFlags::X_OK).is_ok())
}

/// How a tool run ended, for the action to judge: restic and rclone say different
/// things with the same exit status.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    /// The last `STDERR_TAIL_LINES` lines of stderr, each shortened.
    pub stderr_tail: Vec<String>,
    /// All of stderr, for recognising a tool's messages (restic < 0.17 has no exit
    /// codes for them).
    pub stderr: String,
}

impl Finished {
    pub(crate) fn success(&self) -> bool {
        self.status.success()
    }
}

/// Runs `program args…` in `cwd` with only `env` (and `INHERITED`) in its environment,
/// until it exits or the step is cancelled. stderr is logged line by line; stdout too
/// when `log_stdout`.
pub(crate) async fn run(
    program: &Program,
    args: Vec<OsString>,
    env: &[(String, String)],
    cwd: &Path,
    reporter: &Reporter,
    log_stdout: bool,
) -> Result<Finished, ActionError> {
    run_rendered(program, args, env, cwd, reporter, log_stdout, &|line| {
        Some(line.to_string())
    })
    .await
}

/// Like `run`, but each logged line is first passed through `render`, which may rewrite
/// it for people (rclone's JSON log) or drop it (`None`). `Finished` keeps the lines as
/// the tool wrote them, for the action to parse.
pub(crate) async fn run_rendered(
    program: &Program,
    args: Vec<OsString>,
    env: &[(String, String)],
    cwd: &Path,
    reporter: &Reporter,
    log_stdout: bool,
    render: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Finished, ActionError> {
    if reporter.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let (child, pipes) = GroupChild::spawn_program_isolated(
        &program.path,
        &args,
        cwd,
        INHERITED,
        env,
        reporter.hold.as_deref().map(StagingLock::fd),
    )
    .map_err(|e| match e {
        SpawnError::NoWorkdir(path) => ActionError::NoWorkdir { path },
        SpawnError::Spawn(source) => ActionError::ProgramStart {
            name: program.name,
            program: program.path.display().to_string(),
            source,
        },
    })?;
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut stderr_tail = VecDeque::with_capacity(STDERR_TAIL_LINES);
    let ending = process::supervise(child, pipes, &reporter.cancel, None, |event| {
        if let ActionEvent::Output { stream, line } = event {
            let log = match stream {
                Stream::Stdout => {
                    stdout.push_str(&line);
                    stdout.push('\n');
                    log_stdout
                }
                Stream::Stderr => {
                    stderr.push_str(&line);
                    stderr.push('\n');
                    if stderr_tail.len() == STDERR_TAIL_LINES {
                        stderr_tail.pop_front();
                    }
                    stderr_tail.push_back(shorten(&line));
                    true
                }
            };
            if let Some(shown) = render(&line).filter(|_| log) {
                reporter.emit(ActionEvent::Output {
                    stream,
                    line: format!("{}{shown}", reporter.prefix),
                });
            }
        } else {
            reporter.emit(event);
        }
    })
    .await?;
    match ending {
        Ending::Exited(status) => Ok(Finished {
            status,
            stdout,
            stderr_tail: stderr_tail.into(),
            stderr,
        }),
        Ending::DeadlinePassed | Ending::Cancelled => Err(ActionError::Cancelled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    fn reporter() -> Reporter {
        Reporter {
            cancel: CancellationToken::new(),
            events: unbounded_channel().0,
            prefix: String::new(),
            hold: None,
        }
    }

    #[test]
    fn the_path_search_skips_what_cannot_be_executed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
        let [not_executable, directory, executable, later] = dirs.as_slice() else {
            unreachable!()
        };
        let file = |dir: &tempfile::TempDir, mode: u32| {
            let path = dir.path().join("restic");
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            path
        };
        file(not_executable, 0o644);
        std::fs::create_dir(directory.path().join("restic")).unwrap();
        let wanted = file(executable, 0o755);
        file(later, 0o755);
        let path = std::env::join_paths(dirs.iter().map(|d| d.path())).unwrap();
        assert_eq!(search_path("restic", &path), Some(wanted));

        let only_unusable = std::env::join_paths([not_executable.path(), directory.path()]);
        assert_eq!(search_path("restic", &only_unusable.unwrap()), None);
    }

    #[tokio::test]
    async fn a_tool_sees_only_the_environment_it_is_given() {
        // cargo sets this for the test process; the tool must not see it.
        assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
        let env_program = Program::locate("env", None, Path::new("/"), "coreutils").unwrap();
        let finished = run(
            &env_program,
            Vec::new(),
            &[("GIVEN".into(), "yes".into())],
            Path::new("/"),
            &reporter(),
            false,
        )
        .await
        .unwrap();
        assert!(finished.success());
        assert!(
            finished.stdout.contains("GIVEN=yes\n"),
            "{}",
            finished.stdout
        );
        assert!(finished.stdout.contains("PATH="), "{}", finished.stdout);
        assert!(
            !finished.stdout.contains("CARGO_MANIFEST_DIR"),
            "{}",
            finished.stdout
        );
    }

    #[test]
    fn a_missing_tool_says_how_to_install_it() {
        let err = Program::locate(
            "restic",
            Some("no-such-restic-binary"),
            Path::new("/"),
            "apt-get install restic",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "restic not found (looked for `no-such-restic-binary` on the PATH); install it (apt-get install restic) or name the binary in the step"
        );
    }
}
