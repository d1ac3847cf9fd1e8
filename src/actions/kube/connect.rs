//! Reaching a cluster, and making sure it is the cluster the target means.
//!
//! The kubeconfig comes from the step's `kubeconfig` (a path, relative to the run's work
//! directory) and `context`, else the bound target's keys of the same names (the engine
//! hands every action the target's facts in its request). Without either, `$KUBECONFIG` is read, then
//! the in-cluster service account (drills that run as a Kubernetes Job). The home
//! directory's `~/.kube/config` is deliberately not read: a step that names no cluster
//! must not silently reach whatever the operator's shell last pointed at.
//!
//! Every action first reads the `kube-system` namespace's UID, the cluster's identity
//! (it survives API server address changes and is new on a rebuilt cluster). When the
//! step or its target pins `cluster_uid` and the UID differs, the action refuses before
//! it sends anything that changes the cluster. The session checks the target's cluster
//! the same way before a run's first step (`session::cluster_check`, through
//! `identify`); this check is the second guard, for a step whose `with:` names another
//! cluster. The identity is reported as `ActionEvent::ClusterReached` (the engine
//! records it once per cluster) and as the outputs `cluster_uid` and `server`;
//! credentials never leave the client (errors name the kubeconfig file and context,
//! never the user entry, and the server URL is stripped of any user part and query).
//!
//! A step's client comes from the run's cache (`ClientCache`, in the request): the steps
//! that read the same kubeconfig bytes and context share one client and its connections.
//! The identity is read and checked by every step all the same.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::Value;

use super::error::{KubeError, describe};
use super::known_kinds::KnownKinds;
use crate::actions::ParamKind;
use crate::actions::ParamSpec;
use crate::actions::execute::{ActionError, ActionEvent, ActionRequest, Outputs, optional_str};

/// The connection parameters every Kubernetes action takes.
pub(crate) const CONNECTION_PARAMS: [ParamSpec; 3] = [
    ParamSpec {
        name: "kubeconfig",
        kind: ParamKind::String,
        required: false,
        doc: "Path of the kubeconfig (relative to the work directory); default: the target's `kubeconfig`, then $KUBECONFIG, then the in-cluster service account.",
    },
    ParamSpec {
        name: "context",
        kind: ParamKind::String,
        required: false,
        doc: "The kubeconfig context to use; default: the target's `context`, then the kubeconfig's current context.",
    },
    ParamSpec {
        name: "cluster_uid",
        kind: ParamKind::String,
        required: false,
        doc: "The UID of the cluster's `kube-system` namespace this step must reach (usually pinned by the target); the step refuses any other cluster before changing anything.",
    },
];

/// A connection setting: the step's parameter, else the bound target's key of the same
/// name, so a step reaches the cluster its target names when its `with:` names none.
/// Only a string counts from the target, as a target written by hand may hold anything.
fn setting<'a>(
    request: &'a ActionRequest,
    key: &'static str,
) -> Result<Option<&'a str>, ActionError> {
    match optional_str(&request.params, key)? {
        Some(given) => Ok(Some(given)),
        None => Ok(request.target.get(key).and_then(Value::as_str)),
    }
}

/// Where a cluster is reached from: a kubeconfig file and context, else `$KUBECONFIG`
/// (with `context`), else the in-cluster service account. The one way drbook builds a
/// Kubernetes client, for a step (`connect`) and for the session's preflight
/// (`identify`), so both reach the same cluster from the same settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSource {
    /// Already joined to the work directory when it was relative.
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

impl ClusterSource {
    /// The source named by `kubeconfig` (a path, relative to `workdir`) and `context`;
    /// blank values count as absent.
    pub fn new(kubeconfig: Option<&str>, context: Option<&str>, workdir: &Path) -> ClusterSource {
        fn given(value: Option<&str>) -> Option<&str> {
            value.map(str::trim).filter(|v| !v.is_empty())
        }
        ClusterSource {
            kubeconfig: given(kubeconfig).map(|path| workdir.join(path)),
            context: given(context).map(str::to_string),
        }
    }

    /// The source a target's `kubeconfig` and `context` keys name (only strings count:
    /// a target written by hand may hold anything).
    pub fn of_target(target: &Value, workdir: &Path) -> ClusterSource {
        let key = |k: &str| target.get(k).and_then(Value::as_str);
        ClusterSource::new(key("kubeconfig"), key("context"), workdir)
    }

    /// How the source reads in a message: "kubeconfig `/etc/k` (context `staging`)",
    /// "$KUBECONFIG (`/home/a/.kube/config`)", "the in-cluster service account".
    pub fn describe(&self) -> String {
        let context = self
            .context
            .as_ref()
            .map(|c| format!(" (context `{c}`)"))
            .unwrap_or_default();
        match (
            &self.kubeconfig,
            std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()),
        ) {
            (Some(path), _) => format!("kubeconfig `{}`{context}", path.display()),
            (None, Some(env)) => format!("$KUBECONFIG (`{}`){context}", env.to_string_lossy()),
            (None, None) => "the in-cluster service account".to_string(),
        }
    }
}

/// Who a reached cluster is: what the run records (`cluster_reached`) and shows. Holds
/// no credential: the server URL is stripped of any user part and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    /// The API server URL, without credentials.
    pub server: String,
    /// The `kube-system` namespace UID.
    pub uid: String,
    /// The kubeconfig context used, when a kubeconfig named one.
    pub context: Option<String>,
}

/// A built client and where it points, before any request: what the run's steps share
/// (`ClientCache`), with the kinds it found through discovery.
pub(crate) struct Connection {
    pub client: Client,
    /// The API server URL, without credentials.
    pub server: String,
    /// The kubeconfig context used, when a kubeconfig named one.
    pub context: Option<String>,
    pub kinds: Arc<KnownKinds>,
}

impl Connection {
    pub(crate) fn new(client: Client, server: String, context: Option<String>) -> Connection {
        Connection {
            client,
            server,
            context,
            kinds: Arc::default(),
        }
    }
}

/// A reached cluster and its identity, as one step read it.
pub(crate) struct Cluster {
    pub client: Client,
    /// The API server URL, without credentials.
    pub server: String,
    /// The `kube-system` namespace UID.
    pub uid: String,
    /// The kubeconfig context used, when a kubeconfig named one.
    pub context: Option<String>,
    /// The kinds the client found before, on this identity (`object::resource`).
    pub kinds: Arc<KnownKinds>,
}

impl Cluster {
    /// Adds the cluster's identity to an action's outputs.
    pub(crate) fn identify(&self, outputs: &mut Outputs) {
        outputs.insert("cluster_uid".into(), Value::String(self.uid.clone()));
        outputs.insert("server".into(), Value::String(self.server.clone()));
    }

    fn identity(&self) -> ClusterIdentity {
        ClusterIdentity {
            server: self.server.clone(),
            uid: self.uid.clone(),
            context: self.context.clone(),
        }
    }
}

/// Reaches the cluster the step names and checks its identity against `cluster_uid`.
/// The identity is reported (`ActionEvent::ClusterReached`) before the check, so the
/// record shows which cluster a refused step reached.
pub(crate) async fn connect(request: &ActionRequest) -> Result<Cluster, ActionError> {
    let source = ClusterSource::new(
        setting(request, "kubeconfig")?,
        setting(request, "context")?,
        &request.workdir,
    );
    let pinned = setting(request, "cluster_uid")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let reached = async {
        let connection = request.kube_clients.connection(&source).await?;
        read_identity(&connection).await
    };
    let cluster = tokio::select! {
        reached = reached => reached?,
        () = request.cancel.cancelled() => return Err(ActionError::Cancelled),
    };
    request.emit(ActionEvent::ClusterReached(cluster.identity()));
    if let Some(expected) = pinned
        && expected != cluster.uid
    {
        return Err(KubeError::WrongCluster {
            server: cluster.server,
            expected,
            found: cluster.uid,
        }
        .into());
    }
    Ok(cluster)
}

/// Reaches the cluster `source` names and reads its identity, without changing
/// anything: the session's preflight, before a run's first step. It builds a client of
/// its own, not one from a run's cache: it runs on a runtime of its own, before the
/// run's, and a client does not outlive the runtime it was built on.
pub async fn identify(source: &ClusterSource) -> Result<ClusterIdentity, KubeError> {
    let connection = build(source).await?;
    read_identity(&connection)
        .await
        .map(|cluster| cluster.identity())
}

/// Builds the client `source` names, without contacting the cluster.
pub(crate) async fn build(source: &ClusterSource) -> Result<Connection, KubeError> {
    let options = KubeConfigOptions {
        context: source.context.clone(),
        ..KubeConfigOptions::default()
    };
    let (config, context) = match &source.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| KubeError::Kubeconfig {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            from_kubeconfig(kubeconfig, &options, format!("in `{}`", path.display())).await?
        }
        None => match Kubeconfig::from_env() {
            Ok(Some(kubeconfig)) => {
                from_kubeconfig(kubeconfig, &options, "from $KUBECONFIG".to_string()).await?
            }
            Ok(None) => (Config::incluster().map_err(|_| KubeError::NoConfig)?, None),
            Err(e) => {
                return Err(KubeError::Context {
                    context: source.context.clone(),
                    reason: format!("{e} (from $KUBECONFIG)"),
                });
            }
        },
    };
    let server = server_url(&config);
    let client = Client::try_from(config).map_err(|e| KubeError::Client {
        server: server.clone(),
        reason: e.to_string(),
    })?;
    Ok(Connection::new(client, server, context))
}

/// Reads the `kube-system` namespace's UID through the client: the cluster's identity,
/// read by every step, whether its client is new or shared.
async fn read_identity(connection: &Connection) -> Result<Cluster, KubeError> {
    let namespaces: Api<Namespace> = Api::all(connection.client.clone());
    let kube_system = namespaces
        .get("kube-system")
        .await
        .map_err(|e| KubeError::Identity {
            server: connection.server.clone(),
            reason: describe(&e),
        })?;
    Ok(Cluster {
        client: connection.client.clone(),
        server: connection.server.clone(),
        uid: kube_system.metadata.uid.unwrap_or_default(),
        context: connection.context.clone(),
        kinds: connection.kinds.clone(),
    })
}

/// The client configuration of a kubeconfig, and the context it uses (the one asked
/// for, else the file's current one). `whence` ends the message of an unusable context.
async fn from_kubeconfig(
    kubeconfig: Kubeconfig,
    options: &KubeConfigOptions,
    whence: String,
) -> Result<(Config, Option<String>), KubeError> {
    let context = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|c| !c.is_empty());
    let config = Config::from_custom_kubeconfig(kubeconfig, options)
        .await
        .map_err(|e| KubeError::Context {
            context: options.context.clone(),
            reason: format!("{e} ({whence})"),
        })?;
    Ok((config, context))
}

/// The API server URL as recorded and shown: scheme, host, port and path, never a user
/// part (`https://user:password@host`) or a query, which may carry credentials.
fn server_url(config: &Config) -> String {
    let url = &config.cluster_url;
    let mut text = format!(
        "{}://{}",
        url.scheme_str().unwrap_or("https"),
        url.host().unwrap_or_default()
    );
    if let Some(port) = url.port_u16() {
        text.push_str(&format!(":{port}"));
    }
    text.push_str(url.path().trim_end_matches('/'));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> String {
        server_url(&Config::new(url.parse().expect("a URL")))
    }

    #[test]
    fn the_server_url_is_recorded_without_a_user_part_or_query() {
        assert_eq!(
            server("https://admin:s3cret@10.0.0.1:6443/?token=abc"),
            "https://10.0.0.1:6443"
        );
        assert_eq!(server("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert_eq!(
            server("https://api.example.org/k8s/clusters/c-1?x=y"),
            "https://api.example.org/k8s/clusters/c-1"
        );
    }

    #[test]
    fn a_relative_kubeconfig_is_read_from_the_work_directory_and_blanks_are_absent() {
        let work = Path::new("/runs/r1/work");
        let target = serde_json::json!({"kubeconfig": "k.yaml", "context": " ", "cluster_uid": 3});
        assert_eq!(
            ClusterSource::of_target(&target, work),
            ClusterSource {
                kubeconfig: Some(PathBuf::from("/runs/r1/work/k.yaml")),
                context: None,
            }
        );
        let absolute = serde_json::json!({"kubeconfig": "/etc/k", "context": "prod"});
        assert_eq!(
            ClusterSource::of_target(&absolute, work).describe(),
            "kubeconfig `/etc/k` (context `prod`)"
        );
    }
}
