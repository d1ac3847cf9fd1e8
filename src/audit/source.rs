//! Reads the raw records of one location: a state directory (`runs/<id>/journal.jsonl`
//! and `signatures/`), a store directory or an S3 store (`runs/<id>/registration.json`,
//! `journal.<N>.jsonl`, `signatures/<N>.sig`, `review.*`). Nothing is judged here.

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
    /// The run directory is locked by a running drbook (state directories only).
    pub running: bool,
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
            }
        }
        if let Ok(signatures) = std::fs::read_dir(dir.join("signatures")) {
            for file in signatures.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                record
                    .signatures
                    .extend(crate::store::layout_signature_lines(&name));
            }
        }
        if let Some((n, name)) = journals.into_iter().max() {
            if n == usize::MAX {
                let run = crate::run_dir::RunDir {
                    id: record.run_id.clone(),
                    path: dir.clone(),
                };
                record.running = run.is_locked();
            }
            record.journal = Some((name.clone(), read(&dir.join(&name))?));
        }
        records.push(record);
    }
    Ok(records)
}

/// An S3 store: one listing, then the registration and the longest journal of each run.
fn read_store(store: &Store) -> Result<Vec<RawRecord>, AppError> {
    let mut runs: BTreeMap<String, (RawRecord, Option<usize>)> = BTreeMap::new();
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
                None,
            )
        });
        if name == REGISTRATION {
            record.registration = Some(Vec::new());
        } else if let Some(n) = crate::store::layout_journal_lines(name) {
            *longest = (*longest).max(Some(n));
        } else if let Some(n) = crate::store::layout_signature_lines(name) {
            record.signatures.push(n);
        } else if crate::store::layout_is_review(name) {
            record.reviewed = true;
        }
    }
    let mut records = Vec::new();
    for (run_id, (mut record, longest)) in runs {
        let get = |name: &str| -> Result<Vec<u8>, AppError> {
            let key = format!("runs/{run_id}/{name}");
            Ok(store.get(&key)?.unwrap_or_default())
        };
        if record.registration.is_some() {
            record.registration = Some(get(REGISTRATION)?);
        }
        if let Some(n) = longest {
            let name = format!("journal.{n}.jsonl");
            record.journal = Some((name.clone(), get(&name)?));
        }
        records.push(record);
    }
    Ok(records)
}
