//! The connection to one bucket, built only from the step's parameters, and the two
//! reads every S3 action starts with: listing keys under a prefix and asking for one
//! object's metadata.
//!
//! The client is built with `AmazonS3Builder::new()`, never `from_env()`: an operator's
//! shell at 3 a.m. may carry another store's `AWS_*` keys, and silently using them reads
//! the wrong bucket or fails in a way nobody can explain. Missing credentials are an
//! error that names both parameters. The builder and the client are never formatted
//! with `Debug` (it would print the secret), and the client's errors are reduced here to
//! the S3 error code, the HTTP status or the network cause (`describe`), so no message
//! can carry a credential.
//!
//! Retries are few and short (a refused connection fails within a second or so): a
//! runbook step has `retry:` for the patient case, and an operator waiting on a step
//! wants to hear that the endpoint is wrong, not wait three minutes to learn it.

use std::error::Error as _;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, Certificate, ClientOptions, ObjectMeta, ObjectStoreExt, RetryConfig,
};
use serde_json::{Map, Value};

use super::error::{Place, S3Error};
use super::object::Object;
use crate::actions::execute::{ActionError, optional_bool, optional_str, required_str};
use crate::actions::{ParamKind, ParamSpec};

/// `prefix` of `s3.list` and `s3.latest`.
pub(crate) const PREFIX: ParamSpec = ParamSpec {
    name: "prefix",
    kind: ParamKind::String,
    required: false,
    doc: "Only keys that start with this text, e.g. `<clusterID>-default-backups-` (a plain prefix, not a folder).",
};

/// The parameters every S3 action takes, in the order the docs list them.
pub(crate) const STORE_PARAMS: [ParamSpec; 7] = [
    ParamSpec {
        name: "bucket",
        kind: ParamKind::String,
        required: true,
        doc: "The bucket's name.",
    },
    ParamSpec {
        name: "endpoint",
        kind: ParamKind::String,
        required: false,
        doc: "The store's URL, e.g. `https://minio.example.com:9000` or `http://10.0.0.5:9000` (plain HTTP is allowed); default AWS S3 of `region`.",
    },
    ParamSpec {
        name: "region",
        kind: ParamKind::String,
        required: false,
        doc: "The region the requests are signed for (default `us-east-1`, which MinIO accepts).",
    },
    ParamSpec {
        name: "access_key_id",
        kind: ParamKind::String,
        required: true,
        doc: "The access key, e.g. `{{ secrets.s3_access_key }}`. Never read from the environment.",
    },
    ParamSpec {
        name: "secret_access_key",
        kind: ParamKind::String,
        required: true,
        doc: "The secret key, e.g. `{{ secrets.s3_secret_key }}`. Never read from the environment, never shown.",
    },
    ParamSpec {
        name: "path_style",
        kind: ParamKind::Bool,
        required: false,
        doc: "Address the bucket as `<endpoint>/<bucket>` (default `true`, which MinIO needs); `false` for `<bucket>.<endpoint>`.",
    },
    ParamSpec {
        name: "cacert",
        kind: ParamKind::String,
        required: false,
        doc: "Absolute path of a PEM file with the CA certificate(s) of an `https://` endpoint with a private CA (e.g. MinIO inside the cluster), trusted in addition to the system's; empty = none.",
    },
];

/// The HTTP client's options, with the CA certificates of `cacert` trusted in addition
/// to the system's.
fn client_options(params: &Map<String, Value>) -> Result<ClientOptions, ActionError> {
    let mut options = ClientOptions::new()
        .with_allow_http(true)
        .with_connect_timeout(CONNECT_TIMEOUT)
        // A whole download may take long; a stalled one may not.
        .with_timeout_disabled()
        .with_read_timeout(READ_TIMEOUT);
    for certificate in ca_certificates(params)? {
        options = options.with_root_certificate(certificate);
    }
    Ok(options)
}

/// The certificates of the `cacert` PEM file; none when the parameter is absent or
/// empty (a template left at an empty default).
fn ca_certificates(params: &Map<String, Value>) -> Result<Vec<Certificate>, ActionError> {
    let Some(path) = optional_str(params, "cacert")?
        .map(str::trim)
        .filter(|p| !p.is_empty())
    else {
        return Ok(Vec::new());
    };
    let bad = |problem: String| -> ActionError {
        S3Error::BadParam {
            name: "cacert",
            problem,
        }
        .into()
    };
    if !std::path::Path::new(path).is_absolute() {
        return Err(bad(format!(
            "is `{path}`, a relative path; give the absolute path of the CA certificate (PEM)"
        )));
    }
    let pem = std::fs::read(path)
        .map_err(|e| bad(format!("names `{path}`, which cannot be read ({e}); give the CA certificate (PEM) of the endpoint")))?;
    let certificates = Certificate::from_pem_bundle(&pem).map_err(|_| {
        bad(format!(
            "names `{path}`, which holds no PEM certificate; give the CA certificate (PEM) of the endpoint"
        ))
    })?;
    if certificates.is_empty() {
        return Err(bad(format!(
            "names `{path}`, which holds no PEM certificate; give the CA certificate (PEM) of the endpoint"
        )));
    }
    Ok(certificates)
}

/// How many times a failed request is retried, and for how long at most.
const RETRIES: usize = 3;
const RETRY_FOR: Duration = Duration::from_secs(10);
/// Connecting may take this long; then the endpoint counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A response that sends nothing for this long is broken off (and retried).
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Keys asked for per list request (S3's maximum).
const PAGE: usize = 1000;

/// One bucket of one store, ready to be read.
pub(crate) struct Store {
    client: AmazonS3,
    /// The endpoint as messages show it.
    pub endpoint: String,
    pub bucket: String,
}

impl Store {
    /// The store the step's parameters describe.
    pub(crate) fn from_params(params: &Map<String, Value>) -> Result<Store, ActionError> {
        let bucket = required_str(params, "bucket")?.trim().to_string();
        if bucket.is_empty() {
            return Err(S3Error::BadParam {
                name: "bucket",
                problem: "is empty".into(),
            }
            .into());
        }
        let region = optional_str(params, "region")?
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or("us-east-1");
        let endpoint = optional_str(params, "endpoint")?
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty());
        if let Some(endpoint) = &endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(S3Error::BadParam {
                name: "endpoint",
                problem: format!(
                    "must be a URL starting with `https://` or `http://`, but is `{endpoint}`"
                ),
            }
            .into());
        }
        let key_id = optional_str(params, "access_key_id")?.filter(|k| !k.is_empty());
        let secret = optional_str(params, "secret_access_key")?.filter(|k| !k.is_empty());
        let (Some(key_id), Some(secret)) = (key_id, secret) else {
            return Err(S3Error::MissingCredentials {
                missing_key_id: key_id.is_none(),
                missing_secret: secret.is_none(),
            }
            .into());
        };
        let path_style = optional_bool(params, "path_style")?.unwrap_or(true);
        let shown = endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));

        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_region(region)
            .with_access_key_id(key_id)
            .with_secret_access_key(secret)
            .with_virtual_hosted_style_request(!path_style)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: RETRIES,
                retry_timeout: RETRY_FOR,
            })
            .with_client_options(client_options(params)?);
        if let Some(endpoint) = &endpoint {
            // With virtual-hosted addressing the endpoint must name the bucket itself.
            let url = if path_style {
                endpoint.clone()
            } else {
                virtual_host(endpoint, &bucket)
            };
            builder = builder.with_endpoint(url);
        }
        // reqwest is built without a crypto provider of its own (see Cargo.toml) and
        // panics when it finds none: make ring, which etcd's TLS and the PKI checks use
        // already, the process's rustls provider. A later call finds it installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = builder.build().map_err(|e| S3Error::Client {
            endpoint: shown.clone(),
            bucket: bucket.clone(),
            detail: describe(&e).detail,
        })?;
        Ok(Store {
            client,
            endpoint: shown,
            bucket,
        })
    }

    /// Every object whose key starts with `prefix` (a plain string prefix, not a
    /// "folder": KKP's backups lie flat in the bucket), in S3's order (by key).
    /// `on_page` hears the running count after each page.
    pub(crate) async fn list(
        &self,
        prefix: Option<&str>,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<Object>, S3Error> {
        let mut objects = Vec::new();
        let mut page_token = None;
        loop {
            let options = PaginatedListOptions {
                max_keys: Some(PAGE),
                page_token: page_token.take(),
                ..PaginatedListOptions::default()
            };
            let page = self
                .client
                .list_paginated(prefix.filter(|p| !p.is_empty()), options)
                .await
                .map_err(|e| self.failure(&e, Operation::List, None).known())?;
            objects.extend(page.result.objects.into_iter().map(Object::from));
            on_page(objects.len());
            match page.page_token {
                Some(token) => page_token = Some(token),
                None => break,
            }
        }
        Ok(objects)
    }

    /// The metadata of object `key`.
    pub(crate) async fn head(&self, key: &str) -> Result<ObjectMeta, S3Error> {
        match self.client.head(&ObjectPath::from(key)).await {
            Ok(meta) => Ok(meta),
            Err(e) => Err(self
                .failure(&e, Operation::Get, Some(key))
                .await_bucket(self)
                .await),
        }
    }

    /// Starts a GET of `key` with `options`.
    pub(crate) async fn get(
        &self,
        key: &str,
        options: object_store::GetOptions,
    ) -> Result<object_store::GetResult, S3Error> {
        use object_store::ObjectStore;
        let expected = options.if_match.clone().unwrap_or_default();
        match self.client.get_opts(&ObjectPath::from(key), options).await {
            Ok(result) => Ok(result),
            Err(e) => {
                let mut error = self
                    .failure(&e, Operation::Get, Some(key))
                    .await_bucket(self)
                    .await;
                if let S3Error::Changed { etag, .. } = &mut error {
                    *etag = expected;
                }
                Err(error)
            }
        }
    }

    /// Whether the bucket exists: asked after a 404 for an object, whose response (a
    /// HEAD's has no body) does not say whether the bucket or the key is missing.
    async fn bucket_exists(&self) -> Option<bool> {
        let options = PaginatedListOptions {
            max_keys: Some(1),
            ..PaginatedListOptions::default()
        };
        match self.client.list_paginated(None, options).await {
            Ok(_) => Some(true),
            Err(e) => match describe(&e).kind {
                Kind::NoSuchBucket => Some(false),
                _ => None,
            },
        }
    }

    /// The error for a failed request, by what the store said.
    pub(crate) fn failure(
        &self,
        error: &object_store::Error,
        operation: Operation,
        key: Option<&str>,
    ) -> Failure {
        let described = describe(error);
        let endpoint = self.endpoint.clone();
        let bucket = self.bucket.clone();
        let error = match (described.kind, key) {
            (Kind::NoSuchBucket, _) => S3Error::NoBucket { endpoint, bucket },
            (Kind::NotFound, None) => S3Error::NoBucket { endpoint, bucket },
            (Kind::NoSuchKey, Some(key)) => S3Error::NoKey(Place::boxed(&endpoint, &bucket, key)),
            (Kind::NotFound, Some(key)) => {
                return Failure::NotFound(S3Error::NoKey(Place::boxed(&endpoint, &bucket, key)));
            }
            (Kind::Denied, _) => S3Error::Denied {
                what: operation.verb(),
                permission: operation.permission(),
                endpoint,
                bucket,
                detail: described.detail,
            },
            (Kind::Unreachable, _) => S3Error::Unreachable {
                endpoint,
                detail: described.detail,
            },
            (Kind::Changed, Some(key)) => S3Error::Changed {
                object: Place::boxed(&endpoint, &bucket, key),
                etag: String::new(),
            },
            _ => S3Error::Request {
                what: operation.verb(),
                endpoint,
                bucket,
                detail: match key {
                    Some(key) => format!("object `{key}`: {}", described.detail),
                    None => described.detail,
                },
            },
        };
        Failure::Known(error)
    }
}

/// A failed request, classified; a bare 404 for an object still needs to learn whether
/// the bucket or the key is missing.
pub(crate) enum Failure {
    Known(S3Error),
    NotFound(S3Error),
}

impl Failure {
    async fn await_bucket(self, store: &Store) -> S3Error {
        match self {
            Failure::Known(error) => error,
            Failure::NotFound(error) => match store.bucket_exists().await {
                Some(false) => S3Error::NoBucket {
                    endpoint: store.endpoint.clone(),
                    bucket: store.bucket.clone(),
                },
                _ => error,
            },
        }
    }

    /// The error, for a failure that needs no further question.
    pub(crate) fn known(self) -> S3Error {
        match self {
            Failure::Known(error) | Failure::NotFound(error) => error,
        }
    }
}

/// What a request was for, in messages.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation {
    List,
    Get,
}

impl Operation {
    fn verb(self) -> &'static str {
        match self {
            Operation::List => "list",
            Operation::Get => "read an object of",
        }
    }

    fn permission(self) -> &'static str {
        match self {
            Operation::List => "`s3:ListBucket`",
            Operation::Get => "`s3:GetObject` (and `s3:ListBucket`)",
        }
    }
}

/// What kind of failure a client error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    NoSuchBucket,
    NoSuchKey,
    /// A 404 without a body that says which.
    NotFound,
    Denied,
    Unreachable,
    /// An `If-Match` precondition failed: the object changed.
    Changed,
    Other,
}

/// A client error reduced to its kind and a short text free of credentials.
pub(crate) struct Described {
    pub kind: Kind,
    pub detail: String,
}

/// Classifies a client error. S3 says what is wrong in an XML body (`<Code>NoSuchBucket`);
/// a network failure is an `io::Error` a few causes down (reqwest → hyper → the socket).
pub(crate) fn describe(error: &object_store::Error) -> Described {
    let mut texts = vec![error.to_string()];
    let mut io_kind = None;
    let mut cause = error.source();
    while let Some(inner) = cause {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        texts.push(inner.to_string());
        cause = inner.source();
    }
    let all = texts.join(" ");
    let code = between(&all, "<Code>", "</Code>");
    let message = between(&all, "<Message>", "</Message>");
    let s3_said = code.map(|code| match message {
        Some(message) => format!("{code}: {message}"),
        None => code.to_string(),
    });
    let kind = match (code, error) {
        (Some("NoSuchBucket"), _) => Kind::NoSuchBucket,
        (Some("NoSuchKey"), _) => Kind::NoSuchKey,
        (
            Some(
                "AccessDenied"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "AllAccessDisabled"
                | "InvalidToken"
                | "ExpiredToken",
            ),
            _,
        ) => Kind::Denied,
        (_, object_store::Error::PermissionDenied { .. })
        | (_, object_store::Error::Unauthenticated { .. }) => Kind::Denied,
        (_, object_store::Error::NotFound { .. }) => Kind::NotFound,
        (_, object_store::Error::Precondition { .. }) => Kind::Changed,
        _ if io_kind.is_some() || all.contains("error sending request") => Kind::Unreachable,
        _ => Kind::Other,
    };
    let detail = if let Some(said) = s3_said {
        said
    } else if let Some(io) = io_kind {
        match io {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            other => innermost(&texts).unwrap_or_else(|| other.to_string()),
        }
    } else if let Some(status) = status_of(&all) {
        status
    } else {
        innermost(&texts).unwrap_or_else(|| texts[0].clone())
    };
    Described { kind, detail }
}

/// The text between `open` and `close`, first occurrence.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// "HTTP status 403 Forbidden", from object_store's "non-2xx status code: 403 Forbidden".
fn status_of(text: &str) -> Option<String> {
    let rest = text.split("status code: ").nth(1)?;
    let status: String = rest.split(':').next()?.trim().to_string();
    (!status.is_empty()).then(|| format!("HTTP status {status}"))
}

/// The last cause in a chain: usually the one that says what happened ("Connection
/// refused (os error 111)", "dns error: failed to lookup address").
fn innermost(texts: &[String]) -> Option<String> {
    texts
        .iter()
        .rev()
        .find(|t| !t.is_empty() && t.len() < 300)
        .cloned()
}

/// `https://host:port` → `https://<bucket>.host:port`.
fn virtual_host(endpoint: &str, bucket: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{bucket}.{rest}"),
        None => endpoint.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn refusal(value: Value) -> String {
        match Store::from_params(&params(value)) {
            Ok(_) => panic!("the store was built"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn credentials_are_required_and_never_taken_from_the_environment() {
        let err = refusal(json!({"bucket": "b", "endpoint": "http://127.0.0.1:1"}));
        assert!(
            err.starts_with("parameters `access_key_id` and `secret_access_key` are missing; pass"),
            "{err}"
        );
        assert!(err.contains("never reads AWS_* variables"), "{err}");
        let err = refusal(json!({"bucket": "b", "access_key_id": "AK"}));
        assert!(
            err.starts_with("parameter `secret_access_key` is (`access_key_id` is given) missing"),
            "{err}"
        );
    }

    #[test]
    fn endpoints_need_a_scheme() {
        let err = refusal(json!({
            "bucket": "b", "endpoint": "minio:9000",
            "access_key_id": "AK", "secret_access_key": "SK",
        }));
        assert_eq!(
            err,
            "parameter `endpoint` must be a URL starting with `https://` or `http://`, but is `minio:9000`"
        );
    }

    #[test]
    fn virtual_hosted_endpoints_name_the_bucket() {
        assert_eq!(
            virtual_host("https://minio.example:9000", "backups"),
            "https://backups.minio.example:9000"
        );
    }

    #[test]
    fn s3_error_bodies_are_reduced_to_their_code() {
        let error = object_store::Error::Generic {
            store: "S3",
            source: "Error performing GET http://h/b in 1ms - Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>".into(),
        };
        let described = describe(&error);
        assert_eq!(described.kind, Kind::NoSuchBucket);
        assert_eq!(
            described.detail,
            "NoSuchBucket: The specified bucket does not exist"
        );
        let error = object_store::Error::Generic {
            store: "S3",
            source: "Error performing GET http://h/b in 1ms - Server returned non-2xx status code: 502 Bad Gateway: ".into(),
        };
        let described = describe(&error);
        assert_eq!(described.kind, Kind::Other);
        assert_eq!(described.detail, "HTTP status 502 Bad Gateway");
    }
}
