//! `kube.wait`: waits until one object's field has a value (`jsonpath` + `value`) or one
//! of its conditions has a status (`condition` + `status`), by watching the object, not
//! polling it: a change is seen as soon as the API server has it.
//!
//! The wait lists the object by name (which gives a resourceVersion even while the object
//! does not exist yet), checks it, then watches from that version. Every change of the
//! watched value is reported with the time it was seen. A watch the server ends (its
//! timeout) is resumed from the last version seen; a version too old for the server
//! (an in-stream `ERROR` with code 410, `Expired`) starts over with a fresh list. The
//! step's `timeout` bounds the wait: the engine cancels it.
//!
//! Safe to re-run after a crash: it only reads.
//!
//! Conditions are read as Kubernetes writes them, a list of `{type, status}`, and as KKP
//! writes them, a map keyed by type (`status.conditions.EtcdClusterInitialized.status`).

use futures_util::StreamExt;
use jsonpath_rust::JsonPath;
use kube::api::{DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;

use super::connect::{CONNECTION_PARAMS, connect};
use super::error::{KubeError, describe};
use super::object::{
    API_VERSION, KIND, NAME, NAMESPACE, Target, object_outputs, recordable, target,
    unless_cancelled,
};
use crate::actions::by_hand::Given;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "kube.wait",
    summary: "Watches one object until a field has a value or a condition a status.",
    params: &[
        API_VERSION,
        KIND,
        NAME,
        NAMESPACE,
        ParamSpec {
            name: "jsonpath",
            kind: ParamKind::String,
            required: false,
            doc: "The field to watch, as kubectl writes it: `{.status.phase}`; with `value`.",
        },
        ParamSpec {
            name: "value",
            kind: ParamKind::String,
            required: false,
            doc: "The value `jsonpath` must have (compared as text); without it, any non-empty value.",
        },
        ParamSpec {
            name: "condition",
            kind: ParamKind::String,
            required: false,
            doc: "The type of the condition to watch, e.g. `Available` (instead of `jsonpath`).",
        },
        ParamSpec {
            name: "status",
            kind: ParamKind::String,
            required: false,
            doc: "The status `condition` must have; default `True`.",
        },
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&[
        "value",
        "object",
        "uid",
        "resource_version",
        "cluster_uid",
        "server",
    ]),
    rerun: Rerun::Safe("it only reads"),
    by_hand,
    executor: &WaitAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let until = match given.opt("condition") {
        Some(condition) => format!(
            "--for=condition={}={}",
            condition,
            given.opt("status").unwrap_or_else(|| "True".into())
        ),
        None => match given.opt("value") {
            Some(value) => format!("--for=jsonpath={}={}", given.text("jsonpath"), value),
            None => format!("--for=jsonpath={}", given.text("jsonpath")),
        },
    };
    vec![format!(
        "kubectl{} wait {} {}{} {} --timeout=<the step's timeout>",
        super::kubectl_flags(given),
        super::kubectl_kind(given),
        given.word("name"),
        super::namespace_flag(given),
        crate::actions::by_hand::quote(&until),
    )]
}

/// The executor of `kube.wait`.
pub struct WaitAction;

impl Action for WaitAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// What the step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Until {
    /// A JSONPath (`$.status.phase`) and the text it must have (`None`: any non-empty).
    Path {
        path: String,
        shown: String,
        value: Option<String>,
    },
    /// A condition type and its status.
    Condition { kind: String, status: String },
}

impl Until {
    fn from_params(request: &ActionRequest) -> Result<Until, ActionError> {
        let params = &request.params;
        let text = |name| -> Result<Option<String>, ActionError> {
            Ok(optional_str(params, name)?
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string))
        };
        match (text("jsonpath")?, text("condition")?) {
            (Some(shown), None) => Ok(Until::Path {
                path: to_jsonpath(&shown)?,
                shown,
                value: optional_str(params, "value")?.map(str::to_string),
            }),
            (None, Some(kind)) => Ok(Until::Condition {
                kind,
                status: text("status")?.unwrap_or_else(|| "True".into()),
            }),
            (Some(_), Some(_)) => Err(KubeError::BadParam {
                name: "condition",
                problem: "and `jsonpath` are both given; wait for one of them".into(),
            }
            .into()),
            (None, None) => Err(KubeError::BadParam {
                name: "jsonpath",
                problem: "or `condition` is needed: say what to wait for".into(),
            }
            .into()),
        }
    }

    /// What the wait looks at, for messages.
    fn subject(&self) -> String {
        match self {
            Until::Path { shown, .. } => shown.clone(),
            Until::Condition { kind, .. } => format!("condition {kind}"),
        }
    }

    /// The watched value of an object, as text; `None` when absent.
    fn observe(&self, object: &Value) -> Option<String> {
        match self {
            Until::Path { path, .. } => {
                let found = object.query(path).ok()?;
                let texts: Vec<String> = found.into_iter().map(text_of).collect();
                (!texts.is_empty()).then(|| texts.join(" "))
            }
            Until::Condition { kind, .. } => condition_status(object, kind),
        }
    }

    /// True when the observed value is what the step waits for.
    fn holds(&self, observed: Option<&str>) -> bool {
        match self {
            Until::Path { value: Some(v), .. } => observed == Some(v.as_str()),
            Until::Path { value: None, .. } => observed.is_some_and(|o| !o.is_empty()),
            Until::Condition { status, .. } => observed == Some(status.as_str()),
        }
    }
}

/// kubectl's `{.status.phase}` (or `.status.phase`) as the `$.status.phase` the JSONPath
/// library reads.
fn to_jsonpath(written: &str) -> Result<String, ActionError> {
    let inner = written
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(written)
        .trim();
    let path = match inner {
        p if p.starts_with('$') => p.to_string(),
        p if p.starts_with('.') || p.starts_with('[') => format!("${p}"),
        p => format!("$.{p}"),
    };
    // Checked once here, so a typo fails the step at once instead of never matching.
    Value::Null.query(&path).map_err(|e| KubeError::BadParam {
        name: "jsonpath",
        problem: format!("is not a JSONPath (`{written}`): {e}"),
    })?;
    Ok(path)
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A condition's status, from a list of `{type, status}` or a map keyed by type.
fn condition_status(object: &Value, kind: &str) -> Option<String> {
    match object.pointer("/status/conditions")? {
        Value::Array(list) => list
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
            .and_then(|c| c.get("status"))
            .map(text_of),
        Value::Object(map) => map.get(kind)?.get("status").map(text_of),
        _ => None,
    }
}

/// What the watch has seen so far.
struct Seen {
    last: Option<Option<String>>,
}

impl Seen {
    /// Reports the observed value when it changed; true when it is the awaited one.
    fn note(&mut self, request: &ActionRequest, until: &Until, object: Option<&Value>) -> bool {
        let observed = object.and_then(|o| until.observe(o));
        if self.last.as_ref() != Some(&observed) {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let shown = match (object, &observed) {
                (None, _) => "the object does not exist".to_string(),
                (Some(_), None) => format!("{} is not set", until.subject()),
                (Some(_), Some(v)) => format!("{} = {v}", until.subject()),
            };
            request.emit(ActionEvent::Progress(format!("{now} {shown}")));
            self.last = Some(observed.clone());
        }
        object.is_some() && until.holds(observed.as_deref())
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let until = Until::from_params(&request)?;
    let cluster = connect(&request).await?;
    let object = target(&cluster, &request).await?;
    let mut seen = Seen { last: None };
    let done = unless_cancelled(&request, follow(&request, &object, &until, &mut seen)).await??;
    let mut outputs = Outputs::new();
    object_outputs(&done, &object.kind, &mut outputs);
    let value = Some(recordable(&done, &object.kind))
        .and_then(|v| until.observe(&v))
        .unwrap_or_default();
    outputs.insert("value".into(), Value::String(value));
    cluster.identify(&mut outputs);
    Ok(outputs)
}

/// Lists, then watches, until the object satisfies `until`; returns it.
async fn follow(
    request: &ActionRequest,
    object: &Target,
    until: &Until,
    seen: &mut Seen,
) -> Result<DynamicObject, ActionError> {
    let by_name = format!("metadata.name={}", object.name);
    let failed = |e: kube::Error| KubeError::Watch {
        object: object.label.clone(),
        reason: describe(&e),
    };
    'relist: loop {
        let list = object
            .api
            .list(&ListParams::default().fields(&by_name))
            .await
            .map_err(failed)?;
        let current = list.items.into_iter().next();
        let value = current.as_ref().map(|o| recordable(o, &object.kind));
        if seen.note(request, until, value.as_ref())
            && let Some(found) = current
        {
            return Ok(found);
        }
        let mut version = list.metadata.resource_version.unwrap_or_default();
        loop {
            let params = WatchParams::default().fields(&by_name).timeout(290);
            let mut stream = object
                .api
                .watch(&params, &version)
                .await
                .map_err(failed)?
                .boxed();
            while let Some(event) = stream.next().await {
                let (found, exists) = match event.map_err(failed)? {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => (o, true),
                    WatchEvent::Deleted(o) => (o, false),
                    WatchEvent::Bookmark(b) => {
                        version = b.metadata.resource_version;
                        continue;
                    }
                    // Too old a version: the server forgot it; start from a fresh list.
                    WatchEvent::Error(status) if status.code == 410 => continue 'relist,
                    WatchEvent::Error(status) => {
                        return Err(KubeError::Watch {
                            object: object.label.clone(),
                            reason: format!("{} ({})", status.message, status.reason),
                        }
                        .into());
                    }
                };
                if let Some(v) = &found.metadata.resource_version {
                    version = v.clone();
                }
                let value = exists.then(|| recordable(&found, &object.kind));
                if seen.note(request, until, value.as_ref()) {
                    return Ok(found);
                }
            }
            // The server closed the watch (its timeout): resume from the last version.
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kubectl_jsonpath_is_read() {
        assert_eq!(to_jsonpath("{.status.phase}").unwrap(), "$.status.phase");
        assert_eq!(to_jsonpath(".spec.replicas").unwrap(), "$.spec.replicas");
        assert!(to_jsonpath("{.status[}").is_err());
    }

    #[test]
    fn conditions_are_read_as_a_list_and_as_a_map() {
        let list = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        let map = json!({"status": {"conditions": {"EtcdClusterInitialized": {"status": "True"}}}});
        assert_eq!(condition_status(&list, "Ready").as_deref(), Some("False"));
        assert_eq!(
            condition_status(&map, "EtcdClusterInitialized").as_deref(),
            Some("True")
        );
        assert_eq!(condition_status(&map, "Other"), None);
    }

    #[test]
    fn a_path_without_a_value_waits_for_any_value() {
        let until = Until::Path {
            path: "$.status.phase".into(),
            shown: "{.status.phase}".into(),
            value: None,
        };
        let object = json!({"status": {"phase": "Completed"}});
        assert_eq!(until.observe(&object).as_deref(), Some("Completed"));
        assert!(until.holds(Some("Completed")));
        assert!(!until.holds(Some("")));
        assert!(!until.holds(None));
    }
}
