//! Following objects by watch while a restore runs: one task per watched thing (the
//! EtcdRestore, its Cluster, the Warning events on the EtcdRestore), each listing first
//! (which gives a resourceVersion and the current state), then watching from there. A
//! watch the server ends is resumed from the last version seen; a version too old for it
//! (an in-stream `ERROR` 410, `Expired`) starts over with a fresh list, as `kube.wait`
//! does (domain-facts §9.3). Everything seen goes into one channel, in order per source.

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use super::error::KkpError;
use crate::actions::kube::describe;

/// Which watch something came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Restore,
    Cluster,
    Events,
}

/// One object as a watch saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub source: Source,
    pub object: Value,
    pub deleted: bool,
}

/// What the follower tasks send: a sighting, or why the watch of a source cannot go on.
pub(crate) type Sighting = Result<Seen, (Source, KkpError)>;

/// Starts following the objects of `api` that `fields` selects; the task ends with the
/// set (dropping a `JoinSet` aborts its tasks).
pub(crate) fn start(
    tasks: &mut JoinSet<()>,
    sink: UnboundedSender<Sighting>,
    api: Api<DynamicObject>,
    fields: String,
    source: Source,
    label: String,
) {
    tasks.spawn(async move {
        if let Err(e) = follow(&api, &fields, source, &sink).await {
            let _ = sink.send(Err((
                source,
                KkpError::Api {
                    verb: "watch",
                    object: label,
                    reason: e,
                },
            )));
        }
    });
}

async fn follow(
    api: &Api<DynamicObject>,
    fields: &str,
    source: Source,
    sink: &UnboundedSender<Sighting>,
) -> Result<(), String> {
    let send = |object: &DynamicObject, deleted: bool| {
        let object = serde_json::to_value(object).unwrap_or(Value::Null);
        sink.send(Ok(Seen {
            source,
            object,
            deleted,
        }))
        .is_ok()
    };
    'relist: loop {
        let list = api
            .list(&ListParams::default().fields(fields))
            .await
            .map_err(|e| describe(&e))?;
        for item in &list.items {
            if !send(item, false) {
                return Ok(());
            }
        }
        let mut version = list.metadata.resource_version.unwrap_or_default();
        loop {
            let params = WatchParams::default().fields(fields).timeout(290);
            let mut stream = api
                .watch(&params, &version)
                .await
                .map_err(|e| describe(&e))?
                .boxed();
            while let Some(event) = stream.next().await {
                let (object, deleted) = match event.map_err(|e| describe(&e))? {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => (o, false),
                    WatchEvent::Deleted(o) => (o, true),
                    WatchEvent::Bookmark(b) => {
                        version = b.metadata.resource_version;
                        continue;
                    }
                    WatchEvent::Error(status) if status.code == 410 => continue 'relist,
                    WatchEvent::Error(status) => {
                        return Err(format!("{} ({})", status.message, status.reason));
                    }
                };
                if let Some(v) = &object.metadata.resource_version {
                    version = v.clone();
                }
                if !send(&object, deleted) {
                    return Ok(());
                }
            }
        }
    }
}
