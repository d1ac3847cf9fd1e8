//! `etcd.status`: per member, its revision, database size, raft term and index, and
//! whom it sees as leader.
//!
//! Safe to re-run after a crash: it only reads.
//!
//! Every endpoint is asked at once; an endpoint that does not answer fails the step and
//! is named, because a status that silently leaves a member out would mislead.

use serde_json::{Value, json};

use super::client::{
    Connection, TLS_PARAMS, each_endpoint, endpoints, member_id, unless_cancelled,
};
use super::error::EtcdError;
use super::health::ENDPOINTS;
use crate::actions::execute::{Action, ActionError, ActionFuture, ActionRequest, Outputs};
use crate::actions::{ActionSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.status",
    by_hand: super::manual::status_table,
    outputs: Some(&["leader", "revision", "db_size", "endpoints"]),
    summary: "Per endpoint: revision, database size, raft term and index, and the leader it sees.",
    params: &[
        ENDPOINTS,
        TLS_PARAMS[0],
        TLS_PARAMS[1],
        TLS_PARAMS[2],
        TLS_PARAMS[3],
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &StatusAction,
};

/// The executor of `etcd.status`.
pub struct StatusAction;

impl Action for StatusAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// One endpoint's status.
#[derive(Debug, Clone)]
pub(crate) struct EndpointStatus {
    pub endpoint: String,
    pub member_id: u64,
    pub leader: u64,
    pub revision: i64,
    pub db_size: i64,
    pub raft_term: u64,
    pub raft_index: u64,
    pub version: String,
}

impl EndpointStatus {
    pub(crate) fn is_leader(&self) -> bool {
        self.leader != 0 && self.leader == self.member_id
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "member_id": member_id(self.member_id),
            "leader": member_id(self.leader),
            "is_leader": self.is_leader(),
            "revision": self.revision,
            "db_size": self.db_size,
            "raft_term": self.raft_term,
            "raft_index": self.raft_index,
            "version": self.version,
        })
    }
}

/// Asks one endpoint for its status.
pub(crate) async fn endpoint_status(
    connection: Connection,
    endpoint: String,
) -> Result<EndpointStatus, EtcdError> {
    let mut client = connection.client(&endpoint).await?;
    let status = connection
        .call(&endpoint, "get the status of", client.status())
        .await?;
    let header = status.header();
    Ok(EndpointStatus {
        member_id: header.map_or(0, |h| h.member_id()),
        revision: header.map_or(0, |h| h.revision()),
        leader: status.leader(),
        db_size: status.db_size(),
        raft_term: status.raft_term(),
        raft_index: status.raft_index(),
        version: status.version().to_string(),
        endpoint,
    })
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let endpoints = endpoints(&request.params)?;
    let connection = Connection::from_params(&request.params, &request.workdir)?;
    let results = unless_cancelled(&request.cancel, async {
        Ok(each_endpoint(&endpoints, |e| endpoint_status(connection.clone(), e)).await)
    })
    .await?;
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    if !errors.is_empty() {
        return Err(EtcdError::Unhealthy(errors.join("; ")).into());
    }
    let statuses: Vec<EndpointStatus> = results.into_iter().flatten().collect();
    let mut outputs = Outputs::new();
    // The leader the first member that sees one names (`etcd.verify` checks that they
    // agree); 0 when nobody sees one.
    let leader = statuses
        .iter()
        .find(|s| s.leader != 0)
        .map_or(0, |s| s.leader);
    outputs.insert("leader".into(), Value::String(member_id(leader)));
    outputs.insert(
        "revision".into(),
        Value::from(statuses.iter().map(|s| s.revision).max().unwrap_or(0)),
    );
    outputs.insert(
        "db_size".into(),
        Value::from(statuses.iter().map(|s| s.db_size).max().unwrap_or(0)),
    );
    outputs.insert(
        "endpoints".into(),
        Value::Array(statuses.iter().map(EndpointStatus::to_json).collect()),
    );
    Ok(outputs)
}
