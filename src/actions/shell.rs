//! `shell`: runs a command with `/bin/sh -c`.
//!
//! Re-running is not known to be safe: a command can do anything, so drbook asks the
//! operator after a crash unless the step promises `idempotent: true`.

use super::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "shell",
    summary: "Run a shell command; its exit status decides success, and `KEY=value` or JSON lines on stdout become outputs.",
    params: &[
        ParamSpec {
            name: "run",
            kind: ParamKind::String,
            required: true,
            doc: "The command line, run with `/bin/sh -c`.",
        },
        ParamSpec {
            name: "env",
            kind: ParamKind::StringMap,
            required: false,
            doc: "Extra environment variables for the command.",
        },
        ParamSpec {
            name: "workdir",
            kind: ParamKind::String,
            required: false,
            doc: "Directory the command runs in (default: the run's work directory).",
        },
    ],
    rerun: Rerun::AskFirst(
        "a shell command can change anything; only the runbook author knows whether running it twice is safe (say so with `idempotent: true`)",
    ),
};
