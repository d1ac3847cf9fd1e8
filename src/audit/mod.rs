//! `drbook audit LOCATION...`: reads every run record of state directories and stores,
//! verifies each (chain, completeness, signatures), and shows the drill history an
//! auditor asks for, with the findings docs/audit.md explains. Exits with
//! `UNVERIFIED` when any record fails verification.

mod history;
mod output;
mod prometheus;
mod record;
mod runbooks;
mod signatures;
mod source;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Utc;

use crate::app_error::AppError;
use crate::cli::{AuditArgs, AuditFormat};
pub(crate) use history::{Finding, Scenario};
pub(crate) use record::{AuditedRun, RecordProblem};

/// Everything one audit found.
pub(crate) struct Audit {
    pub generated_at: chrono::DateTime<Utc>,
    pub locations: Vec<String>,
    /// Every run, verified or not, by run id.
    pub runs: Vec<AuditedRun>,
    /// Records that could not be read at all: run id and why.
    pub unreadable: Vec<(String, RecordProblem)>,
    pub scenarios: Vec<Scenario>,
    pub findings: Vec<Finding>,
    /// `--allowed-signers` was given.
    pub signatures_requested: bool,
}

impl Audit {
    /// Records that fail verification: broken or truncated, or not readable at all.
    pub(crate) fn failed_records(&self) -> usize {
        self.unreadable.len() + self.runs.iter().filter(|r| !r.verified()).count()
    }
}

/// The command.
pub fn command(args: AuditArgs) -> Result<(), AppError> {
    let max_age = humantime::parse_duration(&args.max_age)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .ok_or_else(|| {
            AppError::usage(format!(
                "--max-age `{}` is not a duration; write it like `365d` or `90d`",
                args.max_age
            ))
        })?;
    // A missing allowed_signers file is a mistake to hear about before reading
    // thousands of records, not after.
    let allowed_signers = match &args.allowed_signers {
        Some(path) => Some(crate::signing::AllowedSigners::load(path)?),
        None => None,
    };
    let endpoint = args.store_endpoint.clone().or_else(|| {
        std::env::var("DRBOOK_STORE_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty())
    });
    let audit = run(&Request {
        locations: &args.locations,
        endpoint: endpoint.as_deref(),
        runbooks: args.runbooks.as_deref(),
        allowed_signers: allowed_signers.as_ref(),
        max_age,
        silo_drills: args.silo_drills,
    })?;
    let text = match args.format {
        AuditFormat::Table => output::table(&audit),
        AuditFormat::Md => output::markdown(&audit),
        AuditFormat::Html => output::html(&audit),
        AuditFormat::Json => output::json(&audit),
        AuditFormat::Prometheus => prometheus::textfile(&audit),
    };
    match &args.out {
        Some(path) => write_atomically(path, text.as_bytes())?,
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| AppError::failed(format!("cannot write output: {e}")))?;
        }
    }
    match audit.failed_records() {
        0 => Ok(()),
        failed => Err(AppError::RecordsUnverified { failed }),
    }
}

/// What to audit.
pub struct Request<'a> {
    pub locations: &'a [String],
    pub endpoint: Option<&'a str>,
    pub runbooks: Option<&'a Path>,
    pub allowed_signers: Option<&'a crate::signing::AllowedSigners>,
    pub max_age: chrono::Duration,
    pub silo_drills: usize,
}

/// Reads and checks every record of the locations and builds the history.
pub(crate) fn run(request: &Request) -> Result<Audit, AppError> {
    let mut runs: BTreeMap<String, AuditedRun> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for location in request.locations {
        for raw in source::read(location, request.endpoint)? {
            match record::check(&raw, request.allowed_signers) {
                // A run found in several locations counts once: the longest record.
                Ok(run) => match runs.get(&run.run_id) {
                    Some(seen) if seen.lines >= run.lines => {}
                    _ => {
                        runs.insert(run.run_id.clone(), run);
                    }
                },
                Err(problem) => unreadable.push(problem),
            }
        }
    }
    let known = match request.runbooks {
        Some(dir) => runbooks::read(dir)?,
        None => Vec::new(),
    };
    let mut runs: Vec<AuditedRun> = runs.into_values().collect();
    runs.sort_by(|a, b| (a.started_at, &a.run_id).cmp(&(b.started_at, &b.run_id)));
    let verified: Vec<&AuditedRun> = runs.iter().filter(|r| r.verified()).collect();
    let policy = history::Policy {
        now: Utc::now(),
        max_age: request.max_age,
        silo_drills: request.silo_drills,
    };
    let (scenarios, findings) = history::build(&verified, &known, &policy);
    Ok(Audit {
        generated_at: policy.now,
        locations: request.locations.to_vec(),
        runs,
        unreadable,
        scenarios,
        findings,
        signatures_requested: request.allowed_signers.is_some(),
    })
}

/// Writes `path` through a temporary file beside it and a rename, so a reader (the
/// node exporter's textfile collector) never sees half a file. Mode 0644: the audit
/// holds no step output, and the exporter runs as another user.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let fail = |e: std::io::Error| {
        AppError::failed(format!(
            "cannot write `{}`: {}",
            path.display(),
            crate::source::source_file::describe_io(&e)
        ))
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The collector reads `*.prom` only: a leading dot and another suffix hide the
    // file until it is whole.
    let temp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&temp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}
