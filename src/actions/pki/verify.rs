//! `pki.verify`: is this PKI whole, consistent, in date and, with `reference`, the
//! backup's? Every check runs and every failing one is reported in one error, each with
//! the file, the problem and the fix.
//!
//! Safe to re-run after a crash: it only reads.

use std::time::Duration;

use chrono::Utc;
use serde_json::{Map, Value};

use super::error::PkiError;
use super::finding::Finding;
use super::inspect::{Inspection, Options, inspect, rfc3339};
use super::layout::{Layout, SHARED};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_duration,
    optional_str, required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "pki.verify",
    by_hand: super::manual::verify,
    outputs: Some(&[
        "ok",
        "warnings",
        "fingerprints",
        "ca_fingerprint",
        "not_after",
    ]),
    summary: "Check a Kubernetes PKI: the 8 shared files present and parsable, keys matching, CA flags, expiry, leaf chains, key file modes, and (with `reference`) equal to the backup.",
    params: &[
        ParamSpec {
            name: "dir",
            kind: ParamKind::String,
            required: true,
            doc: "The PKI directory, e.g. `/etc/kubernetes/pki` or a restored `backup/pki`.",
        },
        ParamSpec {
            name: "layout",
            kind: ParamKind::String,
            required: false,
            doc: "`kubeadm` (default: files as in /etc/kubernetes/pki) or `kubeone-backup` (`kubernetes/ca.crt`, `etcd/ca.crt`, … as KubeOne's restic backup holds them).",
        },
        ParamSpec {
            name: "reference",
            kind: ParamKind::String,
            required: false,
            doc: "A PKI this one must equal, file by file (SHA-256 of the DER), e.g. the restored backup.",
        },
        ParamSpec {
            name: "reference_layout",
            kind: ParamKind::String,
            required: false,
            doc: "The layout of `reference` (default `kubeadm`).",
        },
        ParamSpec {
            name: "warn_within",
            kind: ParamKind::Duration,
            required: false,
            doc: "A certificate expiring sooner than this is a warning (default `30d`).",
        },
    ],
    rerun: Rerun::Safe("it only reads"),
    executor: &VerifyAction,
};

/// The default of `warn_within`: kubeadm's own `certs check-expiration` habit of a month.
pub(crate) const WARN_WITHIN: Duration = Duration::from_secs(30 * 24 * 3600);

/// The executor of `pki.verify`.
pub struct VerifyAction;

impl Action for VerifyAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(async move { run(&request) })
    }
}

fn run(request: &ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let dir = request.workdir.join(required_str(params, "dir")?);
    let layout = Layout::parse("layout", optional_str(params, "layout")?)?;
    let reference = optional_str(params, "reference")?.map(|r| request.workdir.join(r));
    let reference_layout = optional_str(params, "reference_layout")?;
    if reference.is_none() && reference_layout.is_some() {
        return Err(PkiError::BadParam {
            name: "reference_layout",
            problem: "is set but `reference` is not; give `reference` (the PKI to compare with) or drop `reference_layout`".into(),
        }
        .into());
    }
    let reference_layout = Layout::parse("reference_layout", reference_layout)?;
    let opts = Options {
        warn_within: optional_duration(params, "warn_within")?.unwrap_or(WARN_WITHIN),
        now: Utc::now(),
        leafs: true,
        modes: true,
    };
    let mut ours = inspect(&dir, layout, "dir", "layout", &opts)?;
    if let Some(reference) = &reference {
        let theirs_opts = Options {
            leafs: false,
            modes: false,
            ..opts.clone()
        };
        let theirs = inspect(
            reference,
            reference_layout,
            "reference",
            "reference_layout",
            &theirs_opts,
        )?;
        let found = compare(&ours, layout, &theirs, reference, reference_layout);
        ours.findings.extend(found);
    }
    for warning in &ours.warnings {
        request.emit(ActionEvent::Progress(warning.clone()));
    }
    if !ours.findings.is_empty() {
        return Err(PkiError::Failed {
            dir,
            findings: ours.findings,
        }
        .into());
    }
    Ok(outputs(&ours))
}

/// The findings of comparing every shared file with the reference's.
fn compare(
    ours: &Inspection,
    layout: Layout,
    theirs: &Inspection,
    reference: &std::path::Path,
    reference_layout: Layout,
) -> Vec<Finding> {
    let mut found = Vec::new();
    for file in &SHARED {
        let Some(mine) = ours.fingerprints.get(file.name) else {
            continue; // already a finding of its own
        };
        let rel = layout.path_of(file);
        let their_path = reference.join(reference_layout.path_of(file));
        match theirs.fingerprints.get(file.name) {
            Some(their) if their == mine => {}
            Some(their) => found.push(Finding::new(
                rel,
                format!(
                    "differs from the reference: {} here, {} in `{}`; this PKI is not the backup's",
                    short(mine),
                    short(their),
                    their_path.display()
                ),
                "install the backup's files with `pki.restore` (the current ones are kept as `<name>.drbook-<timestamp>`), or point `reference` at the backup this PKI came from",
            )),
            None => found.push(Finding::new(
                rel,
                format!(
                    "cannot be compared with the reference: `{}` {}",
                    their_path.display(),
                    theirs
                        .unreadable
                        .get(file.name)
                        .map_or("cannot be read", String::as_str)
                ),
                "point `reference` at a complete backup",
            )),
        }
    }
    found
}

/// `sha256:` and the first 16 hex digits, enough to tell two files apart in a message.
fn short(fingerprint: &str) -> &str {
    &fingerprint[..fingerprint.len().min("sha256:".len() + 16)]
}

fn outputs(ours: &Inspection) -> Outputs {
    let mut outputs = Outputs::new();
    outputs.insert("ok".into(), Value::Bool(true));
    outputs.insert(
        "warnings".into(),
        Value::Array(ours.warnings.iter().cloned().map(Value::String).collect()),
    );
    outputs.insert("fingerprints".into(), fingerprints(ours));
    outputs.insert(
        "ca_fingerprint".into(),
        ours.fingerprints
            .get("ca.crt")
            .map_or(Value::Null, |f| Value::String(f.clone())),
    );
    outputs.insert(
        "not_after".into(),
        ours.not_after
            .map_or(Value::Null, |t| Value::String(rfc3339(t))),
    );
    outputs
}

/// The fingerprints as an output: kubeadm name → `sha256:<hex>`.
pub(crate) fn fingerprints(ours: &Inspection) -> Value {
    Value::Object(
        ours.fingerprints
            .iter()
            .map(|(name, f)| (name.to_string(), Value::String(f.clone())))
            .collect::<Map<_, _>>(),
    )
}
