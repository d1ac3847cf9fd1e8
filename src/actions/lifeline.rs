//! Every process drbook starts ends when drbook ends, also when drbook is killed with
//! SIGKILL, the OOM killer or a crash, when it has no chance to stop anything itself.
//!
//! Each command runs in a process group of its own (see `process`); this module ties
//! those groups to drbook's life in two ways:
//!
//! 1. **The watchdog.** Once per drbook process a tiny `/bin/sh` loop starts, in a
//!    process group of its own, reading a pipe whose only writer is drbook. Every child
//!    writes `+<its group>` into that pipe before it execs (see `vfork`), that is before
//!    it runs any code of its own, so there is no moment in which it runs unregistered; drbook writes
//!    `-<group>` when it is done with the group. When drbook dies, however it dies, the
//!    kernel closes its end of the pipe: the watchdog reads end-of-file, sends SIGKILL to
//!    every group still registered and exits. That also reaches grandchildren (`sleep`
//!    under `sh -c 'sleep 1000 & wait'`), which no parent-death signal would.
//! 2. **A parent-death signal.** Every child is started with `PR_SET_PDEATHSIG` SIGKILL,
//!    so the child itself dies with drbook even if the watchdog was killed first.
//!
//! Two traps, and what avoids them:
//!
//! - (a) `PR_SET_PDEATHSIG` fires when the *thread* that forked the child ends, not the
//!   process. tokio's blocking-pool threads end after 10 s idle, and a worker thread that
//!   ever ran `block_in_place` becomes one of them, so forking from whichever thread
//!   happens to poll an action would, at some later moment, kill healthy children. Every
//!   child is therefore forked on a thread that lives as long as drbook: the main thread
//!   (whose end is the process's end), where the run engine drives its actions, or else
//!   one thread, `drbook-spawner` (it waits for work on a channel that is never closed,
//!   and a panic in its work does not end it).
//! - (b) drbook can die between the clone and the child's `prctl`; then no signal is ever
//!   sent. After `prctl` the child compares `getppid()` with drbook's pid and gives up
//!   if they differ. Until it execs, the child also holds a copy of drbook's end of the
//!   watchdog's pipe, so the watchdog cannot see end-of-file before the child has
//!   registered.
//!
//! A group id is freed once its group is empty and can then be reused by an unrelated
//! process, so a group is unregistered as soon as drbook lets go of it, and a child
//! whose `exec` failed is unregistered at once (it says whether it registered in the
//! memory it shares with drbook until then). A process that leaves its group on
//! purpose (`setsid`, a daemon) escapes, as it escapes cancellation.
//!
//! The code that runs in the child between the clone and `exec` may only make system
//! calls (no allocation, no locks): it shares drbook's memory, and other threads of
//! drbook may hold a lock meanwhile.

use std::io::{self, Write as _};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::process::CommandExt as _;
use std::process::{Child as StdChild, ChildStdin, Command as StdCommand, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use nix::unistd::getpid;

use super::vfork::{self, Launch, Started, Tie};

/// The watchdog: collects the registered groups until end-of-file, then kills them.
/// It ignores the signals a terminal or a session sends, so that Ctrl-C or a hangup
/// that ends drbook does not end it before it has done its work.
const WATCHDOG_SCRIPT: &str = r#"trap '' HUP INT QUIT TERM PIPE
groups=' '
while read -r change; do
  case $change in
    +*) groups="$groups${change#+} " ;;
    -*) case $groups in
          *" ${change#-} "*) groups="${groups%% ${change#-} *} ${groups#* ${change#-} }" ;;
        esac ;;
  esac
done
for group in $groups; do kill -s KILL -- "-$group" 2>/dev/null; done
"#;

/// A running watchdog and drbook's end of its pipe.
struct Watchdog {
    process: Mutex<StdChild>,
    pipe: ChildStdin,
}

impl Watchdog {
    fn start() -> io::Result<Watchdog> {
        let mut process = StdCommand::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Not drbook's group: a signal sent to drbook's group (Ctrl-C, `kill -9
            // -<pgid>`) must leave the watchdog to do its work.
            .process_group(0)
            .spawn()?;
        let pipe = process.stdin.take().expect("stdin is piped");
        Ok(Watchdog {
            process: Mutex::new(process),
            pipe,
        })
    }

    fn alive(&self) -> bool {
        let mut process = self.process.lock().unwrap_or_else(|e| e.into_inner());
        matches!(process.try_wait(), Ok(None))
    }

    /// Writes one line. Lines are shorter than `PIPE_BUF`, so lines written at once by
    /// drbook and by children never mix. A watchdog that is gone cannot be told.
    fn send(&self, line: &str) {
        let _ = (&self.pipe).write_all(line.as_bytes());
    }
}

/// A child's process group as registered with the watchdog, until this is dropped.
pub(crate) struct Registration {
    watchdog: Arc<Watchdog>,
    pgid: i32,
}

impl Drop for Registration {
    /// drbook is done with the group (it is gone, or `GroupChild` has just sent it
    /// SIGKILL): its id may be reused from now on, so the watchdog must forget it.
    fn drop(&mut self) {
        self.watchdog.send(&format!("-{}\n", self.pgid));
    }
}

/// Starts `launch` in a process group of its own, tied to drbook's life, as the module
/// comment explains (see `vfork` for how). `hold` is a file descriptor the child
/// inherits (a staging lock, see `staging_lock`); every other descriptor of drbook's
/// stays closed in the child.
pub(crate) fn spawn(
    launch: Launch,
    hold: Option<BorrowedFd<'_>>,
) -> io::Result<(Started, Registration)> {
    let hold = hold.map(|fd| fd.as_raw_fd());
    // `hold` stays open meanwhile: the caller's borrow lasts until this returns. The
    // calling thread waits for the clone and exec, as it would in `Command::spawn`.
    on_spawner_thread(move || {
        let watchdog = watchdog()?;
        let tie = Tie {
            drbook: getpid().as_raw(),
            watchdog: watchdog.pipe.as_raw_fd(),
            hold,
        };
        // `watchdog` (and so its pipe) stays alive until the child has exec'd.
        match vfork::start(&launch, tie) {
            Ok(started) => {
                let pgid = started.pid;
                Ok((started, Registration { watchdog, pgid }))
            }
            Err(failed) => {
                if let Some(pgid) = failed.registered {
                    watchdog.send(&format!("-{pgid}\n"));
                }
                Err(failed.error)
            }
        }
    })?
}

/// `+<pid>\n` into `buf`, without allocating; returns its length.
pub(super) fn registration_line(pid: i32, buf: &mut [u8; 16]) -> usize {
    let mut digits = [0u8; 10];
    let mut n = pid.unsigned_abs();
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[0] = b'+';
    for i in 0..count {
        buf[1 + i] = digits[count - 1 - i];
    }
    buf[1 + count] = b'\n';
    count + 2
}

/// The running watchdog, started on first use and again if it has died (someone killed
/// it): groups registered with a dead one keep only their parent-death signal.
fn watchdog() -> io::Result<Arc<Watchdog>> {
    static CURRENT: Mutex<Option<Arc<Watchdog>>> = Mutex::new(None);
    let mut current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(watchdog) = current.as_ref().filter(|w| w.alive()) {
        return Ok(Arc::clone(watchdog));
    }
    let watchdog = Arc::new(Watchdog::start().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot start drbook's child watchdog (/bin/sh): {e}"),
        )
    })?);
    *current = Some(Arc::clone(&watchdog));
    Ok(watchdog)
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on a thread that lives as long as drbook and waits for its result: trap
/// (a). The main thread is such a thread (it ends only when the process does), so work
/// asked for there runs at once; the run engine's runtime drives its actions on it, and
/// every step then starts its command without a round trip to another thread. Any other
/// thread hands the work to `drbook-spawner`.
fn on_spawner_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> io::Result<T> {
    let lost = || io::Error::other("drbook's process-starting thread is not running");
    #[cfg(target_os = "linux")]
    if nix::unistd::gettid() == getpid() {
        // As on the spawner thread, a panic in the work fails this start alone.
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|_| lost());
    }
    static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("drbook-spawner".into())
            .spawn(move || {
                for job in queue {
                    // The end of this thread would send every child it started its
                    // parent-death signal: a panic in one job must not end it.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .ok()
            .map(|_| jobs)
    });
    let spawner = spawner.as_ref().ok_or_else(lost)?;
    let (reply, answer) = mpsc::sync_channel(1);
    spawner
        .send(Box::new(move || {
            let _ = reply.send(work());
        }))
        .map_err(|_| lost())?;
    answer.recv().map_err(|_| lost())
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    use super::*;
    use crate::actions::process::tests::is_running;

    #[test]
    fn registration_lines_are_written_without_allocating() {
        let mut buf = [0u8; 16];
        for (pid, line) in [(1, "+1\n"), (42, "+42\n"), (i32::MAX, "+2147483647\n")] {
            let len = registration_line(pid, &mut buf);
            assert_eq!(std::str::from_utf8(&buf[..len]).unwrap(), line);
        }
    }

    /// `sh -c 'sleep 30 & …; wait'` leading a group of its own, as `process` starts
    /// commands; returns it and the pids of the shell and its `sleep`.
    fn group_with_a_grandchild(dir: &Path, name: &str) -> (StdChild, Vec<i32>) {
        let pids = dir.join(name);
        let child = StdCommand::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "sleep 30 & echo $$ > '{0}.tmp'; echo $! >> '{0}.tmp'; mv '{0}.tmp' '{0}'; wait",
                pids.display()
            ))
            .process_group(0)
            .spawn()
            .unwrap();
        let pids = poll(|| {
            std::fs::read_to_string(&pids)
                .ok()
                .map(|text| text.lines().map(|l| l.parse().unwrap()).collect())
        });
        (child, pids)
    }

    /// Polls `ready` until it gives a value, for at most 5 s.
    fn poll<T>(mut ready: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(value) = ready() {
                return value;
            }
            assert!(Instant::now() < deadline, "not ready in time");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Ends a watchdog the way drbook's death does: its pipe closes. Returns once the
    /// watchdog has exited, that is once it has sent its signals.
    fn close(watchdog: Watchdog) {
        let Watchdog { process, pipe } = watchdog;
        drop(pipe);
        let status = process.into_inner().unwrap().wait().unwrap();
        assert!(status.success(), "{status:?}");
    }

    #[test]
    fn when_the_pipe_closes_every_registered_group_is_killed_grandchildren_too() {
        let dir = tempfile::tempdir().unwrap();
        let watchdog = Watchdog::start().unwrap();
        let (mut one, one_pids) = group_with_a_grandchild(dir.path(), "one");
        let (mut two, two_pids) = group_with_a_grandchild(dir.path(), "two");
        watchdog.send(&format!("+{}\n", one_pids[0]));
        watchdog.send(&format!("+{}\n", two_pids[0]));

        close(watchdog);
        one.wait().unwrap();
        two.wait().unwrap();
        for pid in one_pids.iter().chain(&two_pids) {
            poll(|| (!is_running(*pid)).then_some(()));
        }
    }

    #[test]
    fn a_group_drbook_let_go_of_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let watchdog = Watchdog::start().unwrap();
        let (mut kept, kept_pids) = group_with_a_grandchild(dir.path(), "kept");
        let (mut killed, killed_pids) = group_with_a_grandchild(dir.path(), "killed");
        // Letting go of an id that is a prefix of a registered one must not let go of
        // that one: ids are matched whole.
        let prefix = killed_pids[0] / 10;
        for line in [
            format!("+{}\n", kept_pids[0]),
            format!("+{}\n", killed_pids[0]),
            format!("-{}\n", kept_pids[0]),
            format!("-{prefix}\n"),
        ] {
            watchdog.send(&line);
        }

        close(watchdog);
        killed.wait().unwrap();
        for pid in &killed_pids {
            poll(|| (!is_running(*pid)).then_some(()));
        }
        for pid in &kept_pids {
            assert!(
                is_running(*pid),
                "process {pid} of an unregistered group was killed"
            );
        }
        nix::sys::signal::killpg(Pid::from_raw(kept_pids[0]), Signal::SIGKILL).unwrap();
        kept.wait().unwrap();
    }

    #[test]
    fn a_child_starts_when_the_watchdog_is_gone() {
        let (read, write) = std::io::pipe().unwrap();
        drop(read);
        let tie = Tie {
            drbook: getpid().as_raw(),
            watchdog: write.as_raw_fd(),
            hold: None,
        };
        let launch = Launch {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "exit 3".into()],
            cwd: "/".into(),
            env: Vec::new(),
        };
        let Ok(started) = vfork::start(&launch, tie) else {
            panic!("the child did not start");
        };
        let status = nix::sys::wait::waitpid(Pid::from_raw(started.pid), None).unwrap();
        assert_eq!(
            status,
            nix::sys::wait::WaitStatus::Exited(Pid::from_raw(started.pid), 3)
        );
    }

    #[tokio::test]
    async fn a_killed_watchdog_is_replaced() {
        use crate::actions::process::GroupChild;

        let first = watchdog().unwrap();
        let pid = first.process.lock().unwrap().id();
        nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        poll(|| (!first.alive()).then_some(()));
        let dir = tempfile::tempdir().unwrap();
        let (mut child, _pipes) = GroupChild::spawn("exit 3", dir.path(), &[]).unwrap();
        assert_eq!(child.wait().await.unwrap().code(), Some(3));
        let second = watchdog().unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(second.alive());
    }

    /// Trap (a): a child started from a thread that ends at once (as tokio's blocking
    /// threads do) must not get its parent-death signal when that thread ends.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_child_outlives_the_thread_that_asked_for_it() {
        use crate::actions::process::GroupChild;

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("go");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let script = format!("read line < '{}'; exit 7", fifo.display());
        let runtime = tokio::runtime::Handle::current();
        let workdir = dir.path().to_path_buf();
        let (tid, spawned) = std::thread::spawn(move || {
            let _runtime = runtime.enter();
            (
                nix::unistd::gettid(),
                GroupChild::spawn(&script, &workdir, &[]),
            )
        })
        .join()
        .unwrap();
        let (mut child, _pipes) = spawned.unwrap();
        // The thread is gone for good once the kernel has released it; a parent-death
        // signal would have been sent by then.
        let task = format!("/proc/self/task/{tid}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Path::new(&task).exists() {
            assert!(Instant::now() < deadline, "thread {tid} did not end");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Read-write, so opening never blocks and the line stays until the child reads.
        let mut go = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&fifo)
            .unwrap();
        go.write_all(b"go\n").unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(7), "the child was killed: {status:?}");
    }
}
