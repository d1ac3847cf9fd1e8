//! A child process started by `vfork`, waited for through a pidfd: the kernel makes the
//! pidfd readable when the child exits, so tokio's reactor wakes the waiting task
//! without any signal handling. Like `tokio::process::Child` with `kill_on_drop`, a
//! child dropped before it was reaped is killed, and reaped off the runtime.

use std::io;
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// One running (or exited, not yet reaped) child of drbook.
pub(crate) struct Child {
    pid: libc::pid_t,
    pidfd: AsyncFd<OwnedFd>,
    status: Option<ExitStatus>,
}

impl Child {
    /// Takes over child `pid`, which nobody else waits for. Must be called inside a
    /// tokio runtime. If it cannot be watched, it is killed and reaped.
    pub(crate) fn new(pid: libc::pid_t) -> io::Result<Child> {
        let watched = pidfd_open(pid).and_then(|fd| {
            // SAFETY: the `AsyncFd` owns `fd`, so it stays open and the same until the
            // `AsyncFd` is dropped.
            unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
                .map_err(io::Error::from)
        });
        match watched {
            Ok(pidfd) => Ok(Child {
                pid,
                pidfd,
                status: None,
            }),
            Err(e) => {
                kill_and_reap(pid);
                Err(e)
            }
        }
    }

    /// The exit status, if the child has exited; reaps it then.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            let mut raw = 0;
            // SAFETY: waits for our own child, without blocking.
            let reaped = unsafe { libc::waitpid(self.pid, &mut raw, libc::WNOHANG) };
            match reaped {
                -1 => return Err(io::Error::last_os_error()),
                0 => {}
                _ => self.status = Some(ExitStatus::from_raw(raw)),
            }
        }
        Ok(self.status)
    }

    /// Waits for the child to exit. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            // Readable once the child has exited; a wake-up before that (none is
            // expected) only loops.
            let mut ready = self.pidfd.readable().await?;
            ready.clear_ready();
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_none() && !matches!(self.try_wait(), Ok(Some(_))) {
            let pid = self.pid;
            // SIGKILL ends it at once, unless it is stuck in the kernel: reaping it must
            // not hold up drbook.
            let _ = std::thread::Builder::new()
                .name("drbook-reaper".into())
                .spawn(move || kill_and_reap(pid));
        }
    }
}

fn kill_and_reap(pid: libc::pid_t) {
    let mut raw = 0;
    // SAFETY: signals and waits for our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, &mut raw, 0);
    }
}

fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: `pidfd_open` returns a new descriptor that nothing else owns, or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: see above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
