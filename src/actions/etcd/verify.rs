//! `etcd.verify`: after a restore and restart, is the cluster whole and is the data the
//! data that was expected?
//!
//! Safe to re-run after a crash: it only reads.
//!
//! Checks, each asked of every endpoint at once: every member is healthy, they all see
//! the same single leader, each member's revision is at least `min_revision` (the
//! snapshot's), each holds the same number of keys (and `expect_keys` when given), and
//! every canary key is present (or absent) on every member. Reads are linearizable
//! through each member in turn: a member answers only after it has applied everything
//! the leader had committed, so a lagging follower is not mistaken for lost data, while
//! the answer still comes from that member's own store. Every failed check is reported,
//! not just the first.

use std::collections::BTreeSet;

use etcd_client::{Client, GetOptions};
use serde_json::{Value, json};

use super::client::{
    Connection, TLS_PARAMS, each_endpoint, endpoints, list, member_id, unless_cancelled,
};
use super::error::EtcdError;
use super::health::{ENDPOINTS, EndpointHealth, clusters, probe, which_answers_for_which};
use super::params::optional_u64;
use super::status::{EndpointStatus, endpoint_status};
use crate::actions::execute::{
    Action, ActionError, ActionFuture, ActionRequest, Outputs, optional_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "etcd.verify",
    by_hand: super::manual::verify,
    outputs: Some(&["leader", "members", "revision", "keys", "endpoints"]),
    summary: "Verify a (restored) cluster: all members healthy, one leader, revision, key count and canary keys.",
    params: &[
        ENDPOINTS,
        ParamSpec {
            name: "min_revision",
            kind: ParamKind::Integer,
            required: false,
            doc: "Every member's revision must be at least this, e.g. the snapshot's: `{{ steps.verify_snapshot.outputs.revision }}`.",
        },
        ParamSpec {
            name: "expect_keys",
            kind: ParamKind::Integer,
            required: false,
            doc: "The number of keys (under `prefix`) every member must hold, e.g. `{{ steps.snapshot.outputs.keys }}`.",
        },
        ParamSpec {
            name: "prefix",
            kind: ParamKind::String,
            required: false,
            doc: "Count only keys under this prefix (default: all keys), e.g. `/registry/`.",
        },
        ParamSpec {
            name: "canaries_present",
            kind: ParamKind::StringList,
            required: false,
            doc: "Keys that must exist on every member (written before the snapshot).",
        },
        ParamSpec {
            name: "canaries_absent",
            kind: ParamKind::StringList,
            required: false,
            doc: "Keys that must not exist on any member (written after the snapshot, so the restore must have lost them).",
        },
        TLS_PARAMS[0],
        TLS_PARAMS[1],
        TLS_PARAMS[2],
        TLS_PARAMS[3],
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &VerifyAction,
};

/// The executor of `etcd.verify`.
pub struct VerifyAction;

impl Action for VerifyAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// What one member said.
struct Findings {
    health: EndpointHealth,
    status: Result<EndpointStatus, EtcdError>,
    /// Keys under the prefix, and which canaries exist.
    data: Result<Data, EtcdError>,
}

struct Data {
    keys: i64,
    present: Vec<bool>,
    absent_found: Vec<bool>,
}

async fn findings(
    connection: Connection,
    endpoint: String,
    prefix: Option<String>,
    present: Vec<String>,
    absent: Vec<String>,
) -> Findings {
    let health = probe(connection.clone(), endpoint.clone()).await;
    let status = endpoint_status(connection.clone(), endpoint.clone()).await;
    let data = if health.healthy {
        read_data(&connection, &endpoint, prefix.as_deref(), &present, &absent).await
    } else {
        Err(EtcdError::Unhealthy("unhealthy".into()))
    };
    Findings {
        health,
        status,
        data,
    }
}

async fn read_data(
    connection: &Connection,
    endpoint: &str,
    prefix: Option<&str>,
    present: &[String],
    absent: &[String],
) -> Result<Data, EtcdError> {
    let mut client = connection.client(endpoint).await?;
    let options = match prefix {
        Some(prefix) => (prefix, GetOptions::new().with_prefix().with_count_only()),
        None => ("", GetOptions::new().with_all_keys().with_count_only()),
    };
    let keys = connection
        .call(
            endpoint,
            "count the keys of",
            client.get(options.0, Some(options.1)),
        )
        .await?
        .count();
    let mut found_present = Vec::with_capacity(present.len());
    for key in present {
        found_present.push(exists(connection, endpoint, &mut client, key).await?);
    }
    let mut found_absent = Vec::with_capacity(absent.len());
    for key in absent {
        found_absent.push(exists(connection, endpoint, &mut client, key).await?);
    }
    Ok(Data {
        keys,
        present: found_present,
        absent_found: found_absent,
    })
}

/// Whether `key` exists, read through `endpoint`.
async fn exists(
    connection: &Connection,
    endpoint: &str,
    client: &mut Client,
    key: &str,
) -> Result<bool, EtcdError> {
    let response = connection
        .call(
            endpoint,
            "read a canary from",
            client.get(key, Some(GetOptions::new().with_count_only())),
        )
        .await?;
    Ok(response.count() > 0)
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let endpoints = endpoints(params)?;
    let min_revision = optional_u64(params, "min_revision")?;
    let expect_keys = optional_u64(params, "expect_keys")?;
    let prefix = optional_str(params, "prefix")?.map(str::to_string);
    let present = list(params, "canaries_present")?;
    let absent = list(params, "canaries_absent")?;
    let connection = Connection::from_params(params, &request.workdir)?;
    let results = unless_cancelled(&request.cancel, async {
        Ok(each_endpoint(&endpoints, |e| {
            findings(
                connection.clone(),
                e,
                prefix.clone(),
                present.clone(),
                absent.clone(),
            )
        })
        .await)
    })
    .await?;

    let mut problems = Vec::new();
    let clusters = clusters(results.iter().map(|f| &f.health));
    if clusters.len() > 1 {
        problems.push(format!(
            "the endpoints belong to more than one etcd cluster: {}",
            which_answers_for_which(&clusters)
        ));
    }
    for f in &results {
        if let Some(error) = &f.health.error {
            problems.push(format!("{} is unhealthy ({error})", f.health.endpoint));
        } else if let Err(e) = &f.status {
            problems.push(e.to_string());
        } else if let Err(e) = &f.data {
            problems.push(e.to_string());
        }
    }
    let statuses: Vec<&EndpointStatus> = results
        .iter()
        .filter_map(|f| f.status.as_ref().ok())
        .collect();
    let leaders: BTreeSet<u64> = statuses.iter().map(|s| s.leader).collect();
    let self_leaders = statuses.iter().filter(|s| s.is_leader()).count();
    if !statuses.is_empty() {
        if leaders.contains(&0) {
            let without: Vec<&str> = statuses
                .iter()
                .filter(|s| s.leader == 0)
                .map(|s| s.endpoint.as_str())
                .collect();
            problems.push(format!("no leader seen by {}", without.join(", ")));
        }
        let named: Vec<String> = leaders
            .iter()
            .filter(|l| **l != 0)
            .map(|l| member_id(*l))
            .collect();
        if named.len() > 1 {
            problems.push(format!(
                "the members disagree on the leader ({}): two clusters, or an election in progress",
                named.join(", ")
            ));
        }
        if self_leaders > 1 {
            problems.push(format!(
                "{self_leaders} members each say they are the leader"
            ));
        }
    }
    if let Some(min) = min_revision {
        for s in &statuses {
            if s.revision < i64::try_from(min).unwrap_or(i64::MAX) {
                problems.push(format!(
                    "{} is at revision {}, below the expected minimum {min}",
                    s.endpoint, s.revision
                ));
            }
        }
    }
    let what_keys = match &prefix {
        Some(p) => format!("keys under `{p}`"),
        None => "keys".to_string(),
    };
    let counts: Vec<(&str, i64)> = results
        .iter()
        .filter_map(|f| {
            f.data
                .as_ref()
                .ok()
                .map(|d| (f.health.endpoint.as_str(), d.keys))
        })
        .collect();
    let distinct: BTreeSet<i64> = counts.iter().map(|(_, c)| *c).collect();
    if distinct.len() > 1 {
        let listed: Vec<String> = counts.iter().map(|(e, c)| format!("{e} has {c}")).collect();
        problems.push(format!(
            "the members hold different numbers of {what_keys}: {}",
            listed.join(", ")
        ));
    }
    if let Some(expected) = expect_keys {
        for (endpoint, count) in &counts {
            if u64::try_from(*count).ok() != Some(expected) {
                problems.push(format!(
                    "{endpoint} holds {count} {what_keys}, expected {expected}"
                ));
            }
        }
    }
    for f in &results {
        let Ok(data) = &f.data else { continue };
        let missing: Vec<&str> = present
            .iter()
            .zip(&data.present)
            .filter(|(_, found)| !**found)
            .map(|(k, _)| k.as_str())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{} lacks the canary {} `{}`",
                f.health.endpoint,
                if missing.len() == 1 { "key" } else { "keys" },
                missing.join("`, `")
            ));
        }
        let unexpected: Vec<&str> = absent
            .iter()
            .zip(&data.absent_found)
            .filter(|(_, found)| **found)
            .map(|(k, _)| k.as_str())
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!(
                "{} still holds {} `{}` that should be absent",
                f.health.endpoint,
                if unexpected.len() == 1 {
                    "the key"
                } else {
                    "the keys"
                },
                unexpected.join("`, `")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(EtcdError::VerifyFailed { problems }.into());
    }

    let mut outputs = Outputs::new();
    let leader = leaders.iter().next().copied().unwrap_or(0);
    outputs.insert("leader".into(), Value::String(member_id(leader)));
    outputs.insert("members".into(), Value::from(results.len()));
    outputs.insert(
        "revision".into(),
        Value::from(statuses.iter().map(|s| s.revision).min().unwrap_or(0)),
    );
    outputs.insert(
        "keys".into(),
        Value::from(counts.first().map_or(0, |(_, c)| *c)),
    );
    outputs.insert(
        "endpoints".into(),
        Value::Array(
            results
                .iter()
                .map(|f| {
                    let mut value = f
                        .status
                        .as_ref()
                        .map(EndpointStatus::to_json)
                        .unwrap_or_else(|_| json!({"endpoint": f.health.endpoint}));
                    if let Ok(data) = &f.data {
                        value["keys"] = Value::from(data.keys);
                    }
                    value
                })
                .collect(),
        ),
    );
    Ok(outputs)
}
