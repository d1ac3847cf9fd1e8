//! `etcd.health`: is each member answering reads that need a working cluster?
//!
//! Safe to re-run after a crash: it only reads.
//!
//! A member counts as healthy when a linearizable read (of the key `health`, as
//! `etcdctl endpoint health` does) succeeds within the timeout. Such a read goes through
//! the raft leader, so it fails on a member that lost quorum even though the process
//! runs and answers status calls. "permission denied" (auth enabled, the key not
//! readable) still proves the read path works and counts as healthy.
//!
//! Each answer's header names the cluster and member that gave it. Endpoints that
//! answer for two different clusters fail the step even when each is healthy on its
//! own: one of them is not a member of the cluster the step means (a wrong address, or
//! a port another etcd took), and "healthy" would be a claim about the wrong data.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::client::{
    Connection, TLS_PARAMS, each_endpoint, endpoints, member_id, unless_cancelled,
};
use super::error::{EtcdError, describe_client_error};
use crate::actions::execute::{
    Action, ActionError, ActionFuture, ActionRequest, Outputs, optional_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.health",
    by_hand: super::manual::health,
    outputs: Some(&["healthy", "total", "endpoints", "cluster_id"]),
    summary: "Check that etcd members answer linearizable reads: every one (`mode: all`) or a quorum.",
    params: &[
        ENDPOINTS,
        ParamSpec {
            name: "mode",
            kind: ParamKind::String,
            required: false,
            doc: "`all` (default): every endpoint must be healthy; `quorum`: more than half of them.",
        },
        TLS_PARAMS[0],
        TLS_PARAMS[1],
        TLS_PARAMS[2],
        TLS_PARAMS[3],
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &HealthAction,
};

/// The `endpoints` parameter of the live-API actions.
pub(crate) const ENDPOINTS: ParamSpec = ParamSpec {
    name: "endpoints",
    kind: ParamKind::StringList,
    required: true,
    doc: "Client URLs of the members, e.g. `[https://10.0.0.1:2379, https://10.0.0.2:2379]`. A template may also produce one comma-separated string.",
};

/// The executor of `etcd.health`.
pub struct HealthAction;

impl Action for HealthAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// What one endpoint's probe found.
#[derive(Debug, Clone)]
pub(crate) struct EndpointHealth {
    pub endpoint: String,
    pub healthy: bool,
    pub took: Duration,
    pub error: Option<String>,
    /// The cluster and member that answered (hex ids), when the read returned a header.
    pub answered_by: Option<(String, String)>,
}

impl EndpointHealth {
    pub(crate) fn to_json(&self) -> Value {
        let mut value = json!({
            "endpoint": self.endpoint,
            "healthy": self.healthy,
            "took_ms": u64::try_from(self.took.as_millis()).unwrap_or(u64::MAX),
        });
        if let Some(error) = &self.error {
            value["error"] = Value::String(error.clone());
        }
        if let Some((cluster, member)) = &self.answered_by {
            value["cluster_id"] = Value::String(cluster.clone());
            value["member_id"] = Value::String(member.clone());
        }
        value
    }
}

/// Probes one endpoint with a linearizable read.
pub(crate) async fn probe(connection: Connection, endpoint: String) -> EndpointHealth {
    let started = Instant::now();
    let result = async {
        let mut client = connection.client(&endpoint).await?;
        match tokio::time::timeout(connection.timeout, client.get("health", None)).await {
            Ok(Ok(response)) => Ok(response
                .header()
                .map(|h| (member_id(h.cluster_id()), member_id(h.member_id())))),
            Ok(Err(etcd_client::Error::GRpcStatus(status)))
                if status.message().contains("permission denied") =>
            {
                Ok(None)
            }
            Ok(Err(e)) => Err(EtcdError::Api {
                what: "read from",
                endpoint: endpoint.clone(),
                detail: describe_client_error(&e),
            }),
            Err(_) => Err(EtcdError::Timeout {
                what: "a linearizable read",
                endpoint: endpoint.clone(),
                after: connection.timeout,
            }),
        }
    }
    .await;
    let took = started.elapsed();
    match result {
        Ok(answered_by) => EndpointHealth {
            endpoint,
            healthy: true,
            took,
            error: None,
            answered_by,
        },
        Err(e) => EndpointHealth {
            endpoint,
            healthy: false,
            took,
            error: Some(e.to_string()),
            answered_by: None,
        },
    }
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let endpoints = endpoints(&request.params)?;
    let quorum = match optional_str(&request.params, "mode")? {
        None | Some("all") => false,
        Some("quorum") => true,
        Some(other) => {
            return Err(EtcdError::BadParam {
                name: "mode",
                problem: format!("is `{other}`; write `all` or `quorum`"),
            }
            .into());
        }
    };
    let connection = Connection::from_params(&request.params, &request.workdir)?;
    let results = unless_cancelled(&request.cancel, async {
        Ok(each_endpoint(&endpoints, |e| probe(connection.clone(), e)).await)
    })
    .await?;

    let total = results.len();
    let healthy = results.iter().filter(|r| r.healthy).count();
    let needed = if quorum { total / 2 + 1 } else { total };
    let mut outputs = Outputs::new();
    outputs.insert("healthy".into(), Value::from(healthy));
    outputs.insert("total".into(), Value::from(total));
    outputs.insert(
        "endpoints".into(),
        Value::Array(results.iter().map(EndpointHealth::to_json).collect()),
    );
    let clusters = clusters(&results);
    if clusters.len() > 1 {
        return Err(EtcdError::SplitClusters(which_answers_for_which(&clusters)).into());
    }
    // Null when no endpoint answered with a header (none healthy, or auth hid it).
    outputs.insert(
        "cluster_id".into(),
        clusters
            .first()
            .map_or(Value::Null, |(cluster, _)| Value::String(cluster.clone())),
    );
    if healthy >= needed {
        return Ok(outputs);
    }
    let failures: Vec<String> = results.iter().filter_map(|r| r.error.clone()).collect();
    Err(EtcdError::Unhealthy(format!(
        "{healthy} of {total} {} healthy, and {} needs {}: {}",
        if total == 1 {
            "endpoint is"
        } else {
            "endpoints are"
        },
        if quorum {
            "`mode: quorum`"
        } else {
            "`mode: all`"
        },
        if quorum {
            format!("at least {needed}")
        } else {
            "every one".to_string()
        },
        failures.join("; ")
    ))
    .into())
}

/// The clusters that answered and, for each, its endpoints, in endpoint order.
pub(super) fn clusters<'a>(
    results: impl IntoIterator<Item = &'a EndpointHealth>,
) -> Vec<(String, Vec<&'a str>)> {
    let mut clusters: Vec<(String, Vec<&str>)> = Vec::new();
    for result in results {
        let Some((cluster, _)) = &result.answered_by else {
            continue;
        };
        match clusters.iter_mut().find(|(c, _)| c == cluster) {
            Some((_, endpoints)) => endpoints.push(&result.endpoint),
            None => clusters.push((cluster.clone(), vec![&result.endpoint])),
        }
    }
    clusters
}

/// "a, b answer for cluster 1f…; c answer for cluster 8e…".
pub(super) fn which_answers_for_which(clusters: &[(String, Vec<&str>)]) -> String {
    clusters
        .iter()
        .map(|(cluster, endpoints)| {
            let verb = if endpoints.len() == 1 {
                "answers"
            } else {
                "answer"
            };
            format!("{} {verb} for cluster {cluster}", endpoints.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
