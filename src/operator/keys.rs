//! Keys from the terminal, read with a deadline and a way to be woken.
//!
//! dialoguer blocks in a key read that nothing can end: a prompt abandoned at its
//! timeout kept reading, swallowed the keys meant for the next question and kept drbook
//! from exiting. Here the terminal stays in raw mode for the whole question and every
//! read first polls stdin together with the deadline and a wake-up socket, so a question
//! always ends: with a key, when its time is up, or when it is woken.

use std::io::{self, Write as _};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use console::{Key, Term};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::termios::{self, SetArg, Termios};

/// Ends a question from another thread (the run ended while it was on the screen).
#[derive(Debug)]
pub struct Wake {
    tx: UnixStream,
    rx: UnixStream,
}

impl Wake {
    pub fn new() -> io::Result<Wake> {
        let (tx, rx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        Ok(Wake { tx, rx })
    }

    /// Ends the current question and every later one: a woken `Wake` stays woken.
    pub fn wake(&self) {
        let _ = (&self.tx).write_all(&[1]);
    }
}

/// When a question gives up waiting for a key.
#[derive(Debug, Clone, Copy, Default)]
pub struct Until<'a> {
    pub deadline: Option<Instant>,
    pub wake: Option<&'a Wake>,
}

impl Until<'_> {
    pub const NEVER: Until<'static> = Until {
        deadline: None,
        wake: None,
    };
}

/// What waiting for a key gave.
#[derive(Debug)]
pub enum Waited {
    Key(Key),
    /// The deadline passed, or the question was woken.
    GaveUp,
}

/// The terminal in raw mode (no echo, no line buffering, Ctrl-C is a key) until dropped.
pub struct Keys {
    term: Term,
    original: Termios,
}

impl Keys {
    pub fn open() -> io::Result<Keys> {
        let stdin = io::stdin();
        let original = termios::tcgetattr(stdin.as_fd()).map_err(io::Error::from)?;
        let mut raw = original.clone();
        termios::cfmakeraw(&mut raw);
        // Keep output processing: the run's view writes `\n` to the same terminal while
        // the question waits, and without it every line would start where the last ended.
        raw.output_flags = original.output_flags;
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSADRAIN, &raw).map_err(io::Error::from)?;
        Ok(Keys {
            term: Term::stderr(),
            original,
        })
    }

    /// The next key, or `GaveUp` when the deadline passed or the wake-up came first.
    pub fn next(&self, until: Until<'_>) -> io::Result<Waited> {
        let stdin = io::stdin();
        loop {
            let timeout = match until.deadline {
                None => PollTimeout::NONE,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(Waited::GaveUp);
                    }
                    // Rounded up to whole milliseconds, and at most a minute per poll.
                    let ms = left.as_micros().div_ceil(1000).min(60_000) as u64;
                    PollTimeout::try_from(Duration::from_millis(ms)).unwrap_or(PollTimeout::MAX)
                }
            };
            let mut fds = vec![PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            if let Some(wake) = until.wake {
                fds.push(PollFd::new(wake.rx.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
            // The wake-up byte is never taken, so a woken `Wake` ends later questions too.
            if fds.get(1).is_some_and(ready) {
                return Ok(Waited::GaveUp);
            }
            if ready(&fds[0]) {
                // Raw mode: the bytes are there, so this read does not wait for more.
                return self.term.read_key_raw().map(Waited::Key);
            }
        }
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin().as_fd(), SetArg::TCSADRAIN, &self.original);
    }
}
