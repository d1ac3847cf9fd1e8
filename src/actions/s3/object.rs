//! One object as the S3 actions report it: key, size, last-modified time and ETag.
//!
//! Times are RFC 3339 UTC with milliseconds, like every time drbook outputs, so a later
//! step can compare them or pass them on as a restore's `snapshot_time`. The ETag is
//! given without S3's quotes; whether it is the object's MD5 (`md5_etag`) decides
//! whether `s3.get` can check a download against it.

use chrono::{DateTime, SecondsFormat, Utc};
use object_store::ObjectMeta;
use serde_json::{Value, json};

/// An object in a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Object {
    pub key: String,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
    /// Without quotes; `None` when the store sent none.
    pub etag: Option<String>,
}

impl From<ObjectMeta> for Object {
    fn from(meta: ObjectMeta) -> Object {
        Object {
            key: meta.location.to_string(),
            size: meta.size,
            last_modified: meta.last_modified,
            etag: meta.e_tag.as_deref().map(unquote),
        }
    }
}

impl Object {
    /// `{key, size, last_modified}`, as `s3.list` lists it.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "key": self.key,
            "size": self.size,
            "last_modified": rfc3339(self.last_modified),
        })
    }
}

/// A time as drbook outputs it: `2026-01-31T10:20:00.000Z`.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An ETag without its quotes (and without a weak `W/` mark).
pub(crate) fn unquote(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_string()
}

/// The ETag as an MD5 of the content, when it is one: a single-part upload's ETag is
/// the MD5 in hex (32 characters). A multipart upload's is `<md5 of the part MD5s>-<n>`
/// and says nothing checkable about the bytes without the part size; an object
/// encrypted with SSE-KMS or SSE-C has an ETag that is no MD5 either, which the MD5
/// check then reports as a mismatch.
pub(crate) fn md5_etag(etag: &str) -> Option<String> {
    (etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| etag.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_single_part_etags_are_md5s() {
        assert_eq!(
            md5_etag(&unquote("\"5D41402ABC4B2A76B9719D911017C592\"")),
            Some("5d41402abc4b2a76b9719d911017c592".to_string())
        );
        assert_eq!(
            md5_etag(&unquote("\"d41d8cd98f00b204e9800998ecf8427e-3\"")),
            None
        );
        assert_eq!(md5_etag("xyz"), None);
    }

    #[test]
    fn times_have_milliseconds_and_z() {
        let time = DateTime::parse_from_rfc3339("2026-01-31T11:20:00+01:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339(time), "2026-01-31T10:20:00.000Z");
    }
}
