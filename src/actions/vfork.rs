//! Starting a program without copying drbook: `clone(CLONE_VM | CLONE_VFORK)`, as
//! `posix_spawn` does, with drbook's own steps (`lifeline`'s tie) between the clone and
//! the `exec`.
//!
//! `std::process::Command` with a `pre_exec` step has to `fork`: the kernel copies
//! drbook's page tables, write-protects its memory (every page drbook then writes costs a
//! fault) and tears the copy down again at `exec`. On a runbook of short steps that was
//! the largest part of drbook's time per step (about 0.25 ms of 0.42). A `CLONE_VM`
//! child shares drbook's memory instead, and drbook's thread waits (`CLONE_VFORK`) until
//! the child has called `exec` or exited, as `posix_spawn` does.
//!
//! The child runs on a stack of its own in drbook's memory, so until `exec` it may only
//! make system calls: no allocation, no locks, nothing that touches drbook's state. All
//! signals are blocked across the clone, and the child resets every handler drbook
//! installed before it unblocks them, so no handler of drbook's runs in the child. What
//! it reports back (the error of a failed step, whether it registered with the watchdog)
//! it writes into memory drbook reads once the clone has returned.

use std::ffi::{CString, OsStr, OsString, c_char, c_int, c_void};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};

/// What to start: a program, its arguments, directory and complete environment.
pub(crate) struct Launch {
    pub program: OsString,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// The whole environment of the program (nothing else is inherited).
    pub env: Vec<(OsString, OsString)>,
}

/// What the child does before `exec` to tie itself to drbook (see `lifeline`).
#[derive(Clone, Copy)]
pub(crate) struct Tie {
    /// drbook's pid: the child gives up if its parent is already someone else.
    pub drbook: libc::pid_t,
    /// drbook's end of the watchdog's pipe, where the child registers its group.
    pub watchdog: RawFd,
    /// A descriptor the program inherits (a staging lock).
    pub hold: Option<RawFd>,
}

/// A started child: its pid (also its process group) and drbook's ends of its pipes.
pub(crate) struct Started {
    pub pid: libc::pid_t,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// A child that got as far as registering with the watchdog and then failed.
pub(crate) struct Failed {
    pub error: io::Error,
    /// The group the child registered before it failed, to be unregistered.
    pub registered: Option<libc::pid_t>,
}

/// How big the child's stack is: it only makes system calls.
const STACK: usize = 64 * 1024;

/// Everything the child reads, prepared by drbook, and the two things it reports.
struct Setup {
    path: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    stdin: RawFd,
    stdout: RawFd,
    stderr: RawFd,
    tie: Tie,
    /// Written by the child: the errno of the step that failed (0: `exec` ran).
    error: c_int,
    /// Written by the child: it registered its group with the watchdog.
    registered: bool,
}

/// Starts `launch` in a new process group with stdin from /dev/null and stdout and
/// stderr piped, tied to drbook by `tie`. Returns once the program runs (its `exec`
/// succeeded) or the start failed.
pub(crate) fn start(launch: &Launch, tie: Tie) -> Result<Started, Failed> {
    let plain = |error: io::Error| Failed {
        error,
        registered: None,
    };
    let path = resolve(launch).map_err(plain)?;
    let path = cstring(path.as_os_str()).map_err(plain)?;
    let mut argv_owned = vec![cstring(&launch.program).map_err(plain)?];
    for arg in &launch.args {
        argv_owned.push(cstring(arg).map_err(plain)?);
    }
    let mut envp_owned = Vec::with_capacity(launch.env.len());
    for (key, value) in &launch.env {
        let mut pair = key.as_bytes().to_vec();
        pair.push(b'=');
        pair.extend_from_slice(value.as_bytes());
        envp_owned.push(cstring(OsStr::from_bytes(&pair)).map_err(plain)?);
    }
    let argv = pointers(&argv_owned);
    let envp = pointers(&envp_owned);
    let cwd = cstring(launch.cwd.as_os_str()).map_err(plain)?;

    let stdin = std::fs::File::open("/dev/null").map_err(plain)?;
    let (out_read, out_write) = std::io::pipe().map_err(plain)?;
    let (err_read, err_write) = std::io::pipe().map_err(plain)?;
    let mut setup = Setup {
        path: path.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: cwd.as_ptr(),
        stdin: stdin.as_raw_fd(),
        stdout: out_write.as_raw_fd(),
        stderr: err_write.as_raw_fd(),
        tie,
        error: 0,
        registered: false,
    };
    let mut stack = vec![0u8; STACK];
    // The stack grows down from its 16-byte aligned top.
    let top = {
        let end = stack.as_mut_ptr().wrapping_add(STACK);
        end.wrapping_sub(end as usize % 16)
    };

    // No handler of drbook's may run in the child before it has reset them all.
    let mut old = SigSet::empty();
    pthread_sigmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut old),
    )
    .map_err(|e| plain(io::Error::from_raw_os_error(e as i32)))?;
    // SAFETY: `child` makes only system calls and reads `setup`, which, like the
    // strings it points to and the stack, lives until the clone has returned;
    // `CLONE_VFORK` suspends this thread until the child has called `exec` or exited.
    let pid = unsafe {
        libc::clone(
            child,
            top.cast::<c_void>(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&raw mut setup).cast::<c_void>(),
        )
    };
    let cloned = if pid == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    };
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    let pid = cloned.map_err(plain)?;
    // SAFETY: the child is done with `setup`: it has exec'd or exited.
    let (error, registered) = unsafe {
        (
            std::ptr::read_volatile(&raw const setup.error),
            std::ptr::read_volatile(&raw const setup.registered),
        )
    };
    drop((stack, argv, envp, argv_owned, envp_owned, path, cwd));
    drop((stdin, out_write, err_write));
    if error != 0 {
        // The child has exited (or is about to): reap it.
        let mut status = 0;
        // SAFETY: a plain wait for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        return Err(Failed {
            error: io::Error::from_raw_os_error(error),
            registered: registered.then_some(pid),
        });
    }
    Ok(Started {
        pid,
        stdout: OwnedFd::from(out_read),
        stderr: OwnedFd::from(err_read),
    })
}

/// The child, between clone and `exec`. Never returns: it `exec`s or exits with 127,
/// the reason in `setup.error`.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: `start` passes its `Setup`, alive until this child has exec'd or exited.
    let setup = unsafe { &mut *arg.cast::<Setup>() };
    // SAFETY: `prepare_and_exec` makes only system calls on what `setup` names.
    let error = unsafe { prepare_and_exec(setup) };
    // SAFETY: as above; `_exit` ends the child without running anything of drbook's.
    unsafe {
        std::ptr::write_volatile(&raw mut setup.error, error.max(1));
        libc::_exit(127)
    }
}

/// The errno of the last failed call (no allocation).
fn errno() -> c_int {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EINVAL)
}

/// What the child does; returns only on failure, with the errno.
///
/// # Safety
/// Runs in the `CLONE_VM` child: system calls only, on the descriptors and strings
/// `setup` names.
unsafe fn prepare_and_exec(setup: &mut Setup) -> c_int {
    unsafe {
        // drbook's handlers must not run here once signals are unblocked; `exec` would
        // reset them anyway, but only at its end.
        let mut action: libc::sigaction = std::mem::zeroed();
        for signal in 1..65 {
            if libc::sigaction(signal, std::ptr::null(), &mut action) == 0
                && action.sa_sigaction != libc::SIG_DFL
                && action.sa_sigaction != libc::SIG_IGN
            {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &default, std::ptr::null_mut());
            }
        }
        // Its own process group, as `process` stops commands group by group.
        if libc::setpgid(0, 0) != 0 {
            return errno();
        }
        // The tie to drbook (see `lifeline`): the parent-death signal, then trap (b).
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
            return errno();
        }
        if libc::getppid() != setup.tie.drbook {
            return libc::ESRCH;
        }
        let mut line = [0u8; 16];
        let len = super::lifeline::registration_line(libc::getpid(), &mut line);
        // SIGPIPE is blocked, so a watchdog that is gone cannot kill the child here; the
        // parent-death signal still holds. Ignoring SIGPIPE once more drops a pending one.
        let written = libc::write(setup.tie.watchdog, line.as_ptr().cast(), len);
        std::ptr::write_volatile(&raw mut setup.registered, written == len as isize);
        let mut ignore: libc::sigaction = std::mem::zeroed();
        ignore.sa_sigaction = libc::SIG_IGN;
        libc::sigaction(libc::SIGPIPE, &ignore, std::ptr::null_mut());
        if let Some(hold) = setup.tie.hold
            && libc::fcntl(hold, libc::F_SETFD, 0) != 0
        {
            return errno();
        }
        for (fd, target) in [(setup.stdin, 0), (setup.stdout, 1), (setup.stderr, 2)] {
            let moved = if fd == target {
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, target)
            };
            if moved == -1 {
                return errno();
            }
        }
        if libc::chdir(setup.cwd) != 0 {
            return errno();
        }
        // The program starts as `std::process::Command` starts it: SIGPIPE at its
        // default (Rust ignores it) and no signal blocked.
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGPIPE, &default, std::ptr::null_mut());
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::execve(setup.path, setup.argv, setup.envp);
        errno()
    }
}

/// The file `exec` runs: the program itself when it names a path, else the first
/// executable file of that name in the program's `PATH` (as `execvp` would find it).
fn resolve(launch: &Launch) -> io::Result<PathBuf> {
    let program = Path::new(&launch.program);
    if launch.program.as_bytes().contains(&b'/') {
        return Ok(program.to_path_buf());
    }
    let path = launch
        .env
        .iter()
        .rev()
        .find(|(key, _)| key == "PATH")
        .map_or_else(
            || OsString::from("/usr/local/bin:/usr/bin:/bin"),
            |(_, v)| v.clone(),
        );
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn cstring(text: &OsStr) -> io::Result<CString> {
    CString::new(text.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "nul byte found in provided data",
        )
    })
}

/// A NULL-terminated array of pointers to `strings`, as `execve` takes them.
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use nix::sys::wait::{WaitStatus, waitpid};
    use nix::unistd::Pid;

    use super::*;

    /// A tie to a watchdog pipe of the test's own, and the pipe's reading end.
    fn tie() -> (Tie, std::io::PipeReader, std::io::PipeWriter) {
        let (read, write) = std::io::pipe().unwrap();
        let tie = Tie {
            drbook: std::process::id() as libc::pid_t,
            watchdog: write.as_raw_fd(),
            hold: None,
        };
        (tie, read, write)
    }

    fn launch(program: &str, args: &[&str], env: &[(&str, &str)]) -> Launch {
        Launch {
            program: program.into(),
            args: args.iter().map(OsString::from).collect(),
            cwd: std::env::temp_dir(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    fn output(started: Started) -> (String, WaitStatus) {
        let mut text = String::new();
        std::fs::File::from(started.stdout)
            .read_to_string(&mut text)
            .unwrap();
        let status = waitpid(Pid::from_raw(started.pid), None).unwrap();
        (text, status)
    }

    #[test]
    fn the_program_sees_exactly_the_given_environment_and_registers_its_group() {
        let (tie, mut registrations, write) = tie();
        let Ok(started) = start(&launch("/usr/bin/env", &[], &[("ONLY", "this")]), tie) else {
            panic!("env did not start");
        };
        let pid = started.pid;
        let (text, status) = output(started);
        assert_eq!(text, "ONLY=this\n");
        assert_eq!(status, WaitStatus::Exited(Pid::from_raw(pid), 0));
        drop(write);
        let mut lines = String::new();
        registrations.read_to_string(&mut lines).unwrap();
        assert_eq!(lines, format!("+{pid}\n"));
    }

    #[test]
    fn a_program_found_on_the_given_path_runs_in_its_own_process_group() {
        let (tie, _registrations, _write) = tie();
        let env = [("PATH", "/nonexistent:/bin:/usr/bin")];
        // Field 5 of /proc/<pid>/stat is the process group (the shell's name has no spaces).
        let script = "read -r _ _ _ _ group _ < /proc/$$/stat; echo $group";
        let Ok(started) = start(&launch("sh", &["-c", script], &env), tie) else {
            panic!("sh was not found on PATH");
        };
        let pid = started.pid;
        let (text, _) = output(started);
        assert_eq!(text.trim(), pid.to_string());
    }

    #[test]
    fn a_program_that_cannot_be_executed_fails_with_its_reason_after_registering() {
        let (tie, _registrations, _write) = tie();
        let dir = tempfile::tempdir().unwrap();
        let not_executable = dir.path().join("data");
        std::fs::write(&not_executable, "not a program").unwrap();
        let program = not_executable.to_str().unwrap();
        let Err(failed) = start(&launch(program, &[], &[]), tie) else {
            panic!("a data file was executed");
        };
        assert_eq!(failed.error.raw_os_error(), Some(libc::EACCES));
        // The group it registered must be unregistered by the caller.
        assert!(failed.registered.is_some());

        let (tie, _registrations, _write) = self::tie();
        let Err(failed) = start(&launch("no-such-program-drbook", &[], &[]), tie) else {
            panic!("a missing program ran");
        };
        assert_eq!(failed.error.kind(), io::ErrorKind::NotFound);
        assert!(failed.registered.is_none(), "nothing was started");
    }
}
