//! `wait`: polls a probe command until it succeeds or the deadline passes.
//!
//! Safe to re-run after a crash: it only observes; polling again changes nothing.

use super::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "wait",
    summary: "Poll a probe command until it exits 0, or fail when the timeout passes.",
    params: &[
        ParamSpec {
            name: "probe",
            kind: ParamKind::String,
            required: true,
            doc: "The command to poll, run with `/bin/sh -c`; exit status 0 means ready.",
        },
        ParamSpec {
            name: "timeout",
            kind: ParamKind::Duration,
            required: true,
            doc: "How long to keep polling before the step fails; required, so a wait can never hang a run.",
        },
        ParamSpec {
            name: "interval",
            kind: ParamKind::Duration,
            required: false,
            doc: "Pause between two probes (default 2s).",
        },
    ],
    rerun: Rerun::Safe("it only observes: polling again changes nothing"),
};
