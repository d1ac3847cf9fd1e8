//! What a `velero.restore` step asks for, checked before the cluster is reached and
//! turned into the Restore's spec: exactly one of `backup` and `schedule`, the
//! namespace and resource lists, the namespace mapping (a mapping, or the CLI's text
//! `a:b,c:d`), the label selector as `matchLabels`, the existing-resource policy, and
//! the namespaces the restore will write into (for the checks before creating).

use serde_json::{Map, Value, json};

use super::error::VeleroError;
use super::restore_checks::Source;
use crate::actions::execute::{
    ActionError, ActionRequest, OneString, optional_bool, optional_list, optional_str,
    optional_string_map,
};

/// What the step asks for, checked before the cluster is reached.
pub(super) struct Plan {
    pub source: Source,
    pub spec: Map<String, Value>,
    /// The namespaces the restore writes into (after the mapping), when they are named
    /// without globs.
    pub targets: Vec<String>,
    pub policy: String,
}

fn bad(name: &'static str, problem: String) -> ActionError {
    VeleroError::BadParam { name, problem }.into()
}

pub(super) fn plan(request: &ActionRequest) -> Result<Plan, ActionError> {
    let params = &request.params;
    let word = |name| -> Result<Option<String>, ActionError> {
        Ok(optional_str(params, name)?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string))
    };
    let mut spec = Map::new();
    let source = match (word("backup")?, word("schedule")?) {
        (Some(backup), None) => {
            spec.insert("backupName".into(), json!(backup));
            Source::Backup(backup)
        }
        (None, Some(schedule)) => {
            spec.insert("scheduleName".into(), json!(schedule));
            Source::Schedule(schedule)
        }
        (Some(_), Some(_)) => {
            return Err(bad("backup", "and `schedule` are both given; Velero takes exactly one (\"Either a backup or schedule must be specified as a source for the restore, but not both\")".into()));
        }
        (None, None) => {
            return Err(bad(
                "backup",
                "or `schedule` is needed: say what to restore from".into(),
            ));
        }
    };
    let lists = [
        ("namespaces", "includedNamespaces"),
        ("exclude_namespaces", "excludedNamespaces"),
        ("include_resources", "includedResources"),
        ("exclude_resources", "excludedResources"),
    ];
    for (param, field) in lists {
        let items = optional_list(params, param, OneString::SplitAtCommas)?;
        if !items.is_empty() {
            spec.insert(field.into(), json!(items));
        }
    }
    let mapping = match params.get("namespace_mapping") {
        // A rendered template, or the CLI's `a:b,c:d`.
        Some(Value::String(text)) => mapping_text(text)?,
        _ => optional_string_map(params, "namespace_mapping")?,
    };
    if !mapping.is_empty() {
        let map: Map<String, Value> = mapping.iter().map(|(a, b)| (a.clone(), json!(b))).collect();
        spec.insert("namespaceMapping".into(), Value::Object(map));
    }
    if let Some(selector) = word("label_selector")? {
        spec.insert(
            "labelSelector".into(),
            json!({"matchLabels": match_labels(&selector)?}),
        );
    }
    let policy = word("existing_resource_policy")?.unwrap_or_else(|| "none".into());
    if policy != "none" && policy != "update" {
        return Err(bad(
            "existing_resource_policy",
            format!("must be `none` or `update`, but is `{policy}`"),
        ));
    }
    spec.insert("existingResourcePolicy".into(), json!(policy));
    if let Some(pvs) = optional_bool(params, "restore_pvs")? {
        spec.insert("restorePVs".into(), json!(pvs));
    }
    if let Some(cluster) = optional_bool(params, "include_cluster_resources")? {
        spec.insert("includeClusterResources".into(), json!(cluster));
    }
    let included = optional_list(params, "namespaces", OneString::SplitAtCommas)?;
    let targets = included
        .iter()
        .filter(|ns| !ns.contains(['*', '?', '[']))
        .map(|ns| {
            mapping
                .iter()
                .find(|(from, _)| from == ns)
                .map(|(_, to)| to.clone())
                .unwrap_or_else(|| ns.clone())
        })
        .collect();
    Ok(Plan {
        source,
        spec,
        targets,
        policy,
    })
}

/// `from:to,from2:to2`, as `velero restore create --namespace-mappings` takes it.
fn mapping_text(text: &str) -> Result<Vec<(String, String)>, ActionError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once(':') {
            Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
                Ok((from.trim().to_string(), to.trim().to_string()))
            }
            _ => Err(bad(
                "namespace_mapping",
                format!("must map `from: to`, or be text `from:to,…`, but has `{pair}`"),
            )),
        })
        .collect()
}

/// `a=b,c=d` as `matchLabels`; set-based selectors are refused.
fn match_labels(selector: &str) -> Result<Map<String, Value>, ActionError> {
    selector
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !k.ends_with('!') => Ok((
                k.trim().to_string(),
                json!(v.trim().trim_start_matches('=')),
            )),
            _ => Err(bad(
                "label_selector",
                format!("must be `key=value` pairs separated by commas, but has `{pair}`"),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::execute::tests::request;

    #[test]
    fn the_spec_follows_the_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let (req, _, _) = request(
            json!({"backup": "b1", "namespaces": ["shop", "db-*"], "namespace_mapping": {"shop": "shop-scratch"},
                   "label_selector": "app=web, tier=db", "restore_pvs": "false"}),
            dir.path(),
        );
        let planned = plan(&req).unwrap();
        assert_eq!(
            Value::Object(planned.spec),
            json!({"backupName": "b1", "includedNamespaces": ["shop", "db-*"], "namespaceMapping": {"shop": "shop-scratch"},
                   "labelSelector": {"matchLabels": {"app": "web", "tier": "db"}}, "existingResourcePolicy": "none", "restorePVs": false})
        );
        assert_eq!(planned.targets, ["shop-scratch"]);
        let (both, _, _) = request(json!({"backup": "b", "schedule": "s"}), dir.path());
        assert!(plan_error(&both).contains("both given"));
        let (policy, _, _) = request(
            json!({"backup": "b", "existing_resource_policy": "replace"}),
            dir.path(),
        );
        assert!(plan_error(&policy).contains("must be `none` or `update`"));
        let (text, _, _) = request(
            json!({"backup": "b", "namespaces": "shop", "namespace_mapping": "shop:scratch"}),
            dir.path(),
        );
        assert_eq!(plan(&text).unwrap().targets, ["scratch"]);
        let (selector, _, _) = request(
            json!({"backup": "b", "label_selector": "app in (a)"}),
            dir.path(),
        );
        assert!(plan_error(&selector).contains("key=value"));
    }

    fn plan_error(req: &ActionRequest) -> String {
        match plan(req) {
            Ok(_) => panic!("the plan should be refused"),
            Err(e) => e.to_string(),
        }
    }
}
