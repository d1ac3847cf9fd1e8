//! The rclone actions: copy, sync (behind a deletion guard) and check trees between
//! buckets and local directories, as the KKP rclone syncer mirrors MinIO to an off-site
//! store and as a DR runbook restores it back.
//!
//! rclone runs as a child process (see `tool`) configured only by the step: the remotes
//! are environment variables under names drbook owns, rclone.conf is never read, and
//! nothing of the operator's environment but a few harmless variables reaches it.

mod check;
mod error;
mod failure;
mod guard;
mod listing;
mod manual;
mod params;
mod remotes;
mod sync;
mod tool;

pub use error::RcloneError;

pub(crate) use check::SPEC as CHECK;
pub(crate) use sync::{COPY, SYNC};
