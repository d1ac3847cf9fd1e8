//! BackupStorageLocations: reading one and its phase, waiting (bounded) for it to be
//! Available on a rebuilt cluster, and opening its bucket with the S3 credentials of the
//! Secret it names, to read a restore's results.
//!
//! The credentials Secret is the one Velero's AWS plugin reads: `spec.credential`
//! (`{name, key}`), else `cloud-credentials`/`cloud` in the Velero namespace, an AWS
//! credentials file (INI) whose profile is `spec.config.profile` or `default`. The keys
//! go to the S3 client and nowhere else: no message, output or event carries them.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::api::{api_error, core_api, text, velero_api};
use crate::actions::execute::{ActionError, ActionRequest};
use crate::actions::kube::{Cluster, is_not_found};
use crate::actions::s3::Store;

/// A storage location's phase as messages show it: Velero leaves it empty until its
/// first validation (every minute).
pub(crate) fn phase(bsl: &Value) -> String {
    match text(bsl, "/status/phase").as_str() {
        "" => "not validated yet".to_string(),
        phase => phase.to_string(),
    }
}

/// True when Velero has found the location reachable.
pub(crate) fn available(bsl: &Value) -> bool {
    text(bsl, "/status/phase") == "Available"
}

/// Storage location `name`, or `None` when it does not exist.
pub(crate) async fn read(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<Value>, ActionError> {
    let api = velero_api(
        cluster,
        "BackupStorageLocation",
        "backupstoragelocations",
        namespace,
    );
    match api.get(name).await {
        Ok(found) => Ok(Some(super::api::json(&found))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(api_error(
            "read",
            format!("BackupStorageLocation `{namespace}/{name}`"),
            &e,
        )),
    }
}

/// Every storage location in the Velero namespace.
pub(crate) async fn list(cluster: &Cluster, namespace: &str) -> Result<Vec<Value>, ActionError> {
    let api = velero_api(
        cluster,
        "BackupStorageLocation",
        "backupstoragelocations",
        namespace,
    );
    api.list(&Default::default())
        .await
        .map(|l| l.items.iter().map(super::api::json).collect())
        .map_err(|e| {
            api_error(
                "list",
                format!("the BackupStorageLocations in namespace `{namespace}`"),
                &e,
            )
        })
}

/// The bucket a storage location names, opened with its credentials, and the prefix
/// Velero writes under. `Err` says why it cannot be opened, without any credential.
pub(crate) async fn open_bucket(
    cluster: &Cluster,
    request: &ActionRequest,
    namespace: &str,
    bsl: &Value,
) -> Result<(Store, String), String> {
    let bucket = text(bsl, "/spec/objectStorage/bucket");
    if bucket.is_empty() {
        return Err("the storage location names no bucket (`spec.objectStorage.bucket`)".into());
    }
    let prefix = text(bsl, "/spec/objectStorage/prefix");
    let (secret_name, secret_key) = match bsl.pointer("/spec/credential") {
        Some(credential) => (text(credential, "/name"), text(credential, "/key")),
        None => ("cloud-credentials".to_string(), "cloud".to_string()),
    };
    let secrets = core_api(cluster, "Secret", "secrets", Some(namespace));
    let secret = secrets.get(&secret_name).await.map_err(|e| {
        format!(
            "its credentials Secret `{namespace}/{secret_name}` cannot be read: {}",
            crate::actions::kube::describe(&e)
        )
    })?;
    let secret = super::api::json(&secret);
    let encoded = text(&secret, &format!("/data/{secret_key}"));
    let file = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            format!("Secret `{namespace}/{secret_name}` has no readable key `{secret_key}`")
        })?;
    let profile = match text(bsl, "/spec/config/profile") {
        p if p.is_empty() => "default".to_string(),
        p => p,
    };
    let (key_id, secret_key_value) = aws_credentials(&file, &profile).ok_or_else(|| {
        format!(
            "key `{secret_key}` of Secret `{namespace}/{secret_name}` has no profile `{profile}` with `aws_access_key_id` and `aws_secret_access_key`"
        )
    })?;
    let endpoint = text(bsl, "/spec/config/s3Url");
    let region = text(bsl, "/spec/config/region");
    let path_style = text(bsl, "/spec/config/s3ForcePathStyle") == "true";
    let mut params = Map::new();
    params.insert("bucket".into(), json!(bucket));
    if !endpoint.is_empty() {
        params.insert("endpoint".into(), json!(endpoint));
    }
    if !region.is_empty() {
        params.insert("region".into(), json!(region));
    }
    params.insert("path_style".into(), json!(path_style));
    params.insert("access_key_id".into(), json!(key_id));
    params.insert("secret_access_key".into(), json!(secret_key_value));
    let ca = text(bsl, "/spec/objectStorage/caCert");
    if !ca.is_empty() {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(ca.trim())
            .map_err(|_| "its `spec.objectStorage.caCert` is not base64".to_string())?;
        let path = std::path::absolute(request.workdir.join(format!(
            ".velero-bsl-{}-ca.pem",
            text(bsl, "/metadata/name")
        )))
        .map_err(|e| format!("cannot place its CA certificate: {e}"))?;
        std::fs::write(&path, pem).map_err(|e| {
            format!(
                "cannot write its CA certificate to `{}`: {e}",
                path.display()
            )
        })?;
        params.insert("cacert".into(), json!(path.display().to_string()));
    }
    let store = Store::from_params(&params).map_err(|e| e.to_string())?;
    Ok((store, prefix.trim_matches('/').to_string()))
}

/// The access key and secret of `profile` in an AWS credentials file.
fn aws_credentials(file: &str, profile: &str) -> Option<(String, String)> {
    let mut section = String::new();
    let (mut key_id, mut secret) = (None, None);
    for line in file.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name
                .trim()
                .trim_start_matches("profile ")
                .trim()
                .to_string();
            continue;
        }
        if section != profile {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().to_string();
            match key.trim().to_ascii_lowercase().as_str() {
                "aws_access_key_id" => key_id = Some(value),
                "aws_secret_access_key" => secret = Some(value),
                _ => {}
            }
        }
    }
    Some((key_id?, secret?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_of_an_aws_credentials_file_is_read() {
        let file = "[other]\naws_access_key_id=A\naws_secret_access_key=B\n\n[default]\n# comment\naws_access_key_id = K \nAWS_SECRET_ACCESS_KEY=S\n";
        assert_eq!(
            aws_credentials(file, "default"),
            Some(("K".into(), "S".into()))
        );
        assert_eq!(
            aws_credentials(file, "other"),
            Some(("A".into(), "B".into()))
        );
        assert_eq!(aws_credentials(file, "missing"), None);
        assert_eq!(
            aws_credentials("[default]\naws_access_key_id=K\n", "default"),
            None
        );
    }
}
