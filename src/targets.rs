//! The targets file: the environments a runbook can be bound to at run time.
//!
//! ```yaml
//! apiVersion: drbook.io/v1
//! kind: Targets
//! targets:
//!   staging:
//!     environment: staging
//!     drill: allowed
//!     etcd: {endpoints: ["https://10.0.0.1:2379"]}   # any other key: a fact for runbooks
//! ```
//!
//! Runbooks read a target as `{{ target.* }}`: `name`, `environment`, `drill` and every
//! other key of its entry.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::diagnostic::Diagnostic;
use crate::runbook::decode::{Decoder, closest};
use crate::runbook::yaml_tree::{self, Value as Yaml};
use crate::source_file::SourceFile;

/// The file looked for beside the runbook when `--targets` is not given.
pub const DEFAULT_FILE: &str = "drbook.targets.yaml";

/// One environment.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub environment: String,
    pub drill_allowed: bool,
    /// Everything runbooks can read as `target.*`.
    pub facts: Value,
}

/// Why a target could not be used.
#[derive(Debug)]
pub enum TargetError {
    Invalid(SourceFile, Vec<Diagnostic>),
    Other(String),
}

/// Where the targets file is: the flag, or `drbook.targets.yaml` beside the runbook, or
/// in the current directory.
pub fn locate(flag: Option<&Path>, runbook: &Path) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    let beside = runbook.parent().map(|p| p.join(DEFAULT_FILE));
    [beside, Some(PathBuf::from(DEFAULT_FILE))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

/// Reads the targets file and picks `name`.
pub fn load(path: &Path, name: &str) -> Result<Target, TargetError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        TargetError::Other(format!(
            "cannot read targets file `{}`: {e}",
            path.display()
        ))
    })?;
    let file = SourceFile::new(path, text);
    let invalid = |file: &SourceFile, d: Vec<Diagnostic>| TargetError::Invalid(file.clone(), d);
    let root = yaml_tree::parse(&file.text).map_err(|d| invalid(&file, vec![d]))?;
    let mut decoder = Decoder::default();
    let Some(fields) = decoder.fields(
        &root,
        "the targets file",
        &["apiVersion", "kind", "targets"],
    ) else {
        return Err(invalid(&file, decoder.diagnostics));
    };
    let api_version = fields
        .required(&mut decoder, "apiVersion", "add `apiVersion: drbook.io/v1`")
        .and_then(|n| decoder.string(n, "`apiVersion`"));
    if let Some(v) = &api_version
        && v.value != "drbook.io/v1"
    {
        decoder.error(
            Diagnostic::new(v.span, format!("unsupported apiVersion `{}`", v.value))
                .with_help("this drbook reads `apiVersion: drbook.io/v1`"),
        );
    }
    let kind = fields
        .required(&mut decoder, "kind", "add `kind: Targets`")
        .and_then(|n| decoder.string(n, "`kind`"));
    if let Some(k) = &kind
        && k.value != "Targets"
    {
        decoder.error(
            Diagnostic::new(k.span, format!("`kind: {}` is not a targets file", k.value))
                .with_help("write `kind: Targets`"),
        );
    }
    let Some(targets) = fields.required(
        &mut decoder,
        "targets",
        "add `targets:` with one entry per environment",
    ) else {
        return Err(invalid(&file, decoder.diagnostics));
    };
    let Yaml::Map(entries) = &targets.value else {
        decoder.error(Diagnostic::new(
            targets.span,
            "`targets` must be a mapping of target names to their facts",
        ));
        return Err(invalid(&file, decoder.diagnostics));
    };
    if !decoder.diagnostics.is_empty() {
        return Err(invalid(&file, decoder.diagnostics));
    }
    let names: Vec<String> = entries.iter().map(|(k, _)| k.scalar_text()).collect();
    let Some((_, entry)) = entries.iter().find(|(k, _)| k.scalar_text() == name) else {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let hint = match closest(name, &refs) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("its targets: {}", names.join(", ")),
        };
        return Err(TargetError::Other(format!(
            "targets file `{}` has no target `{name}`; {hint}",
            path.display()
        )));
    };
    let Yaml::Map(facts) = &entry.value else {
        decoder.error(Diagnostic::new(
            entry.span,
            format!("target `{name}` must be a mapping"),
        ));
        return Err(invalid(&file, decoder.diagnostics));
    };
    let mut map = Map::new();
    let mut environment = None;
    let mut drill = None;
    for (key, value) in facts {
        let key_text = key.scalar_text();
        match key_text.as_str() {
            "environment" => {
                environment =
                    decoder.non_empty_string(value, &format!("`environment` of target `{name}`"))
            }
            "drill" => {
                drill = decoder
                    .keyword(
                        value,
                        &format!("`drill` of target `{name}`"),
                        &["allowed", "forbidden"],
                        |w| match w {
                            "allowed" => Some(true),
                            "forbidden" => Some(false),
                            _ => None,
                        },
                    )
                    .map(|d| d.value)
            }
            "name" => {
                decoder.error(
                    Diagnostic::new(key.span, "`name` is set by drbook to the target's key")
                        .with_help("remove it; runbooks read `target.name`"),
                );
            }
            _ => {}
        }
        map.insert(key_text, value.to_json());
    }
    if environment.is_none() && !facts.iter().any(|(k, _)| k.scalar_text() == "environment") {
        decoder.error(
            Diagnostic::new(
                entry.span.sub(0, 1),
                format!("target `{name}` is missing `environment`"),
            )
            .with_help("say `environment: production` or `environment: staging`"),
        );
    }
    if !decoder.diagnostics.is_empty() {
        return Err(invalid(&file, decoder.diagnostics));
    }
    map.insert("name".into(), Value::String(name.to_string()));
    Ok(Target {
        name: name.to_string(),
        environment: environment.map(|e| e.value).unwrap_or_default(),
        // A target that does not say `drill: allowed` never takes a drill.
        drill_allowed: drill.unwrap_or(false),
        facts: Value::Object(map),
    })
}
