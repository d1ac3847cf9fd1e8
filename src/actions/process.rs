//! A `/bin/sh -c` child in its own process group, and stopping all of it.
//!
//! A command a runbook runs may start children of its own (`kubectl … &`, a pipeline, a
//! `sleep`). Killing only the shell would leave them running after drbook has moved on,
//! or after it has exited, so every command gets its own process group and is stopped as
//! a group: SIGTERM first, so it can clean up, then SIGKILL after a grace period. A
//! process that leaves the group on purpose (`setsid`, a daemon) escapes this.
//!
//! Every group is also tied to drbook's own life (see `lifeline`): when drbook dies,
//! even by SIGKILL, whatever is left of its groups is killed at once, so a resume
//! started right after a crash never runs beside a survivor of the crashed run.
//!
//! Signals go through `nix` rather than raw `libc`: the same calls, but safe wrappers
//! with typed errors. The only `unsafe` is in `vfork`, which must run code in the child
//! between the clone and `exec`, and in `child`, which waits for it through a pidfd.
//!
//! Just over 600 lines, of which the tail is tests of stopping a group; the start itself
//! lives in `vfork` and `child`, so nothing here is left to split by concept.

use std::ffi::OsString;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::unix::pipe;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::child::Child;
use super::execute::{ActionError, ActionEvent};
use super::lifeline::{self, Registration};
use super::vfork::Launch;
use crate::journal::event::Stream;

/// How long a process group gets between SIGTERM and SIGKILL.
pub(crate) const TERM_GRACE: Duration = Duration::from_secs(3);

/// How long to wait for a group to vanish after SIGKILL. Only a process stuck in the
/// kernel (uninterruptible I/O) takes longer; drbook then stops waiting for it.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// How long to go on reading the pipes once the group is gone. Only a process that left
/// the group (`setsid`) yet kept the command's stdout or stderr can hold them open longer.
const DRAIN: Duration = Duration::from_secs(1);

/// How often to look whether a group is gone: liveness of a group can only be polled.
const POLL: Duration = Duration::from_millis(20);

/// How a supervised command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Exited(ExitStatus),
    /// The deadline passed while it ran; it was stopped.
    DeadlinePassed,
    /// The cancellation token fired; it was stopped.
    Cancelled,
}

/// Runs a spawned command to its end: reports every output line as it comes (stdout and
/// stderr read concurrently), stops the group on cancellation or at `deadline`, and once
/// the shell has exited stops whatever it left running in its group. Returns when nothing
/// of the command runs any more.
pub(crate) async fn supervise(
    mut child: GroupChild,
    mut pipes: Pipes,
    cancel: &CancellationToken,
    deadline: Option<Instant>,
    mut on_event: impl FnMut(ActionEvent),
) -> Result<Ending, ActionError> {
    let mut stdout_open = true;
    let mut stderr_open = true;
    let deadline_passed = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline_passed);

    let ending = loop {
        tokio::select! {
            () = cancel.cancelled() => {
                child.terminate(TERM_GRACE).await;
                return Ok(Ending::Cancelled);
            }
            () = &mut deadline_passed => {
                child.terminate(TERM_GRACE).await;
                break Ending::DeadlinePassed;
            }
            line = pipes.stdout.next_line(), if stdout_open => match line? {
                Some(line) => on_event(ActionEvent::Output { stream: Stream::Stdout, line }),
                None => stdout_open = false,
            },
            line = pipes.stderr.next_line(), if stderr_open => match line? {
                Some(line) => on_event(ActionEvent::Output { stream: Stream::Stderr, line }),
                None => stderr_open = false,
            },
            status = child.wait() => break Ending::Exited(status?),
        }
    };

    // Background processes of a finished command would keep running unseen, and would
    // keep its pipes open so the step never ends: a step leaves nothing running.
    if matches!(ending, Ending::Exited(_)) && child.group_alive() {
        on_event(ActionEvent::Progress(
            "the command exited but processes it started in the background are still running; stopping them"
                .to_string(),
        ));
        child.terminate(TERM_GRACE).await;
    }

    // What the command wrote just before it ended may still be in the pipes.
    let drain = tokio::time::sleep(DRAIN);
    tokio::pin!(drain);
    while stdout_open || stderr_open {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = &mut drain => {
                on_event(ActionEvent::Progress(
                    "stopped reading the command's output: a process that left its process group still holds stdout or stderr open"
                        .to_string(),
                ));
                break;
            }
            line = pipes.stdout.next_line(), if stdout_open => match line? {
                Some(line) => on_event(ActionEvent::Output { stream: Stream::Stdout, line }),
                None => stdout_open = false,
            },
            line = pipes.stderr.next_line(), if stderr_open => match line? {
                Some(line) => on_event(ActionEvent::Output { stream: Stream::Stderr, line }),
                None => stderr_open = false,
            },
        }
    }
    Ok(ending)
}

/// A running `/bin/sh -c` in its own process group.
pub(crate) struct GroupChild {
    child: Child,
    pgid: Pid,
    status: Option<ExitStatus>,
    /// Set once no process of the group is left, so `Drop` signals nobody: a group id
    /// can be reused once its group is empty.
    gone: bool,
    /// The group's registration with drbook's watchdog, given up when this is dropped
    /// (after `Drop` has killed whatever was left of the group).
    _lifeline: Registration,
}

/// The pipes of a started child.
pub(crate) struct Pipes {
    pub stdout: LineReader<pipe::Receiver>,
    pub stderr: LineReader<pipe::Receiver>,
}

/// Why a child could not be started.
#[derive(Debug)]
pub(crate) enum SpawnError {
    /// The working directory is missing: nothing was started.
    NoWorkdir(PathBuf),
    /// `exec` failed (missing program, no permission).
    Spawn(std::io::Error),
}

impl SpawnError {
    /// The error as the `shell` and `wait` actions report it.
    pub(crate) fn into_action_error(
        self,
        spawn: impl FnOnce(std::io::Error) -> ActionError,
    ) -> ActionError {
        match self {
            SpawnError::NoWorkdir(path) => ActionError::NoWorkdir { path },
            SpawnError::Spawn(source) => spawn(source),
        }
    }
}

impl GroupChild {
    /// Starts `/bin/sh -c script` in `cwd` in a new process group, with `env` added to the
    /// environment, stdin from /dev/null (a command must never wait for input that will not
    /// come) and stdout and stderr piped.
    pub(crate) fn spawn(
        script: &str,
        cwd: &Path,
        env: &[(String, String)],
    ) -> Result<(GroupChild, Pipes), ActionError> {
        let (program, args): (&str, Vec<OsString>) = match plain_command(script) {
            Some(words) => (words[0], words[1..].iter().map(OsString::from).collect()),
            None => ("/bin/sh", vec!["-c".into(), script.into()]),
        };
        Self::spawn_command(
            Path::new(program),
            args,
            cwd,
            std::env::vars_os().collect(),
            env,
            None,
        )
        .map_err(|e| e.into_action_error(|source| ActionError::Spawn { source }))
    }

    /// Starts `program` with `args` directly (no shell), like `spawn` otherwise: own
    /// process group, stdin from /dev/null, stdout and stderr piped. For actions that run
    /// a tool (etcdctl) with arguments they built, where a shell would only add quoting
    /// to get wrong. The error is the raw spawn error, so the caller can name the tool.
    /// The program inherits `hold` (a staging lock), and no other descriptor of drbook's.
    pub(crate) fn spawn_program(
        program: &Path,
        args: &[OsString],
        cwd: &Path,
        env: &[(String, String)],
        hold: Option<BorrowedFd<'_>>,
    ) -> Result<(GroupChild, Pipes), SpawnError> {
        let inherited = std::env::vars_os().collect();
        Self::spawn_command(program, args.to_vec(), cwd, inherited, env, hold)
    }

    /// Like `spawn_program`, but the program sees only the variables of drbook's own
    /// environment named in `inherit` plus `env`: for tools (restic, rclone) whose
    /// behaviour changes with variables an operator's shell may carry by accident
    /// (`AWS_CA_BUNDLE`, `RESTIC_REPOSITORY`, `AWS_PROFILE`, another store's keys).
    pub(crate) fn spawn_program_isolated(
        program: &Path,
        args: &[OsString],
        cwd: &Path,
        inherit: &[&str],
        env: &[(String, String)],
        hold: Option<BorrowedFd<'_>>,
    ) -> Result<(GroupChild, Pipes), SpawnError> {
        let inherited = inherit
            .iter()
            .filter_map(|name| std::env::var_os(name).map(|value| ((*name).into(), value)))
            .collect();
        Self::spawn_command(program, args.to_vec(), cwd, inherited, env, hold)
    }

    /// Starts `program` with the environment `inherited` plus `env` (which wins).
    fn spawn_command(
        program: &Path,
        args: Vec<OsString>,
        cwd: &Path,
        inherited: Vec<(OsString, OsString)>,
        env: &[(String, String)],
        hold: Option<BorrowedFd<'_>>,
    ) -> Result<(GroupChild, Pipes), SpawnError> {
        if !cwd.is_dir() {
            return Err(SpawnError::NoWorkdir(cwd.to_path_buf()));
        }
        let mut environment: Vec<(OsString, OsString)> = inherited
            .into_iter()
            .filter(|(key, _)| !env.iter().any(|(k, _)| key == k.as_str()))
            .collect();
        environment.extend(env.iter().map(|(k, v)| (k.into(), v.into())));
        let launch = Launch {
            program: program.as_os_str().to_owned(),
            args,
            cwd: cwd.to_path_buf(),
            env: environment,
        };
        let (started, registration) = lifeline::spawn(launch, hold).map_err(SpawnError::Spawn)?;
        let pid = started.pid;
        let child = GroupChild {
            child: Child::new(pid).map_err(SpawnError::Spawn)?,
            pgid: Pid::from_raw(pid),
            status: None,
            gone: false,
            _lifeline: registration,
        };
        let pipes = Pipes {
            stdout: LineReader::new(
                pipe::Receiver::from_owned_fd(started.stdout).map_err(SpawnError::Spawn)?,
            ),
            stderr: LineReader::new(
                pipe::Receiver::from_owned_fd(started.stderr).map_err(SpawnError::Spawn)?,
            ),
        };
        Ok((child, pipes))
    }

    /// Waits for the shell to exit. Cancel-safe, for use in `select!`.
    pub(crate) async fn wait(&mut self) -> Result<ExitStatus, ActionError> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = self
            .child
            .wait()
            .await
            .map_err(|source| ActionError::Io { source })?;
        self.status = Some(status);
        Ok(status)
    }

    /// True while any process of the group is left (the shell, or anything it started).
    pub(crate) fn group_alive(&mut self) -> bool {
        if self.gone {
            return false;
        }
        self.reap();
        // Until the shell is reaped, its zombie keeps the group (and its id) alive.
        if self.status.is_none() {
            return true;
        }
        if !group_has_live_member(self.pgid) {
            self.gone = true;
        }
        !self.gone
    }

    /// Stops the whole group: SIGTERM, then SIGKILL if anything is left after `grace`.
    /// Returns once nothing of it runs any more (or, for a process stuck in the kernel,
    /// after a bounded wait).
    pub(crate) async fn terminate(&mut self, grace: Duration) {
        self.signal(Signal::SIGTERM);
        if self.wait_gone(grace).await {
            return;
        }
        self.signal(Signal::SIGKILL);
        self.wait_gone(KILL_WAIT).await;
    }

    fn signal(&mut self, signal: Signal) {
        if self.gone {
            return;
        }
        if let Err(Errno::ESRCH) = killpg(self.pgid, signal) {
            self.reap();
            if self.status.is_some() {
                self.gone = true;
            }
        }
    }

    async fn wait_gone(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if !self.group_alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn reap(&mut self) {
        if self.status.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.status = Some(status);
        }
    }
}

impl Drop for GroupChild {
    /// The action's future was dropped while its command ran (the engine gave up on it,
    /// or drbook is exiting): kill the whole group rather than leave it behind.
    fn drop(&mut self) {
        if !self.gone {
            let _ = killpg(self.pgid, Signal::SIGKILL);
        }
    }
}

/// Whether any process of group `pgid` is still alive.
///
/// A dead process stays a zombie until its parent reaps it. The command's own children
/// are orphaned when the shell dies and passed to PID 1, and a PID 1 that does not reap
/// (drbook itself as a container's entrypoint, some sandboxes) keeps them as zombies for
/// good, so "the group still has members" is not enough: on Linux, members that are all
/// zombies count as gone.
fn group_has_live_member(pgid: Pid) -> bool {
    match killpg(pgid, None) {
        Err(Errno::ESRCH) => false,
        _ => live_member_in_proc(pgid).unwrap_or(true),
    }
}

/// Scans /proc for a process of group `pgid` that is not a zombie; `None` when /proc
/// cannot be read (not Linux), so the caller assumes the group is alive.
fn live_member_in_proc(pgid: Pid) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // The process may have vanished since the listing: then it is not alive.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((state, group)) = parse_stat(&stat)
            && group == pgid.as_raw()
            && state != 'Z'
            && state != 'X'
        {
            return Some(true);
        }
    }
    Some(false)
}

/// The state and process group from `/proc/<pid>/stat`: `pid (comm) state ppid pgrp …`,
/// where `comm` may itself contain spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(char, i32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Reads a pipe line by line, as lossy UTF-8 without the line ending.
pub(crate) struct LineReader<R> {
    reader: BufReader<R>,
    /// Bytes of the line being read. Kept across calls, which is what makes
    /// `next_line` cancel-safe: a `select!` that drops it loses nothing.
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(reader: R) -> Self {
        LineReader {
            reader: BufReader::new(reader),
            buf: Vec::new(),
        }
    }

    /// The next line, or `None` at the end. Cancel-safe.
    pub(crate) async fn next_line(&mut self) -> Result<Option<String>, ActionError> {
        let read = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .await
            .map_err(|source| ActionError::Io { source })?;
        if read == 0 && self.buf.is_empty() {
            return Ok(None);
        }
        let mut bytes = std::mem::take(&mut self.buf);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// True while `pid` runs. A zombie has finished running; it only waits for a parent
    /// that reaps it, and under a PID 1 that never reaps it would wait forever.
    pub(crate) fn is_running(pid: i32) -> bool {
        if let Err(Errno::ESRCH) = nix::sys::signal::kill(Pid::from_raw(pid), None) {
            return false;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !matches!(parse_stat(&stat), Some(('Z' | 'X', _))),
            Err(_) => false,
        }
    }

    /// Polls for `path` to hold a complete pid (written with a trailing newline), within a
    /// bounded deadline.
    pub(crate) async fn wait_for_pids(path: &Path, count: usize) -> Vec<i32> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && text.ends_with('\n')
                && text.lines().count() >= count
            {
                return text.lines().map(|l| l.trim().parse().unwrap()).collect();
            }
            assert!(
                Instant::now() < deadline,
                "{} did not appear in time",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        assert_eq!(
            parse_stat("42 (my (odd) cmd) S 1 42 42 0 -1"),
            Some(('S', 42))
        );
        assert_eq!(parse_stat("7 (sleep) Z 1 5 5"), Some(('Z', 5)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[tokio::test]
    async fn a_group_that_ignores_sigterm_is_killed_after_the_grace_period() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = format!(
            "trap '' TERM; sleep 30 & echo $$ >> '{0}'; echo $! >> '{0}'; wait",
            pids.display()
        );
        let (mut child, _pipes) = GroupChild::spawn(&script, dir.path(), &[]).unwrap();
        let pids = wait_for_pids(&pids, 2).await;

        let started = Instant::now();
        child.terminate(Duration::from_millis(200)).await;
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(!child.group_alive());
        for pid in pids {
            assert!(!is_running(pid), "process {pid} survived");
        }
    }

    #[test]
    fn a_missing_workdir_is_refused_before_spawning() {
        let err = match GroupChild::spawn("true", &PathBuf::from("/nonexistent/dir"), &[]) {
            Err(err) => err.to_string(),
            Ok(_) => panic!("spawned in a missing directory"),
        };
        assert_eq!(
            err,
            "working directory `/nonexistent/dir` does not exist or is not a directory"
        );
    }
}

/// The words of a command line that needs no shell: no quoting, expansion, redirection,
/// operators, globbing or assignments, and an absolute path to an executable file as its
/// program. Running such a line directly does exactly what `/bin/sh -c` would, with one
/// process start fewer (GNU make does the same); on a run of many short steps the shell's
/// start-up is most of the cost.
fn plain_command(script: &str) -> Option<Vec<&str>> {
    use std::os::unix::fs::PermissionsExt;
    const SHELL_SYNTAX: &[char] = &[
        '$', '`', '"', '\'', '\\', '|', '&', ';', '<', '>', '(', ')', '{', '}', '[', ']', '*', '?',
        '~', '#', '=', '%', '!', '\n', '\r',
    ];
    if script.contains(SHELL_SYNTAX) {
        return None;
    }
    let words: Vec<&str> = script.split_ascii_whitespace().collect();
    let program = Path::new(words.first()?);
    let executable = program.is_absolute()
        && std::fs::metadata(program)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    // The shell runs an executable text file without `#!` as a shell script; exec would
    // refuse it. Only binaries and `#!` scripts are started directly.
    let mut magic = [0u8; 4];
    let startable = executable
        && std::fs::File::open(program)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok_and(|()| magic == *b"\x7fELF" || magic.starts_with(b"#!"));
    startable.then_some(words)
}

#[cfg(test)]
mod plain_command_tests {
    use super::plain_command;

    #[test]
    fn only_lines_without_shell_syntax_skip_the_shell() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script_without_shebang = dir.path().join("script");
        std::fs::write(&script_without_shebang, "echo hi\n").unwrap();
        std::fs::set_permissions(
            &script_without_shebang,
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        assert_eq!(plain_command("/bin/true"), Some(vec!["/bin/true"]));
        assert_eq!(
            plain_command("  /bin/echo a  b "),
            Some(vec!["/bin/echo", "a", "b"])
        );
        for needs_shell in [
            "true",
            "/bin/echo $HOME",
            "/bin/echo a > f",
            "/bin/true && /bin/false",
            "FOO=1 /bin/env",
            "/bin/echo 'a b'",
            "/bin/ls *",
            "/no/such/program",
            script_without_shebang.to_str().unwrap(),
            "/bin/echo a\n/bin/echo b",
            "",
        ] {
            assert_eq!(plain_command(needs_shell), None, "{needs_shell:?}");
        }
    }
}
