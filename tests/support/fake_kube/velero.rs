//! A scripted Velero server for the fake API server: a controller task on the fake's
//! runtime that drives Restores in namespace `velero` as Velero's restore controller does
//! (domain-facts §9.1), so `velero.restore` is tested against the behaviour it must
//! survive, not against a kind stand-in.
//!
//! What it does: a new Restore keeps the empty phase until it is picked; restores run
//! one at a time, oldest first, and while one is unfinished (a non-empty, non-terminal
//! phase, including one a test put there) every other stays queued with phase `""`.
//! A picked Restore is validated with Velero's texts (`Either a backup or schedule …`,
//! `Invalid ExistingResourcePolicy`, `No backups found for schedule`, `No completed
//! backups found for schedule`, `Error retrieving backup: can't find backup …`, `The BSL
//! … is unavailable, cannot retrieve the backup`) and then `FailedValidation` (no
//! completion time); else its spec is rewritten (a `scheduleName` resolved to the newest
//! Completed backup by start time and written to `backupName`, the non-restorable
//! resources appended to `excludedResources`, `itemOperationTimeout` defaulted to 4h),
//! it goes `InProgress` with `startTimestamp` and `progress` item by item, restores the
//! script's objects (namespace mapping, included namespaces, existing objects skipped
//! with Velero's warning under policy `none`, updated under `update`), `Finalizing`,
//! and ends in the script's phase with `completionTimestamp`, the counts `warnings` and
//! `errors` only when non-zero (omitempty) and `failureReason` for `Failed`. For
//! `PartiallyFailed` it first writes `restores/<n>/restore-<n>-results.gz` under the
//! storage location's prefix into the test S3 server. A script may keep every restore
//! queued until the test opens its `start` gate, hold a restore `InProgress` until the
//! test opens its `gate` (never: a stuck restore), and run a hook
//! just before validation (a backup expiring or a location going Unavailable between
//! drbook's checks and Velero's).
//!
//! DownloadRequests for `RestoreResults` are answered as Velero's server does: phase
//! `Processed` with a presigned GET URL (signed with the test S3 server's keys) of the
//! results object under the storage location's `s3Url`, valid 10 minutes.
//!
//! What it does not do: Backups, Schedules or storage-location validation (the test sets
//! their phases), logs, other DownloadRequest targets, plugins and item operations
//! (`WaitingForPluginOperations…`), volume data, hooks, the `restores.velero.io/
//! external-resources-finalizer`, marking `InProgress` restores `Failed` on a restart.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;

use serde_json::{Value, json};

use super::Handle;
use super::store::now;

/// What Velero's server never restores; appended to every Restore's `excludedResources`.
const NON_RESTORABLE: [&str; 9] = [
    "nodes",
    "events",
    "events.events.k8s.io",
    "backups.velero.io",
    "restores.velero.io",
    "resticrepositories.velero.io",
    "csinodes.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
    "backuprepositories.velero.io",
];

const TERMINAL: [&str; 4] = ["Completed", "PartiallyFailed", "Failed", "FailedValidation"];

/// How a restore that passed validation ends.
#[derive(Clone, Debug)]
pub enum Ending {
    Completed,
    /// With these texts, grouped as Velero writes them (`{velero, cluster, namespaces}`).
    PartiallyFailed {
        warnings: Value,
        errors: Value,
    },
    Failed(String),
}

/// Holds a restore `InProgress` halfway until opened; a gate never opened is a stuck
/// restore (and, Velero running one at a time, every later one stays queued).
#[derive(Clone)]
pub struct Gate(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Gate {
    fn default() -> Gate {
        Gate::new()
    }
}

impl Gate {
    pub fn new() -> Gate {
        Gate(Arc::new(tokio::sync::watch::channel(false).0))
    }

    pub fn open(&self) {
        self.0.send_replace(true);
    }
}

/// Something a test does inside the server, at a point of a restore's life.
pub type Hook = Box<dyn Fn(&Handle) + Send + Sync>;

/// What the fake Velero server does with the restores it picks.
pub struct Script {
    pub ending: Ending,
    /// Items reported in `progress`, one change each.
    pub items: u64,
    /// Holds every restore queued (phase empty) until opened, as a busy server does.
    pub start: Option<Gate>,
    /// Holds a restore halfway `InProgress` until opened.
    pub gate: Option<Gate>,
    /// Runs just before a restore is validated.
    pub before_validation: Option<Hook>,
    /// The objects "in the backup", restored into the cluster.
    pub contents: Vec<Value>,
    /// The port of the test S3 server PartiallyFailed results are written to.
    pub s3_port: Option<u16>,
}

impl Script {
    pub fn ending(ending: Ending) -> Script {
        Script {
            ending,
            items: 4,
            start: None,
            gate: None,
            before_validation: None,
            contents: Vec::new(),
            s3_port: None,
        }
    }
}

/// Starts the fake Velero server on `fake`; it runs until the fake is dropped.
pub fn start_velero(fake: &Handle, script: Script) {
    let handle = fake.handle_for_controllers();
    let mut changes = handle.subscribe();
    let server = handle.clone();
    handle.spawn(async move {
        if let Some(start) = &script.start {
            let _ = start.0.subscribe().wait_for(|o| *o).await;
        }
        loop {
            answer_download_requests(&server).await;
            while let Some(name) = next_queued(&server) {
                process(&server, &script, &name).await;
            }
            match changes.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

fn phase(object: &Value) -> &str {
    object["status"]["phase"].as_str().unwrap_or("")
}

/// The oldest queued Restore, unless one is unfinished (it blocks every other).
fn next_queued(server: &Handle) -> Option<String> {
    let restores = server.list("velero.io/v1", "Restore", Some("velero"));
    let running = restores
        .iter()
        .any(|r| !phase(r).is_empty() && !TERMINAL.contains(&phase(r)));
    if running {
        return None;
    }
    restores
        .iter()
        .filter(|r| phase(r).is_empty())
        .min_by_key(|r| {
            (
                r["metadata"]["creationTimestamp"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                r["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0),
            )
        })
        .map(|r| r["metadata"]["name"].as_str().unwrap_or("").to_string())
}

fn set_status(server: &Handle, name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    server.change("velero.io/v1", "Restore", Some("velero"), name, |r| {
        if !r["status"].is_object() {
            r["status"] = json!({});
        }
        edit(r)
    })
}

/// Velero's validation: the texts of `validationErrors`, and the backup to read.
fn validate(server: &Handle, restore: &Value) -> Result<Value, Vec<String>> {
    let spec = &restore["spec"];
    let backup_name = spec["backupName"].as_str().unwrap_or("");
    let schedule = spec["scheduleName"].as_str().unwrap_or("");
    let mut errors = Vec::new();
    if backup_name.is_empty() == schedule.is_empty() {
        errors.push(
            "Either a backup or schedule must be specified as a source for the restore, but not both"
                .to_string(),
        );
    }
    let policy = spec["existingResourcePolicy"].as_str().unwrap_or("");
    if !["", "none", "update"].contains(&policy) {
        errors.push(format!("Invalid ExistingResourcePolicy: {policy}"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let backups = server.list("velero.io/v1", "Backup", Some("velero"));
    let backup = if schedule.is_empty() {
        backups
            .into_iter()
            .find(|b| b["metadata"]["name"] == backup_name)
            .ok_or_else(|| {
                vec![format!(
                    "Error retrieving backup: can't find backup velero/{backup_name}: backups.velero.io \"{backup_name}\" not found"
                )]
            })?
    } else {
        let of_schedule: Vec<Value> = backups
            .into_iter()
            .filter(|b| b["metadata"]["labels"]["velero.io/schedule-name"] == schedule)
            .collect();
        if of_schedule.is_empty() {
            return Err(vec!["No backups found for schedule".into()]);
        }
        of_schedule
            .into_iter()
            .filter(|b| phase(b) == "Completed")
            .max_by_key(|b| {
                b["status"]["startTimestamp"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .ok_or_else(|| vec!["No completed backups found for schedule".to_string()])?
    };
    let location = backup["spec"]["storageLocation"]
        .as_str()
        .unwrap_or("default");
    let available = server
        .object(
            "velero.io/v1",
            "BackupStorageLocation",
            Some("velero"),
            location,
        )
        .is_some_and(|l| phase(&l) == "Available");
    if !available {
        return Err(vec![format!(
            "The BSL {location} is unavailable, cannot retrieve the backup"
        )]);
    }
    Ok(backup)
}

async fn process(server: &Handle, script: &Script, name: &str) {
    if let Some(hook) = &script.before_validation {
        hook(server);
    }
    let Some(restore) = server.object("velero.io/v1", "Restore", Some("velero"), name) else {
        return;
    };
    // Another restore got there first (the hook may have made one): this one waits.
    if next_queued(server).is_none() {
        return;
    }
    let backup = match validate(server, &restore) {
        Ok(backup) => backup,
        Err(errors) => {
            set_status(server, name, |r| {
                r["status"]["phase"] = json!("FailedValidation");
                r["status"]["validationErrors"] = json!(errors);
            });
            return;
        }
    };
    let total = script.items.max(1);
    let restore = set_status(server, name, |r| {
        r["spec"]["backupName"] = backup["metadata"]["name"].clone();
        let mut excluded: Vec<Value> = r["spec"]["excludedResources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        excluded.extend(NON_RESTORABLE.iter().map(|n| json!(n)));
        r["spec"]["excludedResources"] = json!(excluded);
        if r["spec"]["itemOperationTimeout"].is_null() {
            r["spec"]["itemOperationTimeout"] = json!("4h0m0s");
        }
        r["status"]["phase"] = json!("InProgress");
        r["status"]["startTimestamp"] = json!(now());
        r["status"]["progress"] = json!({"totalItems": total, "itemsRestored": 0});
    });
    for done in 1..=total {
        if done == total / 2 + 1
            && let Some(gate) = &script.gate
        {
            let mut open = gate.0.subscribe();
            let _ = open.wait_for(|o| *o).await;
        }
        set_status(server, name, |r| {
            r["status"]["progress"]["itemsRestored"] = json!(done);
        });
        tokio::task::yield_now().await;
    }
    let skipped = restore_contents(server, script, &restore);
    set_status(server, name, |r| r["status"]["phase"] = json!("Finalizing"));
    tokio::task::yield_now().await;
    let (ending, mut warnings, errors) = match &script.ending {
        Ending::Completed => ("Completed", json!({}), json!({})),
        Ending::PartiallyFailed { warnings, errors } => {
            ("PartiallyFailed", warnings.clone(), errors.clone())
        }
        Ending::Failed(_) => ("Failed", json!({}), json!({})),
    };
    for (namespace, text) in skipped {
        let list = &mut warnings["namespaces"][namespace.as_str()];
        if !list.is_array() {
            *list = json!([]);
        }
        list.as_array_mut().expect("a list").push(json!(text));
    }
    let (warning_count, error_count) = (count(&warnings), count(&errors));
    if ending == "PartiallyFailed"
        && let Some(port) = script.s3_port
    {
        write_results(server, &backup, name, port, &warnings, &errors).await;
    }
    set_status(server, name, |r| {
        let status = &mut r["status"];
        status["phase"] = json!(ending);
        status["completionTimestamp"] = json!(now());
        if let Ending::Failed(reason) = &script.ending {
            status["failureReason"] = json!(reason);
        }
        // omitempty: a clean restore has no counts at all.
        if warning_count > 0 {
            status["warnings"] = json!(warning_count);
        }
        if error_count > 0 {
            status["errors"] = json!(error_count);
        }
    });
}

/// How many texts a `{velero, cluster, namespaces}` group holds.
fn count(texts: &Value) -> u64 {
    let list = |v: &Value| v.as_array().map(|a| a.len() as u64).unwrap_or(0);
    list(&texts["velero"])
        + list(&texts["cluster"])
        + texts["namespaces"]
            .as_object()
            .map(|m| m.values().map(list).sum())
            .unwrap_or(0)
}

/// Restores the script's objects the Restore selects; the warnings for objects skipped
/// because they exist and differ, by namespace.
fn restore_contents(server: &Handle, script: &Script, restore: &Value) -> Vec<(String, String)> {
    let spec = &restore["spec"];
    let included: Vec<&str> = spec["includedNamespaces"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mapping: BTreeMap<String, String> = spec["namespaceMapping"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let update = spec["existingResourcePolicy"] == "update";
    let mut skipped = Vec::new();
    for object in &script.contents {
        let from = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        if !included.is_empty() && !included.contains(&"*") && !included.contains(&from) {
            continue;
        }
        let into = mapping
            .get(from)
            .cloned()
            .unwrap_or_else(|| from.to_string());
        if server.object("v1", "Namespace", None, &into).is_none() {
            server
                .put(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": into}}));
        }
        let mut restored = object.clone();
        restored["metadata"]["namespace"] = json!(into);
        restored["metadata"]["labels"]["velero.io/restore-name"] =
            restore["metadata"]["name"].clone();
        restored["metadata"]["labels"]["velero.io/backup-name"] = spec["backupName"].clone();
        let (api_version, kind, name) = (
            object["apiVersion"].as_str().unwrap_or("v1"),
            object["kind"].as_str().unwrap_or(""),
            object["metadata"]["name"].as_str().unwrap_or(""),
        );
        match server.object(api_version, kind, Some(&into), name) {
            Some(existing) if existing.get("data") != object.get("data") && !update => {
                skipped.push((
                    into.clone(),
                    format!(
                        "could not restore, {kind} \"{name}\" already exists. Warning: the in-cluster version is different than the backed-up version"
                    ),
                ));
            }
            Some(_) if !update => {}
            _ => {
                server.put(restored);
            }
        }
    }
    skipped
}

/// Writes the results file as Velero does, under the storage location's prefix.
async fn write_results(
    server: &Handle,
    backup: &Value,
    name: &str,
    port: u16,
    warnings: &Value,
    errors: &Value,
) {
    let location = backup["spec"]["storageLocation"]
        .as_str()
        .unwrap_or("default");
    let bsl = server
        .object(
            "velero.io/v1",
            "BackupStorageLocation",
            Some("velero"),
            location,
        )
        .expect("the storage location exists");
    let bucket = bsl["spec"]["objectStorage"]["bucket"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let prefix = bsl["spec"]["objectStorage"]["prefix"]
        .as_str()
        .unwrap_or("")
        .trim_matches('/');
    let path = format!("restores/{name}/restore-{name}-results.gz");
    let key = if prefix.is_empty() {
        path
    } else {
        format!("{prefix}/{path}")
    };
    let results = json!({"warnings": warnings, "errors": errors}).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(results.as_bytes()).expect("gzip in memory");
    let data = gz.finish().expect("gzip in memory");
    tokio::task::spawn_blocking(move || super::super::s3::put_on(port, &bucket, &key, &data))
        .await
        .expect("the results are stored");
}

/// Answers every new DownloadRequest for a Restore's results with a presigned URL.
async fn answer_download_requests(server: &Handle) {
    for request in server.list("velero.io/v1", "DownloadRequest", Some("velero")) {
        if phase(&request) == "Processed" {
            continue;
        }
        let target = &request["spec"]["target"];
        let restore = target["name"].as_str().unwrap_or("");
        let url = match target["kind"].as_str() {
            Some("RestoreResults") => results_url(server, restore).await,
            _ => None,
        };
        let name = request["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        server.change(
            "velero.io/v1",
            "DownloadRequest",
            Some("velero"),
            &name,
            |r| {
                r["status"] = json!({
                    "phase": "Processed",
                    "downloadURL": url.unwrap_or_default(),
                    "expiration": (chrono::Utc::now() + chrono::Duration::minutes(10))
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                });
            },
        );
    }
}

/// The presigned URL of Restore `restore`'s results, under its backup's location.
async fn results_url(server: &Handle, restore: &str) -> Option<String> {
    use object_store::signer::Signer as _;
    let restore = server.object("velero.io/v1", "Restore", Some("velero"), restore)?;
    let backup = server.object(
        "velero.io/v1",
        "Backup",
        Some("velero"),
        restore["spec"]["backupName"].as_str()?,
    )?;
    let location = backup["spec"]["storageLocation"]
        .as_str()
        .unwrap_or("default");
    let bsl = server.object(
        "velero.io/v1",
        "BackupStorageLocation",
        Some("velero"),
        location,
    )?;
    let bucket = bsl["spec"]["objectStorage"]["bucket"].as_str()?;
    let prefix = bsl["spec"]["objectStorage"]["prefix"]
        .as_str()
        .unwrap_or("")
        .trim_matches('/');
    let name = restore["metadata"]["name"].as_str()?;
    let path = format!("restores/{name}/restore-{name}-results.gz");
    let key = if prefix.is_empty() {
        path
    } else {
        format!("{prefix}/{path}")
    };
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(bsl["spec"]["config"]["s3Url"].as_str()?)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id(super::super::s3::ACCESS_KEY)
        .with_secret_access_key(super::super::s3::SECRET_KEY)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .build()
        .ok()?;
    let url = store
        .signed_url(
            object_store::signer::Method::GET,
            &object_store::path::Path::from(key),
            std::time::Duration::from_secs(600),
        )
        .await
        .ok()?;
    Some(url.to_string())
}
