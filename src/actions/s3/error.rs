//! Why an S3 action did not succeed. Each message names the endpoint, the bucket and the
//! object it was about and says what to do, because an operator reads it in the middle
//! of a restore, often with a store they did not set up. No message ever carries a
//! credential: the client's errors are reduced to the S3 error code, the HTTP status or
//! the network cause before they get here.

use std::fmt;
use std::path::PathBuf;

/// A failed S3 action.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("parameter `{name}` {problem}")]
    BadParam { name: &'static str, problem: String },

    #[error(
        "{} missing; pass the store's credentials, e.g. `access_key_id: \"{{{{ secrets.s3_access_key }}}}\"` and `secret_access_key: \"{{{{ secrets.s3_secret_key }}}}\"` (drbook never reads AWS_* variables or ~/.aws)",
        match (missing_key_id, missing_secret) {
            (true, true) => "parameters `access_key_id` and `secret_access_key` are",
            (true, false) => "parameter `access_key_id` is (`secret_access_key` is given)",
            _ => "parameter `secret_access_key` is (`access_key_id` is given)",
        }
    )]
    MissingCredentials {
        missing_key_id: bool,
        missing_secret: bool,
    },

    #[error("could not set up the S3 client for bucket `{bucket}` at {endpoint}: {detail}")]
    Client {
        endpoint: String,
        bucket: String,
        detail: String,
    },

    #[error(
        "bucket `{bucket}` does not exist at {endpoint}; check `bucket` (names are case-sensitive), `endpoint` and `region`"
    )]
    NoBucket { endpoint: String, bucket: String },

    #[error("{0} does not exist; check `key`, or find the object with `s3.list` or `s3.latest`")]
    NoKey(Box<Place>),

    #[error(
        "{endpoint} refused to {what} bucket `{bucket}` ({detail}); check `access_key_id` and `secret_access_key`, and that this key may {permission} on the bucket"
    )]
    Denied {
        what: &'static str,
        permission: &'static str,
        endpoint: String,
        bucket: String,
        detail: String,
    },

    #[error(
        "cannot reach the S3 endpoint {endpoint} ({detail}); check `endpoint` (scheme, host and port) and that the store runs and is reachable from here"
    )]
    Unreachable { endpoint: String, detail: String },

    #[error("could not {what} bucket `{bucket}` at {endpoint}: {detail}")]
    Request {
        what: &'static str,
        endpoint: String,
        bucket: String,
        detail: String,
    },

    #[error("{0}")]
    NoMatch(Box<NoMatch>),

    #[error(
        "`{}` already exists and differs from object `{key}` in bucket `{bucket}` ({why}); drbook never overwrites a file: choose another `file`, e.g. with `{{{{ run.id }}}}` in its name, or move the existing one away",
        file.display()
    )]
    FileExists {
        file: PathBuf,
        key: String,
        bucket: String,
        why: String,
    },

    #[error(
        "the download of {object} has {actual} bytes, but the object has {expected}; the partial file `{}` was deleted. Run the step again (a `retry:` does this)",
        partial.display()
    )]
    SizeMismatch {
        object: Box<Place>,
        expected: u64,
        actual: u64,
        partial: PathBuf,
    },

    #[error(
        "the download of {object} is corrupt: its MD5 is {md5}, but the object's ETag says {etag}; the partial file `{}` was deleted. Run the step again; if it fails the same way, the object is damaged in the store (or encrypted with SSE-KMS or SSE-C, whose ETag is no MD5)",
        partial.display()
    )]
    EtagMismatch {
        object: Box<Place>,
        md5: String,
        etag: String,
        partial: PathBuf,
    },

    #[error(
        "{object} changed while it was downloaded (its ETag is no longer {etag}); run the step again to download the new version, and check what writes to the bucket during a restore"
    )]
    Changed { object: Box<Place>, etag: String },

    #[error(
        "the store sent nothing of {object} for {secs} s; the partial file `{}` is kept and the next attempt resumes it. Check the network, then run the step again",
        partial.display()
    )]
    Stalled {
        object: Box<Place>,
        secs: u64,
        partial: PathBuf,
    },

    #[error("could not {what} `{}`: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Which object of which store a message is about.
#[derive(Debug, Clone)]
pub struct Place {
    pub endpoint: String,
    pub bucket: String,
    pub key: String,
}

impl Place {
    pub(crate) fn boxed(endpoint: &str, bucket: &str, key: &str) -> Box<Place> {
        Box::new(Place {
            endpoint: endpoint.to_string(),
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "object `{}` in bucket `{}` at {}",
            self.key, self.bucket, self.endpoint
        )
    }
}

/// What `s3.latest` looked for and found instead.
#[derive(Debug)]
pub struct NoMatch {
    pub endpoint: String,
    pub bucket: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub before: Option<String>,
    /// Objects under the prefix.
    pub listed: usize,
    /// Of those, the ones that also have the suffix.
    pub matching: usize,
    /// When `before` excluded every match: the oldest and the newest match's time.
    pub excluded: Option<(String, String)>,
}

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no object in bucket `{}` at {} matches{}{}{}; {}",
            self.bucket,
            self.endpoint,
            filter_note("prefix", self.prefix.as_deref()),
            filter_note("suffix", self.suffix.as_deref()),
            self.before
                .as_deref()
                .map(|b| format!(" and is older than `before` {b}"))
                .unwrap_or_default(),
            no_match_hint(
                self.listed,
                self.matching,
                self.excluded.as_ref(),
                self.prefix.is_some()
            ),
        )
    }
}

fn filter_note(name: &str, value: Option<&str>) -> String {
    value.map(|v| format!(" {name} `{v}`")).unwrap_or_default()
}

fn no_match_hint(
    listed: usize,
    matching: usize,
    excluded: Option<&(String, String)>,
    has_prefix: bool,
) -> String {
    let under = if has_prefix {
        "under the prefix"
    } else {
        "in the bucket"
    };
    let objects = |n: usize| match n {
        1 => "1 object".to_string(),
        n => format!("{n} objects"),
    };
    match (listed, excluded) {
        (0, _) => format!(
            "there are 0 objects {under}: check `bucket` and `prefix` (KKP names its backups `<clusterID>-<backup config>-<time>.db.gz`, flat in the bucket) and that backups are being written"
        ),
        (n, Some((oldest, newest))) => format!(
            "{} of the {} {under} match, but none is older than `before`: the oldest is from {oldest}, the newest from {newest}. No backup was taken before that time; check `before`, and whether older backups were removed by the retention (`keep`)",
            objects(matching),
            objects(n)
        ),
        (n, None) => format!(
            "there are {} {under}, none with that suffix: check `suffix`",
            objects(n)
        ),
    }
}
