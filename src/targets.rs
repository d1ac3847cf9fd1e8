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

use crate::TARGETS_KIND;
use crate::source::decode::{Decoder, closest};
use crate::source::diagnostic::Diagnostic;
use crate::source::source_file::SourceFile;
use crate::source::span::Span;
use crate::source::yaml_tree::{self, Node, Value as Yaml};

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
    let entries = header(&mut decoder, &root);
    let Some(entries) = entries.filter(|_| decoder.diagnostics.is_empty()) else {
        return Err(invalid(&file, decoder.diagnostics));
    };
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
    match target(&mut decoder, name, entry) {
        Some(target) if decoder.diagnostics.is_empty() => Ok(target),
        _ => Err(invalid(&file, decoder.diagnostics)),
    }
}

/// Checks a whole targets file, every target in it (`drbook validate`); `load` checks
/// only the target a run asks for, so a broken entry for another environment does not
/// stop an incident. Diagnostics come in file order.
pub fn check(file: &SourceFile) -> Result<Vec<Target>, Vec<Diagnostic>> {
    let root = yaml_tree::parse(&file.text).map_err(|d| vec![d])?;
    let mut decoder = Decoder::default();
    let mut targets = Vec::new();
    if let Some(entries) = header(&mut decoder, &root) {
        if entries.is_empty() {
            decoder.error(
                Diagnostic::new(root_key_span(&root, "targets"), "`targets` names no target")
                    .with_help("add one entry per environment, like `staging: {environment: staging, drill: allowed}`"),
            );
        }
        let mut seen = Vec::new();
        for (key, entry) in entries {
            let name = key.scalar_text();
            if seen.contains(&name) {
                decoder.error(
                    Diagnostic::new(key.span, format!("target `{name}` appears twice"))
                        .with_help("keep one of them; YAML would silently use the last"),
                );
                continue;
            }
            targets.extend(target(&mut decoder, &name, entry));
            seen.push(name);
        }
    }
    let mut diagnostics = decoder.diagnostics;
    if diagnostics.is_empty() {
        Ok(targets)
    } else {
        diagnostics.sort_by_key(|d| d.span.start);
        Err(diagnostics)
    }
}

/// Checks `apiVersion`, `kind` and the shape of `targets`; returns its entries.
fn header<'n>(decoder: &mut Decoder, root: &'n Node) -> Option<&'n [(Node, Node)]> {
    let fields = decoder.fields(root, "the targets file", &["apiVersion", "kind", "targets"])?;
    let api_version = fields
        .required(decoder, "apiVersion", "add `apiVersion: drbook.io/v1`")
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
        .required(decoder, "kind", &format!("add `kind: {TARGETS_KIND}`"))
        .and_then(|n| decoder.string(n, "`kind`"));
    if let Some(k) = &kind
        && k.value != TARGETS_KIND
    {
        decoder.error(
            Diagnostic::new(k.span, format!("`kind: {}` is not a targets file", k.value))
                .with_help(format!("write `kind: {TARGETS_KIND}`")),
        );
    }
    let targets = fields.required(
        decoder,
        "targets",
        "add `targets:` with one entry per environment",
    )?;
    let Yaml::Map(entries) = &targets.value else {
        decoder.error(Diagnostic::new(
            targets.span,
            "`targets` must be a mapping of target names to their facts",
        ));
        return None;
    };
    Some(entries)
}

/// Where a top-level key is written, for an error about its (empty) value.
fn root_key_span(root: &Node, key: &str) -> Span {
    match &root.value {
        Yaml::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map_or(root.span, |(k, _)| k.span),
        _ => root.span,
    }
}

/// Checks one target's entry and reads it.
fn target(decoder: &mut Decoder, name: &str, entry: &Node) -> Option<Target> {
    let Yaml::Map(facts) = &entry.value else {
        decoder.error(Diagnostic::new(
            entry.span,
            format!("target `{name}` must be a mapping"),
        ));
        return None;
    };
    let errors_before = decoder.diagnostics.len();
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
    if decoder.diagnostics.len() > errors_before {
        return None;
    }
    map.insert("name".into(), Value::String(name.to_string()));
    Some(Target {
        name: name.to_string(),
        environment: environment.map(|e| e.value).unwrap_or_default(),
        // A target that does not say `drill: allowed` never takes a drill.
        drill_allowed: drill.unwrap_or(false),
        facts: Value::Object(map),
    })
}
