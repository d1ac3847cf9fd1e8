//! The user cluster behind a KKP cluster's etcd, for the fake KKP controller: another
//! fake API server whose objects a backup of that cluster records and a completed
//! restore of that backup puts back, as restoring the cluster's etcd from a snapshot
//! would. This is what lets a test prove a restore by its effect on the user cluster
//! (a canary written before the backup is there, one written after it is gone), not by
//! a phase.
//!
//! What it records: Namespaces and ConfigMaps, the kinds the canaries use; every other
//! kind is left as it is. Only one-shot backups (an EtcdBackupConfig without
//! `schedule`) record anything, because only those are taken while a test runs; the
//! backups a test lists by hand hold nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::Handle;

/// What a backup records and a restore puts back.
const KINDS: [(&str, &str); 2] = [("v1", "Namespace"), ("v1", "ConfigMap")];

/// The user cluster `id` of the seed, reached through `api`.
pub struct UserCluster {
    pub id: String,
    api: Handle,
    /// Backup name → the objects it recorded.
    backups: Mutex<BTreeMap<String, Vec<Value>>>,
}

impl UserCluster {
    pub fn new(id: &str, api: &Handle) -> Arc<UserCluster> {
        Arc::new(UserCluster {
            id: id.to_string(),
            api: api.handle_for_controllers(),
            backups: Mutex::new(BTreeMap::new()),
        })
    }

    /// Records the user cluster's objects as backup `backup`.
    pub(super) fn back_up(&self, backup: &str) {
        let objects = KINDS
            .iter()
            .flat_map(|(api_version, kind)| self.api.list(api_version, kind, None))
            .collect();
        self.backups
            .lock()
            .unwrap()
            .insert(backup.to_string(), objects);
    }

    /// Puts the user cluster back to backup `backup`: what it did not hold is gone,
    /// what it held is as it was. A backup this cluster never recorded changes nothing.
    pub(super) fn restore(&self, backup: &str) {
        let Some(recorded) = self.backups.lock().unwrap().get(backup).cloned() else {
            return;
        };
        let key = |o: &Value| {
            (
                o["kind"].as_str().unwrap_or("").to_string(),
                o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                o["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        };
        let kept: Vec<_> = recorded.iter().map(key).collect();
        // ConfigMaps before their namespaces.
        for (api_version, kind) in KINDS.iter().rev() {
            for object in self.api.list(api_version, kind, None) {
                let mut object = object;
                object["kind"] = Value::from(*kind);
                if !kept.contains(&key(&object)) {
                    let (_, namespace, name) = key(&object);
                    let namespace = (!namespace.is_empty()).then_some(namespace.as_str());
                    self.api.remove(api_version, kind, namespace, &name);
                }
            }
        }
        for object in recorded {
            self.api.put(object);
        }
    }
}
