//! Watches: `?watch=true` answers 200 and streams one JSON line per change
//! (`{"type":"MODIFIED","object":{…}}`), as the real server does.
//!
//! Without a `resourceVersion` (or with `0`) the stream starts with a synthetic `ADDED`
//! for every current object; with one, it replays the changes after it. A version the
//! history no longer reaches is answered with one in-stream `ERROR` (a `Status` with code
//! 410, reason `Expired`), never an HTTP error. `timeoutSeconds` ends the stream. Each
//! opened watch is counted, so a test can change an object once a watch is known to be
//! open instead of sleeping.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::Shared;
use super::http::{Body, Query, Target};
use super::objects::{fields_match, labels_match};
use super::status;
use super::store::Change;

/// Answers a watch request with a streaming body.
pub fn open(shared: Arc<Shared>, target: &Target, query: &Query) -> Response<Body> {
    let labels = query.get("labelSelector").unwrap_or("").to_string();
    let fields = query.get("fieldSelector").unwrap_or("").to_string();
    if let Err((code, body)) = super::objects::check_fields(target.kind, &fields) {
        return super::http::reply(code, &body);
    }
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let resource = target.kind.qualified();
    let namespace = target.namespace.clone();
    let matches = move |change: &Change| {
        change.key.resource == resource
            && (namespace.is_none() || change.key.namespace == namespace)
            && labels_match(&change.object, &labels)
            && fields_match(&change.object, &fields)
    };
    let (lines, receiver) = tokio::sync::mpsc::channel::<Bytes>(256);
    let mut ends = shared.ends.subscribe();
    let line = |kind: &str, object: &Value| {
        Bytes::from(format!("{}\n", json!({"type": kind, "object": object})))
    };
    let start = {
        let mut store = shared.store.lock().unwrap_or_else(|e| e.into_inner());
        let asked = query
            .get("resourceVersion")
            .filter(|v| !v.is_empty() && *v != "0");
        let opened = match asked.map(|v| v.parse::<u64>().unwrap_or(0)) {
            None => {
                let current: Vec<Bytes> = store
                    .list(target.kind, target.namespace.as_deref())
                    .into_iter()
                    .map(|o| {
                        (
                            o,
                            Change {
                                revision: 0,
                                key: target.key(o["metadata"]["name"].as_str().unwrap_or("")),
                                event: "ADDED",
                                object: o.clone(),
                            },
                        )
                    })
                    .filter(|(_, c)| matches(c))
                    .map(|(o, _)| line("ADDED", o))
                    .collect();
                store
                    .follow(store.revision())
                    .map(|(_, live)| (current, live))
            }
            Some(version) => store.follow(version).map(|(past, live)| {
                let past = past
                    .iter()
                    .filter(|c| matches(c))
                    .map(|c| line(c.event, &c.object))
                    .collect();
                (past, live)
            }),
        };
        store.watches_opened += 1;
        shared.opened.notify_all();
        opened.map_err(|oldest| {
            let asked = asked.and_then(|v| v.parse().ok()).unwrap_or(0);
            line("ERROR", &status::expired(asked, oldest))
        })
    };
    tokio::spawn(async move {
        let (past, mut live) = match start {
            Ok(opened) => opened,
            Err(expired) => {
                let _ = lines.send(expired).await;
                return;
            }
        };
        for event in past {
            if lines.send(event).await.is_err() {
                return;
            }
        }
        let until = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(until);
        loop {
            let change = tokio::select! {
                () = &mut until => return,
                _ = ends.changed() => return,
                change = live.recv() => change,
            };
            match change {
                Ok(change) if matches(&change) => {
                    if lines
                        .send(line(change.event, &change.object))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(_) => {}
                // A watcher too slow for the history is dropped, as the real server does.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|bytes| {
            (
                Ok::<_, std::convert::Infallible>(Frame::data(bytes)),
                receiver,
            )
        })
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(StreamBody::new(stream).boxed())
        .expect("a valid response")
}
