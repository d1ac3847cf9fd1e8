//! `wait`: polls a probe command until it succeeds or the deadline passes.
//!
//! Safe to re-run after a crash: it only observes; polling again changes nothing.
//!
//! Each probe runs like a `shell` command (own process group, stdin from /dev/null), but
//! its output is kept, not streamed: dozens of attempts would drown the step's log. The
//! last attempt's output goes into the failure message instead, and each retry is
//! reported as progress. A probe still running at the deadline is stopped.

use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::by_hand::{Given, quote};
use super::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, describe_status,
    optional_duration, required_duration, required_str,
};
use super::process::{self, Ending, GroupChild};
use super::shell::shorten;
use super::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "wait",
    by_hand,
    outputs: Some(&["attempts"]),
    summary: "Poll a probe command until it exits 0, or fail when the timeout passes.",
    params: &[
        ParamSpec {
            name: "probe",
            kind: ParamKind::String,
            required: true,
            doc: "The command to poll, run with `/bin/sh -c`; exit status 0 means ready.",
        },
        ParamSpec {
            name: "timeout",
            kind: ParamKind::Duration,
            required: true,
            doc: "How long to keep polling before the step fails; required, so a wait can never hang a run.",
        },
        ParamSpec {
            name: "interval",
            kind: ParamKind::Duration,
            required: false,
            doc: "Pause between two probes (default 2s).",
        },
    ],
    rerun: Rerun::Safe("it only observes: polling again changes nothing"),
    executor: &WaitAction,
};

/// The pause between two probes when the step does not say.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

/// How many lines of the last probe's output a failure message quotes.
const OUTPUT_TAIL_LINES: usize = 5;

/// The executor of `wait`.
pub struct WaitAction;

impl Action for WaitAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// How one probe attempt ended, when it did not pass.
struct Failure {
    /// `None`: still running at the deadline, and stopped.
    status: Option<ExitStatus>,
    /// The last lines of stdout and stderr, in the order they arrived.
    output: VecDeque<String>,
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let probe = required_str(&request.params, "probe")?;
    let timeout = required_duration(&request.params, "timeout")?;
    let interval = optional_duration(&request.params, "interval")?.unwrap_or(DEFAULT_INTERVAL);
    let deadline = Instant::now() + timeout;

    let mut attempts: u32 = 0;
    loop {
        if request.cancel.is_cancelled() {
            return Err(ActionError::Cancelled);
        }
        attempts += 1;
        let failure = match attempt(&request, probe, deadline).await? {
            None => {
                let mut outputs = Outputs::new();
                outputs.insert("attempts".to_string(), Value::from(attempts));
                return Ok(outputs);
            }
            Some(failure) => failure,
        };

        // Another attempt only if it can start before the deadline.
        let next = Instant::now() + interval;
        let Some(status) = failure.status.filter(|_| next < deadline) else {
            return Err(ActionError::ProbeTimedOut {
                timeout,
                attempts,
                last_status: match failure.status {
                    Some(status) => describe_status(status),
                    None => "was still running at the deadline and was stopped".to_string(),
                },
                last_output: Vec::from(failure.output).join(" | "),
            });
        };
        request.emit(ActionEvent::Progress(format!(
            "probe attempt {attempts} failed ({}), retrying in {}",
            short_status(status),
            humantime::format_duration(interval)
        )));
        tokio::select! {
            () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
            () = tokio::time::sleep_until(next) => {}
        }
    }
}

/// Runs the probe once; `None` when it passed.
async fn attempt(
    request: &ActionRequest,
    probe: &str,
    deadline: Instant,
) -> Result<Option<Failure>, ActionError> {
    let (child, pipes) = GroupChild::spawn(probe, &request.workdir, &[])?;
    let mut output = VecDeque::with_capacity(OUTPUT_TAIL_LINES);
    let ending = process::supervise(child, pipes, &request.cancel, Some(deadline), |event| {
        if let ActionEvent::Output { line, .. } = event {
            if output.len() == OUTPUT_TAIL_LINES {
                output.pop_front();
            }
            output.push_back(shorten(&line));
        }
    })
    .await?;
    match ending {
        Ending::Exited(status) if status.success() => Ok(None),
        Ending::Exited(status) => Ok(Some(Failure {
            status: Some(status),
            output,
        })),
        Ending::DeadlinePassed => Ok(Some(Failure {
            status: None,
            output,
        })),
        Ending::Cancelled => Err(ActionError::Cancelled),
    }
}

/// "exit 1", "signal 9": the short form for progress lines.
fn short_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// `wait`: the probe in a loop, for at most the timeout. A script of several lines is
/// written to a file verbatim (a quoted here-document expands nothing) and run whole
/// with `sh`, as drbook runs it.
fn by_hand(given: &Given) -> Vec<String> {
    let probe = given.text("probe");
    let interval = quote(&given.opt("interval").unwrap_or_else(|| "2s".into()));
    let mut lines = vec![format!(
        "# repeat until it succeeds, for at most {}; then the step failed",
        given.text("timeout")
    )];
    match probe.trim() {
        line if !line.contains('\n') => {
            lines.push(format!("until {line}; do sleep {interval}; done"));
        }
        script => {
            lines.push("cat > probe.sh <<'PROBE'".into());
            lines.extend(script.lines().map(str::to_string));
            lines.push("PROBE".into());
            lines.push(format!("until sh probe.sh; do sleep {interval}; done"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::by_hand::given;
    use crate::actions::execute::tests::request;
    use crate::actions::process::{TERM_GRACE, tests::is_running, tests::wait_for_pids};

    #[test]
    fn wait_polls_at_its_interval() {
        let g = given(json!({"probe": "curl -f http://x", "timeout": "5m", "interval": "10s"}));
        assert_eq!(by_hand(&g)[1], "until curl -f http://x; do sleep 10s; done");
    }

    #[test]
    fn a_probe_script_runs_whole() {
        let g = given(json!({"probe": "test -f a\ntest -f b\n", "timeout": "1m"}));
        assert_eq!(
            by_hand(&g)[1..],
            [
                "cat > probe.sh <<'PROBE'",
                "test -f a",
                "test -f b",
                "PROBE",
                "until sh probe.sh; do sleep 2s; done"
            ]
        );
    }
    #[tokio::test]
    async fn passes_once_the_probe_flips() {
        let dir = tempfile::tempdir().unwrap();
        let (req, mut events, _cancel) = request(
            json!({"probe": "test -e ready", "timeout": "10s", "interval": "20ms"}),
            dir.path(),
        );
        let task = tokio::spawn(SPEC.execute(req));
        // The first failed attempt is reported before the file exists.
        let first = tokio::time::timeout(Duration::from_secs(3), events.recv())
            .await
            .expect("no progress within 3s")
            .unwrap();
        assert_eq!(
            first,
            ActionEvent::Progress("probe attempt 1 failed (exit 1), retrying in 20ms".into())
        );
        std::fs::write(dir.path().join("ready"), "").unwrap();
        let outputs = task.await.unwrap().unwrap();
        let attempts = outputs["attempts"].as_u64().unwrap();
        assert!(attempts >= 2, "{attempts}");
    }

    #[tokio::test]
    async fn passes_at_once_with_one_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let (req, _events, _cancel) =
            request(json!({"probe": "true", "timeout": "1s"}), dir.path());
        let outputs = SPEC.execute(req).await.unwrap();
        assert_eq!(Value::Object(outputs), json!({"attempts": 1}));
    }

    #[tokio::test]
    async fn timeout_names_the_attempts_and_the_last_output() {
        let dir = tempfile::tempdir().unwrap();
        let (req, _events, _cancel) = request(
            // Generous for a loaded CI machine; the point is that it ends, naming the facts.
            json!({"probe": "echo not yet; echo 'connection refused' >&2; exit 7", "timeout": "1s", "interval": "50ms"}),
            dir.path(),
        );
        let started = Instant::now();
        let err = SPEC.execute(req).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        let ActionError::ProbeTimedOut { attempts, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(*attempts >= 2, "{attempts}");
        // The deadline may fall while the last probe runs, and its stdout and stderr are
        // read concurrently, so its lines may come in either order; each ending is named
        // exactly.
        let message = err.to_string();
        let prefix = format!("probe did not pass within 1s ({attempts} attempts); last attempt ");
        let mut endings = Vec::new();
        for ending in [
            "exited with status 7",
            "was still running at the deadline and was stopped",
        ] {
            for output in [
                "not yet | connection refused",
                "connection refused | not yet",
                "not yet",
                "connection refused",
                // On a loaded machine the deadline may stop the last probe before it
                // printed anything.
                "(none)",
            ] {
                endings.push(format!("{prefix}{ending}; last output: {output}"));
            }
        }
        assert!(endings.contains(&message), "{message}");
    }

    #[tokio::test]
    async fn a_probe_still_running_at_the_deadline_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let (req, _events, _cancel) = request(
            json!({"probe": "echo checking; sleep 30", "timeout": "200ms"}),
            dir.path(),
        );
        let started = Instant::now();
        let err = SPEC.execute(req).await.unwrap_err().to_string();
        assert!(started.elapsed() < TERM_GRACE, "{:?}", started.elapsed());
        assert_eq!(
            err,
            "probe did not pass within 200ms (1 attempt); last attempt was still running at the deadline and was stopped; last output: checking"
        );
    }

    #[tokio::test]
    async fn bad_durations_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (req, _events, _cancel) = request(
            json!({"probe": "true", "timeout": "2 minutes-ish"}),
            dir.path(),
        );
        let err = SPEC.execute(req).await.unwrap_err().to_string();
        assert!(
            err.starts_with("parameter `timeout` is not a duration: `2 minutes-ish`"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn cancel_stops_a_running_probe() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let (req, _events, cancel) = request(
            json!({
                "probe": format!("sleep 30 & echo $! >> '{0}'; echo $$ >> '{0}'; wait", pids.display()),
                "timeout": "1m",
            }),
            dir.path(),
        );
        let task = tokio::spawn(SPEC.execute(req));
        let pids = wait_for_pids(&pids, 2).await;
        let started = Instant::now();
        cancel.cancel();
        let result = task.await.unwrap();
        assert!(matches!(result, Err(ActionError::Cancelled)), "{result:?}");
        assert!(started.elapsed() < TERM_GRACE, "{:?}", started.elapsed());
        for pid in pids {
            assert!(!is_running(pid), "probe process {pid} survived the cancel");
        }
    }

    #[tokio::test]
    async fn cancel_interrupts_the_pause_between_probes() {
        let dir = tempfile::tempdir().unwrap();
        let (req, mut events, cancel) = request(
            json!({"probe": "false", "timeout": "1m", "interval": "30s"}),
            dir.path(),
        );
        let task = tokio::spawn(SPEC.execute(req));
        tokio::time::timeout(Duration::from_secs(3), events.recv())
            .await
            .expect("no progress within 3s");
        let started = Instant::now();
        cancel.cancel();
        assert!(matches!(task.await.unwrap(), Err(ActionError::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
