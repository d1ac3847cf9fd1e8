//! The Kubernetes actions (`kube.*`) against the fake API server (`support::fake_kube`),
//! through the real `kube` client and a kubeconfig: what each action does to the
//! cluster's objects and reports; the identity guard refusing a cluster whose
//! `kube-system` UID is not the pinned one, with nothing changed; `kube.wait` seeing a
//! change made after its watch opened; `validate` refusing a delete in recovery without
//! `allow_delete: true`; one drill through the real executable bound to a target that
//! pins the cluster; and the session's check of that cluster before the first step,
//! with the identity recorded and shown (`preflight`). The fake itself is held to the real server's statuses and
//! list and watch semantics (`fake`). The steps of a run share one client per cluster
//! and still check its identity each (`client_reuse`).

mod actions;
mod client_reuse;
mod fake;
mod identity;
mod preflight;
mod run;
mod wait;

use std::path::PathBuf;

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::actions as run_action;
use crate::support::fake_kube::FakeKube;

/// A fake cluster with a kubeconfig for it in a work directory of its own.
struct Cluster {
    fake: FakeKube,
    dir: TempDir,
    kubeconfig: PathBuf,
}

impl Cluster {
    fn start(seed: u64) -> Cluster {
        let fake = FakeKube::start(seed);
        let dir = TempDir::new().unwrap();
        let kubeconfig = fake.kubeconfig(dir.path());
        Cluster {
            fake,
            dir,
            kubeconfig,
        }
    }

    /// `params` with this cluster's kubeconfig added.
    fn params(&self, params: Value) -> Value {
        let mut params = params;
        params["kubeconfig"] = json!(self.kubeconfig);
        params
    }

    /// Runs an action against this cluster; the bearer token must never show.
    fn execute(
        &self,
        name: &str,
        params: Value,
    ) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
        run_action::execute(
            name,
            self.params(params),
            self.dir.path(),
            &[self.fake.token()],
        )
    }

    fn ok(&self, name: &str, params: Value) -> Value {
        match self.execute(name, params) {
            (Ok(outputs), _) => Value::Object(outputs),
            (Err(e), events) => panic!("{name} failed: {e}\nevents: {events:#?}"),
        }
    }

    fn refused(&self, name: &str, params: Value) -> String {
        match self.execute(name, params) {
            (Err(e), _) => e.to_string(),
            (Ok(outputs), _) => panic!("{name} succeeded but should not have: {outputs:?}"),
        }
    }

    /// A Deployment `shop/web` with 3 replicas and a ConfigMap `shop/settings`.
    fn with_shop(self) -> Cluster {
        self.fake
            .put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
        self.fake.put(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "web:1"}]}}},
        }));
        self.fake.put(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"},
            "data": {"mode": "normal"},
        }));
        self
    }
}

/// The progress texts an action reported.
fn progress(events: &[ActionEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ActionEvent::Progress(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}
