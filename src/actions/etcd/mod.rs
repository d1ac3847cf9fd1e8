//! The etcd actions: snapshots (save, verify, restore) and the live cluster (health,
//! members, status, verify).
//!
//! The live API is spoken with `etcd-client` (gRPC), one client per endpoint; offline
//! snapshot work (`snapshot status`, `snapshot restore`) runs the etcd tool binaries,
//! `etcdutl` when present, else `etcdctl` (see `tool`), in process groups of their own
//! so that cancelling a step stops them.

mod client;
mod error;
mod file_identity;
mod health;
mod manual;
pub(crate) mod member_table;
mod members;
mod params;
mod restore_staging;
mod snapshot_file;
mod snapshot_restore;
mod snapshot_save;
mod snapshot_verify;
mod status;
mod tool;
mod verify;

pub use error::{EtcdError, SnapshotProblem};

pub(crate) use health::SPEC as HEALTH;
pub(crate) use members::SPEC as MEMBERS;
pub(crate) use snapshot_restore::SPEC as SNAPSHOT_RESTORE;
pub(crate) use snapshot_save::SPEC as SNAPSHOT_SAVE;
pub(crate) use snapshot_verify::SPEC as SNAPSHOT_VERIFY;
pub(crate) use status::SPEC as STATUS;
pub(crate) use verify::SPEC as VERIFY;
