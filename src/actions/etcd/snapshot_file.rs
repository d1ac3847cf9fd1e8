//! Checking a snapshot file before anything trusts it: the integrity checks that need no
//! etcd tool.
//!
//! `etcdctl snapshot save` (and the Maintenance.Snapshot stream it reads) writes etcd's
//! bolt database followed by a 32-byte SHA-256 of it. The database is a whole number of
//! pages (multiples of 512 bytes), so a snapshot's size is `512·n + 32`, and the last 32
//! bytes must be the SHA-256 of the rest. `etcdctl snapshot status` checks none of this,
//! and `snapshot restore` only checks it once it is already writing a data directory, so
//! drbook checks it first and explains what it finds:
//!
//! - no trailer and a complete bolt file: a copy of `member/snap/db` from a data
//!   directory, which has no integrity hash at all;
//! - no trailer and fewer bytes than the bolt header says the database has, or a size
//!   that is no whole number of pages: a file cut short;
//! - a trailer that does not match: bytes changed.
//!
//! KKP stores snapshots gzip'd (`.db.gz`); the trailer is inside, so a gzip file is
//! decompressed into a temporary file next to it first (removed when dropped).

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::error::SnapshotProblem;

/// The bytes `snapshot save` appends.
const TRAILER: u64 = 32;

/// Bolt's magic number, at byte 16 of each meta page.
const BOLT_MAGIC: u32 = 0xED0C_DAED;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How much is read at a time while hashing.
const CHUNK: usize = 1 << 20;

/// The path of an uncompressed snapshot; owns the temporary file it may be.
#[derive(Debug)]
pub(crate) struct SnapshotDb {
    path: PathBuf,
    temporary: bool,
}

impl SnapshotDb {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SnapshotDb {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Checks `file` (gunzipping it first when it is gzip into a temporary file, removed
/// again); returns the size and SHA-256 of the uncompressed snapshot, trailer included
/// (what `sha256sum` prints for it). Blocking: reads the whole file.
pub(crate) fn check(file: &Path) -> Result<(u64, String), SnapshotProblem> {
    let (db, compressed) = prepare(file)?;
    check_db(db.path(), compressed)
}

/// The uncompressed snapshot of `file`: the file itself, or, when it is gzip, a
/// temporary file next to it; and whether it was compressed. Blocking.
pub(crate) fn prepare(file: &Path) -> Result<(SnapshotDb, bool), SnapshotProblem> {
    let mut opened = File::open(file).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => SnapshotProblem::Missing,
        _ => SnapshotProblem::Unreadable(e),
    })?;
    let mut magic = [0u8; 2];
    let compressed = matches!(read_prefix(&mut opened, &mut magic), Ok(2) if magic == GZIP_MAGIC);
    if compressed {
        Ok((gunzip_next_to(file)?, true))
    } else {
        let db = SnapshotDb {
            path: file.to_path_buf(),
            temporary: false,
        };
        Ok((db, false))
    }
}

/// Checks the uncompressed snapshot `prepare` returned (its path); its size and the
/// SHA-256 of the whole file. Blocking: reads the whole file once.
pub(crate) fn check_db(db: &Path, compressed: bool) -> Result<(u64, String), SnapshotProblem> {
    check_plain(db).map_err(|inner| {
        if compressed {
            SnapshotProblem::GzipContent(Box::new(inner))
        } else {
            inner
        }
    })
}

/// SHA-256 of a whole file, whatever it holds. Blocking.
pub(crate) fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(base16ct::lower::encode_string(&hasher.finalize()))
}

/// Decompresses `file` into a new temporary file in the same directory (same file
/// system as the snapshot, which has room for it more likely than /tmp).
fn gunzip_next_to(file: &Path) -> Result<SnapshotDb, SnapshotProblem> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let stem = file
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_suffix(".gz").unwrap_or(n))
        .unwrap_or("snapshot.db");
    let path = file.with_file_name(format!(
        ".{stem}.drbook-gunzip-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let db = SnapshotDb {
        path,
        temporary: true,
    };
    let input = File::open(file).map_err(SnapshotProblem::Unreadable)?;
    let output = File::create(db.path()).map_err(SnapshotProblem::Unreadable)?;
    let mut decoder = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(CHUNK, input));
    let mut writer = BufWriter::with_capacity(CHUNK, output);
    io::copy(&mut decoder, &mut writer).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            SnapshotProblem::GzipBroken(e.to_string())
        }
        _ => SnapshotProblem::Unreadable(e),
    })?;
    writer
        .into_inner()
        .map_err(|e| SnapshotProblem::Unreadable(e.into_error()))?;
    Ok(db)
}

/// Checks an uncompressed snapshot; returns its size and the SHA-256 of the whole file.
fn check_plain(path: &Path) -> Result<(u64, String), SnapshotProblem> {
    let mut file = File::open(path).map_err(SnapshotProblem::Unreadable)?;
    let size = file.metadata().map_err(SnapshotProblem::Unreadable)?.len();
    if size == 0 {
        return Err(SnapshotProblem::Empty);
    }
    let mut header = [0u8; 64 + 16];
    let read = read_prefix(&mut file, &mut header).map_err(SnapshotProblem::Unreadable)?;
    let Some(meta) = Meta::parse(&header[..read]) else {
        return Err(SnapshotProblem::NotBolt);
    };
    if size % 512 != TRAILER {
        // Without a trailer: complete bolt file (a data-dir copy) or cut short?
        let expected = database_size(&mut file, meta, size);
        return Err(if size % 512 == 0 && expected.is_some_and(|e| size >= e) {
            SnapshotProblem::RawDbCopy
        } else {
            SnapshotProblem::Truncated { size }
        });
    }
    file.seek(SeekFrom::Start(0))
        .map_err(SnapshotProblem::Unreadable)?;
    let mut hasher = Sha256::new();
    let mut remaining = size - TRAILER;
    let mut buf = vec![0u8; CHUNK];
    while remaining > 0 {
        let want = usize::try_from(remaining.min(CHUNK as u64)).expect("at most CHUNK");
        file.read_exact(&mut buf[..want])
            .map_err(SnapshotProblem::Unreadable)?;
        hasher.update(&buf[..want]);
        remaining -= want as u64;
    }
    let mut trailer = [0u8; TRAILER as usize];
    file.read_exact(&mut trailer)
        .map_err(SnapshotProblem::Unreadable)?;
    let whole = hasher.clone().chain_update(trailer);
    let content = hasher.finalize();
    if content.as_slice() != trailer {
        return Err(SnapshotProblem::HashMismatch {
            expected: base16ct::lower::encode_string(&trailer),
            actual: base16ct::lower::encode_string(&content),
        });
    }
    Ok((size, base16ct::lower::encode_string(&whole.finalize())))
}

/// The fields of a bolt meta page that tell how big the database is.
#[derive(Debug, Clone, Copy)]
struct Meta {
    page_size: u64,
    /// The high-water mark: pages in use.
    pages: u64,
    txid: u64,
}

impl Meta {
    /// A meta page: page header (16 bytes), then magic, version, page size, flags, root
    /// bucket (16), freelist page, high-water mark, txid.
    fn parse(bytes: &[u8]) -> Option<Meta> {
        let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
        let u64_at = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        if u32_at(16)? != BOLT_MAGIC {
            return None;
        }
        let page_size = u64::from(u32_at(24)?);
        Some(Meta {
            page_size,
            pages: u64_at(16 + 40)?,
            txid: u64_at(16 + 48)?,
        })
    }
}

/// The bytes the database occupies by its newest meta page (bolt keeps two and writes
/// them alternately), when that can be read.
fn database_size(file: &mut File, first: Meta, size: u64) -> Option<u64> {
    let mut newest = first;
    if first.page_size >= 512 && size >= first.page_size * 2 {
        let mut page = [0u8; 64 + 16];
        if file.seek(SeekFrom::Start(first.page_size)).is_ok()
            && read_prefix(file, &mut page).ok() == Some(page.len())
            && let Some(second) = Meta::parse(&page)
            && second.txid > first.txid
        {
            newest = second;
        }
    }
    newest.pages.checked_mul(newest.page_size)
}

/// Reads up to `buf.len()` bytes from the start; fewer only at the end of the file.
fn read_prefix(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    file.seek(SeekFrom::Start(0))?;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write as _;

    use super::*;

    fn write_synced(path: &Path, bytes: &[u8]) {
        let mut file = File::create(path).unwrap();
        file.write_all(bytes).unwrap();
        file.sync_all().unwrap();
    }

    /// A fake bolt file of `pages` pages of 4096 bytes with a consistent meta page.
    fn bolt(pages: u64) -> Vec<u8> {
        let mut db = vec![0u8; (pages * 4096) as usize];
        db[16..20].copy_from_slice(&BOLT_MAGIC.to_le_bytes());
        db[24..28].copy_from_slice(&4096u32.to_le_bytes());
        db[56..64].copy_from_slice(&pages.to_le_bytes());
        db[64..72].copy_from_slice(&1u64.to_le_bytes());
        for (i, b) in db.iter_mut().enumerate().skip(8192) {
            *b = (i % 251) as u8;
        }
        db
    }

    /// A snapshot file's bytes: a fake bolt file of `pages` pages and its SHA-256.
    pub(crate) fn snapshot(pages: u64) -> Vec<u8> {
        let mut bytes = bolt(pages);
        let sum = Sha256::digest(&bytes);
        bytes.extend_from_slice(&sum);
        bytes
    }

    fn problem(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        write_synced(&path, bytes);
        check(&path).unwrap_err().to_string()
    }

    /// Operators compare the output with `sha256sum`, and earlier runs recorded it in
    /// this form: lower-case hex, no separators.
    #[test]
    fn the_file_hash_reads_like_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        write_synced(&path, b"abc");
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_good_snapshot_passes_with_the_hash_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let bytes = snapshot(5);
        write_synced(&path, &bytes);
        let (size, sha256) = check(&path).unwrap();
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(
            sha256,
            base16ct::lower::encode_string(&Sha256::digest(&bytes))
        );
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        assert!(problem(&[]).starts_with("is empty"));
        assert!(problem(b"hello world").starts_with("is not an etcd snapshot"));
        assert!(problem(&bolt(5)).starts_with("is a copy of member/snap/db"));
        let good = snapshot(5);
        assert!(problem(&good[..good.len() - 100]).starts_with("is truncated"));
        // Cut at a page boundary: no trailer, and fewer pages than the header says.
        assert!(problem(&good[..4 * 4096]).starts_with("is truncated"));
        let mut flipped = good.clone();
        flipped[10_000] ^= 0x01;
        assert!(problem(&flipped).starts_with("is corrupt: its SHA-256 trailer says"));
    }

    #[test]
    fn gzip_is_unpacked_next_to_the_file_and_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db.gz");
        let bytes = snapshot(3);
        let mut encoder = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        encoder.write_all(&bytes).unwrap();
        encoder.finish().unwrap();
        let (db, compressed) = prepare(&path).unwrap();
        assert!(compressed);
        let (_, sha256) = check_db(db.path(), compressed).unwrap();
        assert_eq!(
            sha256,
            base16ct::lower::encode_string(&Sha256::digest(&bytes))
        );
        let unpacked = db.path().to_path_buf();
        assert_eq!(unpacked.parent(), Some(dir.path()));
        assert_eq!(std::fs::read(&unpacked).unwrap(), bytes);
        drop(db);
        assert!(!unpacked.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_gzip_of_something_else_or_cut_short_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"just some text\n").unwrap();
        let gz = encoder.finish().unwrap();
        write_synced(&path, &gz);
        let err = check(&path).unwrap_err().to_string();
        assert!(
            err.starts_with("is gzip-compressed, but the file inside is not an etcd snapshot"),
            "{err}"
        );
        write_synced(&path, &gz[..gz.len() / 2]);
        let err = check(&path).unwrap_err().to_string();
        assert!(
            err.starts_with("looks gzip-compressed but cannot be decompressed"),
            "{err}"
        );
        // No temporary file is left behind either way.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_file_is_named_as_such() {
        let err = check(Path::new("/nonexistent/s.db"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("does not exist"), "{err}");
    }
}
