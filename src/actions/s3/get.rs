//! `s3.get`: downloads one object to a file, checked, resumable, never replacing a file.
//!
//! Safe to re-run after a crash: it writes only `<file>.partial` and its
//! `<file>.partial.etag`, and puts the checked file in place atomically (a hard link,
//! which fails rather than replace a file). A partial left by an earlier attempt of the
//! same version of the object (same ETag) is resumed with a ranged GET from its length;
//! one of another version, or without a recorded ETag, is discarded and the download
//! starts over. The GET carries `If-Match` with the ETag, so bytes of two versions are
//! never mixed in one file. When `file` already exists, the step succeeds without
//! downloading if it holds the object (same size and, for a single-part ETag, same MD5)
//! and refuses otherwise, changing nothing.
//!
//! The download is checked before it is put in place: its size must be the object's,
//! and for a single-part upload (a 32-hex-digit ETag, the MD5 of the content) its MD5
//! must be the ETag. A corrupt partial is deleted, so the next attempt starts over. A
//! multipart upload's ETag is no MD5 of the content, so such a download is checked by
//! size only, and the step says so. A cancelled download leaves only the partial (and
//! its ETag), which the next attempt resumes. drbook downloads in its own process, so
//! nothing of a killed drbook can still be writing the partial when the next attempt
//! reads it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use object_store::{GetOptions, GetRange};
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::{Place, S3Error};
use super::local::{self, Digests};
use super::object::{Object, md5_etag, rfc3339};
use super::store::{READ_TIMEOUT, STORE_PARAMS, Store};
use crate::actions::durable;
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs, required_str,
};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};

pub const SPEC: ActionSpec = ActionSpec {
    name: "s3.get",
    by_hand: super::manual::get,
    outputs: Some(&[
        "file",
        "key",
        "size",
        "sha256",
        "etag",
        "last_modified",
        "restored_point",
        "resumed_from",
        "downloaded",
        "already_present",
    ]),
    summary: "Download one S3 object to a file (via `<file>.partial`, resumable), checked against its size and MD5 ETag; outputs its SHA-256 and time.",
    params: &[
        STORE_PARAMS[0],
        STORE_PARAMS[1],
        STORE_PARAMS[2],
        STORE_PARAMS[3],
        STORE_PARAMS[4],
        STORE_PARAMS[5],
        STORE_PARAMS[6],
        ParamSpec {
            name: "key",
            kind: ParamKind::String,
            required: true,
            doc: "The object's key, e.g. `{{ steps.latest.outputs.key }}`.",
        },
        ParamSpec {
            name: "file",
            kind: ParamKind::String,
            required: true,
            doc: "Where to write it; a relative path is taken from the run's work directory. Never overwritten with different content.",
        },
    ],
    rerun: Rerun::Safe(
        "it writes only its own `<file>.partial` (resumed when it holds the same version of the object) and puts the checked file in place atomically, never replacing a different one",
    ),
    executor: &GetAction,
};

/// A progress event after this many bytes, or after `PROGRESS_INTERVAL`, whichever
/// comes first.
const PROGRESS_BYTES: u64 = 8 << 20;
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// The executor of `s3.get`.
pub struct GetAction;

impl Action for GetAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// Where the download goes.
struct Target {
    file: PathBuf,
    dir: PathBuf,
    partial: PathBuf,
    /// The ETag of the object the partial's bytes came from.
    etag_file: PathBuf,
}

/// What a finished download produced.
struct Downloaded {
    md5: String,
    sha256: String,
    size: u64,
    resumed_from: u64,
    /// Bytes fetched by this attempt.
    fetched: u64,
}

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let params = &request.params;
    let store = Store::from_params(params)?;
    let key = required_str(params, "key")?.to_string();
    if key.is_empty() {
        return Err(S3Error::BadParam {
            name: "key",
            problem: "is empty".into(),
        }
        .into());
    }
    let file = request.workdir.join(required_str(params, "file")?);
    let dir = file
        .parent()
        .filter(|d| d.is_dir())
        .ok_or_else(|| S3Error::Io {
            what: "download into the directory of",
            path: file.clone(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        })?
        .to_path_buf();
    let target = Target {
        partial: local::with_suffix(&file, ".partial"),
        etag_file: local::with_suffix(&file, ".partial.etag"),
        file,
        dir,
    };
    let cancel = &request.cancel;

    let meta = unless_cancelled(cancel, store.head(&key)).await??;
    let object = Object {
        key: key.clone(),
        ..Object::from(meta)
    };
    let etag = object.etag.clone().unwrap_or_default();
    let md5 = md5_etag(&etag);
    if md5.is_none() {
        request.emit(ActionEvent::Progress(format!(
            "the ETag of `{key}` ({}) is not an MD5 of its content (a multipart upload's is not), so the download is checked by its size only",
            if etag.is_empty() { "none" } else { etag.as_str() }
        )));
    }

    if target.file.exists() {
        if let Some(outputs) = existing(&request, &store, &object, md5.as_deref(), &target).await? {
            return Ok(outputs);
        }
        // A multipart object of the same size: only its bytes can tell.
        let downloaded = download(&request, &store, &object, &target).await?;
        check(&store, &object, md5.as_deref(), &target, &downloaded)?;
        let existing_sha256 = hash(cancel, &target.file, None).await?.finish().1;
        remove_partial(&target)?;
        if existing_sha256 != downloaded.sha256 {
            return Err(S3Error::FileExists {
                file: target.file.clone(),
                key,
                bucket: store.bucket.clone(),
                why: format!(
                    "its SHA-256 is {existing_sha256}, the object's {}; the download was deleted",
                    downloaded.sha256
                ),
            }
            .into());
        }
        request.emit(ActionEvent::Progress(format!(
            "`{}` already holds object `{key}` (same SHA-256); kept it",
            target.file.display()
        )));
        return Ok(outputs(&target, &object, &downloaded, false));
    }

    let downloaded = download(&request, &store, &object, &target).await?;
    check(&store, &object, md5.as_deref(), &target, &downloaded)?;
    match local::publish(&target.partial, &target.file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(S3Error::FileExists {
                file: target.file.clone(),
                key,
                bucket: store.bucket.clone(),
                why: format!(
                    "it appeared while the object was downloaded; the download is kept as `{}`",
                    target.partial.display()
                ),
            }
            .into());
        }
        Err(source) => {
            return Err(S3Error::Io {
                what: "put the download in place as",
                path: target.file.clone(),
                source,
            }
            .into());
        }
    }
    local::remove_if_present(&target.etag_file).map_err(|source| S3Error::Io {
        what: "remove",
        path: target.etag_file.clone(),
        source,
    })?;
    durable::sync_dir(&target.dir).map_err(|source| S3Error::Io {
        what: "sync the directory",
        path: target.dir.clone(),
        source,
    })?;
    Ok(outputs(&target, &object, &downloaded, true))
}

/// When `file` exists: the outputs if it holds the object, an error if it does not,
/// `None` when only a download can tell (a multipart object of the same size).
async fn existing(
    request: &ActionRequest,
    store: &Store,
    object: &Object,
    md5: Option<&str>,
    target: &Target,
) -> Result<Option<Outputs>, ActionError> {
    let differs = |why: String| S3Error::FileExists {
        file: target.file.clone(),
        key: object.key.clone(),
        bucket: store.bucket.clone(),
        why,
    };
    let size = std::fs::metadata(&target.file)
        .map_err(|source| S3Error::Io {
            what: "read",
            path: target.file.clone(),
            source,
        })?
        .len();
    if size != object.size {
        return Err(differs(format!("it has {size} bytes, the object {}", object.size)).into());
    }
    let Some(md5) = md5 else {
        request.emit(ActionEvent::Progress(format!(
            "`{}` exists with the object's size; downloading the object to compare their SHA-256",
            target.file.display()
        )));
        return Ok(None);
    };
    let (existing_md5, sha256) = hash(&request.cancel, &target.file, None).await?.finish();
    if existing_md5 != md5 {
        return Err(differs(format!(
            "its MD5 is {existing_md5}, the object's ETag {md5}"
        ))
        .into());
    }
    request.emit(ActionEvent::Progress(format!(
        "`{}` already holds object `{}` (same size and MD5); nothing downloaded",
        target.file.display(),
        object.key
    )));
    let downloaded = Downloaded {
        md5: existing_md5,
        sha256,
        size,
        resumed_from: 0,
        fetched: 0,
    };
    Ok(Some(outputs(target, object, &downloaded, false)))
}

/// Downloads `object` into the partial file, resuming it when it holds the same
/// version, and fsyncs it. Leaves the partial on every failure except a discarded one.
async fn download(
    request: &ActionRequest,
    store: &Store,
    object: &Object,
    target: &Target,
) -> Result<Downloaded, ActionError> {
    let cancel = &request.cancel;
    let etag = object.etag.clone().unwrap_or_default();
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| S3Error::Io { what, path, source }
    };

    let resume_from = resumable(request, object, target)?;
    std::fs::write(&target.etag_file, &etag)
        .and_then(|()| File::open(&target.etag_file)?.sync_all())
        .map_err(io("write", &target.etag_file))?;
    let mut digests = if resume_from > 0 {
        hash(cancel, &target.partial, Some(resume_from)).await?
    } else {
        Digests::default()
    };
    if digests.len != resume_from {
        // The partial shrank between the check and the read: start over.
        digests = Digests::default();
    }
    let resume_from = digests.len;
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&target.partial)
        .map_err(io("open", &target.partial))?;
    out.set_len(resume_from)
        .and_then(|()| {
            use std::io::Seek;
            out.seek(std::io::SeekFrom::Start(resume_from)).map(drop)
        })
        .map_err(io("prepare", &target.partial))?;

    let mut fetched = 0;
    if resume_from < object.size {
        request.emit(ActionEvent::Progress(if resume_from > 0 {
            format!(
                "resuming `{}` of bucket `{}` at byte {resume_from} of {} into `{}`",
                object.key,
                store.bucket,
                object.size,
                target.partial.display()
            )
        } else {
            format!(
                "downloading `{}` of bucket `{}` ({} bytes) into `{}`",
                object.key,
                store.bucket,
                object.size,
                target.partial.display()
            )
        }));
        let options = GetOptions {
            if_match: (!etag.is_empty()).then(|| format!("\"{etag}\"")),
            range: (resume_from > 0).then_some(GetRange::Offset(resume_from)),
            ..GetOptions::default()
        };
        let result = unless_cancelled(cancel, store.get(&object.key, options)).await??;
        let mut stream = result.into_stream();
        let started = Instant::now();
        let mut reported = (Instant::now(), 0u64);
        loop {
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    let _ = out.sync_all();
                    return Err(ActionError::Cancelled);
                }
                next = tokio::time::timeout(READ_TIMEOUT, stream.next()) => next,
            };
            let bytes = match next {
                Err(_) => {
                    let _ = out.sync_all();
                    return Err(S3Error::Stalled {
                        object: Place::boxed(&store.endpoint, &store.bucket, &object.key),
                        secs: READ_TIMEOUT.as_secs(),
                        partial: target.partial.clone(),
                    }
                    .into());
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    let _ = out.sync_all();
                    return Err(store
                        .failure(&e, super::store::Operation::Get, Some(&object.key))
                        .known()
                        .into());
                }
                Ok(Some(Ok(bytes))) => bytes,
            };
            out.write_all(&bytes)
                .map_err(io("write", &target.partial))?;
            digests.update(&bytes);
            fetched += bytes.len() as u64;
            if fetched - reported.1 >= PROGRESS_BYTES || reported.0.elapsed() >= PROGRESS_INTERVAL {
                reported = (Instant::now(), fetched);
                request.emit(ActionEvent::Progress(progress(
                    digests.len,
                    object.size,
                    fetched,
                    started.elapsed(),
                )));
            }
        }
        request.emit(ActionEvent::Progress(format!(
            "downloaded {fetched} bytes in {} ms{}",
            started.elapsed().as_millis(),
            if resume_from > 0 {
                format!(" after the {resume_from} bytes of the earlier attempt")
            } else {
                String::new()
            }
        )));
    }
    let partial = target.partial.clone();
    let synced = tokio::task::spawn_blocking(move || out.sync_all())
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    synced.map_err(io("sync", &partial))?;
    let size = digests.len;
    let (md5, sha256) = digests.finish();
    Ok(Downloaded {
        md5,
        sha256,
        size,
        resumed_from: resume_from,
        fetched,
    })
}

/// How many bytes of an existing partial can be kept: all of them when they came from
/// this version of the object (its ETag is recorded beside them), else none.
fn resumable(request: &ActionRequest, object: &Object, target: &Target) -> Result<u64, S3Error> {
    let Ok(meta) = std::fs::metadata(&target.partial) else {
        return Ok(0);
    };
    let etag = object.etag.as_deref().unwrap_or_default();
    let recorded = std::fs::read_to_string(&target.etag_file).ok();
    let reason = match recorded.as_deref().map(str::trim) {
        _ if meta.len() == 0 => return Ok(0),
        _ if etag.is_empty() => "the store sends no ETag, so its origin cannot be told".into(),
        None => format!("`{}` is missing", target.etag_file.display()),
        Some(recorded) if recorded != etag => {
            format!("it holds another version of the object (ETag {recorded}, now {etag})")
        }
        Some(_) if meta.len() > object.size => format!(
            "it is longer ({} bytes) than the object ({})",
            meta.len(),
            object.size
        ),
        Some(_) => return Ok(meta.len()),
    };
    request.emit(ActionEvent::Progress(format!(
        "discarding `{}` from an earlier attempt ({} bytes): {reason}",
        target.partial.display(),
        meta.len()
    )));
    Ok(0)
}

/// Checks a finished download against the object; deletes it when it is wrong.
fn check(
    store: &Store,
    object: &Object,
    md5: Option<&str>,
    target: &Target,
    downloaded: &Downloaded,
) -> Result<(), ActionError> {
    if downloaded.size != object.size {
        remove_partial(target)?;
        return Err(S3Error::SizeMismatch {
            object: Place::boxed(&store.endpoint, &store.bucket, &object.key),
            expected: object.size,
            actual: downloaded.size,
            partial: target.partial.clone(),
        }
        .into());
    }
    if let Some(md5) = md5
        && md5 != downloaded.md5
    {
        remove_partial(target)?;
        return Err(S3Error::EtagMismatch {
            object: Place::boxed(&store.endpoint, &store.bucket, &object.key),
            md5: downloaded.md5.clone(),
            etag: md5.to_string(),
            partial: target.partial.clone(),
        }
        .into());
    }
    Ok(())
}

/// Deletes the partial file and its recorded ETag.
fn remove_partial(target: &Target) -> Result<(), S3Error> {
    for path in [&target.partial, &target.etag_file] {
        local::remove_if_present(path).map_err(|source| S3Error::Io {
            what: "remove",
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// The step's outputs.
fn outputs(target: &Target, object: &Object, downloaded: &Downloaded, fresh: bool) -> Outputs {
    let mut outputs = Outputs::new();
    outputs.insert(
        "file".into(),
        Value::String(target.file.display().to_string()),
    );
    outputs.insert("key".into(), Value::String(object.key.clone()));
    outputs.insert("size".into(), Value::from(downloaded.size));
    outputs.insert("sha256".into(), Value::String(downloaded.sha256.clone()));
    outputs.insert(
        "etag".into(),
        object
            .etag
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    let time = rfc3339(object.last_modified);
    outputs.insert("last_modified".into(), Value::String(time.clone()));
    outputs.insert("restored_point".into(), Value::String(time));
    outputs.insert("resumed_from".into(), Value::from(downloaded.resumed_from));
    outputs.insert("downloaded".into(), Value::from(downloaded.fetched));
    outputs.insert("already_present".into(), Value::Bool(!fresh));
    outputs
}

/// "12.0 of 20.0 MiB (60%), 48.2 MiB/s".
fn progress(done: u64, total: u64, fetched: u64, took: Duration) -> String {
    let mib = |b: u64| b as f64 / f64::from(1 << 20);
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let rate = mib(fetched) / took.as_secs_f64().max(0.001);
    format!(
        "{:.1} of {:.1} MiB ({percent}%), {rate:.1} MiB/s",
        mib(done),
        mib(total)
    )
}

/// The digests of `path` (its first `limit` bytes), read on a blocking thread.
async fn hash(
    cancel: &CancellationToken,
    path: &Path,
    limit: Option<u64>,
) -> Result<Digests, ActionError> {
    let owned = path.to_path_buf();
    let task = tokio::task::spawn_blocking(move || local::hash_file(&owned, limit));
    let hashed = unless_cancelled(cancel, async {
        task.await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    })
    .await?;
    hashed.map_err(|source| {
        S3Error::Io {
            what: "read",
            path: path.to_path_buf(),
            source,
        }
        .into()
    })
}

/// `future`'s output, or `Cancelled` when the step is cancelled first.
async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    future: impl Future<Output = T>,
) -> Result<T, ActionError> {
    tokio::select! {
        output = future => Ok(output),
        () = cancel.cancelled() => Err(ActionError::Cancelled),
    }
}
