//! The fake's objects, kept in memory, and their history for watches.
//!
//! Every write bumps one cluster-wide revision (the `resourceVersion` of what it wrote),
//! is appended to the history and sent to the open watches. A watch from a version reads
//! the history after it; a version older than the history (after `compact`) is answered
//! with an in-stream 410, as etcd compaction makes the real server do.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::fields::{self, Owners};
use super::resources::Kind;
use super::status::{self, Failure};

/// Where an object lives: its kind, namespace (none when cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub resource: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Key {
    pub fn new(kind: &Kind, namespace: Option<&str>, name: &str) -> Key {
        Key {
            resource: kind.qualified(),
            namespace: if kind.namespaced {
                namespace.map(str::to_string)
            } else {
                None
            },
            name: name.to_string(),
        }
    }
}

/// One write, as watches see it.
#[derive(Debug, Clone)]
pub struct Change {
    pub revision: u64,
    pub key: Key,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub event: &'static str,
    pub object: Value,
}

/// The objects and their history.
pub struct Store {
    objects: BTreeMap<Key, Value>,
    owners: HashMap<Key, Owners>,
    revision: u64,
    history: Vec<Change>,
    /// Watches from a version below this are answered with 410.
    oldest: u64,
    /// Writes made through the API (not by the test's own setup).
    pub api_writes: u64,
    /// Watches opened through the API so far.
    pub watches_opened: u64,
    live: broadcast::Sender<Change>,
    seed: u64,
    uids: u64,
}

impl Store {
    pub fn new(seed: u64) -> Store {
        Store {
            objects: BTreeMap::new(),
            owners: HashMap::new(),
            revision: 100,
            history: Vec::new(),
            oldest: 0,
            api_writes: 0,
            watches_opened: 0,
            live: broadcast::channel(4096).0,
            seed,
            uids: 0,
        }
    }

    /// A UUID-shaped UID, different per fake (its seed) and per object.
    pub fn new_uid(&mut self) -> String {
        self.uids += 1;
        let n = self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.uids;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (n >> 32) as u32,
            (n >> 16) as u16,
            (n & 0xfff) as u16,
            (self.uids & 0xfff) as u16,
            n & 0xffff_ffff_ffff
        )
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Every object of a kind (in a namespace, when given), in name order.
    pub fn list(&self, kind: &Kind, namespace: Option<&str>) -> Vec<&Value> {
        let resource = kind.qualified();
        self.objects
            .iter()
            .filter(|(k, _)| k.resource == resource)
            .filter(|(k, _)| namespace.is_none() || k.namespace.as_deref() == namespace)
            .map(|(_, v)| v)
            .collect()
    }

    /// Writes `object` under `key` as a new revision and tells the watches. `manager`
    /// owns the leaves that changed (server-side apply passes its own `owners`).
    pub fn commit(
        &mut self,
        kind: &Kind,
        key: Key,
        mut object: Value,
        manager: Option<(&str, &'static str)>,
    ) -> Value {
        let before = self.objects.get(&key).cloned();
        self.revision += 1;
        let meta = &mut object["metadata"];
        meta["name"] = json!(key.name);
        if let Some(ns) = &key.namespace {
            meta["namespace"] = json!(ns);
        }
        meta["resourceVersion"] = json!(self.revision.to_string());
        match &before {
            Some(old) => {
                meta["uid"] = old["metadata"]["uid"].clone();
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
                let generation = old["metadata"]["generation"].as_u64().unwrap_or(1);
                let spec_changed = old.get("spec") != object.get("spec");
                object["metadata"]["generation"] = json!(generation + u64::from(spec_changed));
            }
            None => {
                let uid = self.new_uid();
                let meta = &mut object["metadata"];
                meta["uid"] = json!(uid);
                meta["creationTimestamp"] = json!(now());
                meta["generation"] = json!(1);
            }
        }
        object["apiVersion"] = json!(kind.api_version());
        object["kind"] = json!(kind.kind);
        if let Some((manager, operation)) = manager {
            let owners = self.owners.entry(key.clone()).or_default();
            let old_leaves: BTreeMap<String, Value> = before
                .as_ref()
                .map(|o| fields::leaves(o).into_iter().collect())
                .unwrap_or_default();
            for (pointer, value) in fields::leaves(&object) {
                if old_leaves.get(&pointer) != Some(&value) {
                    owners.leaves.insert(pointer, manager.to_string());
                }
            }
            owners.operations.insert(manager.to_string(), operation);
        }
        let leaves: Vec<String> = fields::leaves(&object)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let owners = self.owners.entry(key.clone()).or_default();
        owners.leaves.retain(|pointer, _| leaves.contains(pointer));
        object["metadata"]["managedFields"] = fields::managed_fields(owners, &kind.api_version());
        // A write that changes nothing is no new revision, as on the real server.
        if let Some(old) = &before {
            let mut same = object.clone();
            same["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            if &same == old {
                self.revision -= 1;
                return old.clone();
            }
        }
        let event = if before.is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.objects.insert(key.clone(), object.clone());
        self.record(key, event, object.clone());
        object
    }

    /// The field owners of an object, for server-side apply.
    pub fn owners(&self, key: &Key) -> Owners {
        self.owners.get(key).cloned().unwrap_or_default()
    }

    /// Replaces the owners of an object (server-side apply decided them).
    pub fn set_owners(&mut self, key: &Key, owners: Owners) {
        self.owners.insert(key.clone(), owners);
    }

    /// Removes an object, or marks it deleting while it has finalizers (the real server
    /// keeps it, with `deletionTimestamp`, until its controllers remove them).
    pub fn delete(&mut self, kind: &Kind, key: &Key) -> Result<(Value, bool), Failure> {
        let Some(object) = self.objects.get(&key.clone()).cloned() else {
            return Err(status::not_found(kind, &key.name));
        };
        let finalizers = object["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty());
        if finalizers {
            let mut marked = object;
            if marked["metadata"]["deletionTimestamp"].is_null() {
                marked["metadata"]["deletionTimestamp"] = json!(now());
                marked = self.commit(kind, key.clone(), marked, None);
            }
            return Ok((marked, false));
        }
        self.revision += 1;
        let mut gone = self.objects.remove(key).expect("checked above");
        self.owners.remove(key);
        gone["metadata"]["resourceVersion"] = json!(self.revision.to_string());
        self.record(key.clone(), "DELETED", gone.clone());
        Ok((gone, true))
    }

    fn record(&mut self, key: Key, event: &'static str, object: Value) {
        let change = Change {
            revision: self.revision,
            key,
            event,
            object,
        };
        self.history.push(change.clone());
        // Nobody watching is no error.
        let _ = self.live.send(change);
    }

    /// The changes after `revision`, and the live ones from now on, with nothing lost
    /// between them (the caller holds the store's lock). `Err(oldest)` when the history
    /// no longer reaches back to `revision`.
    pub fn follow(&self, revision: u64) -> Result<(Vec<Change>, broadcast::Receiver<Change>), u64> {
        if revision < self.oldest {
            return Err(self.oldest);
        }
        let past = self
            .history
            .iter()
            .filter(|c| c.revision > revision)
            .cloned()
            .collect();
        Ok((past, self.live.subscribe()))
    }

    /// The live changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.live.subscribe()
    }

    /// Forgets the history up to now, as etcd compaction does.
    pub fn compact(&mut self) {
        self.history.clear();
        self.oldest = self.revision;
    }
}

/// The time now as the API server writes timestamps (RFC 3339, seconds, `Z`).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
