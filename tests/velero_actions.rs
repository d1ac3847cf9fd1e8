//! The Velero actions (`velero.*`) against the fake API server with its scripted Velero
//! server (`support::fake_kube::velero`) and, where a restore's results are read from
//! the bucket, the test S3 server: what the operator sees and what is left in the
//! cluster when a restore completes, ends PartiallyFailed (its warning texts shown),
//! Failed, FailedValidation (a missing backup, an Unavailable storage location), is
//! refused behind another restore, or is stuck past its timeout (diagnosed); the newest
//! backup of a schedule and the bounded wait on a rebuilt cluster (`backups`); a
//! storage location set ReadOnly and back; and through the real executable, drbook
//! killed with SIGKILL while it waits and resumed, and the shipped S6 runbook drilled end
//! to end (`run`).

mod backups;
mod latency;
mod restore;
mod run;

use std::path::PathBuf;

use base64::Engine as _;
use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::actions as run_action;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::velero::{Script, start_velero};
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

/// The bucket and prefix of the storage location `default`.
const BUCKET: &str = "velero-backups";
const PREFIX: &str = "seed";
/// The newest Completed backup of schedule `velero-hourly-cluster`, and when it completed.
const BACKUP: &str = "velero-hourly-cluster-20260101100000";
const COMPLETED: &str = "2026-01-01T10:05:00Z";

/// A seed with Velero: namespace `velero`, storage location `default` (Available) with
/// its credentials Secret, three backups of `velero-hourly-cluster` (the newest
/// PartiallyFailed, one Failed, one Completed), and a namespace `shop`.
struct Seed {
    fake: FakeKube,
    dir: TempDir,
    kubeconfig: PathBuf,
    s3: Option<S3Server>,
}

impl Seed {
    fn start(seed: u64) -> Seed {
        Seed::with_s3(seed, None)
    }

    /// With the test S3 server as the storage location's store (bucket created).
    fn with_bucket(seed: u64) -> Seed {
        let s3 = S3Server::start();
        s3.create_bucket(BUCKET);
        Seed::with_s3(seed, Some(s3))
    }

    fn with_s3(seed: u64, s3: Option<S3Server>) -> Seed {
        let fake = FakeKube::start(seed);
        let dir = TempDir::new().unwrap();
        let kubeconfig = fake.kubeconfig(dir.path());
        for ns in ["velero", "shop"] {
            fake.put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        let endpoint = s3
            .as_ref()
            .map(S3Server::endpoint)
            .unwrap_or_else(|| "http://127.0.0.1:9".into());
        fake.put(json!({
            "apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
            "metadata": {"name": "default", "namespace": "velero"},
            "spec": {"provider": "aws", "objectStorage": {"bucket": BUCKET, "prefix": PREFIX},
                     "config": {"region": "us-east-1", "s3Url": endpoint, "s3ForcePathStyle": "true"}},
            "status": {"phase": "Available", "lastSyncedTime": "2026-01-01T12:00:00Z"},
        }));
        let ini = format!(
            "[default]\naws_access_key_id={ACCESS_KEY}\naws_secret_access_key={SECRET_KEY}\n"
        );
        fake.put(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "cloud-credentials", "namespace": "velero"},
            "data": {"cloud": base64::engine::general_purpose::STANDARD.encode(ini)},
        }));
        let seed = Seed {
            fake,
            dir,
            kubeconfig,
            s3,
        };
        seed.backup(
            BACKUP,
            "Completed",
            "2026-01-01T10:00:00Z",
            COMPLETED,
            "2126-01-08T10:00:00Z",
        );
        seed.backup(
            "velero-hourly-cluster-20260101110000",
            "Failed",
            "2026-01-01T11:00:00Z",
            "2026-01-01T11:01:00Z",
            "2126-01-08T11:00:00Z",
        );
        seed.backup(
            "velero-hourly-cluster-20260101120000",
            "PartiallyFailed",
            "2026-01-01T12:00:00Z",
            "2026-01-01T12:04:00Z",
            "2126-01-08T12:00:00Z",
        );
        seed
    }

    /// Puts a backup of `velero-hourly-cluster`.
    fn backup(&self, name: &str, phase: &str, started: &str, completed: &str, expires: &str) {
        self.fake.put(json!({
            "apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero", "labels": {"velero.io/schedule-name": "velero-hourly-cluster"}},
            "spec": {"storageLocation": "default", "includedNamespaces": ["*"]},
            "status": {"phase": phase, "startTimestamp": started, "completionTimestamp": completed, "expiration": expires},
        }));
    }

    /// Starts the fake Velero server with `script` (results go to this seed's S3 server).
    fn velero(&self, mut script: Script) {
        script.s3_port = self.s3.as_ref().map(|s| s.port);
        start_velero(&self.fake, script);
    }

    /// The secrets that must never show: the API token and the S3 secret key.
    fn secrets(&self) -> [&str; 2] {
        [self.fake.token(), SECRET_KEY]
    }

    fn params(&self, params: Value) -> Value {
        let mut params = params;
        params["kubeconfig"] = json!(self.kubeconfig);
        params
    }

    /// Runs an action; `on_event` sees every event as it comes (and may change the
    /// cluster) and cancels the action, as the engine does at the step's timeout, by
    /// returning true. No secret may show in what the action reports.
    fn execute_with(
        &self,
        name: &str,
        params: Value,
        on_event: &dyn Fn(&ActionEvent) -> bool,
    ) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
        run_action::execute_until(
            name,
            self.params(params),
            self.dir.path(),
            &self.secrets(),
            Some(on_event),
        )
    }

    fn execute(
        &self,
        name: &str,
        params: Value,
    ) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
        self.execute_with(name, params, &|_| false)
    }

    fn ok(&self, name: &str, params: Value) -> (Value, Vec<ActionEvent>) {
        match self.execute(name, params) {
            (Ok(outputs), events) => (Value::Object(outputs), events),
            (Err(e), events) => panic!("{name} failed: {e}\nevents: {events:#?}"),
        }
    }

    fn refused(&self, name: &str, params: Value) -> (String, Vec<ActionEvent>) {
        match self.execute(name, params) {
            (Err(e), events) => (e.to_string(), events),
            (Ok(outputs), _) => panic!("{name} succeeded but should not have: {outputs:?}"),
        }
    }

    /// The Restores in the cluster, by name.
    fn restores(&self) -> Vec<Value> {
        self.fake.list("velero.io/v1", "Restore", Some("velero"))
    }
}

/// Every progress text and output line an action reported, in order (other events,
/// such as the cluster reached, are left out).
fn texts(events: &[ActionEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| {
            if let ActionEvent::Progress(text) = e {
                Some(text.clone())
            } else if let ActionEvent::Output { line, .. } = e {
                Some(line.clone())
            } else {
                None
            }
        })
        .collect()
}

/// True when some reported text contains `part`.
fn said(events: &[ActionEvent], part: &str) -> bool {
    texts(events).iter().any(|t| t.contains(part))
}
