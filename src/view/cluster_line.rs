//! How a reached cluster reads wherever a person sees it (the terminal header,
//! `runs show`, the reports): one sentence, the same everywhere, with its identity first
//! so it can be compared at a glance with the target's `cluster_uid`.

use crate::journal::event::VIA_PREFLIGHT;

/// `cluster: https://10.0.0.1:6443 (kube-system UID 5f…)`.
pub(crate) fn cluster_line(server: &str, uid: &str) -> String {
    format!("cluster: {server} (kube-system UID {uid})")
}

/// How the run came to reach it: "checked before the first step" (of the `session`
/// that recorded it, when that was a resumed one) or "reached by step `restore`", with
/// the kubeconfig context.
pub(crate) fn how_reached(context: Option<&str>, via: &str, session: u32) -> String {
    let how = match (via == VIA_PREFLIGHT, session) {
        (true, 0) => "checked before the first step".to_string(),
        (true, n) => format!("checked before the first step of session {n}"),
        (false, _) => format!("reached by step `{via}`"),
    };
    match context {
        Some(context) => format!("context `{context}`, {how}"),
        None => how,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_a_cluster_was_reached_names_the_session_or_the_step() {
        assert_eq!(
            how_reached(Some("prod"), VIA_PREFLIGHT, 0),
            "context `prod`, checked before the first step"
        );
        assert_eq!(
            how_reached(None, VIA_PREFLIGHT, 2),
            "checked before the first step of session 2"
        );
        assert_eq!(how_reached(None, "restore", 1), "reached by step `restore`");
    }
}
