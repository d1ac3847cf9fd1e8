//! The warning and error texts of a finished Restore. Velero keeps only their counts in
//! the Restore's status; the texts are in the storage location's bucket, in
//! `<prefix>/restores/<name>/restore-<name>-results.gz` (gzipped JSON
//! `{"warnings": R, "errors": R}`, `R = {velero: [], cluster: [], namespaces: {ns: []}}`).
//! The CLI fetches them through a DownloadRequest whose presigned URL names the store as
//! the cluster sees it, which an operator's machine often cannot reach; so drbook first
//! reads the object straight from the bucket with the location's own credentials, which
//! works wherever the bucket is reachable (domain-facts §9.1), and only when that fails
//! asks Velero through a DownloadRequest (`download.rs`), which works where the cluster's
//! view of the store is reachable and needs no Secret.

use std::collections::BTreeMap;
use std::io::Read as _;

use serde::Deserialize;
use serde_json::Value;

use super::api::text;
use super::bsl;
use crate::actions::execute::ActionRequest;
use crate::actions::kube::Cluster;

/// One half of the results (warnings or errors), as Velero writes it.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct Texts {
    velero: Vec<String>,
    cluster: Vec<String>,
    namespaces: BTreeMap<String, Vec<String>>,
}

/// The results file.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct Results {
    warnings: Texts,
    errors: Texts,
}

impl Texts {
    /// The texts grouped by where they arose, as `velero restore describe` groups them.
    fn lines(&self, heading: &str, out: &mut Vec<String>) {
        let total = self.velero.len()
            + self.cluster.len()
            + self.namespaces.values().map(Vec::len).sum::<usize>();
        if total == 0 {
            return;
        }
        out.push(format!("{heading} ({total}):"));
        let mut group = |title: String, texts: &[String]| {
            if texts.is_empty() {
                return;
            }
            out.push(format!("  {title}:"));
            out.extend(texts.iter().map(|t| format!("    - {t}")));
        };
        group("Velero".into(), &self.velero);
        group("Cluster".into(), &self.cluster);
        for (namespace, texts) in &self.namespaces {
            group(format!("Namespace {namespace}"), texts);
        }
    }
}

impl Results {
    /// Errors first, then warnings, each grouped.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.errors.lines("Errors", &mut out);
        self.warnings.lines("Warnings", &mut out);
        out
    }
}

/// Reads the results of Restore `name`: from the bucket of the storage location its
/// backup lives in, else through a DownloadRequest. `Err` says why neither worked
/// (never with a credential).
pub(crate) async fn fetch(
    cluster: &Cluster,
    request: &ActionRequest,
    namespace: &str,
    name: &str,
    backup: &Value,
) -> Result<Results, String> {
    let from_bucket = match from_bucket(cluster, request, namespace, backup, name).await {
        Ok((bytes, key, bucket)) => {
            return parse(&bytes).map_err(|e| format!("`{key}` in bucket `{bucket}`: {e}"));
        }
        Err(why) => why,
    };
    match super::download::results(cluster, namespace, name).await {
        Ok(bytes) => parse(&bytes).map_err(|e| format!("the results Velero served: {e}")),
        Err(why) => Err(format!(
            "from the bucket: {from_bucket}; through a DownloadRequest: {why}"
        )),
    }
}

/// The gzipped results file from the bucket, with its key and bucket for messages.
async fn from_bucket(
    cluster: &Cluster,
    request: &ActionRequest,
    namespace: &str,
    backup: &Value,
    name: &str,
) -> Result<(Vec<u8>, String, String), String> {
    let location = match text(backup, "/spec/storageLocation") {
        n if n.is_empty() => "default".to_string(),
        n => n,
    };
    let found = bsl::read(cluster, namespace, &location)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("storage location `{namespace}/{location}` does not exist"))?;
    let (store, prefix) = bsl::open_bucket(cluster, request, namespace, &found)
        .await
        .map_err(|e| format!("storage location `{location}`: {e}"))?;
    let key = results_key(&prefix, name);
    let got = store
        .get(&key, object_store::GetOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let bytes = got
        .bytes()
        .await
        .map_err(|e| format!("reading `{key}` broke off: {e}"))?;
    Ok((bytes.to_vec(), key, store.bucket.clone()))
}

/// Where Velero writes a restore's results under the location's prefix.
pub(crate) fn results_key(prefix: &str, name: &str) -> String {
    let path = format!("restores/{name}/restore-{name}-results.gz");
    match prefix.trim_matches('/') {
        "" => path,
        p => format!("{p}/{path}"),
    }
}

/// The results from the gzipped JSON.
fn parse(gzipped: &[u8]) -> Result<Results, String> {
    let mut json = String::new();
    flate2::read::GzDecoder::new(gzipped)
        .read_to_string(&mut json)
        .map_err(|e| format!("not gzipped JSON ({e})"))?;
    serde_json::from_str(&json).map_err(|e| format!("not Velero's results JSON ({e})"))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn results_are_grouped_errors_first() {
        let json = r#"{"warnings": {"namespaces": {"shop": ["could not restore, ConfigMap \"a\" already exists. Warning: the in-cluster version is different than the backed-up version"]}},
                       "errors": {"velero": ["timed out"], "cluster": [], "namespaces": {"db": ["x", "y"]}}}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json.as_bytes()).unwrap();
        let results = parse(&gz.finish().unwrap()).unwrap();
        assert_eq!(
            results.lines(),
            [
                "Errors (3):",
                "  Velero:",
                "    - timed out",
                "  Namespace db:",
                "    - x",
                "    - y",
                "Warnings (1):",
                "  Namespace shop:",
                "    - could not restore, ConfigMap \"a\" already exists. Warning: the in-cluster version is different than the backed-up version",
            ]
        );
        assert!(parse(b"plain").is_err());
    }

    #[test]
    fn the_key_is_under_the_prefix() {
        assert_eq!(results_key("", "r"), "restores/r/restore-r-results.gz");
        assert_eq!(
            results_key("/seed/", "r"),
            "seed/restores/r/restore-r-results.gz"
        );
    }
}
