//! `pki.restore`: installs the eight shared PKI files from a backup into a control
//! plane's PKI directory (kubeadm layout), byte for byte. Leaf certificates are never
//! copied: they are node-specific and regenerable from the CAs.
//!
//! Safe to re-run after a crash. Every check comes before the first change: the source
//! holds real files inside `from` (no symbolic links, nothing resolving outside it), it
//! passes the checks of `pki.verify`, and no destination is a link or a directory. Each
//! file is then installed atomically (see `install`); a file that already holds the
//! same bytes is left alone, so a second run changes nothing, and a crash leaves at most
//! a `.<name>.drbook-tmp-<pid>` file, which the next run removes. Previous files are
//! kept as `<name>.drbook-<UTC timestamp>`, never deleted. Files are written by the user
//! drbook runs as, with no chown.

use std::collections::HashSet;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde_json::{Map, Value};

use super::error::PkiError;
use super::finding::Finding;
use super::inspect::{Options, check_dir, inspect};
use super::install::{self, Outcome};
use super::layout::{Layout, SHARED};
use super::verify::{WARN_WITHIN, fingerprints};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, optional_str,
    required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "pki.restore",
    by_hand: super::manual::restore,
    outputs: Some(&[
        "installed",
        "unchanged",
        "kept",
        "fingerprints",
        "leafs_to_renew",
        "warnings",
    ]),
    summary: "Install the 8 shared PKI files (CAs, service-account keys) from a backup, verified first, each atomically; previous files are kept as `<name>.drbook-<timestamp>`.",
    params: &[
        ParamSpec {
            name: "from",
            kind: ParamKind::String,
            required: true,
            doc: "The backup's PKI directory, e.g. `backup/pki` after `restic restore`.",
        },
        ParamSpec {
            name: "to",
            kind: ParamKind::String,
            required: true,
            doc: "The PKI directory to install into, e.g. `/etc/kubernetes/pki` (created 0755 if missing).",
        },
        ParamSpec {
            name: "from_layout",
            kind: ParamKind::String,
            required: false,
            doc: "`kubeadm` (default) or `kubeone-backup` (`kubernetes/ca.crt`, `etcd/ca.crt`, … as KubeOne's restic backup holds them).",
        },
    ],
    rerun: Rerun::Safe(
        "each file is replaced atomically and one that already holds the backup's bytes is left alone; a crash leaves at most a temporary file, which the next run removes",
    ),
    executor: &RestoreAction,
};

/// The executor of `pki.restore`.
pub struct RestoreAction;

impl Action for RestoreAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(async move { run(&request) })
    }
}

/// One destination file, checked.
struct Target {
    name: &'static str,
    path: PathBuf,
    mode: u32,
    /// What it holds now; None when it does not exist.
    existing: Option<Vec<u8>>,
}

fn run(request: &ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let from = request.workdir.join(required_str(params, "from")?);
    let to = request.workdir.join(required_str(params, "to")?);
    let layout = Layout::parse("from_layout", optional_str(params, "from_layout")?)?;

    // 1. The source is real files inside `from`.
    check_source(&from, layout)?;
    // 2. The source passes verification. Leaf certificates are not installed, and the
    //    installed files get their modes from drbook, so neither is checked here.
    let opts = Options {
        warn_within: WARN_WITHIN,
        now: Utc::now(),
        leafs: false,
        modes: false,
    };
    let source = inspect(&from, layout, "from", "from_layout", &opts)?;
    let mut warnings = source.warnings.clone();
    for warning in &warnings {
        request.emit(ActionEvent::Progress(warning.clone()));
    }
    if !source.findings.is_empty() {
        return Err(PkiError::SourceFailed {
            from,
            to,
            findings: source.findings,
        }
        .into());
    }
    // 3. Every destination, before anything is written.
    let targets = check_destination(&to)?;
    if request.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }

    // 4. The changes.
    create_dir(&to)?;
    create_dir(&to.join("etcd"))?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let (mut installed, mut unchanged, mut kept) = (Vec::new(), Vec::new(), Map::new());
    for target in &targets {
        if request.cancel.is_cancelled() {
            return Err(ActionError::Cancelled);
        }
        let bytes = &source.bytes[target.name];
        let outcome = install::remove_stale(&target.path)
            .and_then(|removed| {
                for path in removed {
                    request.emit(ActionEvent::Progress(format!(
                        "removed {}, left by an earlier restore that did not finish",
                        path.display()
                    )));
                }
                install::install(
                    &target.path,
                    bytes,
                    target.mode,
                    target.existing.as_deref(),
                    &stamp,
                )
            })
            .map_err(|source| PkiError::Install {
                file: target.name.to_string(),
                installed: installed.clone(),
                source: Box::new(source),
            })?;
        match outcome {
            Outcome::Unchanged { mode_was } => {
                if let Some(was) = mode_was {
                    request.emit(ActionEvent::Progress(format!(
                        "{} already holds the backup's bytes; set its mode from {was:04o} to {:04o}",
                        target.path.display(),
                        target.mode
                    )));
                }
                unchanged.push(target.name.to_string());
            }
            Outcome::Installed { kept: old } => {
                if let Some(old) = old {
                    let name = old.strip_prefix(&to).unwrap_or(&old).display().to_string();
                    request.emit(ActionEvent::Progress(format!(
                        "installed {}; the previous file is kept as {name}",
                        target.name
                    )));
                    kept.insert(target.name.to_string(), Value::String(name));
                } else {
                    request.emit(ActionEvent::Progress(format!("installed {}", target.name)));
                }
                installed.push(target.name.to_string());
            }
        }
    }
    if let Some(parent) = to.parent() {
        install::sync_dir(parent)?;
    }

    // 5. What the installed CAs mean for the leaf certificates already in `to`.
    let after = inspect(
        &to,
        Layout::Kubeadm,
        "to",
        "from_layout",
        &Options {
            leafs: true,
            ..opts
        },
    )?;
    let (shared_findings, leaf_warnings) = after.leafs_from;
    if shared_findings > 0 {
        return Err(PkiError::Failed {
            dir: to,
            findings: after.findings[..shared_findings].to_vec(),
        }
        .into());
    }
    let mut renew = Vec::new();
    for finding in &after.findings[shared_findings..] {
        let text = format!("{finding}; until then, do not start the control plane with it");
        request.emit(ActionEvent::Progress(text.clone()));
        warnings.push(text);
        if !renew.contains(&finding.file) {
            renew.push(finding.file.clone());
        }
    }
    for warning in &after.warnings[leaf_warnings..] {
        request.emit(ActionEvent::Progress(warning.clone()));
        warnings.push(warning.clone());
    }

    let mut outputs = Outputs::new();
    outputs.insert("installed".into(), strings(installed));
    outputs.insert("unchanged".into(), strings(unchanged));
    outputs.insert("kept".into(), Value::Object(kept));
    outputs.insert("fingerprints".into(), fingerprints(&source));
    outputs.insert("leafs_to_renew".into(), strings(renew));
    outputs.insert("warnings".into(), strings(warnings));
    Ok(outputs)
}

fn strings(items: Vec<String>) -> Value {
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// Refuses a source that is not real files inside `from`: `from` itself, a file or a
/// directory on the way (`etcd/`, `kubernetes/`) being a symbolic link, or a path that
/// resolves outside `from`. A missing file is left to the verification, which names it.
fn check_source(from: &Path, layout: Layout) -> Result<(), PkiError> {
    let mut findings = Vec::new();
    if let Ok(meta) = std::fs::symlink_metadata(from)
        && meta.file_type().is_symlink()
    {
        findings.push(Finding::new(
            from.display().to_string(),
            format!("is a symbolic link to `{}`", target_of(from)),
            "name the backup directory itself in `from`",
        ));
        return Err(PkiError::UnsafeSource {
            from: from.to_path_buf(),
            findings,
        });
    }
    check_dir(from, "from")?;
    let root = std::fs::canonicalize(from).map_err(|source| PkiError::Io {
        what: "resolve",
        path: from.to_path_buf(),
        source,
    })?;
    let mut seen = HashSet::new();
    for file in &SHARED {
        let rel = layout.path_of(file);
        // The directory on the way (shown as `etcd/`), then the file.
        let mut steps: Vec<(&str, String)> = Vec::new();
        if let Some((parent, _)) = rel.split_once('/') {
            steps.push((parent, format!("{parent}/")));
        }
        steps.push((rel, rel.to_string()));
        for (step, shown) in steps {
            if !seen.insert(step) {
                continue;
            }
            let path = from.join(step);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                findings.push(Finding::new(
                    shown.clone(),
                    format!("is a symbolic link to `{}`", target_of(&path)),
                    format!(
                        "a backup must hold the files themselves: check that the target is the backup's, then replace the link with a copy (`cp -a --remove-destination \"$(readlink -f {p})\" {p}`)",
                        p = path.display()
                    ),
                ));
            }
            if let Ok(real) = std::fs::canonicalize(&path)
                && !real.starts_with(&root)
            {
                findings.push(Finding::new(
                    shown,
                    format!(
                        "resolves to `{}`, outside `{}`",
                        real.display(),
                        root.display()
                    ),
                    "`from` must contain the backup's files; restore them into it again",
                ));
            }
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(PkiError::UnsafeSource {
            from: from.to_path_buf(),
            findings,
        })
    }
}

/// Checks every destination before anything is written: `to` and `to/etcd` are
/// directories (or missing), and no file to be replaced is a link, a directory or
/// otherwise not a regular file. Reads what each file holds now.
fn check_destination(to: &Path) -> Result<Vec<Target>, PkiError> {
    let mut findings = Vec::new();
    for (dir, shown) in [
        (to.to_path_buf(), to.display().to_string()),
        (to.join("etcd"), "etcd/".to_string()),
    ] {
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() && dir != to => findings.push(Finding::new(
                shown,
                format!("is a symbolic link to `{}`; drbook does not write through links", target_of(&dir)),
                format!("replace it with a real directory (`rm {p} && mkdir -m 755 {p}`) or name the real directory in `to`", p = dir.display()),
            )),
            Ok(_) if !dir.is_dir() => findings.push(Finding::new(
                shown,
                "is not a directory",
                format!("move it away (`mv {p} {p}.old`)", p = dir.display()),
            )),
            _ => {}
        }
    }
    let mut targets = Vec::new();
    for file in &SHARED {
        let path = to.join(file.name);
        let existing = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                findings.push(Finding::new(
                    file.name,
                    format!("cannot be read ({e})"),
                    "run drbook as the user that owns the PKI (root)",
                ));
                None
            }
            Ok(meta) if meta.file_type().is_symlink() => {
                findings.push(Finding::new(
                    file.name,
                    format!(
                        "is a symbolic link to `{}`; drbook does not write through links",
                        target_of(&path)
                    ),
                    format!(
                        "remove the link (`rm {}`), then run the step again",
                        path.display()
                    ),
                ));
                None
            }
            Ok(meta) if !meta.is_file() => {
                findings.push(Finding::new(
                    file.name,
                    if meta.is_dir() {
                        "is a directory where a file belongs"
                    } else {
                        "is not a regular file"
                    },
                    format!(
                        "move it away (`mv {p} {p}.old`), then run the step again",
                        p = path.display()
                    ),
                ));
                None
            }
            Ok(_) => match std::fs::read(&path) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    findings.push(Finding::new(
                        file.name,
                        format!("cannot be read ({e})"),
                        "run drbook as the user that owns the PKI (root)",
                    ));
                    None
                }
            },
        };
        targets.push(Target {
            name: file.name,
            path,
            mode: file.mode,
            existing,
        });
    }
    if findings.is_empty() {
        Ok(targets)
    } else {
        Err(PkiError::UnsafeDestination {
            to: to.to_path_buf(),
            findings,
        })
    }
}

/// Creates `dir` with mode 0755 when it is missing (and its parents).
fn create_dir(dir: &Path) -> Result<(), PkiError> {
    if dir.is_dir() {
        return Ok(());
    }
    let io = |source| PkiError::Io {
        what: "create the directory",
        path: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(io)?;
    // The umask may have taken bits away.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).map_err(io)
}

fn target_of(path: &Path) -> String {
    std::fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".to_string())
}
