//! `s3.list`: the objects of a bucket under a prefix, with sizes and times, so a runbook
//! can show what backups exist, count them or check their total size.
//!
//! Safe to re-run after a crash: it only reads.

use serde_json::Value;

use super::store::{PREFIX, STORE_PARAMS, Store};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
};
use crate::actions::{ActionSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "s3.list",
    by_hand: super::manual::list,
    outputs: Some(&["objects", "count", "total_size"]),
    summary: "List the objects of an S3 bucket under a prefix: key, size and last-modified time of each, sorted by key.",
    params: &[
        STORE_PARAMS[0],
        STORE_PARAMS[1],
        STORE_PARAMS[2],
        STORE_PARAMS[3],
        STORE_PARAMS[4],
        STORE_PARAMS[5],
        STORE_PARAMS[6],
        PREFIX,
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &ListAction,
};

/// A progress event every this many objects, so a big listing shows it is moving.
pub(crate) const PROGRESS_EVERY: usize = 1000;

/// The executor of `s3.list`.
pub struct ListAction;

impl Action for ListAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let store = Store::from_params(&request.params)?;
    let prefix = optional_str(&request.params, "prefix")?;
    let listing = list_reporting(&store, prefix, &request);
    let mut objects = tokio::select! {
        listed = listing => listed?,
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    };
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    let total_size: u64 = objects.iter().map(|o| o.size).sum();
    let mut outputs = Outputs::new();
    outputs.insert("count".into(), Value::from(objects.len()));
    outputs.insert("total_size".into(), Value::from(total_size));
    outputs.insert(
        "objects".into(),
        Value::Array(objects.iter().map(|o| o.to_json()).collect()),
    );
    Ok(outputs)
}

/// Lists with a progress event every `PROGRESS_EVERY` objects.
pub(crate) async fn list_reporting(
    store: &Store,
    prefix: Option<&str>,
    request: &ActionRequest,
) -> Result<Vec<super::object::Object>, ActionError> {
    let mut reported = 0;
    let objects = store
        .list(prefix, |so_far| {
            if so_far / PROGRESS_EVERY > reported / PROGRESS_EVERY {
                reported = so_far;
                request.emit(ActionEvent::Progress(format!(
                    "listed {so_far} objects of bucket `{}` so far",
                    store.bucket
                )));
            }
        })
        .await?;
    Ok(objects)
}
