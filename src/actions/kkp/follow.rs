//! What an operator is told while KKP restores a user cluster's etcd, read from what the
//! watches see: the EtcdRestore's phase (none before `Started`: the CRD requires the
//! field, so KKP writes no status until it starts), the Cluster's `spec.pause`, its
//! `EtcdClusterInitialized` condition (a map keyed by type), its
//! `kubermatic.k8c.io/last-restart` annotation, and every new Warning event on the
//! EtcdRestore, which is the only way KKP reports a failure (domain-facts §9.2).
//!
//! The tracker only formats and remembers; `restore` decides when a restore has stalled.

use std::collections::HashSet;

use serde_json::Value;

/// The annotation KKP bumps to roll the control plane after a restore.
pub(crate) const LAST_RESTART: &str = "kubermatic.k8c.io/last-restart";
/// The annotation that holds a cluster for one restore (`<namespace>/<name>`).
pub(crate) const ACTIVE_RESTORE: &str = "kubermatic.k8c.io/active-restore";

/// What has been seen of one restore so far.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    pub cluster: String,
    /// `None` until KKP writes a status.
    pub phase: Option<String>,
    pub condition: Option<String>,
    paused: Option<bool>,
    /// The cluster was paused before drbook created the restore.
    pub paused_by_operator: bool,
    pub last_restart: Option<String>,
    /// Every Warning event seen, as `reason: message`.
    pub warnings: Vec<String>,
    seen_events: HashSet<String>,
    /// The unpause was said.
    unpause_said: bool,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

impl Tracker {
    pub fn new(cluster: &str, paused_by_operator: bool) -> Tracker {
        Tracker {
            cluster: cluster.to_string(),
            paused_by_operator,
            ..Tracker::default()
        }
    }

    /// The phase as messages name it.
    pub fn phase_text(&self) -> String {
        match &self.phase {
            Some(phase) => format!("phase {phase}"),
            None => "no status (KKP has not started it)".into(),
        }
    }

    pub fn completed(&self) -> bool {
        self.phase.as_deref() == Some("Completed")
    }

    /// Notes the EtcdRestore; the lines to show, and whether its phase moved.
    pub fn restore(&mut self, object: &Value) -> (Vec<String>, bool) {
        let phase = text(object, "/status/phase")
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        if phase == self.phase {
            return (Vec::new(), false);
        }
        self.phase = phase.clone();
        let why = match phase.as_deref() {
            Some("Started") => " (KKP holds the cluster and pauses it)",
            Some("StsRebuilding") => {
                " (the etcd StatefulSet and its volumes are deleted; etcd is being rebuilt from the backup)"
            }
            Some("Completed") => " (etcd is restored; KKP rolls the control plane)",
            _ => "",
        };
        let shown = phase.as_deref().unwrap_or("(none)");
        let mut lines = vec![format!("{} EtcdRestore phase = {shown}{why}", now())];
        lines.extend(self.unpaused());
        (lines, true)
    }

    /// Notes the Cluster; the lines to show, and whether the restore moved (its
    /// `EtcdClusterInitialized` condition changed).
    pub fn cluster(&mut self, object: &Value) -> (Vec<String>, bool) {
        let mut lines = Vec::new();
        let mut moved = false;
        let condition = object.pointer("/status/conditions/EtcdClusterInitialized");
        let status = condition
            .and_then(|c| c.get("status"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if status.is_some() && status != self.condition {
            let message = condition
                .and_then(|c| c.get("message"))
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default();
            lines.push(format!(
                "{} Cluster {} condition EtcdClusterInitialized = {}{message}",
                now(),
                self.cluster,
                status.as_deref().unwrap_or_default()
            ));
            // The first sighting is the state before the restore, no progress.
            moved = self.condition.is_some();
            self.condition = status;
        }
        let paused = object
            .pointer("/spec/pause")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let (Some(false), true) = (self.paused, paused) {
            lines.push(format!(
                "{} KKP paused cluster {} (spec.pause: true)",
                now(),
                self.cluster
            ));
        }
        self.paused = Some(paused);
        lines.extend(self.unpaused());
        let restart = text(
            object,
            &format!("/metadata/annotations/{}", LAST_RESTART.replace('/', "~1")),
        )
        .map(str::to_string);
        if restart.is_some() && restart != self.last_restart {
            if self.last_restart.is_some() || self.phase.is_some() {
                lines.push(format!(
                    "{} KKP set {LAST_RESTART} = {} on cluster {}: the control-plane components roll",
                    now(),
                    restart.as_deref().unwrap_or_default(),
                    self.cluster
                ));
            }
            self.last_restart = restart;
        }
        (lines, moved)
    }

    /// Says once that KKP unpaused the cluster: it does so when it starts rebuilding etcd
    /// (`StsRebuilding`), so an unpaused cluster from then on was unpaused by KKP, even
    /// when drbook began watching after the change (a re-run, a fast controller).
    fn unpaused(&mut self) -> Option<String> {
        let rebuilding = matches!(self.phase.as_deref(), Some("StsRebuilding" | "Completed"));
        if self.unpause_said || !rebuilding || self.paused != Some(false) {
            return None;
        }
        self.unpause_said = true;
        let mut line = format!(
            "{} KKP unpaused cluster {} (spec.pause: false)",
            now(),
            self.cluster
        );
        if self.paused_by_operator {
            line.push_str(": it had been paused by an operator before the restore, and KKP unpauses unconditionally; pause it again if it must stay paused");
        }
        Some(line)
    }

    /// Notes a Warning event on the EtcdRestore; the line to show when it is new.
    pub fn event(&mut self, object: &Value) -> Option<String> {
        let reason = text(object, "/reason").unwrap_or("(no reason)");
        let message = text(object, "/message").unwrap_or("").trim();
        // An event KKP repeats is one object whose count grows: shown once.
        let key = format!(
            "{}|{reason}|{message}",
            text(object, "/metadata/uid").unwrap_or_default()
        );
        if !self.seen_events.insert(key) {
            return None;
        }
        let summary = format!("{reason}: {message}");
        if !self.warnings.contains(&summary) {
            self.warnings.push(summary.clone());
        }
        let at = text(object, "/lastTimestamp")
            .or_else(|| text(object, "/eventTime"))
            .or_else(|| text(object, "/metadata/creationTimestamp"))
            .map(str::to_string)
            .unwrap_or_else(now);
        Some(format!("{at} warning from KKP {summary}"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cluster(pause: bool, initialized: Option<&str>, restart: Option<&str>) -> Value {
        let mut c = json!({"spec": {"pause": pause}, "metadata": {"annotations": {}}, "status": {"conditions": {}}});
        if let Some(s) = initialized {
            c["status"]["conditions"]["EtcdClusterInitialized"] =
                json!({"status": s, "message": "m"});
        }
        if let Some(r) = restart {
            c["metadata"]["annotations"][LAST_RESTART] = json!(r);
        }
        c
    }

    #[test]
    fn no_status_is_no_phase_and_each_phase_change_is_progress() {
        let mut t = Tracker::new("abc", false);
        assert!(!t.restore(&json!({"spec": {}})).1);
        assert_eq!(t.phase_text(), "no status (KKP has not started it)");
        let (lines, moved) = t.restore(&json!({"status": {"phase": "Started"}}));
        assert!(
            moved
                && lines[0]
                    .ends_with("EtcdRestore phase = Started (KKP holds the cluster and pauses it)"),
            "{lines:?}"
        );
        assert!(!t.restore(&json!({"status": {"phase": "Started"}})).1);
        t.restore(&json!({"status": {"phase": "Completed"}}));
        assert!(t.completed());
    }

    #[test]
    fn the_unpause_is_said_and_an_operators_pause_is_warned_about() {
        let mut t = Tracker::new("abc", true);
        t.cluster(&cluster(true, Some("True"), Some("old")));
        t.restore(&json!({"status": {"phase": "Started"}}));
        let (lines, moved) = t.cluster(&cluster(true, Some("False"), Some("old")));
        assert!(moved, "{lines:?}");
        let (lines, _) = t.restore(&json!({"status": {"phase": "StsRebuilding"}}));
        assert_eq!(lines.len(), 1, "still paused: {lines:?}");
        let (lines, _) = t.cluster(&cluster(false, Some("False"), Some("old")));
        assert!(
            lines[0].contains(
                "KKP unpaused cluster abc (spec.pause: false): it had been paused by an operator"
            ),
            "{lines:?}"
        );
        let (lines, _) = t.cluster(&cluster(false, Some("True"), Some("new")));
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].contains("last-restart = new"), "{lines:?}");
    }

    #[test]
    fn an_unpause_before_drbook_watched_is_still_said_once() {
        let mut t = Tracker::new("abc", false);
        t.cluster(&cluster(false, Some("False"), None));
        let (lines, _) = t.restore(&json!({"status": {"phase": "StsRebuilding"}}));
        assert!(
            lines[1].ends_with("KKP unpaused cluster abc (spec.pause: false)"),
            "{lines:?}"
        );
        let (lines, _) = t.restore(&json!({"status": {"phase": "Completed"}}));
        assert_eq!(lines.len(), 1, "{lines:?}");
    }

    #[test]
    fn a_repeated_event_is_shown_once() {
        let mut t = Tracker::new("abc", false);
        let event = json!({"metadata": {"uid": "u1"}, "reason": "ReconcilingError", "message": "boom", "lastTimestamp": "2026-12-07T01:00:00Z", "count": 1});
        assert_eq!(
            t.event(&event).as_deref(),
            Some("2026-12-07T01:00:00Z warning from KKP ReconcilingError: boom")
        );
        let mut again = event.clone();
        again["count"] = json!(2);
        assert_eq!(t.event(&again), None);
        assert_eq!(t.warnings, ["ReconcilingError: boom"]);
    }
}
