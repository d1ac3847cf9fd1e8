//! `etcd.members`: the cluster's member list, as the cluster itself sees it.
//!
//! Safe to re-run after a crash: it only reads.
//!
//! The list is asked of the first endpoint that answers (every member holds the same
//! list). A member that was added but never started has no name and no client URLs yet;
//! it is listed with `started: false`, which is what a runbook usually wants to find.

use serde_json::{Value, json};

use super::client::{Connection, TLS_PARAMS, endpoints, member_id, unless_cancelled};
use super::error::EtcdError;
use super::health::ENDPOINTS;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs,
};
use crate::actions::{ActionSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.members",
    by_hand: super::manual::members,
    outputs: Some(&["cluster_id", "count", "members"]),
    summary: "List the cluster's members: id, name, peer and client URLs.",
    params: &[
        ENDPOINTS,
        TLS_PARAMS[0],
        TLS_PARAMS[1],
        TLS_PARAMS[2],
        TLS_PARAMS[3],
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &MembersAction,
};

/// The executor of `etcd.members`.
pub struct MembersAction;

impl Action for MembersAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let endpoints = endpoints(&request.params)?;
    let connection = Connection::from_params(&request.params, &request.workdir)?;
    unless_cancelled(&request.cancel, async {
        let mut errors = Vec::new();
        for endpoint in &endpoints {
            match member_list(&connection, endpoint).await {
                Ok(outputs) => return Ok(outputs),
                Err(ActionError::Etcd(e)) => {
                    request.emit(ActionEvent::Progress(e.to_string()));
                    errors.push(e.to_string());
                }
                Err(other) => return Err(other),
            }
        }
        Err(EtcdError::Unhealthy(format!(
            "no endpoint answered the member list: {}",
            errors.join("; ")
        ))
        .into())
    })
    .await
}

/// The member list as outputs: `cluster_id`, `count`, `members`.
pub(crate) async fn member_list(
    connection: &Connection,
    endpoint: &str,
) -> Result<Outputs, ActionError> {
    let mut client = connection.client(endpoint).await?;
    let response = connection
        .call(endpoint, "list the members of", client.member_list())
        .await?;
    let members: Vec<Value> = response
        .members()
        .iter()
        .map(|m| {
            json!({
                "id": member_id(m.id()),
                "name": m.name(),
                "peer_urls": m.peer_urls(),
                "client_urls": m.client_urls(),
                "is_learner": m.is_learner(),
                "started": !m.name().is_empty(),
            })
        })
        .collect();
    let mut outputs = Outputs::new();
    if let Some(header) = response.header() {
        outputs.insert(
            "cluster_id".into(),
            Value::String(member_id(header.cluster_id())),
        );
    }
    outputs.insert("count".into(), Value::from(members.len()));
    outputs.insert("members".into(), Value::Array(members));
    Ok(outputs)
}
