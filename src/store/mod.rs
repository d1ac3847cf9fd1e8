//! The record store: where run records of many operators and machines meet, without a
//! server. A store is a directory or `s3://bucket/prefix`; objects in it are only ever
//! created, never overwritten (docs/store.md describes the layout).

mod backend;
mod error;
mod layout;
mod s3;
mod upload;

pub use backend::{Created, Store};
pub use error::StoreError;
pub use layout::{REGISTRATION, Registration};
pub(crate) use layout::{
    is_review as layout_is_review, journal_lines as layout_journal_lines,
    signature_lines as layout_signature_lines,
};
pub use upload::{at_session_end, push, register};

/// `--store` and `--store-endpoint` as given (flag, else environment), not yet opened.
#[derive(Debug, Clone)]
pub struct StoreSpec {
    /// `DIR` or `s3://bucket/prefix`.
    pub location: String,
    /// An S3-compatible server's URL (MinIO, Ceph); AWS itself when absent.
    pub endpoint: Option<String>,
}

impl StoreSpec {
    /// The store named by the flags, else by `$DRBOOK_STORE` / `$DRBOOK_STORE_ENDPOINT`;
    /// `None` when neither names one.
    pub fn resolve(store: Option<&str>, endpoint: Option<&str>) -> Option<StoreSpec> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let location = store.map(str::to_string).or_else(|| env("DRBOOK_STORE"))?;
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| env("DRBOOK_STORE_ENDPOINT"));
        Some(StoreSpec { location, endpoint })
    }
}
