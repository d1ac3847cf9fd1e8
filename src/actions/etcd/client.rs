//! Talking to a live etcd over its gRPC API (the `etcd-client` crate): one client per
//! endpoint, because health, status and key counts must be asked of each member itself,
//! not of whichever member a balancing client picks.
//!
//! Every call has a deadline (`timeout`, default 5 s) and gives way to the step's
//! cancellation: a member that does not answer is a finding, never a hang.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::error::{EtcdError, describe_client_error};
use super::params::{path_in, required_list};
use crate::actions::execute::{
    ActionError, OneString, optional_duration, optional_list, optional_str,
};
use crate::actions::{ParamKind, ParamSpec};

/// How long one call may take when the step does not say.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The parameters every live-API action takes after its endpoints.
pub(crate) const TLS_PARAMS: [ParamSpec; 4] = [
    ParamSpec {
        name: "cacert",
        kind: ParamKind::String,
        required: false,
        doc: "CA bundle (PEM) that signed the members' server certificates; use with `https://` endpoints.",
    },
    ParamSpec {
        name: "cert",
        kind: ParamKind::String,
        required: false,
        doc: "Client certificate (PEM), e.g. `/etc/kubernetes/pki/etcd/healthcheck-client.crt`.",
    },
    ParamSpec {
        name: "key",
        kind: ParamKind::String,
        required: false,
        doc: "Private key (PEM) of `cert`.",
    },
    ParamSpec {
        name: "timeout",
        kind: ParamKind::Duration,
        required: false,
        doc: "How long one call to one member may take (default 5s).",
    },
];

/// How to reach the members: TLS material and the per-call deadline.
#[derive(Clone)]
pub(crate) struct Connection {
    tls: Option<TlsOptions>,
    pub timeout: Duration,
}

impl Connection {
    /// From `cacert`, `cert`, `key` and `timeout`.
    pub(crate) fn from_params(
        params: &Map<String, Value>,
        workdir: &Path,
    ) -> Result<Connection, ActionError> {
        let timeout = optional_duration(params, "timeout")?.unwrap_or(DEFAULT_TIMEOUT);
        let read = |name: &'static str| -> Result<Option<Vec<u8>>, ActionError> {
            let Some(path) = optional_str(params, name)? else {
                return Ok(None);
            };
            let path = path_in(workdir, path);
            std::fs::read(&path).map(Some).map_err(|source| {
                EtcdError::Io {
                    what: "read",
                    path,
                    source,
                }
                .into()
            })
        };
        let (cacert, cert, key) = (read("cacert")?, read("cert")?, read("key")?);
        let mut tls_options = None;
        if cacert.is_some() || cert.is_some() || key.is_some() {
            let mut tls = TlsOptions::new();
            if let Some(ca) = cacert {
                tls = tls.ca_certificate(Certificate::from_pem(ca));
            }
            match (cert, key) {
                (Some(cert), Some(key)) => tls = tls.identity(Identity::from_pem(cert, key)),
                (None, None) => {}
                _ => {
                    return Err(EtcdError::BadParam {
                        name: "cert",
                        problem: "and `key` go together: give both or neither".into(),
                    }
                    .into());
                }
            }
            tls_options = Some(tls);
        }
        Ok(Connection {
            tls: tls_options,
            timeout,
        })
    }

    fn options(&self, per_call_timeout: bool) -> ConnectOptions {
        let mut options = ConnectOptions::new().with_connect_timeout(self.timeout);
        if per_call_timeout {
            options = options.with_timeout(self.timeout);
        }
        if let Some(tls) = &self.tls {
            options = options.with_tls(tls.clone());
        }
        options
    }

    /// A client of exactly this endpoint. Connecting is lazy: an unreachable member
    /// shows as the first call failing.
    pub(crate) async fn client(&self, endpoint: &str) -> Result<Client, EtcdError> {
        self.connect(endpoint, true).await
    }

    /// A client for a call that may take long (a snapshot stream): only connecting
    /// has a deadline; the caller watches the stream for stalls itself.
    pub(crate) async fn streaming_client(&self, endpoint: &str) -> Result<Client, EtcdError> {
        self.connect(endpoint, false).await
    }

    async fn connect(&self, endpoint: &str, per_call_timeout: bool) -> Result<Client, EtcdError> {
        let connect = Client::connect([endpoint], Some(self.options(per_call_timeout)));
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(result) => result.map_err(|e| EtcdError::Api {
                what: "connect to",
                endpoint: endpoint.to_string(),
                detail: describe_client_error(&e),
            }),
            Err(_) => Err(EtcdError::Timeout {
                what: "the connection",
                endpoint: endpoint.to_string(),
                after: self.timeout,
            }),
        }
    }

    /// Runs one call against `endpoint` with the deadline.
    pub(crate) async fn call<T>(
        &self,
        endpoint: &str,
        what: &'static str,
        call: impl Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, EtcdError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result.map_err(|e| EtcdError::Api {
                what,
                endpoint: endpoint.to_string(),
                detail: describe_client_error(&e),
            }),
            Err(_) => Err(EtcdError::Timeout {
                what,
                endpoint: endpoint.to_string(),
                after: self.timeout,
            }),
        }
    }
}

/// The `endpoints` parameter (a list, or one comma-separated string).
pub(crate) fn endpoints(params: &Map<String, Value>) -> Result<Vec<String>, ActionError> {
    required_list(params, "endpoints")
}

/// An optional list parameter as `ActionError`.
pub(crate) fn list(
    params: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<String>, ActionError> {
    optional_list(params, name, OneString::SplitAtCommas)
}

/// Awaits `work` unless the step is cancelled first; dropping `work` ends its calls.
pub(crate) async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, ActionError>>,
) -> Result<T, ActionError> {
    if cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    tokio::select! {
        () = cancel.cancelled() => Err(ActionError::Cancelled),
        result = work => result,
    }
}

/// A member id as etcdctl prints it: 16 hex digits.
pub(crate) fn member_id(id: u64) -> String {
    format!("{id:016x}")
}

/// Runs `probe` for every endpoint at once and returns the results in endpoint order.
/// Dropping the returned future aborts the probes still running.
pub(crate) async fn each_endpoint<T, Fut>(
    endpoints: &[String],
    probe: impl Fn(String) -> Fut,
) -> Vec<T>
where
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for (i, endpoint) in endpoints.iter().enumerate() {
        let future = probe(endpoint.clone());
        set.spawn(async move { (i, future.await) });
    }
    let mut results: Vec<Option<T>> = std::iter::repeat_with(|| None)
        .take(endpoints.len())
        .collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, result)) => results[i] = Some(result),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every probe reports"))
        .collect()
}
