//! `shell`: runs a command with `/bin/sh -c`.
//!
//! Re-running is not known to be safe: a command can do anything, so drbook asks the
//! operator after a crash unless the step promises `idempotent: true`.
//!
//! The command runs in its own process group with stdin from /dev/null; its stdout and
//! stderr are reported line by line as they come, and stdout lines of the form
//! `KEY=value` or a JSON object become the step's outputs. On cancellation the whole
//! group is stopped (see `process`), and when drbook dies, even by SIGKILL, it is killed
//! with it (see `lifeline`).

use std::collections::VecDeque;

use serde_json::Value;

use super::by_hand::{Given, export, quote};
use super::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    optional_string_map, required_str,
};
use super::process::{self, Ending, GroupChild};
use super::{ActionSpec, ParamKind, ParamSpec, Rerun};
use crate::journal::event::Stream;

pub const SPEC: ActionSpec = ActionSpec {
    name: "shell",
    by_hand,
    outputs: None,
    summary: "Run a shell command; its exit status decides success, and `KEY=value` or JSON lines on stdout become outputs.",
    params: &[
        ParamSpec {
            name: "run",
            kind: ParamKind::String,
            required: true,
            doc: "The command line, run with `/bin/sh -c`.",
        },
        ParamSpec {
            name: "env",
            kind: ParamKind::StringMap,
            required: false,
            doc: "Extra environment variables for the command.",
        },
        ParamSpec {
            name: "workdir",
            kind: ParamKind::String,
            required: false,
            doc: "Directory the command runs in (default: the run's work directory).",
        },
    ],
    rerun: Rerun::AskFirst(
        "a shell command can change anything; only the runbook author knows whether running it twice is safe (say so with `idempotent: true`)",
    ),
    executor: &ShellAction,
};

/// How many stderr lines a failure message quotes.
const STDERR_TAIL_LINES: usize = 5;

/// How much of one quoted line a message keeps; the full line is in the step's log.
pub(crate) const QUOTED_LINE_CHARS: usize = 300;

/// The executor of `shell`.
pub struct ShellAction;

impl Action for ShellAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let script = required_str(&request.params, "run")?;
    let env = optional_string_map(&request.params, "env")?;
    // `join` keeps an absolute `workdir` as it is.
    let cwd = match optional_str(&request.params, "workdir")? {
        Some(dir) => request.workdir.join(dir),
        None => request.workdir.clone(),
    };
    if request.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let (child, pipes) = GroupChild::spawn(script, &cwd, &env)?;

    let mut outputs = Outputs::new();
    let mut stderr_tail = VecDeque::with_capacity(STDERR_TAIL_LINES);
    let ending = process::supervise(child, pipes, &request.cancel, None, |event| {
        if let ActionEvent::Output { stream, line } = &event {
            match stream {
                Stream::Stdout => parse_output_line(line, &mut outputs),
                Stream::Stderr => {
                    if stderr_tail.len() == STDERR_TAIL_LINES {
                        stderr_tail.pop_front();
                    }
                    stderr_tail.push_back(shorten(line));
                }
            }
        }
        request.emit(event);
    })
    .await?;

    match ending {
        Ending::Exited(status) if status.success() => Ok(outputs),
        Ending::Exited(status) => Err(ActionError::Exited {
            status,
            stderr_tail: stderr_tail.into(),
        }),
        // There is no deadline here: the step's timeout arrives as cancellation.
        Ending::DeadlinePassed | Ending::Cancelled => Err(ActionError::Cancelled),
    }
}

/// Takes one stdout line into `outputs`: a JSON object merges its keys, `KEY=value` sets
/// `KEY` to the string after the first `=`. Anything else is only log. A later line wins.
fn parse_output_line(line: &str, outputs: &mut Outputs) {
    let trimmed = line.trim();
    if trimmed.starts_with('{') {
        if let Ok(Value::Object(object)) = serde_json::from_str(trimmed) {
            outputs.extend(object);
        }
        return;
    }
    if let Some((key, value)) = line.split_once('=')
        && is_output_name(key)
    {
        outputs.insert(key.to_string(), Value::String(value.to_string()));
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a name a shell variable could have.
fn is_output_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A line cut to `QUOTED_LINE_CHARS` characters for a message.
pub(crate) fn shorten(line: &str) -> String {
    match line.char_indices().nth(QUOTED_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// The shell as-is: `shell`'s command, after its `workdir` and `env`.
fn by_hand(given: &Given) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(dir) = given.opt("workdir") {
        lines.push(format!("cd {}", quote(&dir)));
    }
    for (name, value) in given.map("env") {
        lines.push(export(&name, &value));
    }
    let run = given.text("run");
    lines.extend(run.trim_end_matches('\n').lines().map(str::to_string));
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::time::Instant;

    use super::*;
    use crate::actions::by_hand::given;
    use crate::actions::execute::tests::{events_of, request};
    use crate::actions::process::{TERM_GRACE, tests::is_running, tests::wait_for_pids};

    #[test]
    fn shell_exports_its_environment_before_the_command() {
        let g = given(json!({"run": "echo a\necho b\n", "env": {"K": "v 1"}, "workdir": "/w"}));
        assert_eq!(
            by_hand(&g),
            vec!["cd /w", "export K='v 1'", "echo a", "echo b"]
        );
    }

    #[test]
    fn output_lines_are_key_value_or_json_objects() {
        let mut outputs = Outputs::new();
        for line in [
            "A=1",
            "not an output",
            r#"{"b": 2, "c": {"d": true}}"#,
            "BAD-KEY=x",
            "1X=y",
            "_X=a=b",
            " { \"e\": null } ",
            "[1, 2]",
            "{broken",
            "EMPTY=",
            "A=2",
        ] {
            parse_output_line(line, &mut outputs);
        }
        assert_eq!(
            Value::Object(outputs),
            json!({"A": "2", "b": 2, "c": {"d": true}, "_X": "a=b", "e": null, "EMPTY": ""})
        );
    }

    #[tokio::test]
    async fn stdout_lines_become_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let (req, mut events, _cancel) = request(
            json!({"run": "echo MEMBER_ID=6713c8f2; echo hello; echo '{\"healthy\": 2}'"}),
            dir.path(),
        );
        let outputs = SPEC.execute(req).await.unwrap();
        assert_eq!(
            Value::Object(outputs),
            json!({"MEMBER_ID": "6713c8f2", "healthy": 2})
        );
        let lines: Vec<_> = events_of(&mut events);
        assert_eq!(
            lines,
            vec![
                ActionEvent::Output {
                    stream: Stream::Stdout,
                    line: "MEMBER_ID=6713c8f2".into()
                },
                ActionEvent::Output {
                    stream: Stream::Stdout,
                    line: "hello".into()
                },
                ActionEvent::Output {
                    stream: Stream::Stdout,
                    line: r#"{"healthy": 2}"#.into()
                },
            ]
        );
    }

    #[tokio::test]
    async fn env_is_added_and_workdir_is_relative_to_the_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let (req, _events, _cancel) = request(
            json!({
                "run": "echo \"G=$GREETING\"; echo \"D=$(pwd -P)\"; test -n \"$PATH\" && echo HAS_PATH=yes; read x; echo \"READ=$?\"",
                "env": {"GREETING": "hello world"},
                "workdir": "sub",
            }),
            dir.path(),
        );
        let outputs = SPEC.execute(req).await.unwrap();
        let sub = dir.path().join("sub").canonicalize().unwrap();
        assert_eq!(
            Value::Object(outputs),
            // stdin is /dev/null: `read` gets end of file at once, it never waits.
            json!({"G": "hello world", "D": sub.to_str().unwrap(), "HAS_PATH": "yes", "READ": "1"})
        );

        let (req, _events, _cancel) = request(json!({"run": "echo \"D=$(pwd -P)\""}), &sub);
        let outputs = SPEC.execute(req).await.unwrap();
        assert_eq!(outputs["D"], json!(sub.to_str().unwrap()));
    }

    #[tokio::test]
    async fn a_failing_command_names_its_status_and_last_stderr_lines() {
        let dir = tempfile::tempdir().unwrap();
        let (req, _events, _cancel) = request(
            json!({"run": "for i in 1 2 3 4 5 6; do echo \"err $i\" >&2; done; echo OUT=x; exit 3"}),
            dir.path(),
        );
        let err = SPEC.execute(req).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "command exited with status 3; last stderr: err 2 | err 3 | err 4 | err 5 | err 6"
        );

        let (req, _events, _cancel) = request(json!({"run": "kill -9 $$"}), dir.path());
        let err = SPEC.execute(req).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "command was killed by signal 9 (SIGKILL); it wrote nothing to stderr"
        );

        let (req, _events, _cancel) =
            request(json!({"run": "true", "workdir": "missing"}), dir.path());
        let err = SPEC.execute(req).await.unwrap_err().to_string();
        assert!(err.starts_with("working directory `"), "{err}");
        assert!(
            err.ends_with("missing` does not exist or is not a directory"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn stderr_is_streamed_while_the_command_runs() {
        let dir = tempfile::tempdir().unwrap();
        // The command waits for a file that the test creates only after it has seen the
        // stderr line: the line must have arrived while the command was still running.
        let (req, mut events, _cancel) = request(
            json!({"run": "echo waiting >&2; while [ ! -e go ]; do sleep 0.01; done; echo done"}),
            dir.path(),
        );
        let task = tokio::spawn(SPEC.execute(req));
        let first = tokio::time::timeout(Duration::from_secs(3), events.recv())
            .await
            .expect("no event within 3s")
            .unwrap();
        assert_eq!(
            first,
            ActionEvent::Output {
                stream: Stream::Stderr,
                line: "waiting".into()
            }
        );
        std::fs::write(dir.path().join("go"), "").unwrap();
        task.await.unwrap().unwrap();
        assert_eq!(
            events_of(&mut events),
            vec![ActionEvent::Output {
                stream: Stream::Stdout,
                line: "done".into()
            }]
        );
    }

    #[tokio::test]
    async fn cancel_stops_the_command_and_its_children_promptly() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let (req, _events, cancel) = request(
            json!({"run": format!("sleep 30 & echo $! >> '{0}'; echo $$ >> '{0}'; wait", pids.display())}),
            dir.path(),
        );
        let task = tokio::spawn(SPEC.execute(req));
        let pids = wait_for_pids(&pids, 2).await;
        let started = Instant::now();
        cancel.cancel();
        let result = task.await.unwrap();
        assert!(matches!(result, Err(ActionError::Cancelled)), "{result:?}");
        // SIGTERM was enough: no wait for the SIGKILL grace period.
        assert!(started.elapsed() < TERM_GRACE, "{:?}", started.elapsed());
        for pid in pids {
            assert!(!is_running(pid), "process {pid} survived the cancel");
        }
    }

    #[tokio::test]
    async fn dropping_the_future_kills_the_group() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let (req, _events, _cancel) = request(
            json!({"run": format!("sleep 30 & echo $! >> '{0}'; echo $$ >> '{0}'; wait", pids.display())}),
            dir.path(),
        );
        let task = tokio::spawn(SPEC.execute(req));
        let pids = wait_for_pids(&pids, 2).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        let deadline = Instant::now() + Duration::from_secs(2);
        while pids.iter().any(|&pid| is_running(pid)) {
            assert!(Instant::now() < deadline, "the group survived the drop");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn background_processes_left_behind_are_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // `sleep` keeps the command's stdout open: without stopping it the step would
        // only end 30 s later.
        let (req, mut events, _cancel) = request(
            json!({"run": format!("sleep 30 & echo $! >> '{}'; echo OK=1", pids.display())}),
            dir.path(),
        );
        let started = Instant::now();
        let outputs = SPEC.execute(req).await.unwrap();
        assert!(started.elapsed() < TERM_GRACE, "{:?}", started.elapsed());
        assert_eq!(Value::Object(outputs), json!({"OK": "1"}));
        for pid in wait_for_pids(&pids, 1).await {
            assert!(!is_running(pid), "background process {pid} survived");
        }
        assert!(
            events_of(&mut events)
                .iter()
                .any(|e| matches!(e, ActionEvent::Progress(p) if p.contains("stopping them")))
        );
    }

    #[tokio::test]
    async fn an_already_cancelled_request_starts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let (req, _events, cancel) = request(
            json!({"run": format!("touch '{}'", marker.display())}),
            dir.path(),
        );
        cancel.cancel();
        assert!(matches!(
            SPEC.execute(req).await,
            Err(ActionError::Cancelled)
        ));
        assert!(!marker.exists());
    }
}
