//! One way to run the real `drbook` executable in a test, shaped like `just`'s
//! `tests/test.rs`: a builder that owns a temporary directory with a state directory in
//! it, writes the files a case needs, runs one command there and returns its exit code,
//! output and the journal of the run it created or continued.
//!
//! ```ignore
//! let ran = Drbook::new()
//!     .runbook(RUNBOOK)
//!     .args(["run", "runbook.yaml", "--run-id", "r1"])
//!     .run();
//! assert_eq!(ran.code, 0, "{ran:?}");
//! assert_eq!(ran.events().last().unwrap()["type"], "run_finished");
//! let resumed = ran.then().args(["resume", "r1"]).run();
//! ```
//!
//! Every command runs without a terminal (stdin empty), without colours, with the
//! operator `test-operator` and with `$DRBOOK_STATE_DIR` pointing at the directory's own
//! `state/`, so what it prints is the same on every machine. A command that outlives
//! its limit (`LIMIT` unless changed) is killed and fails the test, so a hanging drbook
//! fails instead of hanging the suite. A clone shares the directory: one test can run
//! several commands (`run`, then `resume`) against the same files and state.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// The longest one drbook command may take before the test kills it.
pub const LIMIT: Duration = Duration::from_secs(30);

/// The operator every command runs as, unless a test says otherwise.
pub const OPERATOR: &str = "test-operator";

/// Where a test's commands run: a temporary directory the builder owns (removed when the
/// last clone and result are dropped), or an existing directory such as the repository.
#[derive(Clone)]
enum Dir {
    Owned(Arc<tempfile::TempDir>),
    Borrowed(PathBuf),
}

/// One drbook command being put together, in a directory that clones share.
#[derive(Clone)]
pub struct Drbook {
    dir: Dir,
    /// Where the command runs, relative to the directory (empty: the directory itself).
    current_dir: PathBuf,
    args: Vec<OsString>,
    /// Environment changes in order; `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Vec<u8>,
    limit: Duration,
}

impl Drbook {
    /// A fresh temporary directory with `state/` as the state directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("drbook-test")
            .tempdir()
            .expect("the test can create a temporary directory");
        let state = dir.path().join("state");
        Drbook::with_dir(Dir::Owned(Arc::new(dir))).env("DRBOOK_STATE_DIR", state)
    }

    /// Runs in an existing directory, which the test keeps. No state directory is
    /// chosen: pass `--state-dir`, or `.state_dir(..)`, when the command needs one.
    pub fn in_dir(dir: &Path) -> Self {
        Drbook::with_dir(Dir::Borrowed(dir.to_path_buf()))
    }

    fn with_dir(dir: Dir) -> Self {
        Drbook {
            dir,
            current_dir: PathBuf::new(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: Vec::new(),
            limit: LIMIT,
        }
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env("DRBOOK_OPERATOR", OPERATOR)
    }

    /// The directory the test's files live in.
    pub fn path(&self) -> &Path {
        match &self.dir {
            Dir::Owned(dir) => dir.path(),
            Dir::Borrowed(dir) => dir,
        }
    }

    /// The state directory the next command uses: `--state-dir` among its arguments,
    /// else the `$DRBOOK_STATE_DIR` the builder set; fails the test when it has none.
    pub fn state(&self) -> PathBuf {
        self.state_dir_in_use()
            .expect("this command has a state directory (`--state-dir` or `.state_dir(..)`)")
    }

    fn state_dir_in_use(&self) -> Option<PathBuf> {
        let flag = self
            .args
            .windows(2)
            .rev()
            .find(|pair| pair[0] == "--state-dir")
            .map(|pair| PathBuf::from(&pair[1]));
        let env = || {
            self.env
                .iter()
                .rev()
                .find(|(key, _)| key == "DRBOOK_STATE_DIR")
                .and_then(|(_, value)| value.clone())
                .map(PathBuf::from)
        };
        let dir = flag.or_else(env)?;
        Some(self.path().join(&self.current_dir).join(dir))
    }

    /// The directory of run `id` in the state directory.
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.state().join("runs").join(id)
    }

    /// The working directory the steps of run `id` run in.
    pub fn work(&self, id: &str) -> PathBuf {
        self.run_dir(id).join("work")
    }

    /// The records of run `id`'s journal (`seq`, `time`, `event`, …), one per line.
    pub fn journal(&self, id: &str) -> Vec<Value> {
        read_journal(&self.run_dir(id).join("journal.jsonl"))
            .unwrap_or_else(|e| panic!("the journal of run `{id}`: {e}"))
    }

    /// Writes `text` to `name` in the directory (creating folders) and returns its path;
    /// for files a test adds between two commands.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the test can create a folder");
        }
        std::fs::write(&path, text).expect("the test can write its file");
        path
    }

    /// Writes `text` as `runbook.yaml`.
    pub fn runbook(self, text: &str) -> Self {
        self.file("runbook.yaml", text)
    }

    /// Writes `text` as `drbook.targets.yaml`, where `--target` looks for it.
    pub fn targets(self, text: &str) -> Self {
        self.file("drbook.targets.yaml", text)
    }

    /// Writes `text` as `answers.yaml`, for `--answers answers.yaml`.
    pub fn answers(self, text: &str) -> Self {
        self.file("answers.yaml", text)
    }

    /// Writes `text` to `name` in the directory.
    pub fn file(self, name: &str, text: &str) -> Self {
        self.write(name, text);
        self
    }

    /// Adds arguments to the command.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Sets an environment variable of the command.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env.push((
            key.as_ref().to_os_string(),
            Some(value.as_ref().to_os_string()),
        ));
        self
    }

    /// Sets several environment variables.
    pub fn envs(self, vars: &[(&str, &str)]) -> Self {
        vars.iter().fold(self, |test, (k, v)| test.env(k, v))
    }

    /// Removes an environment variable the command would otherwise inherit or get.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.env.push((key.as_ref().to_os_string(), None));
        self
    }

    /// Uses `dir` (relative to the directory) as the state directory.
    pub fn state_dir(self, dir: impl AsRef<Path>) -> Self {
        let state = self.path().join(dir);
        self.env("DRBOOK_STATE_DIR", state)
    }

    /// Runs the command in `dir`, relative to the directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.current_dir = dir.as_ref().to_path_buf();
        self
    }

    /// What the command reads on stdin (a pipe, never a terminal).
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Self {
        self.stdin = text.into();
        self
    }

    /// How long the command may take before the test kills it.
    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// The command with its arguments, directory and environment, and no stdio set: for
    /// drivers that attach their own (the pty of the interactive tests).
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_drbook"));
        command
            .args(&self.args)
            .current_dir(self.path().join(&self.current_dir));
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }

    /// Runs the command and waits for it, at most its limit.
    pub fn run(self) -> Ran {
        self.spawn().wait()
    }

    /// `self.clone().args(args).run()`: one more command in the same directory.
    pub fn run_with(&self, args: &[&str]) -> Ran {
        self.clone().args(args).run()
    }

    /// Starts the command in the background (output captured), for tests that signal it
    /// or wait for something it does first.
    pub fn spawn(self) -> Running {
        // Listed before drbook starts: a quick drbook creates its run at once.
        let before = self.runs();
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the drbook executable starts");
        let stdin = child.stdin.take().expect("stdin is piped");
        if !self.stdin.is_empty() {
            let text = self.stdin.clone();
            // A writer thread, so a command that does not read its input never blocks
            // the test; the pipe closes when the thread ends, which is the end of input.
            std::thread::spawn(move || {
                let mut stdin = stdin;
                let _ = std::io::Write::write_all(&mut stdin, &text);
            });
        }
        Running {
            child,
            before,
            test: self,
        }
    }

    /// Which run the command created or continued: `--run-id ID`, `resume ID`, else the
    /// one run directory that `before` (the runs before it started) did not hold.
    fn run_id(&self, before: &[String]) -> Option<String> {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        if let Some(pair) = args.windows(2).find(|pair| pair[0] == "--run-id") {
            return Some(pair[1].clone());
        }
        if args.first().map(String::as_str) == Some("resume")
            && let Some(id) = args[1..].iter().find(|a| !a.starts_with('-'))
        {
            return Some(id.clone());
        }
        let mut new: Vec<String> = self
            .runs()
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        (new.len() == 1).then(|| new.remove(0))
    }

    /// The run ids in the state directory (none when there is no state directory).
    fn runs(&self) -> Vec<String> {
        let Some(state) = self.state_dir_in_use() else {
            return Vec::new();
        };
        match std::fs::read_dir(state.join("runs")) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// A command running in the background.
pub struct Running {
    child: Child,
    /// The runs in the state directory before the command started.
    before: Vec<String>,
    test: Drbook,
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Whether the command has ended (without reaping its output).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("the test can ask whether drbook ended")
            .is_some()
    }

    /// Sends `signal` to drbook (SIGINT is what Ctrl-C sends).
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.pid()), signal).expect("drbook can be signalled");
    }

    /// Waits for the command, at most its limit, and reads what it left.
    pub fn wait(self) -> Ran {
        let output = super::finish_within(self.child, self.test.limit);
        let run_id = self.test.run_id(&self.before);
        // A command without a state directory (a test of that mistake) has no journal.
        let state = self.test.state_dir_in_use();
        let journal = run_id
            .as_deref()
            .zip(state)
            .and_then(|(id, state)| {
                read_journal(&state.join("runs").join(id).join("journal.jsonl")).ok()
            })
            .unwrap_or_default();
        Ran {
            code: output.status.code().unwrap_or(-1),
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            run_id,
            journal,
            test: self.test,
        }
    }
}

/// What one command did.
pub struct Ran {
    /// The exit code, or -1 when a signal ended drbook (see `status`).
    pub code: i32,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The run the command created or continued, when there is one.
    pub run_id: Option<String>,
    /// That run's journal records after the command, in order (`seq`, `time`, `event`);
    /// empty when there is no run. A torn last line (drbook killed mid-write) is left
    /// out: tests of the journal's bytes read the file themselves.
    pub journal: Vec<Value>,
    test: Drbook,
}

impl Ran {
    /// The run's id; fails the test when the command has no run.
    pub fn id(&self) -> &str {
        self.run_id
            .as_deref()
            .unwrap_or_else(|| panic!("the command created no run: {self:?}"))
    }

    /// The events of the journal (each record's `event`).
    pub fn events(&self) -> Vec<&Value> {
        self.journal.iter().map(|r| &r["event"]).collect()
    }

    /// A builder for the next command in the same directory and environment, without
    /// arguments or input.
    pub fn then(&self) -> Drbook {
        Drbook {
            args: Vec::new(),
            stdin: Vec::new(),
            ..self.test.clone()
        }
    }

    /// `drbook resume <this run>` in the same directory and environment.
    pub fn resume(&self) -> Ran {
        self.then().args(["resume", self.id()]).run()
    }

    /// Fails the test, with what drbook printed, unless it exited with `code`.
    pub fn assert_code(&self, code: i32, what: &str) {
        assert_eq!(
            self.status.code(),
            Some(code),
            "{what}: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
    }

    /// Fails the test unless SIGKILL ended drbook.
    pub fn assert_killed(&self, what: &str) {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            self.status.signal(),
            Some(9),
            "{what}: drbook was not killed by SIGKILL\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }
}

/// Code, output and run; the journal is left out, it would drown the output.
impl fmt::Debug for Ran {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ran")
            .field("code", &self.code)
            .field("status", &self.status)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("run_id", &self.run_id)
            .finish()
    }
}

/// The records of a journal file up to its last complete line.
fn read_journal(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut records = Vec::new();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        match serde_json::from_str(line) {
            Ok(record) => records.push(record),
            // Only a last line without its newline is a torn write; anything else is a
            // broken journal, which the test must see.
            Err(_) if index + 1 == lines.len() && !line.ends_with('\n') => break,
            Err(e) => return Err(format!("{} line {}: {e}", path.display(), index + 1)),
        }
    }
    Ok(records)
}

/// The builder's own promises, which every test above relies on: the run a command
/// created is found without being named, its journal read, its output free of colour,
/// and the next command runs in the same directory and state.
#[test]
fn a_run_is_found_without_its_id_and_the_next_command_sees_it() {
    let ran = Drbook::new()
        .runbook(
            "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {name: one, version: 1.0.0}\nspec:\n  steps:\n    - id: hello\n      action: shell\n      with: {run: \"echo hello\"}\n",
        )
        .args(["run", "runbook.yaml"])
        .run();
    ran.assert_code(0, "the run");
    let id = ran.id();
    assert!(
        ran.test.run_dir(id).join("journal.jsonl").is_file(),
        "{ran:?}"
    );
    let events = ran.events();
    assert_eq!(events[0]["type"], "run_started", "{events:#?}");
    assert_eq!(events[0]["run_id"], id);
    assert_eq!(events[0]["operator"], OPERATOR);
    assert_eq!(events.last().unwrap()["type"], "run_finished");
    assert!(!ran.stdout.contains('\x1b'), "colours: {:?}", ran.stdout);

    let shown = ran.then().args(["runs", "show", id]).run();
    shown.assert_code(0, "runs show");
    assert!(shown.stdout.contains(id), "{shown:?}");
    assert_eq!(shown.run_id.as_deref(), None, "`runs show` creates no run");
}
