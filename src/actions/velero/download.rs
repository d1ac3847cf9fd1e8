//! A restore's results through a DownloadRequest, as `velero restore describe` reads
//! them: drbook creates a DownloadRequest for the Restore's `RestoreResults`, Velero's
//! server answers with a presigned URL of the object (`status.downloadURL`, phase
//! `Processed`), and drbook downloads it.
//!
//! It is the second way, after reading the bucket with the storage location's
//! credentials (`results.rs`): it needs no Secret, only `create` on DownloadRequests,
//! but the URL names the store as Velero's server sees it, which a drill Job inside the
//! cluster reaches and an operator's laptop often does not.
//!
//! The URL carries a signature and an access key id: it is never shown, recorded or put
//! into an error; a failed download is described by the URL's host alone. Velero
//! deletes its DownloadRequests once they expire (10 minutes), so drbook leaves them.

use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{DynamicObject, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};

use super::api::{json as to_json, text, velero_api};
use crate::actions::kube::{Cluster, describe};

/// How long Velero's server may take to answer; it answers within one reconcile.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);
/// How long the download of the results file may take.
const DOWNLOAD_WITHIN: Duration = Duration::from_secs(60);

/// The gzipped results file of Restore `restore` in Velero namespace `namespace`.
/// `Err` says why it could not be had, without the URL's secrets.
pub(crate) async fn results(
    cluster: &Cluster,
    namespace: &str,
    restore: &str,
) -> Result<Vec<u8>, String> {
    let url = requested_url(cluster, namespace, restore).await?;
    let host = host_of(&url);
    let client = reqwest::Client::builder()
        .timeout(DOWNLOAD_WITHIN)
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    // `without_url`: reqwest's errors would otherwise print the presigned URL.
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("cannot download from {host}: {}", e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!(
            "{host} answered the download with HTTP {}",
            response.status()
        ));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("the download from {host} broke off: {}", e.without_url()))?;
    Ok(bytes.to_vec())
}

/// Creates the DownloadRequest and waits for Velero's URL.
async fn requested_url(
    cluster: &Cluster,
    namespace: &str,
    restore: &str,
) -> Result<String, String> {
    let api = velero_api(cluster, "DownloadRequest", "downloadrequests", namespace);
    let name = format!(
        "{restore}-results-{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S%3f")
    );
    let request: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "velero.io/v1",
        "kind": "DownloadRequest",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/managed-by": "drbook"}},
        "spec": {"target": {"kind": "RestoreResults", "name": restore}},
    }))
    .map_err(|e| e.to_string())?;
    let label = format!("DownloadRequest `{namespace}/{name}`");
    let created = api
        .create(&PostParams::default(), &request)
        .await
        .map_err(|e| format!("cannot create {label}: {}", describe(&e)))?;
    let wait = async {
        let mut version = created
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        let by_name = format!("metadata.name={name}");
        // Velero may have answered between the create and the watch: read once first.
        let listed = api
            .list(&ListParams::default().fields(&by_name))
            .await
            .map_err(|e| format!("cannot read {label}: {}", describe(&e)))?;
        if let Some(url) = listed.items.first().and_then(|o| url_of(&to_json(o))) {
            return Ok(url);
        }
        if let Some(v) = listed.metadata.resource_version {
            version = v;
        }
        loop {
            let params = WatchParams::default().fields(&by_name).timeout(60);
            let mut stream = api
                .watch(&params, &version)
                .await
                .map_err(|e| format!("cannot watch {label}: {}", describe(&e)))?
                .boxed();
            while let Some(event) = stream.next().await {
                match event.map_err(|e| format!("watching {label}: {}", describe(&e)))? {
                    WatchEvent::Added(o) | WatchEvent::Modified(o) => {
                        if let Some(url) = url_of(&to_json(&o)) {
                            return Ok(url);
                        }
                        if let Some(v) = o.metadata.resource_version {
                            version = v;
                        }
                    }
                    WatchEvent::Deleted(_) => return Err(format!("{label} was deleted")),
                    WatchEvent::Bookmark(b) => version = b.metadata.resource_version,
                    WatchEvent::Error(status) => {
                        return Err(format!("watching {label}: {}", status.message));
                    }
                }
            }
        }
    };
    tokio::time::timeout(ANSWER_WITHIN, wait)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "Velero's server did not answer {label} within {}s (is it running? `kubectl -n {namespace} get pods`)",
                ANSWER_WITHIN.as_secs()
            ))
        })
}

/// The URL of a processed DownloadRequest.
fn url_of(request: &Value) -> Option<String> {
    let url = text(request, "/status/downloadURL");
    (text(request, "/status/phase") == "Processed" && !url.is_empty()).then_some(url)
}

/// `scheme://host:port` of a URL: all that messages may say of a presigned one.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}",
            parsed.scheme(),
            parsed
                .host_str()
                .map_or_else(String::new, |h| match parsed.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_string(),
                })
        ),
        Err(_) => "the URL Velero gave".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_processed_request_has_a_url() {
        let processed = json!({"status": {"phase": "Processed", "downloadURL": "http://s3/x"}});
        assert_eq!(url_of(&processed).as_deref(), Some("http://s3/x"));
        assert_eq!(url_of(&json!({"status": {"phase": "New"}})), None);
        assert_eq!(url_of(&json!({})), None);
    }

    #[test]
    fn messages_name_the_host_but_never_the_signature() {
        let url = "https://minio.velero.svc:9000/velero/restores/r/restore-r-results.gz?X-Amz-Credential=AKIA123%2F20261207&X-Amz-Signature=abc123";
        assert_eq!(host_of(url), "https://minio.velero.svc:9000");
        assert_eq!(host_of("http://s3.example"), "http://s3.example");
        assert_eq!(host_of("not a url"), "the URL Velero gave");
    }
}
