//! The local side of a download: the `<file>.partial` it grows in, the ETag recorded
//! beside it (`<file>.partial.etag`) so a later attempt knows whether the partial bytes
//! belong to the same version of the object, the checksums, and the step that puts the
//! finished file in place without ever replacing one that is there.
//!
//! The file is put in place with a hard link, not a rename: `link` fails when the target
//! exists, so a file that appeared during the download (another run, an operator) is
//! never overwritten, which a check before `rename` cannot promise.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use md5::Md5;
// md-5 and sha2 share one `Digest` trait (digest 0.11).
use sha2::{Digest as _, Sha256};

/// MD5 (to check a single-part ETag) and SHA-256 (the output) of a byte stream.
#[derive(Clone, Default)]
pub(crate) struct Digests {
    md5: Md5,
    sha256: Sha256,
    pub len: u64,
}

impl Digests {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.sha256.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// `(md5, sha256)` in lowercase hex, as `md5sum` and `sha256sum` print them.
    pub(crate) fn finish(self) -> (String, String) {
        (
            base16ct::lower::encode_string(&self.md5.finalize()),
            base16ct::lower::encode_string(&self.sha256.finalize()),
        )
    }
}

/// The digests of the first `limit` bytes of `path` (all of it when `None`).
pub(crate) fn hash_file(path: &Path, limit: Option<u64>) -> std::io::Result<Digests> {
    let mut digests = Digests::default();
    let file = File::open(path)?;
    let mut reader: Box<dyn Read> = match limit {
        Some(limit) => Box::new(file.take(limit)),
        None => Box::new(file),
    };
    let mut buffer = vec![0; 1 << 20];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => digests.update(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(digests)
}

/// `path` with `suffix` added to its file name.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Gives the finished `partial` the name `file`, unless `file` exists: then
/// `AlreadyExists` and nothing changed. On a file system without hard links, a rename
/// after a check (the small race is the price there).
pub(crate) fn publish(partial: &Path, file: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(partial, file) {
        Ok(()) => std::fs::remove_file(partial),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(e),
        Err(_) if !file.exists() => std::fs::rename(partial, file),
        Err(e) => Err(e),
    }
}

/// Removes `path` if it exists.
pub(crate) fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_those_of_md5sum_and_sha256sum() {
        let mut d = Digests::default();
        d.update(b"hel");
        d.update(b"lo");
        assert_eq!(d.len, 5);
        let (md5, sha256) = d.finish();
        assert_eq!(md5, "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(
            sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn publishing_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("a.partial");
        let file = dir.path().join("a");
        std::fs::write(&partial, b"new").unwrap();
        std::fs::write(&file, b"old").unwrap();
        let err = publish(&partial, &file).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&file).unwrap(), b"old");
        std::fs::remove_file(&file).unwrap();
        publish(&partial, &file).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert!(!partial.exists());
        let prefix = hash_file(&file, Some(2)).unwrap();
        assert_eq!(prefix.len, 2);
    }
}
