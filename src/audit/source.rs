//! Reads the raw records of one location: a state directory (`runs/<id>/journal.jsonl`
//! and `signatures/`), a store directory or an S3 store (`runs/<id>/registration.json`,
//! `journal.<N>.jsonl`, `signatures/<N>.sig`, `review.*`). Nothing is judged here but
//! whether each earlier upload of a journal is the beginning of the latest.

use std::collections::BTreeMap;
use std::path::Path;

use crate::app_error::AppError;
use crate::store::{REGISTRATION, Store, StoreSpec};

/// What one location holds of one run.
#[derive(Debug, Default)]
pub(crate) struct RawRecord {
    pub run_id: String,
    /// The location as given, for messages.
    pub location: String,
    /// `registration.json`'s bytes, when there is one.
    pub registration: Option<Vec<u8>>,
    /// The journal read (`journal.jsonl`, or the longest `journal.<N>.jsonl`) and its
    /// name.
    pub journal: Option<(String, Vec<u8>)>,
    /// N of every `signatures/<N>.sig`.
    pub signatures: Vec<usize>,
    /// A `review.*` is there.
    pub reviewed: bool,
    /// The signature and review files (`signatures/<N>.sig`, `review.*`), by their name
    /// in a run directory, for the signature check.
    pub evidence: Vec<(String, Vec<u8>)>,
    /// The run directory is locked by a running drbook (state directories only).
    pub running: bool,
    /// An earlier upload (`journal.<M>.jsonl`) that is not the beginning of the
    /// journal read: the record was rewritten after it was uploaded.
    pub rewritten: Option<String>,
}

/// The first earlier journal (name, bytes) that is not a prefix of the longest.
fn first_rewritten(earlier: &[(String, Vec<u8>)], longest: &(String, Vec<u8>)) -> Option<String> {
    earlier
        .iter()
        .find(|(_, bytes)| !longest.1.starts_with(bytes))
        .map(|(name, _)| {
            format!(
                "`{name}` is not the beginning of `{}`: the record was rewritten after it was uploaded",
                longest.0
            )
        })
}

/// Every run at `location`.
pub(crate) fn read(location: &str, endpoint: Option<&str>) -> Result<Vec<RawRecord>, AppError> {
    if location.starts_with("s3://") {
        let store = Store::open(&StoreSpec {
            location: location.to_string(),
            endpoint: endpoint.map(str::to_string),
        })?;
        return read_store(&store);
    }
    let root = Path::new(location);
    if !root.is_dir() {
        return Err(AppError::Unreadable {
            path: root.to_path_buf(),
            why:
                "not a directory (give a state directory, a store directory or s3://bucket/prefix)"
                    .into(),
        });
    }
    read_dir(root, location)
}

/// A local directory: each `runs/<id>/` is read as a state directory's run or a
/// store's, by what it holds. Work directories are never walked.
fn read_dir(root: &Path, location: &str) -> Result<Vec<RawRecord>, AppError> {
    let runs = root.join("runs");
    let entries = match std::fs::read_dir(&runs) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AppError::unreadable(&runs, &e)),
    };
    let mut records = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| AppError::unreadable(&runs, &e))?;
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        let mut record = RawRecord {
            run_id: entry.file_name().to_string_lossy().into_owned(),
            location: location.to_string(),
            ..RawRecord::default()
        };
        let read = |path: &Path| std::fs::read(path).map_err(|e| AppError::unreadable(path, &e));
        let mut journals = Vec::new();
        for file in std::fs::read_dir(&dir).map_err(|e| AppError::unreadable(&dir, &e))? {
            let file = file.map_err(|e| AppError::unreadable(&dir, &e))?;
            let name = file.file_name().to_string_lossy().into_owned();
            if name == "journal.jsonl" {
                journals.push((usize::MAX, name));
            } else if let Some(n) = crate::store::layout_journal_lines(&name) {
                journals.push((n, name));
            } else if name == REGISTRATION {
                record.registration = Some(read(&file.path())?);
            } else if crate::store::layout_is_review(&name) {
                record.reviewed = true;
                record.evidence.push((name, read(&file.path())?));
            }
        }
        if let Ok(signatures) = std::fs::read_dir(dir.join("signatures")) {
            for file in signatures.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if let Some(n) = crate::store::layout_signature_lines(&name) {
                    record.signatures.push(n);
                    record
                        .evidence
                        .push((format!("signatures/{name}"), read(&file.path())?));
                }
            }
        }
        journals.sort();
        if let Some((n, name)) = journals.pop() {
            if n == usize::MAX {
                let run = crate::run_dir::RunDir {
                    id: record.run_id.clone(),
                    path: dir.clone(),
                };
                record.running = run.is_locked();
            }
            let longest = (name.clone(), read(&dir.join(&name))?);
            let mut earlier = Vec::new();
            for (_, name) in journals {
                let bytes = read(&dir.join(&name))?;
                earlier.push((name, bytes));
            }
            record.rewritten = first_rewritten(&earlier, &longest);
            record.journal = Some(longest);
        }
        records.push(record);
    }
    Ok(records)
}

/// An S3 store: one listing, then the registration and the longest journal of each run.
fn read_store(store: &Store) -> Result<Vec<RawRecord>, AppError> {
    let mut runs: BTreeMap<String, (RawRecord, Vec<usize>)> = BTreeMap::new();
    let mut evidence: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in store.list("runs/")? {
        let Some((run_id, name)) = key
            .strip_prefix("runs/")
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        let (record, longest) = runs.entry(run_id.to_string()).or_insert_with(|| {
            (
                RawRecord {
                    run_id: run_id.to_string(),
                    location: store.location.clone(),
                    ..RawRecord::default()
                },
                Vec::new(),
            )
        });
        if name == REGISTRATION {
            record.registration = Some(Vec::new());
        } else if let Some(n) = crate::store::layout_journal_lines(name) {
            longest.push(n);
        } else if let Some(n) = crate::store::layout_signature_lines(name) {
            record.signatures.push(n);
            evidence
                .entry(run_id.to_string())
                .or_default()
                .push(name.to_string());
        } else if crate::store::layout_is_review(name) {
            record.reviewed = true;
            evidence
                .entry(run_id.to_string())
                .or_default()
                .push(name.to_string());
        }
    }
    let mut records = Vec::new();
    for (run_id, (mut record, mut journals)) in runs {
        let get = |name: &str| -> Result<Vec<u8>, AppError> {
            let key = format!("runs/{run_id}/{name}");
            Ok(store.get(&key)?.unwrap_or_default())
        };
        if record.registration.is_some() {
            record.registration = Some(get(REGISTRATION)?);
        }
        for name in evidence.remove(&run_id).unwrap_or_default() {
            let bytes = get(&name)?;
            record.evidence.push((name, bytes));
        }
        journals.sort();
        if let Some(n) = journals.pop() {
            let name = format!("journal.{n}.jsonl");
            let longest = (name.clone(), get(&name)?);
            let mut earlier = Vec::new();
            for n in journals {
                let name = format!("journal.{n}.jsonl");
                let bytes = get(&name)?;
                earlier.push((name, bytes));
            }
            record.rewritten = first_rewritten(&earlier, &longest);
            record.journal = Some(longest);
        }
        records.push(record);
    }
    Ok(records)
}
