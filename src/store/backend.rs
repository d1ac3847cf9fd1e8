//! One store, a directory or an S3 bucket and prefix, behind the three operations the
//! store needs: create an object that must not exist yet, read one, list keys.
//!
//! Creating is idempotent: an object that exists with the same bytes is the same
//! upload done again (a `drbook store push` after a failed one), and succeeds; with
//! other bytes it is refused and left as it is. In a directory `create_new` makes the
//! check and the write one step; on S3 the conditional create (`If-None-Match: *`)
//! does.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use super::StoreSpec;
use super::error::StoreError;
use super::s3::S3Store;

/// What `create` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The object is new.
    New,
    /// It was there already, with exactly these bytes.
    AlreadyThere,
}

/// An opened store.
pub struct Store {
    backend: Backend,
    /// The location as the user wrote it, for messages.
    pub location: String,
}

enum Backend {
    Dir(PathBuf),
    S3(S3Store),
}

impl Store {
    /// Opens the store `spec` names. A directory store is created on first write; an S3
    /// store needs credentials in the environment (never printed).
    pub fn open(spec: &StoreSpec) -> Result<Store, StoreError> {
        let location = spec.location.clone();
        let backend = if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::BadLocation {
                    location,
                    problem: "the bucket name is empty".into(),
                });
            }
            Backend::S3(S3Store::open(
                &location,
                bucket,
                prefix.trim_matches('/'),
                spec.endpoint.as_deref(),
            )?)
        } else if location.contains("://") {
            return Err(StoreError::BadLocation {
                problem: "only directories and `s3://` are supported".into(),
                location,
            });
        } else if location.is_empty() {
            return Err(StoreError::BadLocation {
                location,
                problem: "it is empty".into(),
            });
        } else {
            Backend::Dir(PathBuf::from(&location))
        };
        Ok(Store { backend, location })
    }

    /// Creates `key` with `bytes` unless it exists; see the module comment.
    pub fn create(&self, key: &str, bytes: &[u8]) -> Result<Created, StoreError> {
        let created = match &self.backend {
            Backend::Dir(root) => create_file(&root.join(key), bytes)?,
            Backend::S3(s3) => s3.create(key, bytes)?,
        };
        if created {
            return Ok(Created::New);
        }
        match self.get(key)? {
            Some(existing) if existing == bytes => Ok(Created::AlreadyThere),
            _ => Err(StoreError::Differs {
                location: self.location.clone(),
                key: key.to_string(),
            }),
        }
    }

    /// The bytes of `key`, or `None` when there is no such object.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            Backend::Dir(root) => {
                let path = root.join(key);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(io("read", &path, &e)),
                }
            }
            Backend::S3(s3) => s3.get(key),
        }
    }

    /// Every key under `prefix` (relative to the store's root), sorted.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = match &self.backend {
            Backend::Dir(root) => list_dir(root, prefix)?,
            Backend::S3(s3) => s3.list(prefix)?,
        };
        keys.sort();
        Ok(keys)
    }
}

/// Creates a new 0600 file (and its 0700 parents) and fsyncs it; false when it exists.
fn create_file(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    if let Some(parent) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| io("create the directory", parent, &e))?;
    }
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io("create", path, &e)),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io("write", path, &e))?;
    Ok(true)
}

/// Keys of the files below `root/prefix`, as `/`-separated paths relative to `root`.
fn list_dir(root: &Path, prefix: &str) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::new();
    let mut pending = vec![root.join(prefix)];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io("list", &dir, &e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io("list", &dir, &e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| io("list", &path, &e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                keys.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    Ok(keys)
}

fn io(action: &'static str, path: &Path, error: &std::io::Error) -> StoreError {
    StoreError::Io {
        action,
        path: path.to_path_buf(),
        why: crate::source::source_file::describe_io(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_store(path: &Path) -> Store {
        Store::open(&StoreSpec {
            location: path.display().to_string(),
            endpoint: None,
        })
        .expect("a directory store opens")
    }

    #[test]
    fn the_same_bytes_twice_is_one_upload_and_other_bytes_are_refused() {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let store = dir_store(tmp.path());
        assert_eq!(store.create("runs/r1/a", b"one").unwrap(), Created::New);
        assert_eq!(
            store.create("runs/r1/a", b"one").unwrap(),
            Created::AlreadyThere
        );
        let error = store.create("runs/r1/a", b"two").unwrap_err().to_string();
        assert!(error.contains("already exists in the store"), "{error}");
        assert_eq!(store.get("runs/r1/a").unwrap().unwrap(), b"one");
        assert_eq!(store.list("runs").unwrap(), ["runs/r1/a"]);
        assert_eq!(store.get("runs/r1/b").unwrap(), None);
    }

    #[test]
    fn a_location_that_is_neither_a_directory_nor_s3_is_refused() {
        for bad in ["", "gs://bucket/x", "s3:///prefix"] {
            let spec = StoreSpec {
                location: bad.into(),
                endpoint: None,
            };
            assert!(
                matches!(Store::open(&spec), Err(StoreError::BadLocation { .. })),
                "{bad}"
            );
        }
    }
}
