//! The KKP actions (`kkp.etcd.backups`, `kkp.etcd.restore`) against the fake API server
//! with its scripted KKP seed controller (`support::fake_kube::kkp`), through the real
//! `kube` client: which backups are restorable and what is said when none is; a clean
//! restore with what the operator sees and what is left on the seed; failures that KKP
//! reports only as events (etcd-launcher disabled, a backup missing in the bucket),
//! surfaced and failing the step at `stall_after`; the pre-checks that refuse before
//! anything is created (launcher, the active-restore mutex, destination, backup); a kill
//! -9 of drbook during the wait and `drbook resume` following the same EtcdRestore; the
//! shipped S1 runbook as a drill; and the fake's own Events field selectors and status
//! subresource.

mod backups;
mod drill;
mod fake;
mod restore;
mod resume;

use std::path::PathBuf;

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::actions as run_action;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::kkp::{Listed, SEED_ACCESS_KEY, SEED_SECRET_KEY, put_seed};

/// The user cluster every test restores.
const CLUSTER: &str = "zvc78xnnz7";
const NAMESPACE: &str = "cluster-zvc78xnnz7";
const KKP: &str = "kubermatic.k8c.io/v1";

/// The backups `default-backups` lists: two restorable, one deleted, one failed, one
/// being deleted, one running (names as KKP writes them).
const BACKUPS: &[Listed] = &[
    Listed {
        name: "default-backups-2026-12-07t01-00-00.db.gz",
        phase: "Completed",
        delete_phase: "",
        finished: Some("2026-12-07T01:00:41Z"),
    },
    Listed {
        name: "default-backups-2026-12-07t01-20-00.db.gz",
        phase: "Completed",
        delete_phase: "",
        finished: Some("2026-12-07T01:20:38Z"),
    },
    Listed {
        name: "default-backups-2026-12-07t00-40-00.db.gz",
        phase: "Completed",
        delete_phase: "Completed",
        finished: Some("2026-12-07T00:40:40Z"),
    },
    Listed {
        name: "default-backups-2026-12-07t01-40-00.db.gz",
        phase: "Failed",
        delete_phase: "",
        finished: Some("2026-12-07T01:40:39Z"),
    },
    Listed {
        name: "default-backups-2026-12-07t00-20-00.db.gz",
        phase: "Completed",
        delete_phase: "Running",
        finished: Some("2026-12-07T00:20:44Z"),
    },
    Listed {
        name: "default-backups-2026-12-07t02-00-00.db.gz",
        phase: "Running",
        delete_phase: "",
        finished: None,
    },
];

/// The newest restorable backup of `BACKUPS`, and when it finished.
const NEWEST: &str = "default-backups-2026-12-07t01-20-00.db.gz";
const NEWEST_FINISHED: &str = "2026-12-07T01:20:38Z";

/// A fake seed with user cluster `CLUSTER` and a kubeconfig for it.
struct Seed {
    fake: FakeKube,
    dir: TempDir,
    kubeconfig: PathBuf,
}

impl Seed {
    fn start(uid_seed: u64) -> Seed {
        let fake = FakeKube::start(uid_seed);
        put_seed(&fake, CLUSTER, BACKUPS);
        let dir = TempDir::new().unwrap();
        let kubeconfig = fake.kubeconfig(dir.path());
        Seed {
            fake,
            dir,
            kubeconfig,
        }
    }

    /// Every secret the fake holds, which nothing drbook reports may contain: the
    /// token, the seed's S3 keys and the backup download Secrets' values.
    fn secrets(&self) -> Vec<String> {
        let mut all = vec![
            self.fake.token().to_string(),
            SEED_ACCESS_KEY.into(),
            SEED_SECRET_KEY.into(),
        ];
        for secret in self.fake.list("v1", "Secret", None) {
            if let Some(data) = secret["data"].as_object() {
                all.extend(data.values().filter_map(Value::as_str).map(str::to_string));
            }
        }
        all
    }

    fn execute(
        &self,
        name: &str,
        params: Value,
    ) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
        let mut params = params;
        params["kubeconfig"] = json!(self.kubeconfig);
        let (result, events) =
            run_action::execute(name, params, self.dir.path(), &[self.fake.token()]);
        // The download Secrets exist only once KKP made them: check them afterwards too.
        let everything = format!("{result:?} {events:?}");
        for secret in self.secrets() {
            assert!(
                !everything.contains(&secret),
                "a secret leaked from `{name}`: {everything}"
            );
        }
        (result, events)
    }

    fn ok(&self, name: &str, params: Value) -> (Value, Vec<String>) {
        match self.execute(name, params) {
            (Ok(outputs), events) => (Value::Object(outputs), progress(&events)),
            (Err(e), events) => panic!("{name} failed: {e}\nevents: {events:#?}"),
        }
    }

    fn refused(&self, name: &str, params: Value) -> (String, Vec<String>) {
        match self.execute(name, params) {
            (Err(e), events) => (e.to_string(), progress(&events)),
            (Ok(outputs), _) => panic!("{name} succeeded but should not have: {outputs:?}"),
        }
    }

    /// The user cluster's `Cluster` object now.
    fn cluster(&self) -> Value {
        self.fake
            .object(KKP, "Cluster", None, CLUSTER)
            .expect("the cluster exists")
    }

    fn restores(&self) -> Vec<Value> {
        self.fake.list(KKP, "EtcdRestore", Some(NAMESPACE))
    }

    fn change_cluster(&self, edit: impl FnOnce(&mut Value)) {
        self.fake.change(KKP, "Cluster", None, CLUSTER, edit);
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

/// True when some line contains `text`.
fn said(lines: &[String], text: &str) -> bool {
    lines.iter().any(|l| l.contains(text))
}
