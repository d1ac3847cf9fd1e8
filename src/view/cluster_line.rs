//! How a reached cluster reads wherever a person sees it (the terminal header,
//! `runs show`, the reports): one sentence, the same everywhere, with its identity first
//! so it can be compared at a glance with the target's `cluster_uid`.

use crate::journal::event::VIA_PREFLIGHT;

/// `cluster: https://10.0.0.1:6443 (kube-system UID 5f…)`.
pub(crate) fn cluster_line(server: &str, uid: &str) -> String {
    format!("cluster: {server} (kube-system UID {uid})")
}

/// How the run came to reach it: "checked before the first step" or "reached by step
/// `restore`", with the kubeconfig context when one was named.
pub(crate) fn how_reached(context: Option<&str>, via: &str) -> String {
    let how = if via == VIA_PREFLIGHT {
        "checked before the first step".to_string()
    } else {
        format!("reached by step `{via}`")
    };
    match context {
        Some(context) => format!("context `{context}`, {how}"),
        None => how,
    }
}
