//! `drbook verify RUN_ID|DIR --allowed-signers FILE`: checks a run record (the hash
//! chain, every journal signature, the review) through `signing::verify_record` and
//! prints what it found, for people or as JSON. The record is found as a directory
//! holding `journal.jsonl` (a copy from a store, an auditor's download), else as a run
//! id in the state directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::app_error::AppError;
use crate::cli::OutputFormat;
use crate::run_dir::StateDir;
use crate::signing::{AllowedSigners, Verification, verify_record};

/// What `verify` was asked to check.
pub(crate) struct VerifyRequest {
    pub record: String,
    pub allowed_signers: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub output: OutputFormat,
}

/// The text to print, and whether everything verified.
pub(crate) fn verify(request: VerifyRequest) -> Result<(String, Verification), AppError> {
    let allowed = AllowedSigners::load(&request.allowed_signers)?;
    let dir = locate(&request.record, request.state_dir.as_deref())?;
    let verification = verify_record(&dir, &allowed);
    let text = match request.output {
        OutputFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&verification).unwrap_or_default()
        ),
        OutputFormat::Text => text(&verification),
    };
    Ok((text, verification))
}

/// The run directory: `record` itself when it is a directory with a journal, else the
/// run of that id in the state directory.
fn locate(record: &str, state_flag: Option<&Path>) -> Result<PathBuf, AppError> {
    let path = Path::new(record);
    if path.join("journal.jsonl").is_file() {
        return Ok(path.to_path_buf());
    }
    if path.is_dir() {
        return Err(AppError::Unreadable {
            path: path.join("journal.jsonl"),
            why: "no such file: the directory is not a run record".into(),
        });
    }
    let state = StateDir::resolve(state_flag)?;
    let dir = state.run(record)?;
    if !dir.journal().is_file() {
        return Err(AppError::NoSuchRun {
            id: record.to_string(),
            state_dir: state.path,
        });
    }
    Ok(dir.path)
}

/// The verification for people: one line per finding, the verdict last.
fn text(v: &Verification) -> String {
    let mut out = String::new();
    let run = v.run_id.as_deref().unwrap_or("(unknown run)");
    let _ = writeln!(out, "record {} ({run})", v.dir.display());
    if let Some(why) = &v.unreadable {
        let _ = writeln!(out, "journal: UNREADABLE: {why}");
        let _ = writeln!(out, "result: NOT VERIFIED");
        return out;
    }
    match &v.chain.broken {
        None => {
            let _ = writeln!(out, "chain: intact, {} lines", v.chain.lines);
        }
        Some(broken) => {
            let _ = writeln!(out, "chain: BROKEN at {}", broken.describe());
        }
    }
    if v.chain.torn_last_line {
        let _ = writeln!(
            out,
            "journal: its last line is torn (a crash mid-write); it is not part of the record"
        );
    }
    if v.signatures.is_empty() {
        let _ = writeln!(out, "signatures: NONE: the journal is not signed");
    }
    for part in &v.signatures {
        let operator = match &part.operator {
            Some(op) => format!("; the session's operator is {op}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{}: lines {}-{}: {}{operator}",
            part.file,
            part.part.first,
            part.part.last,
            part.status.describe()
        );
    }
    if let Some(tail) = v.unsigned_tail {
        let _ = writeln!(
            out,
            "UNSIGNED TAIL: lines {}-{} are covered by no signature",
            tail.first, tail.last
        );
    }
    match &v.review {
        None => {
            let _ = writeln!(out, "review: none");
        }
        Some(review) => {
            let by = review
                .sign_off_by
                .as_deref()
                .map_or(String::new(), |b| format!(" (signed off by {b})"));
            let _ = writeln!(out, "review{by}: {}", review.status.describe());
        }
    }
    let _ = writeln!(
        out,
        "result: {}",
        if v.is_verified() {
            "verified"
        } else {
            "NOT VERIFIED"
        }
    );
    out
}
