//! Signatures of a run's journal: `signatures/<N>.sig` in the run directory is the SSH
//! signature (namespace `drbook-journal`) of the exact bytes of the journal's first N
//! lines, newlines included. Every end of a session (finish, pause, stop) signs the
//! whole journal as it is then; a session that died leaves its lines unsigned until the
//! next session's end signs them with the rest. Signatures never change: a record
//! signed at 17 lines and again at 42 keeps both, so cutting the journal below any
//! signed N is visible, and anyone can check a part with `ssh-keygen -Y verify` over
//! `head -n N journal.jsonl`.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use super::error::SigningError;
use super::signer::Signer;
use crate::run_dir::RunDir;

/// The namespace of journal signatures (`ssh-keygen -Y ... -n drbook-journal`).
pub const JOURNAL_NAMESPACE: &str = "drbook-journal";

/// The directory of a run's journal signatures, inside its run directory.
pub const SIGNATURES_DIR: &str = "signatures";

/// Signs the run's journal as it is at the end of a session, as
/// `signatures/<N>.sig`, and returns that file. Nothing is written when the journal has
/// no complete line, or when its N lines are already signed (a signature is never
/// replaced). Called with the run's lock held, so the journal does not grow meanwhile.
pub fn sign_session_end(dir: &RunDir, signer: &Signer) -> Result<Option<PathBuf>, SigningError> {
    let journal = dir.journal();
    let bytes = std::fs::read(&journal).map_err(SigningError::io("read", &journal))?;
    let lines = complete_lines(&bytes);
    if lines == 0 {
        return Ok(None);
    }
    let path = signature_path(&dir.path, lines);
    if path.exists() {
        return Ok(None);
    }
    let signed = prefix(&bytes, lines).unwrap_or(&bytes);
    let what = format!("the first {lines} lines of `{}`", journal.display());
    let armored = signer.sign(JOURNAL_NAMESPACE, signed, &what)?;
    write_new(&path, armored.as_bytes())?;
    Ok(Some(path))
}

/// `signatures/<lines>.sig` of the run directory `run_dir`.
pub fn signature_path(run_dir: &Path, lines: usize) -> PathBuf {
    run_dir.join(SIGNATURES_DIR).join(format!("{lines}.sig"))
}

/// The number of lines ending in a newline: a torn last line (a crash mid-write) is not
/// part of the record and is never signed.
pub fn complete_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// The exact bytes of the first `lines` lines, the last newline included; `None` when
/// there are fewer.
pub fn prefix(bytes: &[u8], lines: usize) -> Option<&[u8]> {
    if lines == 0 {
        return Some(&[]);
    }
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(lines - 1)
        .map(|(end, _)| &bytes[..=end])
}

/// The public keys that signed the run directory's journal, from every
/// `signatures/*.sig` that can be read as a signature (valid or not).
pub fn signing_keys(run_dir: &Path) -> Vec<ssh_key::public::KeyData> {
    let Ok(entries) = std::fs::read_dir(run_dir.join(SIGNATURES_DIR)) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|text| ssh_key::SshSig::from_pem(text).ok())
        .map(|sig| sig.public_key().clone())
        .collect()
}

/// Writes a new file durably (0600, fsync'd, its directory too) and never over an
/// existing one: a signature is evidence. The directory is made 0700, like the record.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<(), SigningError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(SigningError::io("create", parent))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::run_dir::PRIVATE_FILE)
        .open(path)
        .map_err(SigningError::io("create", path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(SigningError::io("write", path))?;
    std::fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(SigningError::io("sync", parent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_whole_lines_with_their_newlines() {
        let bytes = b"a\nbb\nccc";
        assert_eq!(complete_lines(bytes), 2);
        assert_eq!(prefix(bytes, 1), Some(&b"a\n"[..]));
        assert_eq!(prefix(bytes, 2), Some(&b"a\nbb\n"[..]));
        assert_eq!(prefix(bytes, 3), None);
    }
}
