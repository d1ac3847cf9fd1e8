//! The S3 actions: list a bucket, find the newest backup before a time, download one
//! object checked and resumable. Backups of KKP user clusters (etcd snapshots), of
//! KubeOne control planes and their off-site copies all live in S3-compatible stores
//! (MinIO in the cluster, AWS or another provider off site), so this is how a runbook
//! finds and fetches what it restores.
//!
//! The store is spoken to with `object_store` (async, signed requests, ranged GETs),
//! built only from the step's parameters (see `store`).

mod error;
mod get;
mod latest;
mod list;
mod local;
mod manual;
mod object;
mod store;

pub use error::S3Error;

// The Velero actions read a restore's results from its storage location's bucket.
pub(crate) use store::Store;

pub(crate) use get::SPEC as GET;
pub(crate) use latest::SPEC as LATEST;
pub(crate) use list::SPEC as LIST;
