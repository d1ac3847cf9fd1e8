//! Reading a manifest or a patch the step writes as YAML (or JSON, which is YAML) text,
//! usually a block scalar: `manifest: |`.

use serde_json::Value;

use super::error::KubeError;

/// Parses one YAML document into JSON; `name` is the parameter, for the message.
pub(crate) fn parse(name: &'static str, text: &str) -> Result<Value, KubeError> {
    serde_saphyr::from_str::<Value>(text).map_err(|e| KubeError::BadParam {
        name,
        problem: format!("is not one valid YAML document: {e}"),
    })
}

/// The manifest's `apiVersion`, `kind` and `metadata.name`, each required.
pub(crate) fn identity(manifest: &Value) -> Result<(String, String, String), KubeError> {
    let field = |pointer: &str, what: &str| {
        manifest
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
            .ok_or_else(|| KubeError::BadParam {
                name: "manifest",
                problem: format!(
                    "has no `{what}`; every object needs apiVersion, kind and metadata.name"
                ),
            })
    };
    if !manifest.is_object() {
        return Err(KubeError::BadParam {
            name: "manifest",
            problem: "is not a mapping (an object with apiVersion, kind and metadata)".into(),
        });
    }
    Ok((
        field("/apiVersion", "apiVersion")?,
        field("/kind", "kind")?,
        field("/metadata/name", "metadata.name")?,
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn yaml_becomes_json() {
        let value = parse(
            "manifest",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {n: '1'}\n",
        )
        .unwrap();
        assert_eq!(value["data"]["n"], json!("1"));
        assert_eq!(
            identity(&value).unwrap(),
            ("v1".into(), "ConfigMap".into(), "a".into())
        );
    }

    #[test]
    fn a_manifest_without_a_name_is_refused() {
        let value = parse("manifest", "apiVersion: v1\nkind: ConfigMap\n").unwrap();
        assert_eq!(
            identity(&value).unwrap_err().to_string(),
            "parameter `manifest` has no `metadata.name`; every object needs apiVersion, kind and metadata.name"
        );
    }
}
