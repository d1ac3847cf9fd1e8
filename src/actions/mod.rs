//! The action catalogue, as data.
//!
//! Every action declares its name, its parameters (used by `validate`, `plan` and the JSON
//! Schema), whether re-running it after a crash is safe, and its executor, which the
//! engine calls through `ActionSpec::execute` (the interface is in `execute`). Families
//! of actions (etcd, PKI, restic, S3, Kubernetes, Velero) each add a file here and a line to
//! `CATALOG`.

mod by_hand;
mod check_age;
mod child;
mod durable;
pub mod etcd;
mod execute;
pub mod kkp;
pub mod kube;
mod lifeline;
mod pki;
mod process;
mod program;
mod rclone;
mod restic;
mod s3;
mod shell;
mod staging_lock;
mod velero;
mod vfork;
mod wait;

pub use by_hand::{ByHandFn, Given};
pub use execute::{Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs};
pub use shell::ShellAction;
pub use wait::WaitAction;

/// The type of one action parameter, as a runbook author writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Integer,
    Bool,
    /// humantime syntax: `30s`, `10m`.
    Duration,
    StringList,
    /// A mapping of string keys to string values (environment variables).
    StringMap,
    /// The members of an etcd cluster: a list of `{name, peer_url, data_dir}`, checked
    /// by `validate` (peer URL syntax, no duplicates; see `etcd::member_table`).
    MemberTable,
}

impl ParamKind {
    /// How the kind reads in messages and docs.
    pub fn describe(self) -> &'static str {
        match self {
            ParamKind::String => "a string",
            ParamKind::Integer => "a whole number",
            ParamKind::Bool => "true or false",
            ParamKind::Duration => "a duration like `30s` or `10m`",
            ParamKind::StringList => "a list of strings",
            ParamKind::StringMap => "a mapping of names to strings",
            ParamKind::MemberTable => {
                "a list of members, each with `name`, `peer_url` and `data_dir`"
            }
        }
    }
}

/// One declared parameter of an action.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub required: bool,
    pub doc: &'static str,
}

/// Whether running an action again after a crash in the middle of it is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    /// Safe to run again; the text says why.
    Safe(&'static str),
    /// drbook asks the operator what happened before running it again (unless the step
    /// says `idempotent: true`); the text says why.
    AskFirst(&'static str),
}

/// What the registry knows about one action.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    /// The names of the outputs a step of this action can set, which `validate` holds
    /// `steps.<id>.outputs.<name>` against; `None` when they are free-form (`shell`).
    pub outputs: Option<&'static [&'static str]>,
    pub rerun: Rerun,
    /// The commands an operator types to do the same by hand when drbook is unavailable,
    /// for the printed runbook (`drbook render`); see `by_hand`.
    pub by_hand: ByHandFn,
    /// What runs the action.
    pub executor: &'static dyn Action,
}

impl ActionSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Runs the action once. The future is `'static`, so the engine may spawn it; dropping
    /// it stops whatever the action started, but cancelling `request.cancel` and awaiting
    /// the result is the orderly way.
    pub fn execute(&self, request: ActionRequest) -> ActionFuture {
        let running = self.executor.execute(request);
        let (name, declared) = (self.name, self.outputs);
        Box::pin(async move {
            let result = running.await;
            // `validate` refuses reads of undeclared outputs, so an output missing from
            // `outputs` could never be read: every test that runs an action holds the
            // declaration to what the action sets.
            if let (Ok(outputs), Some(declared)) = (&result, declared) {
                let undeclared: Vec<&String> = outputs
                    .keys()
                    .filter(|k| !declared.contains(&k.as_str()))
                    .collect();
                debug_assert!(
                    undeclared.is_empty(),
                    "action `{name}` set outputs its spec does not declare: {undeclared:?}"
                );
            }
            result
        })
    }

    /// The by-hand commands for a step with these parameters.
    pub fn by_hand(&self, given: &Given) -> Vec<String> {
        (self.by_hand)(given)
    }

    /// True when the action is safe to re-run without asking.
    pub fn rerun_safe(&self) -> bool {
        matches!(self.rerun, Rerun::Safe(_))
    }
}

/// Every action this build knows, in the order the docs list them.
pub const CATALOG: &[ActionSpec] = &[
    shell::SPEC,
    wait::SPEC,
    check_age::SPEC,
    etcd::HEALTH,
    etcd::MEMBERS,
    etcd::STATUS,
    etcd::SNAPSHOT_SAVE,
    etcd::SNAPSHOT_VERIFY,
    etcd::SNAPSHOT_RESTORE,
    etcd::VERIFY,
    pki::VERIFY,
    pki::RESTORE,
    restic::SNAPSHOTS,
    restic::RESTORE,
    s3::LIST,
    s3::LATEST,
    s3::GET,
    rclone::COPY,
    rclone::SYNC,
    rclone::CHECK,
    self::kube::GET,
    self::kube::LIST,
    self::kube::APPLY,
    self::kube::PATCH,
    self::kube::SCALE,
    self::kube::DELETE,
    self::kube::WAIT,
    kkp::BACKUPS,
    kkp::RESTORE,
    velero::BACKUPS,
    velero::BACKUP_LATEST,
    velero::BSL_ACCESS,
    velero::RESTORE,
];

/// The prefixes of the action families that reach a Kubernetes cluster.
const CLUSTER_FAMILIES: [&str; 3] = ["kube.", "velero.", "kkp."];

/// True when an action of this name reaches a Kubernetes cluster, so a run with such a
/// step checks the target's cluster before its first step (`session::cluster_check`).
/// Decided by family, so a new `kube.*`, `velero.*` or `kkp.*` action is covered
/// without being listed.
pub fn reaches_cluster(name: &str) -> bool {
    CLUSTER_FAMILIES
        .iter()
        .any(|family| name.starts_with(family))
}

/// Looks an action up by the name a runbook uses.
pub fn lookup(name: &str) -> Option<&'static ActionSpec> {
    CATALOG.iter().find(|a| a.name == name)
}

/// The action an unknown name most likely meant, by family and last word: `etcd.restore`
/// is `etcd.snapshot.restore`, which spelling distance alone would not find (it is
/// closer to `etcd.members`). `None` when no action of the family ends that way.
pub fn suggest(name: &str) -> Option<&'static str> {
    let (family, last) = (name.split('.').next()?, name.rsplit('.').next()?);
    CATALOG.iter().map(|a| a.name).find(|known| {
        *known != name
            && known.contains('.')
            && known.split('.').next() == Some(family)
            && known.rsplit('.').next() == Some(last)
    })
}

/// The names of every action, for "did you mean" and error help.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|a| a.name).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::*;

    #[test]
    fn the_kubernetes_families_reach_a_cluster_and_nothing_else_does() {
        for name in ["kube.apply", "velero.restore", "kkp.etcd.restore"] {
            assert!(reaches_cluster(name), "{name}");
        }
        for name in [
            "shell",
            "etcd.health",
            "s3.get",
            "kubectl",
            "kubernetes.get",
        ] {
            assert!(!reaches_cluster(name), "{name}");
        }
    }

    /// Every registered action prints commands for the paper, even with nothing but
    /// placeholders: a new action without its by-hand text fails here.
    #[test]
    fn every_action_says_how_to_do_it_by_hand() {
        for spec in CATALOG {
            let required: Map<String, Value> = spec
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| {
                    (
                        p.name.to_string(),
                        Value::String(format!("{{{{ inputs.{} }}}}", p.name)),
                    )
                })
                .collect();
            for given in [Given::default(), Given::new(required)] {
                let lines = spec.by_hand(&given);
                assert!(
                    lines
                        .iter()
                        .any(|l| !l.trim().is_empty() && !l.starts_with('#')),
                    "`{}` has no by-hand command: {lines:?}",
                    spec.name
                );
            }
        }
    }
}
