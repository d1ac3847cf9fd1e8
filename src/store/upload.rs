//! Registering a run and uploading its record: at the start of a run, at every end of a
//! session (pause, stop, finish, failure) and on demand (`drbook store push RUN_ID`).
//!
//! Each upload creates only objects that do not exist yet, so running it again after a
//! failure is safe: what is already there with the same bytes is left as it is. A
//! failed upload never loses the run: the local record is the original, and the error
//! says how to upload it again.

use std::path::Path;

use chrono::Utc;

use super::backend::Store;
use super::error::StoreError;
use super::layout::{self, REGISTRATION, Registration};
use crate::app_error::AppError;
use crate::journal::{Event, reader};
use crate::run_dir::RunDir;

/// Writes the registration of a run that starts now.
pub fn register(store: &Store, started: &Event) -> Result<(), StoreError> {
    let Some(registration) = Registration::of(started, Utc::now()) else {
        return Ok(());
    };
    let bytes = registration_bytes(&registration);
    store.create(&layout::key(&registration.run_id, REGISTRATION), &bytes)?;
    Ok(())
}

fn registration_bytes(registration: &Registration) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(registration).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Uploads what the run directory holds now: the journal's intact lines as
/// `journal.<N>.jsonl`, every signature, the review. The registration too when the store
/// has none (its registration at the start failed). Returns the number of lines.
pub fn push(store: &Store, dir: &RunDir) -> Result<usize, AppError> {
    let path = dir.journal();
    let bytes = std::fs::read(&path).map_err(|e| AppError::unreadable(&path, &e))?;
    let journal = reader::parse(&path, &bytes)?;
    let intact = journal.torn_tail_at.map_or(bytes.len(), |at| at as usize);
    let lines = journal.records.len();
    let upload = |name: &str, bytes: &[u8]| -> Result<(), AppError> {
        store
            .create(&layout::key(&dir.id, name), bytes)
            .map(|_| ())
            .map_err(|e| AppError::failed(e.to_string()))
    };
    let registration_key = layout::key(&dir.id, REGISTRATION);
    let registered = store
        .get(&registration_key)
        .map_err(|e| AppError::failed(e.to_string()))?;
    if registered.is_none()
        && let Some(first) = journal.records.first()
        && let Some(registration) = Registration::of(&first.event, first.time)
    {
        upload(REGISTRATION, &registration_bytes(&registration))?;
    }
    upload(&layout::journal_name(lines), &bytes[..intact])?;
    for (name, bytes) in record_files(&dir.path)? {
        upload(&name, &bytes)?;
    }
    Ok(lines)
}

/// The signatures (`signatures/<name>`) and reviews (`review.*`) of a run directory,
/// by their names in the store.
fn record_files(run: &Path) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    let mut files = Vec::new();
    let read = |path: &Path| std::fs::read(path).map_err(|e| AppError::unreadable(path, &e));
    let signatures = run.join("signatures");
    if let Ok(entries) = std::fs::read_dir(&signatures) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_file() {
                files.push((format!("signatures/{name}"), read(&entry.path())?));
            }
        }
    }
    let entries = std::fs::read_dir(run).map_err(|e| AppError::unreadable(run, &e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if layout::is_review(&name) && entry.path().is_file() {
            files.push((name, read(&entry.path())?));
        }
    }
    files.sort();
    Ok(files)
}

/// The session's end: uploads the record when a store was named, and combines a failed
/// upload with how the run ended. A run that ended otherwise well ends failed when its
/// record did not reach the store (a scheduled drill must notice); one that ended with
/// its own error keeps it, and the upload error is printed as a warning beside it.
pub fn at_session_end(
    store: Option<&Store>,
    dir: &RunDir,
    ended: Result<(), AppError>,
) -> Result<(), AppError> {
    let Some(store) = store else { return ended };
    let Err(error) = push(store, dir) else {
        return ended;
    };
    let state_dir = dir.path.parent().and_then(Path::parent);
    let failed = AppError::failed(format!(
        "the record of run {} was not uploaded to the store `{}`: {error}; the local record is kept in {}; upload it again with `drbook store push {} --store {}{}`",
        dir.id,
        store.location,
        dir.path.display(),
        dir.id,
        store.location,
        state_dir.map_or_else(String::new, |s| format!(" --state-dir {}", s.display())),
    ));
    match ended {
        Ok(()) => Err(failed),
        Err(run_error) => {
            // Two things to say: the run's own end stays the exit status.
            eprintln!("warning: {failed}");
            Err(run_error)
        }
    }
}
