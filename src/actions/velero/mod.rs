//! The Velero actions: find the newest restorable Backup of a schedule, set a
//! BackupStorageLocation ReadOnly or ReadWrite, and run a Restore to its end, through the
//! Kubernetes API (no `velero` binary needed).
//!
//! They are written against what Velero's server actually does (domain-facts §9.1): a
//! Restore's phase starts empty, restores run one at a time (queued ones keep the empty
//! phase), the server rewrites the spec (so a Restore is recognised by its name, never by
//! its spec), every status field is omitted when zero, there is no status subresource,
//! and warning and error texts exist only in the bucket (read directly, or through a
//! DownloadRequest). Every action reaches its cluster
//! through `kube::connect` first, so the identity guard holds for them as for `kube.*`.

mod api;
mod backups;
mod bsl;
mod bsl_access;
mod diagnose;
mod download;
mod error;
mod follow;
mod restore;
mod restore_checks;
mod restore_plan;
mod results;

pub use error::VeleroError;

pub(crate) use backups::{BACKUPS, LATEST as BACKUP_LATEST};
pub(crate) use bsl_access::SPEC as BSL_ACCESS;
pub(crate) use restore::SPEC as RESTORE;
