//! What can go wrong in the KKP actions. Each message names the seed object involved and
//! says what to do; none carries a credential (the backup download Secret is named, never
//! read).

/// Why a KKP action did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum KkpError {
    #[error(
        "user cluster `{cluster}` is not on the seed at {server} (no Cluster `{cluster}`); check `cluster` (the cluster ID, e.g. `zvc78xnnz7`, from `kubectl get clusters`) and that the kubeconfig reaches the seed that hosts it"
    )]
    ClusterNotFound { cluster: String, server: String },

    #[error("{problem}")]
    Seed { problem: String },

    #[error(
        "Seed `{seed}` has no backup destination `{destination}` (spec.etcdBackupRestore.destinations has: {known}); KKP would only report this as an event and never start: give `destination` one of those names"
    )]
    UnknownDestination {
        seed: String,
        destination: String,
        known: String,
    },

    #[error(
        "user cluster `{cluster}` does not have etcd-launcher enabled (spec.features.etcdLauncher is not true); KKP restores etcd only through etcd-launcher: enable it (`kubectl patch cluster {cluster} --type merge -p '{{\"spec\":{{\"features\":{{\"etcdLauncher\":true}}}}}}'`), wait for the etcd pods to roll, then run the step again"
    )]
    LauncherDisabled { cluster: String },

    #[error(
        "another restore holds user cluster `{cluster}`: its annotation kubermatic.k8c.io/active-restore names EtcdRestore `{holder}`; KKP runs one restore per cluster and would queue this one behind it. Let `{holder}` finish (`kubectl -n {namespace} get etcdrestore {name} -w`), then run the step again; nothing was created"
    )]
    RestoreActive {
        cluster: String,
        holder: String,
        namespace: String,
        name: String,
    },

    #[error(
        "there is no EtcdBackupConfig `{namespace}/{config}` (the namespace has: {existing}); give `config` one of those names"
    )]
    ConfigNotFound {
        namespace: String,
        config: String,
        existing: String,
    },

    #[error(
        "no restorable backup in EtcdBackupConfig `{namespace}/{config}`{}: a restorable backup has backupPhase Completed and no deletePhase; it lists {listed}",
        before.as_ref().map(|b| format!(" finished before {b}")).unwrap_or_default()
    )]
    NoRestorableBackup {
        namespace: String,
        config: String,
        before: Option<String>,
        listed: String,
    },

    #[error(
        "backup `{backup}` is not restorable in `{namespace}`: {why}; restorable backups: {restorable}"
    )]
    BackupNotRestorable {
        backup: String,
        namespace: String,
        why: String,
        restorable: String,
    },

    #[error(
        "EtcdRestore `{restore}`, which an earlier attempt of this step created, restores backup `{has}`, not `{wanted}`; drbook never deletes an EtcdRestore: let it finish and give this step another id to restore `{wanted}` after it"
    )]
    OtherBackup {
        restore: String,
        has: String,
        wanted: String,
    },

    #[error(
        "EtcdRestore `{restore}` has not moved from {phase} for {}; KKP reports failures only as events, and {}. The EtcdRestore is left in place: fix the cause, then run the step again (it follows the same EtcdRestore; KKP retries by itself)",
        humantime::format_duration(*after),
        reported(events)
    )]
    Stalled {
        restore: String,
        phase: String,
        after: std::time::Duration,
        events: Vec<String>,
    },

    #[error(
        "EtcdRestore `{restore}` was deleted while drbook followed it (in phase {phase}); check who deleted it (`kubectl get events -n {namespace}`) and the etcd of the cluster before anything else"
    )]
    Deleted {
        restore: String,
        phase: String,
        namespace: String,
    },

    #[error("cannot {verb} {object}: {reason}")]
    Api {
        verb: &'static str,
        object: String,
        reason: String,
    },

    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },
}

/// What KKP said about a stalled restore.
fn reported(events: &[String]) -> String {
    if events.is_empty() {
        "it reported no warning event on it: check the seed-controller-manager's log (`kubectl -n kubermatic logs deploy/seed-controller-manager | grep -i restore`)".to_string()
    } else {
        format!("it reported: {}", events.join("; "))
    }
}
