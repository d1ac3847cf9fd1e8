//! Executing an action: what the engine hands an action, what it gets back.
//!
//! The engine renders a step's `with:` parameters, builds an `ActionRequest` and awaits
//! `ActionSpec::execute`. While it runs, the action reports its output lines and progress
//! as `ActionEvent`s on a channel, so the engine can journal and show them as they come
//! and the action never prints. Cancellation (Ctrl-C, abort, the step's timeout) arrives
//! through the request's token; an action stops promptly and leaves nothing running.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::ParamKind;
use crate::journal::event::Stream;

/// What an action receives for one execution.
pub struct ActionRequest {
    /// The step id, for messages.
    pub step: String,
    /// The run's id: an action that creates an object names it after the run and the
    /// step, so a re-run after a crash finds the object it created (`kkp.etcd.restore`).
    pub run_id: String,
    /// The rendered `with:` parameters (templates already rendered); durations arrive as
    /// strings like `"2m"`.
    pub params: Map<String, Value>,
    /// The run's work directory (the default working directory of commands).
    pub workdir: PathBuf,
    /// The facts of the target the run is bound to (`{}` without one): an action may
    /// default a parameter the step leaves out to the target's key of the same name
    /// (the Kubernetes actions' `kubeconfig`, `context`, `cluster_uid`).
    pub target: Value,
    /// The run's Kubernetes clients, shared by its steps (`kube.*`, `velero.*`, `kkp.*`):
    /// a step reuses the client an earlier one built from the same kubeconfig bytes and
    /// context, and still checks the cluster's identity itself.
    pub kube_clients: super::kube::ClientCache,
    /// Cancelled on Ctrl-C, abort or the step's timeout: stop promptly, leave nothing
    /// running.
    pub cancel: CancellationToken,
    /// Where the action reports output and progress while it runs.
    pub events: UnboundedSender<ActionEvent>,
}

impl ActionRequest {
    /// Reports an event. A closed channel means nobody listens any more (the engine is
    /// shutting down), which is no reason to fail the action.
    pub(crate) fn emit(&self, event: ActionEvent) {
        let _ = self.events.send(event);
    }
}

/// Something an action reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionEvent {
    /// One line a command printed, without its line ending (invalid UTF-8 replaced).
    Output { stream: Stream, line: String },
    /// A note on what the action is doing, e.g. a retry of a probe.
    Progress(String),
    /// The action reached a Kubernetes cluster and read its identity (before checking
    /// it against a pinned `cluster_uid`). The engine records the first time a run
    /// reaches each cluster (`cluster_reached`) and shows the rest as progress.
    ClusterReached(super::kube::ClusterIdentity),
}

/// The outputs of a successful action: `steps.<id>.outputs` for later steps.
pub type Outputs = Map<String, Value>;

/// The future an action's execution is: `'static` and `Send`, so the engine can spawn it.
pub type ActionFuture = Pin<Box<dyn Future<Output = Result<Outputs, ActionError>> + Send>>;

/// The run-time half of an action; `ActionSpec::executor` points at one.
pub trait Action: Send + Sync {
    fn execute(&self, request: ActionRequest) -> ActionFuture;
}

impl fmt::Debug for dyn Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dyn Action")
    }
}

/// Why an action did not succeed. Messages say what happened; the step's log (the
/// `Output` events) has the rest.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("parameter `{name}` is missing")]
    MissingParam { name: &'static str },

    #[error("parameter `{name}` must be {}, but is {found}", expected.describe())]
    ParamType {
        name: &'static str,
        expected: ParamKind,
        found: String,
    },

    #[error(
        "parameter `{name}` is not a duration: `{value}` ({reason}); write e.g. `30s` or `10m`"
    )]
    BadDuration {
        name: &'static str,
        value: String,
        reason: humantime::DurationError,
    },

    #[error("working directory `{}` does not exist or is not a directory", path.display())]
    NoWorkdir { path: PathBuf },

    #[error("could not start `/bin/sh`: {source}")]
    Spawn {
        #[source]
        source: std::io::Error,
    },

    #[error("lost track of the command: {source}")]
    Io {
        #[source]
        source: std::io::Error,
    },

    #[error("command {}{}", describe_status(*status), stderr_note(stderr_tail))]
    Exited {
        status: ExitStatus,
        /// The last few lines the command wrote to stderr.
        stderr_tail: Vec<String>,
    },

    #[error(
        "probe did not pass within {} ({attempts} {}); last attempt {last_status}; last output: {}",
        humantime::format_duration(*timeout),
        if *attempts == 1 { "attempt" } else { "attempts" },
        if last_output.is_empty() { "(none)" } else { last_output.as_str() }
    )]
    ProbeTimedOut {
        timeout: Duration,
        attempts: u32,
        /// How the last attempt ended, e.g. "exited with status 1".
        last_status: String,
        last_output: String,
    },

    #[error("cancelled")]
    Cancelled,

    #[error(
        "{name} not found (looked for {looked_for}); install it ({install}) or name the binary in the step"
    )]
    ProgramMissing {
        name: &'static str,
        looked_for: String,
        install: &'static str,
    },

    #[error("could not start {name} (`{program}`): {source}")]
    ProgramStart {
        name: &'static str,
        program: String,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Etcd(#[from] super::etcd::EtcdError),

    #[error(transparent)]
    Restic(#[from] super::restic::ResticError),

    #[error(transparent)]
    Rclone(#[from] super::rclone::RcloneError),

    #[error(transparent)]
    S3(#[from] super::s3::S3Error),

    #[error(transparent)]
    Pki(#[from] super::pki::PkiError),

    #[error(transparent)]
    Kube(#[from] super::kube::KubeError),

    #[error(transparent)]
    Kkp(#[from] super::kkp::KkpError),

    #[error(transparent)]
    Age(#[from] super::check_age::AgeError),

    #[error(transparent)]
    Velero(#[from] super::velero::VeleroError),
}

/// "exited with status 3", "was killed by signal 9 (SIGKILL)".
pub(crate) fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;

    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(number) => match nix::sys::signal::Signal::try_from(number) {
            Ok(signal) => format!("was killed by signal {number} ({})", signal.as_str()),
            Err(_) => format!("was killed by signal {number}"),
        },
        None => format!("ended with {status}"),
    }
}

/// "; last stderr: a | b", or that there was none: the end of a failed tool's message.
pub(crate) fn stderr_note(tail: &[String]) -> String {
    if tail.is_empty() {
        "; it wrote nothing to stderr".to_string()
    } else {
        format!("; last stderr: {}", tail.join(" | "))
    }
}

/// A required string parameter.
pub(crate) fn required_str<'a>(
    params: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, ActionError> {
    optional_str(params, name)?.ok_or(ActionError::MissingParam { name })
}

/// An optional string parameter; `null` counts as absent.
pub(crate) fn optional_str<'a>(
    params: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, ActionError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ActionError::ParamType {
            name,
            expected: ParamKind::String,
            found: describe_value(other),
        }),
    }
}

/// An optional boolean: `true`/`false`, or their text. A template that yields a boolean
/// (`"{{ inputs.n > 0 }}"`) renders it as `True`/`False`, as Jinja does, so either case
/// is read.
pub(crate) fn optional_bool(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<bool>, ActionError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if matches!(s.trim(), "true" | "True") => Ok(Some(true)),
        Some(Value::String(s)) if matches!(s.trim(), "false" | "False") => Ok(Some(false)),
        Some(other) => Err(ActionError::ParamType {
            name,
            expected: ParamKind::Bool,
            found: describe_value(other),
        }),
    }
}

/// How a list parameter given as one string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OneString {
    /// Items separated by commas, the way etcdctl takes `--endpoints`.
    SplitAtCommas,
    /// One item: paths may contain commas.
    OneItem,
}

/// An optional list of strings; a single string is read as `one` says (a rendered
/// template yields one string). Items are trimmed and empty ones dropped.
pub(crate) fn optional_list(
    params: &Map<String, Value>,
    name: &'static str,
    one: OneString,
) -> Result<Vec<String>, ActionError> {
    let bad = |value: &Value| ActionError::ParamType {
        name,
        expected: ParamKind::StringList,
        found: describe_value(value),
    };
    let items: Vec<String> = match params.get(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if one == OneString::SplitAtCommas => {
            s.split(',').map(|i| i.trim().to_string()).collect()
        }
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(bad(other)),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(bad(other)),
    };
    Ok(items.into_iter().filter(|i| !i.is_empty()).collect())
}

/// An optional mapping of names to strings (environment variables). Numbers and booleans
/// are taken as their text: a rendered template may have produced one.
pub(crate) fn optional_string_map(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<(String, String)>, ActionError> {
    let map = match params.get(name) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(ActionError::ParamType {
                name,
                expected: ParamKind::StringMap,
                found: describe_value(other),
            });
        }
    };
    map.iter()
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(ActionError::ParamType {
                        name,
                        expected: ParamKind::StringMap,
                        found: format!("a mapping whose `{key}` is {}", describe_value(other)),
                    });
                }
            };
            Ok((key.clone(), text))
        })
        .collect()
}

/// An optional duration parameter, written like `30s` or `10m`.
pub(crate) fn optional_duration(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Duration>, ActionError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => humantime::parse_duration(s.trim())
            .map(Some)
            .map_err(|reason| ActionError::BadDuration {
                name,
                value: s.clone(),
                reason,
            }),
        Some(other) => Err(ActionError::ParamType {
            name,
            expected: ParamKind::Duration,
            found: describe_value(other),
        }),
    }
}

/// A required duration parameter.
pub(crate) fn required_duration(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Duration, ActionError> {
    optional_duration(params, name)?.ok_or(ActionError::MissingParam { name })
}

/// A parameter value in words, for "must be …, but is …" messages.
pub(crate) fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string `{s}`"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    /// A request for `params` (a JSON object) in `workdir`, with the receiving end of its
    /// events and its cancellation token.
    pub(crate) fn request(
        params: Value,
        workdir: &Path,
    ) -> (
        ActionRequest,
        UnboundedReceiver<ActionEvent>,
        CancellationToken,
    ) {
        let (events, receiver) = unbounded_channel();
        let cancel = CancellationToken::new();
        let request = ActionRequest {
            step: "test".to_string(),
            run_id: "test-run".to_string(),
            params: params.as_object().expect("params are an object").clone(),
            workdir: workdir.to_path_buf(),
            target: Value::Object(Map::new()),
            kube_clients: Default::default(),
            cancel: cancel.clone(),
            events,
        };
        (request, receiver, cancel)
    }

    /// The events received so far.
    pub(crate) fn events_of(receiver: &mut UnboundedReceiver<ActionEvent>) -> Vec<ActionEvent> {
        std::iter::from_fn(|| receiver.try_recv().ok()).collect()
    }

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn durations_are_parsed_and_bad_ones_say_which_parameter() {
        let p = params(json!({"timeout": "2m", "interval": "soon", "n": 3}));
        assert_eq!(
            required_duration(&p, "timeout").unwrap(),
            Duration::from_secs(120)
        );
        let err = optional_duration(&p, "interval").unwrap_err().to_string();
        assert!(
            err.starts_with("parameter `interval` is not a duration: `soon` ("),
            "{err}"
        );
        let err = required_duration(&p, "n").unwrap_err().to_string();
        assert_eq!(
            err,
            "parameter `n` must be a duration like `30s` or `10m`, but is the number `3`"
        );
        let err = required_duration(&p, "missing").unwrap_err().to_string();
        assert_eq!(err, "parameter `missing` is missing");
    }

    #[test]
    fn rendered_text_counts_as_a_bool() {
        let p = params(json!({"a": "True", "b": false, "c": "true", "j": "False", "x": "yes"}));
        assert_eq!(optional_bool(&p, "a").unwrap(), Some(true));
        assert_eq!(optional_bool(&p, "b").unwrap(), Some(false));
        assert_eq!(optional_bool(&p, "c").unwrap(), Some(true));
        assert_eq!(optional_bool(&p, "j").unwrap(), Some(false));
        assert_eq!(optional_bool(&p, "none").unwrap(), None);
        assert_eq!(
            optional_bool(&p, "x").unwrap_err().to_string(),
            "parameter `x` must be true or false, but is the string `yes`"
        );
    }

    #[test]
    fn a_list_may_be_one_string_split_at_commas_or_not() {
        let p = params(json!({"l": "a, b,", "m": ["/a", " "], "n": [1], "s": 3}));
        assert_eq!(
            optional_list(&p, "l", OneString::SplitAtCommas).unwrap(),
            ["a", "b"]
        );
        assert_eq!(
            optional_list(&p, "l", OneString::OneItem).unwrap(),
            ["a, b,"]
        );
        assert_eq!(optional_list(&p, "m", OneString::OneItem).unwrap(), ["/a"]);
        assert!(
            optional_list(&p, "none", OneString::OneItem)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            optional_list(&p, "n", OneString::OneItem)
                .unwrap_err()
                .to_string(),
            "parameter `n` must be a list of strings, but is the number `1`"
        );
        assert_eq!(
            optional_list(&p, "s", OneString::SplitAtCommas)
                .unwrap_err()
                .to_string(),
            "parameter `s` must be a list of strings, but is the number `3`"
        );
    }

    #[test]
    fn env_values_may_be_scalars_but_not_lists() {
        let p = params(json!({"env": {"A": "x", "B": 3, "C": true}}));
        let env = optional_string_map(&p, "env").unwrap();
        assert_eq!(
            env,
            vec![
                ("A".to_string(), "x".to_string()),
                ("B".to_string(), "3".to_string()),
                ("C".to_string(), "true".to_string())
            ]
        );
        let p = params(json!({"env": {"A": ["x"]}}));
        let err = optional_string_map(&p, "env").unwrap_err().to_string();
        assert_eq!(
            err,
            "parameter `env` must be a mapping of names to strings, but is a mapping whose `A` is a list"
        );
    }
}
