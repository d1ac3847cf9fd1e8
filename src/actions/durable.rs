//! Making a change to a directory survive a power cut, for every action that writes
//! files: a rename, link or removal is only durable once the directory itself is
//! fsync'd, not just the file. Each family maps the error to its own, naming the path.

use std::fs::File;
use std::io;
use std::path::Path;

/// fsyncs directory `dir`, so that renames, links and removals in it are on disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
