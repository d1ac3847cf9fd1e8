//! Replacing one file of a live PKI so that at no moment it is missing, half-written or
//! readable by others, and its previous content is never lost.
//!
//! The new bytes go to `.<name>.drbook-tmp-<pid>` in the same directory, created 0600,
//! fsync'd and given their final mode; the old file gets a second name,
//! `<name>.drbook-<UTC timestamp>` (a hard link, so the file's name still holds the old
//! content meanwhile; a rename where links are not possible); then the temporary file is
//! renamed over the name, atomically, and the directory is fsync'd. A crash leaves at
//! most a temporary file, which the next run removes.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::PkiError;
use crate::actions::durable;

/// What installing one file did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The file already held these bytes; `mode_was` is its old mode when it had to be
    /// corrected.
    Unchanged { mode_was: Option<u32> },
    /// The file was written; `kept` is where its previous content is, if it had any.
    Installed { kept: Option<PathBuf> },
}

/// The temporary file that becomes `dest`.
pub(crate) fn tmp_path(dest: &Path) -> PathBuf {
    dest.with_file_name(format!(
        ".{}.drbook-tmp-{}",
        file_name(dest),
        std::process::id()
    ))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Removes the temporary files an earlier, crashed install of `dest` left (any pid).
/// Returns what was removed.
pub(crate) fn remove_stale(dest: &Path) -> Result<Vec<PathBuf>, PkiError> {
    let Some(dir) = dest.parent() else {
        return Ok(Vec::new());
    };
    let prefix = format!(".{}.drbook-tmp-", file_name(dest));
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(io("read the directory", dir, source)),
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_prefix(&prefix)
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            std::fs::remove_file(&path)
                .map_err(|e| io("remove the stale temporary file", &path, e))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Makes `dest` hold `bytes` with `mode`. `existing` is what `dest` holds now (None when
/// it does not exist); `stamp` names the kept copy.
pub(crate) fn install(
    dest: &Path,
    bytes: &[u8],
    mode: u32,
    existing: Option<&[u8]>,
    stamp: &str,
) -> Result<Outcome, PkiError> {
    if existing == Some(bytes) {
        let meta = std::fs::metadata(dest).map_err(|e| io("read", dest, e))?;
        let was = meta.permissions().mode() & 0o7777;
        if was == mode {
            return Ok(Outcome::Unchanged { mode_was: None });
        }
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode))
            .map_err(|e| io("set the mode of", dest, e))?;
        return Ok(Outcome::Unchanged {
            mode_was: Some(was),
        });
    }
    let tmp = tmp_path(dest);
    let guard = RemoveOnDrop(Some(tmp.clone()));
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove the old temporary file", &tmp, e)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io("create the temporary file", &tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(mode)))
        .and_then(|()| file.sync_all())
        .map_err(|e| io("write the temporary file", &tmp, e))?;
    drop(file);
    let kept = match existing {
        None => None,
        Some(_) => Some(keep(dest, stamp)?),
    };
    std::fs::rename(&tmp, dest).map_err(|e| io("rename the new file into place at", dest, e))?;
    guard.disarm();
    if let Some(dir) = dest.parent() {
        sync_dir(dir)?;
    }
    Ok(Outcome::Installed { kept })
}

/// Gives the current `dest` a second name, `<name>.drbook-<stamp>` (then `-2`, `-3`, …
/// if taken), without ever leaving `dest` missing where hard links work.
fn keep(dest: &Path, stamp: &str) -> Result<PathBuf, PkiError> {
    let base = format!("{}.drbook-{stamp}", file_name(dest));
    let mut kept = dest.with_file_name(&base);
    let mut n = 1;
    while std::fs::symlink_metadata(&kept).is_ok() {
        n += 1;
        kept = dest.with_file_name(format!("{base}-{n}"));
    }
    if std::fs::hard_link(dest, &kept).is_err() {
        std::fs::rename(dest, &kept).map_err(|e| io("keep the previous file as", &kept, e))?;
    }
    Ok(kept)
}

/// fsyncs a directory, so that renames in it survive a power cut.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), PkiError> {
    durable::sync_dir(dir).map_err(|e| io("sync the directory", dir, e))
}

fn io(what: &'static str, path: &Path, source: std::io::Error) -> PkiError {
    PkiError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Removes a temporary file unless it was renamed into place.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn replacing_keeps_the_old_content_under_a_new_name_and_suffixes_a_taken_one() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("ca.key");
        std::fs::write(&dest, "old").unwrap();
        std::fs::write(dir.path().join("ca.key.drbook-T"), "older").unwrap();
        let outcome = install(&dest, b"new", 0o600, Some(b"old"), "T").unwrap();
        let kept = dir.path().join("ca.key.drbook-T-2");
        assert_eq!(
            outcome,
            Outcome::Installed {
                kept: Some(kept.clone())
            }
        );
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(mode_of(&dest), 0o600);
        assert_eq!(std::fs::read(&kept).unwrap(), b"old");
        assert_eq!(
            std::fs::read(dir.path().join("ca.key.drbook-T")).unwrap(),
            b"older"
        );
        assert!(!tmp_path(&dest).exists());
    }

    #[test]
    fn identical_bytes_are_left_alone_but_a_loose_mode_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sa.key");
        std::fs::write(&dest, "same").unwrap();
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o644)).unwrap();
        let outcome = install(&dest, b"same", 0o600, Some(b"same"), "T").unwrap();
        assert_eq!(
            outcome,
            Outcome::Unchanged {
                mode_was: Some(0o644)
            }
        );
        assert_eq!(mode_of(&dest), 0o600);
        let outcome = install(&dest, b"same", 0o600, Some(b"same"), "T").unwrap();
        assert_eq!(outcome, Outcome::Unchanged { mode_was: None });
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn only_our_own_stale_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("ca.crt");
        for name in [
            ".ca.crt.drbook-tmp-123",
            ".ca.crt.drbook-tmp-x",
            ".ca.key.drbook-tmp-1",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let removed = remove_stale(&dest).unwrap();
        assert_eq!(removed, vec![dir.path().join(".ca.crt.drbook-tmp-123")]);
        assert!(dir.path().join(".ca.crt.drbook-tmp-x").exists());
        assert!(dir.path().join(".ca.key.drbook-tmp-1").exists());
    }
}
