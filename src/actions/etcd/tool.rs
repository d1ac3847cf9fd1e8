//! The etcd command-line tools for offline snapshot work: `etcdutl` when it is on the
//! PATH (3.5 and later; 3.6's etcdctl has no `snapshot restore` or `status` at all),
//! else `etcdctl` with `ETCDCTL_API=3` (3.4 syntax, which 3.5 still accepts). The two
//! take the same `snapshot status` and `snapshot restore` arguments. A runbook can name
//! the binary with `etcdctl:`, which wins; it should be the same major.minor as the
//! cluster the snapshot came from.
//!
//! Each run is a child in its own process group (see `process`), so cancelling the step
//! stops it and drbook's death kills it (see `lifeline`); stderr lines become the step's
//! log, stdout is kept for parsing.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::EtcdError;
use crate::actions::execute::{ActionError, ActionEvent};
use crate::actions::process::{self, Ending, GroupChild, SpawnError};
pub(crate) use crate::actions::program::{Reporter, on_path};
use crate::actions::shell::shorten;
use crate::actions::staging_lock::StagingLock;
use crate::journal::event::Stream;

/// How many stderr lines a failure message quotes.
const STDERR_TAIL_LINES: usize = 5;

/// Which tool a binary is: their arguments agree, their environment does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolKind {
    Etcdutl,
    Etcdctl,
}

/// A located etcd tool.
#[derive(Debug, Clone)]
pub(crate) struct Tool {
    pub path: PathBuf,
    pub kind: ToolKind,
}

impl Tool {
    /// The binary named by `etcdctl:` (a path, or a name looked up on the PATH), else
    /// `etcdutl` from the PATH, else `etcdctl` from the PATH.
    pub(crate) fn resolve(param: Option<&str>, workdir: &Path) -> Result<Tool, EtcdError> {
        let path = match param {
            Some(given) if given.contains('/') => {
                let path = workdir.join(given);
                if !path.is_file() {
                    return Err(EtcdError::BadTool {
                        path,
                        problem: "does not exist".into(),
                    });
                }
                path
            }
            Some(name) => on_path(name).ok_or_else(|| EtcdError::BadTool {
                path: PathBuf::from(name),
                problem: "is not on the PATH".into(),
            })?,
            None => on_path("etcdutl")
                .or_else(|| on_path("etcdctl"))
                .ok_or(EtcdError::NoTool)?,
        };
        let kind = match path.file_name().and_then(|n| n.to_str()) {
            Some(name) if name.contains("etcdutl") => ToolKind::Etcdutl,
            _ => ToolKind::Etcdctl,
        };
        Ok(Tool { path, kind })
    }

    /// The tool's name for messages: `etcdctl`, `etcdutl`.
    pub(crate) fn name(&self) -> String {
        match self.kind {
            ToolKind::Etcdutl => "etcdutl".into(),
            ToolKind::Etcdctl => "etcdctl".into(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        match self.kind {
            ToolKind::Etcdctl => vec![("ETCDCTL_API".into(), "3".into())],
            ToolKind::Etcdutl => Vec::new(),
        }
    }
}

/// Runs `tool args…` in `cwd`; returns its stdout when it exits 0. `what` names the
/// subcommand in messages (`snapshot status`). stderr is logged line by line.
pub(crate) async fn run(
    tool: &Tool,
    what: &'static str,
    args: Vec<OsString>,
    cwd: &Path,
    reporter: &Reporter,
) -> Result<String, ActionError> {
    if reporter.cancel.is_cancelled() {
        return Err(ActionError::Cancelled);
    }
    let (child, pipes) = GroupChild::spawn_program(
        &tool.path,
        &args,
        cwd,
        &tool.env(),
        reporter.hold.as_deref().map(StagingLock::fd),
    )
    .map_err(|e| match e {
        SpawnError::NoWorkdir(path) => ActionError::NoWorkdir { path },
        SpawnError::Spawn(source) => EtcdError::ToolStart {
            tool: tool.path.display().to_string(),
            source,
        }
        .into(),
    })?;
    let mut stdout = String::new();
    let mut stderr_tail = VecDeque::with_capacity(STDERR_TAIL_LINES);
    let ending = process::supervise(child, pipes, &reporter.cancel, None, |event| {
        if let ActionEvent::Output { stream, line } = event {
            match stream {
                Stream::Stdout => {
                    stdout.push_str(&line);
                    stdout.push('\n');
                }
                Stream::Stderr => {
                    if stderr_tail.len() == STDERR_TAIL_LINES {
                        stderr_tail.pop_front();
                    }
                    stderr_tail.push_back(shorten(&line));
                }
            }
            reporter.emit(ActionEvent::Output {
                stream,
                line: format!("{}{line}", reporter.prefix),
            });
        }
    })
    .await?;
    match ending {
        Ending::Exited(status) if status.success() => Ok(stdout),
        Ending::Exited(status) => Err(EtcdError::ToolFailed {
            tool: tool.name(),
            what,
            status,
            stderr_tail: stderr_tail.into(),
        }
        .into()),
        Ending::DeadlinePassed | Ending::Cancelled => Err(ActionError::Cancelled),
    }
}

/// What `snapshot status -w json` says about a snapshot.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(crate) struct SnapshotStatus {
    /// A CRC-32 over the bucket contents; not an integrity proof of the file.
    pub hash: u64,
    pub revision: i64,
    /// Every key of every bolt bucket, including old revisions and etcd's own
    /// buckets: not the number of keys a client sees.
    #[serde(rename = "totalKey")]
    pub total_key: u64,
    #[serde(rename = "totalSize")]
    pub total_size: u64,
}

/// Runs `snapshot status <file> -w json`; with `background`, at the lowest CPU
/// priority (`nice -n 19`, when `nice` is on the PATH), so that it uses what the
/// restores running beside it leave idle rather than slowing them.
pub(crate) async fn snapshot_status(
    tool: &Tool,
    file: &Path,
    cwd: &Path,
    reporter: &Reporter,
    background: bool,
) -> Result<SnapshotStatus, ActionError> {
    let mut args: Vec<OsString> = vec![
        "snapshot".into(),
        "status".into(),
        file.as_os_str().to_owned(),
        "-w".into(),
        "json".into(),
    ];
    let niced;
    let mut runner = tool;
    if background && let Some(nice) = on_path("nice") {
        // nice execs the tool, so its exit status and output are the tool's own.
        let mut niced_args: Vec<OsString> =
            vec!["-n".into(), "19".into(), tool.path.clone().into()];
        niced_args.append(&mut args);
        args = niced_args;
        niced = Tool {
            path: nice,
            kind: tool.kind,
        };
        runner = &niced;
    }
    let stdout = run(runner, "snapshot status", args, cwd, reporter).await?;
    // 3.5's etcdctl prints a deprecation note first; the JSON is the line with `{`.
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_default();
    serde_json::from_str(line).map_err(|e| {
        EtcdError::ToolOutput {
            tool: tool.name(),
            what: "snapshot status",
            reason: e.to_string(),
            output: shorten(stdout.trim()),
        }
        .into()
    })
}

/// The tool's version (`3.4.23`), or `unknown version`.
pub(crate) async fn version(tool: &Tool, cwd: &Path, reporter: &Reporter) -> String {
    let quiet = Reporter {
        prefix: reporter.prefix.clone(),
        cancel: reporter.cancel.clone(),
        // Nobody listens: the version is for a message, not the log.
        events: tokio::sync::mpsc::unbounded_channel().0,
        hold: None,
    };
    let stdout = run(tool, "version", vec!["version".into()], cwd, &quiet)
        .await
        .unwrap_or_default();
    stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("etcdctl version:")
                .or_else(|| l.strip_prefix("etcdutl version:"))
        })
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "(unknown version)".into())
}

/// Whether `snapshot restore` of this tool knows `--bump-revision` and
/// `--mark-compacted`, asked from its help text (the flags arrived in patch releases, so
/// the version alone would need a table of them).
pub(crate) async fn restore_supports_bump(
    tool: &Tool,
    cwd: &Path,
    reporter: &Reporter,
) -> Result<bool, ActionError> {
    let quiet = Reporter {
        prefix: reporter.prefix.clone(),
        cancel: reporter.cancel.clone(),
        events: tokio::sync::mpsc::unbounded_channel().0,
        hold: None,
    };
    let help = run(
        tool,
        "snapshot restore --help",
        vec!["snapshot".into(), "restore".into(), "--help".into()],
        cwd,
        &quiet,
    )
    .await?;
    Ok(help.contains("--bump-revision") && help.contains("--mark-compacted"))
}
