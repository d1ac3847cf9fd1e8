//! The S3 side of the store: `object_store`'s S3 client, with credentials from the
//! standard `AWS_*` environment variables (a CronJob gets them from a Secret), the
//! conditional create `If-None-Match: *`, and the integrity headers a bucket with
//! S3 Object Lock requires of every upload.
//!
//! The client is built with `AmazonS3Builder::new()` and the four variables read here,
//! not `from_env()`: that would also fall back to the instance metadata service, and a
//! store that silently uses a machine's role is not what an operator asked for.
//! Credentials are never put into a message.

use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, Checksum, S3ConditionalPut};
use object_store::path::Path as ObjectPath;
use object_store::{
    ClientOptions, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload,
};

use super::error::StoreError;

/// An S3 bucket and prefix, and the runtime its async client runs on.
pub(super) struct S3Store {
    client: AmazonS3,
    runtime: tokio::runtime::Runtime,
    location: String,
    prefix: String,
}

impl S3Store {
    pub(super) fn open(
        location: &str,
        bucket: &str,
        prefix: &str,
        endpoint: Option<&str>,
    ) -> Result<S3Store, StoreError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let missing = |missing| StoreError::MissingCredentials {
            location: location.to_string(),
            missing,
        };
        let key_id = env("AWS_ACCESS_KEY_ID").ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?;
        let secret =
            env("AWS_SECRET_ACCESS_KEY").ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?;
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        // A bucket with Object Lock refuses an upload without an integrity header
        // (Content-MD5 or a flexible checksum); the SHA-256 checksum is sent with every
        // PUT, and the algorithm header names it as the AWS SDKs do. object_store signs
        // default headers with the request.
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-amz-sdk-checksum-algorithm",
            reqwest::header::HeaderValue::from_static("SHA256"),
        );
        let options = ClientOptions::new()
            .with_allow_http(endpoint.is_some_and(|e| e.starts_with("http://")))
            .with_connect_timeout(Duration::from_secs(10))
            .with_timeout(Duration::from_secs(120))
            .with_default_headers(headers);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(key_id)
            .with_secret_access_key(secret)
            .with_checksum_algorithm(Checksum::SHA256)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_client_options(options);
        if let Some(token) = env("AWS_SESSION_TOKEN") {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = endpoint {
            // S3-compatible servers (MinIO, Ceph) are addressed path-style.
            builder = builder
                .with_endpoint(endpoint.trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        // reqwest has no crypto provider of its own (see Cargo.toml): ring, as the S3
        // actions install it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = builder.build().map_err(|e| StoreError::S3 {
            action: "open",
            location: location.to_string(),
            key: String::new(),
            detail: describe(&e),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::S3 {
                action: "start the client of",
                location: location.to_string(),
                key: String::new(),
                detail: e.to_string(),
            })?;
        Ok(S3Store {
            client,
            runtime,
            location: location.to_string(),
            prefix: prefix.to_string(),
        })
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    fn error(&self, action: &'static str, key: &str, e: &object_store::Error) -> StoreError {
        StoreError::S3 {
            action,
            location: self.location.clone(),
            key: key.to_string(),
            detail: describe(e),
        }
    }

    /// Creates `key` unless it exists (false then).
    pub(super) fn create(&self, key: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let payload = PutPayload::from(bytes.to_vec());
        let path = self.path(key);
        match self
            .runtime
            .block_on(self.client.put_opts(&path, payload, options))
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(self.error("upload", key, &e)),
        }
    }

    pub(super) fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key);
        let result = self.runtime.block_on(async {
            let got = self.client.get(&path).await?;
            got.bytes().await
        });
        match result {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error("read", key, &e)),
        }
    }

    pub(super) fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        use futures_util::TryStreamExt as _;
        let path = self.path(prefix);
        let metas: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(self.client.list(Some(&path)).try_collect())
            .map_err(|e| self.error("list", prefix, &e))?;
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        Ok(metas
            .into_iter()
            .map(|m| {
                let key = m.location.to_string();
                key.strip_prefix(&strip).map(str::to_string).unwrap_or(key)
            })
            .collect())
    }
}

/// A client error in words: what S3 said (`<Code>: <Message>`), else the innermost
/// cause. The request's signature and credentials are never part of either.
fn describe(error: &object_store::Error) -> String {
    let mut texts = vec![error.to_string()];
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        texts.push(inner.to_string());
        cause = inner.source();
    }
    let all = texts.join(" ");
    let between = |open: &str, close: &str| {
        let start = all.find(open)? + open.len();
        let end = all[start..].find(close)? + start;
        Some(all[start..end].to_string())
    };
    match (
        between("<Code>", "</Code>"),
        between("<Message>", "</Message>"),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => texts.last().cloned().unwrap_or_default(),
    }
}
