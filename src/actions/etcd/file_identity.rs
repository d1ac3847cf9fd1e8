//! Whether a snapshot stayed the same file while it was restored.
//!
//! `etcd.snapshot.restore` checks the snapshot's SHA-256 trailer itself, once, and has
//! the tool restore with `--skip-hash-check`: otherwise each member's tool hashes its
//! own copy again, which is most of a restore's work (three times over for three
//! members). The tool's check had one thing drbook's lacks: it hashed the very bytes it
//! restored. The identity closes that gap. It is taken before the check or a restore
//! reads the file and compared once the restores and the check have ended: the same
//! device and inode (nothing was renamed over the path, as a download finishing would),
//! the same size, and the same modification and change times (nothing wrote to it: the
//! kernel updates both on every write). An unchanged identity means the restores read the bytes the
//! check found whole.
//!
//! What it cannot see: the file replaced and then put back between the two looks, or a
//! file system that keeps no times; neither is how a snapshot changes under a restore.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileIdentity {
    device: u64,
    inode: u64,
    size: u64,
    /// Seconds and nanoseconds.
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileIdentity {
    /// The identity of the file at `path` now.
    pub(super) fn of(path: &Path) -> io::Result<FileIdentity> {
        let meta = std::fs::metadata(path)?;
        Ok(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// How the file at `path` differs from `self`, in words; `None` when it is the same
    /// file, unwritten. A file that is gone counts as changed.
    pub(super) fn change_at(&self, path: &Path) -> Option<&'static str> {
        let Ok(now) = FileIdentity::of(path) else {
            return Some("it is gone or can no longer be read");
        };
        if (now.device, now.inode) != (self.device, self.inode) {
            Some("another file was put in its place")
        } else if now.size != self.size {
            Some("its size changed")
        } else if (now.modified, now.changed) != (self.modified, self.changed) {
            Some("something wrote to it")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    use super::*;

    #[test]
    fn an_untouched_file_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.db");
        std::fs::write(&path, b"0123456789").unwrap();
        let before = FileIdentity::of(&path).unwrap();
        let _ = std::fs::read(&path).unwrap();
        assert_eq!(before.change_at(&path), None);
    }

    #[test]
    fn a_write_of_the_same_length_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.db");
        std::fs::write(&path, b"0123456789").unwrap();
        let before = FileIdentity::of(&path).unwrap();
        // A write in the same clock tick as `std::fs::write` may keep the times (they
        // are coarse); a modification time set explicitly (as `touch -d` does) differs
        // for certain.
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(b"X", 3).unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(before.change_at(&path), Some("something wrote to it"));
    }

    #[test]
    fn a_longer_file_and_a_replaced_one_and_a_removed_one_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snap.db");
        std::fs::write(&path, b"0123456789").unwrap();
        let before = FileIdentity::of(&path).unwrap();

        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"more").unwrap();
        assert_eq!(before.change_at(&path), Some("its size changed"));

        let before = FileIdentity::of(&path).unwrap();
        let other = dir.path().join("download.part");
        std::fs::write(&other, b"0123456789more").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert_eq!(
            before.change_at(&path),
            Some("another file was put in its place")
        );

        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            before.change_at(&path),
            Some("it is gone or can no longer be read")
        );
    }
}
