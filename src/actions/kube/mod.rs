//! The generic Kubernetes actions: read, apply, patch, scale, delete and wait for any
//! object, through the API server (the `kube` crate; no kubectl needed).
//!
//! Every action first reaches its cluster and checks its identity (`connect`), then
//! names its object through discovery (`object`), so CRDs work like built-in kinds.

mod apply;
mod connect;
mod delete;
mod error;
mod get;
mod manifest;
mod object;
mod patch;
mod scale;
mod wait;

pub use connect::FROM_TARGET;
pub use error::KubeError;

pub(crate) use apply::SPEC as APPLY;
pub(crate) use delete::SPEC as DELETE;
pub(crate) use get::SPEC as GET;
pub(crate) use patch::SPEC as PATCH;
pub(crate) use scale::SPEC as SCALE;
pub(crate) use wait::SPEC as WAIT;

use crate::actions::by_hand::Given;

/// `--kubeconfig` and `--context` for the by-hand kubectl command, when the step names them.
fn kubectl_flags(given: &Given) -> String {
    let mut flags = String::new();
    if let Some(path) = given.opt("kubeconfig") {
        flags.push_str(&format!(
            " --kubeconfig {}",
            crate::actions::by_hand::quote(&path)
        ));
    }
    if let Some(context) = given.opt("context") {
        flags.push_str(&format!(
            " --context {}",
            crate::actions::by_hand::quote(&context)
        ));
    }
    flags
}

/// The kind as kubectl takes it unambiguously: `Deployment.v1.apps`, or `Pod` for core.
fn kubectl_kind(given: &Given) -> String {
    let kind = given.text("kind");
    match given.opt("api_version") {
        Some(api_version) => match api_version.split_once('/') {
            Some((group, version)) => format!("{kind}.{version}.{group}"),
            None => kind,
        },
        None => kind,
    }
}

/// ` -n <namespace>` when the step names one.
fn namespace_flag(given: &Given) -> String {
    given
        .opt("namespace")
        .map(|ns| format!(" -n {}", crate::actions::by_hand::quote(&ns)))
        .unwrap_or_default()
}
