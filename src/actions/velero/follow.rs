//! Following one Restore to a terminal phase by watching it (not polling): each change of
//! its phase and of its progress (`itemsRestored/totalItems`) is reported with the time
//! it was seen, as soon as the API server has it.
//!
//! The Restore is listed by name (which gives a resourceVersion), then watched from that
//! version; a watch the server ends is resumed from the last version seen, and a version
//! the server has forgotten (an in-stream 410 `Expired`) starts over with a fresh list,
//! as domain-facts §9.3 describes kube-runtime's watcher doing.

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;

use super::api::{TERMINAL, count, json, text};
use super::error::VeleroError;
use crate::actions::execute::{ActionError, ActionEvent, ActionRequest};
use crate::actions::kube::describe;

/// What has been reported so far, so only changes are reported.
#[derive(Default)]
struct Seen {
    phase: Option<String>,
    progress: Option<(u64, u64)>,
}

impl Seen {
    /// Reports what changed; true when the phase is terminal.
    fn note(&mut self, request: &ActionRequest, restore: &Value) -> bool {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let phase = text(restore, "/status/phase");
        if self.phase.as_ref() != Some(&phase) {
            let shown = match phase.as_str() {
                "" => "phase empty (queued: Velero has not started it yet)".to_string(),
                p => format!("phase {p}"),
            };
            request.emit(ActionEvent::Progress(format!("{now} {shown}")));
            self.phase = Some(phase.clone());
        }
        let total = count(restore, "/status/progress/totalItems");
        let done = count(restore, "/status/progress/itemsRestored");
        if total > 0 && self.progress != Some((done, total)) {
            request.emit(ActionEvent::Progress(format!(
                "{now} {done}/{total} items restored"
            )));
            self.progress = Some((done, total));
        }
        TERMINAL.contains(&phase.as_str())
    }
}

/// Watches Restore `name` until its phase is terminal; returns it then.
pub(crate) async fn until_terminal(
    request: &ActionRequest,
    api: &Api<DynamicObject>,
    label: &str,
    name: &str,
) -> Result<Value, ActionError> {
    let by_name = format!("metadata.name={name}");
    let failed = |e: kube::Error| VeleroError::Api {
        verb: "watch",
        object: label.to_string(),
        reason: describe(&e),
    };
    let gone = || {
        VeleroError::Api {
        verb: "follow",
        object: label.to_string(),
        reason: "it was deleted (deleting a Restore does not stop Velero's work, and its finalizer removes its logs and results); look at `velero restore get` and the restored namespaces before going on".into(),
    }
    };
    let mut seen = Seen::default();
    'relist: loop {
        let list = api
            .list(&ListParams::default().fields(&by_name))
            .await
            .map_err(failed)?;
        let Some(current) = list.items.first() else {
            return Err(gone().into());
        };
        let value = json(current);
        if seen.note(request, &value) {
            return Ok(value);
        }
        let mut version = list.metadata.resource_version.unwrap_or_default();
        loop {
            let params = WatchParams::default().fields(&by_name).timeout(290);
            let mut stream = api.watch(&params, &version).await.map_err(failed)?.boxed();
            while let Some(event) = stream.next().await {
                let object = match event.map_err(failed)? {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => o,
                    WatchEvent::Deleted(_) => return Err(gone().into()),
                    WatchEvent::Bookmark(b) => {
                        version = b.metadata.resource_version;
                        continue;
                    }
                    WatchEvent::Error(status) if status.code == 410 => continue 'relist,
                    WatchEvent::Error(status) => {
                        return Err(VeleroError::Api {
                            verb: "watch",
                            object: label.to_string(),
                            reason: format!("{} ({})", status.message, status.reason),
                        }
                        .into());
                    }
                };
                if let Some(v) = &object.metadata.resource_version {
                    version = v.clone();
                }
                let value = json(&object);
                if seen.note(request, &value) {
                    return Ok(value);
                }
            }
        }
    }
}
