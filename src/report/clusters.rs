//! The clusters a run reached, as a report says them: each `cluster_reached` of the
//! journal (one per `kube-system` UID), in the order reached, so whoever signs off a
//! drill sees which cluster it changed and can hold it against the target's
//! `cluster_uid`.

use serde::Serialize;

use super::model::time_text;
use crate::journal::Journal;
use crate::journal::event::Event;
use crate::view::cluster_line::{cluster_line, how_reached};

/// One cluster the run reached.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClusterReport {
    /// The API server URL, without credentials.
    pub server: String,
    /// The `kube-system` namespace UID.
    pub uid: String,
    pub context: Option<String>,
    /// `preflight`, or the step that reached it first.
    pub via: String,
    pub time: String,
    /// The sentence the terminal and `runs show` print:
    /// "cluster: https://… (kube-system UID …), checked before the first step".
    pub text: String,
}

/// Every cluster the journal records reaching, in order.
pub(crate) fn clusters(journal: &Journal) -> Vec<ClusterReport> {
    journal
        .records
        .iter()
        .filter_map(|record| match &record.event {
            Event::ClusterReached {
                server,
                uid,
                context,
                via,
            } => Some(ClusterReport {
                server: server.clone(),
                uid: uid.clone(),
                context: context.clone(),
                via: via.clone(),
                time: time_text(&record.time),
                text: format!(
                    "{}, {}",
                    cluster_line(server, uid),
                    how_reached(context.as_deref(), via, record.session)
                ),
            }),
            _ => None,
        })
        .collect()
}
