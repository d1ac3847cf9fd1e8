//! The restic actions: `restic.snapshots` lists a repository and picks a snapshot (the
//! newest matching, optionally before a time), `restic.restore` restores one into a new
//! directory. For KubeOne's `backups-restic` addon that is the etcd snapshot and the
//! control-plane CAs of scenario S3.
//!
//! Both run the restic binary (0.14 and later) through `program`, in an environment
//! drbook builds, and recognise its failures by exit code or, for restic before 0.17,
//! by message (`error`).

mod announced;
mod error;
mod manual;
mod params;
mod repository;
mod restore;
mod restore_snapshot;
mod snapshot;
mod snapshots;
mod staging;

pub use error::ResticError;

pub(crate) use restore::SPEC as RESTORE;
pub(crate) use snapshots::SPEC as SNAPSHOTS;
