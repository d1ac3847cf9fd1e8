//! The kinds a cached client has already found through discovery, so the steps of a run
//! that name the same kind ask the API server for it once.
//!
//! Only kinds that were found are kept: a kind missing at first (its CRD not yet
//! installed by an earlier step) is looked up again by the next step that names it. What
//! was found belongs to the cluster identity it was found on (the `kube-system` UID each
//! step reads): when a step reaches another identity through the same client (the
//! cluster behind an address was rebuilt), everything known is forgotten and looked up
//! again, as the new cluster may serve other kinds.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::api::ApiResource;

/// A kind as discovery names it: group, version and kind (`apps`, `v1`, `Deployment`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct KindName {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// What discovery said about a kind: its resource (plural, API path) and whether it is
/// namespaced.
pub(crate) type Found = (ApiResource, bool);

/// The kinds found on one client, for one cluster identity.
#[derive(Default)]
pub(crate) struct KnownKinds {
    /// The `kube-system` UID the kinds were found on, and the kinds. A std mutex: it is
    /// held for a map lookup or insert, never across an await.
    found: Mutex<(String, HashMap<KindName, Found>)>,
}

impl KnownKinds {
    /// The kind, when it was found before on the cluster whose identity is `uid`.
    pub(crate) fn get(&self, uid: &str, kind: &KindName) -> Option<Found> {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        if found.0 != uid {
            return None;
        }
        found.1.get(kind).cloned()
    }

    /// Keeps a kind found on the cluster whose identity is `uid`; what was found on
    /// another identity is forgotten first.
    pub(crate) fn insert(&self, uid: &str, kind: KindName, resource: Found) {
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        if found.0 != uid {
            *found = (uid.to_string(), HashMap::new());
        }
        found.1.insert(kind, resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::GroupVersionKind;

    fn deployment() -> (KindName, Found) {
        let name = KindName {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
        };
        let gvk = GroupVersionKind::gvk("apps", "v1", "Deployment");
        (name, (ApiResource::from_gvk(&gvk), true))
    }

    #[test]
    fn a_kind_found_is_known_on_the_same_identity_only() {
        let kinds = KnownKinds::default();
        let (name, found) = deployment();
        assert!(
            kinds.get("uid-a", &name).is_none(),
            "nothing known at first"
        );
        kinds.insert("uid-a", name.clone(), found);
        let (resource, namespaced) = kinds.get("uid-a", &name).expect("known");
        assert_eq!(resource.plural, "deployments");
        assert!(namespaced);
        assert!(
            kinds.get("uid-b", &name).is_none(),
            "another cluster behind the same client may not serve it"
        );
    }

    #[test]
    fn a_kind_found_on_another_identity_forgets_the_first_ones() {
        let kinds = KnownKinds::default();
        let (name, found) = deployment();
        kinds.insert("uid-a", name.clone(), found.clone());
        kinds.insert("uid-b", name.clone(), found);
        assert!(kinds.get("uid-b", &name).is_some());
        assert!(kinds.get("uid-a", &name).is_none());
    }
}
