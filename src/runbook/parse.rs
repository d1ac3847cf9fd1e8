//! Runbook text → `Runbook`, collecting every structural error of the file.
//!
//! Parsing is version-first (as nextest reads its config): `apiVersion` and `kind` are
//! read before anything else, and a version this build does not support stops the parse
//! with the list of supported ones, because the rest of the file may follow other rules.
//!
//! One file for the whole v1 decoder (~740 lines): each section's function is short and
//! reads its keys against the lists at the top, so the format can be followed top to
//! bottom in one place. Split it by section (metadata, spec, steps) when it grows.

use crate::runbook::model::*;
use crate::source::decode::{Decoder, Fields};
use crate::source::diagnostic::Diagnostic;
use crate::source::span::{Span, Spanned};
use crate::source::yaml_tree::{self, Node, Value};
use crate::{RUNBOOK_KIND, SUPPORTED_API_VERSIONS};

/// Parses a runbook. On failure returns every diagnostic found, in file order.
pub fn parse(text: &str) -> Result<Runbook, Vec<Diagnostic>> {
    let root = yaml_tree::parse(text).map_err(|d| vec![d])?;
    let mut decoder = Decoder::default();
    let runbook = runbook(&mut decoder, &root);
    let mut diagnostics = decoder.diagnostics;
    match runbook {
        Some(runbook) if diagnostics.is_empty() => Ok(runbook),
        _ => {
            diagnostics.sort_by_key(|d| d.span.start);
            Err(diagnostics)
        }
    }
}

fn runbook(d: &mut Decoder, root: &Node) -> Option<Runbook> {
    if let Value::Null = root.value {
        d.error(
            Diagnostic::new(root.span, "the file is empty")
                .with_help("a runbook starts with `apiVersion: drbook.io/v1` and `kind: Runbook`"),
        );
        return None;
    }
    // A file of another version or kind may follow other rules: when `apiVersion` or
    // `kind` says so, nothing else in it is judged, not even its keys.
    let top = |key: &str| match &root.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .and_then(|(_, v)| v.as_str().map(|s| Spanned::new(s.to_string(), v.span))),
        _ => None,
    };
    if let Some(version) = top("apiVersion")
        && !SUPPORTED_API_VERSIONS.contains(&version.value.as_str())
    {
        d.error(unsupported_api_version(&version));
        return None;
    }
    if let Some(kind) = top("kind")
        && kind.value != RUNBOOK_KIND
    {
        d.error(unsupported_kind(&kind));
        return None;
    }
    let f = d.fields(root, "the runbook", RUNBOOK_KEYS)?;
    let api_version = api_version(d, &f)?;
    let kind_node = f.required(d, "kind", &format!("add `kind: {RUNBOOK_KIND}`"))?;
    let kind = d.string(kind_node, "`kind`")?;
    if kind.value != RUNBOOK_KIND {
        d.error(unsupported_kind(&kind));
        return None;
    }
    let metadata = f
        .required(
            d,
            "metadata",
            "add `metadata:` with the runbook's `name` and `version`",
        )
        .and_then(|n| metadata(d, n, f.key_span("metadata")));
    let spec = f
        .required(d, "spec", "add `spec:` with the runbook's `steps`")
        .and_then(|n| spec(d, n, f.key_span("spec")));
    Some(Runbook {
        api_version,
        metadata: metadata?,
        spec: spec?,
    })
}

fn api_version(d: &mut Decoder, f: &Fields) -> Option<Spanned<String>> {
    let supported = SUPPORTED_API_VERSIONS.join(", ");
    let Some(node) = f.get("apiVersion") else {
        // A misspelt `apiVersion` was reported already.
        if f.misspelt("apiVersion") {
            return None;
        }
        d.error(
            Diagnostic::new(f.span.sub(0, 1), "the runbook has no `apiVersion`").with_help(
                format!("add `apiVersion: drbook.io/v1` (supported: {supported})"),
            ),
        );
        return None;
    };
    let version = d.string(node, "`apiVersion`")?;
    if !SUPPORTED_API_VERSIONS.contains(&version.value.as_str()) {
        d.error(unsupported_api_version(&version));
        return None;
    }
    Some(version)
}

fn unsupported_api_version(version: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(
        version.span,
        format!("unsupported apiVersion `{}`", version.value),
    )
    .with_help(format!(
        "this drbook supports: {}; a newer runbook needs a newer drbook",
        SUPPORTED_API_VERSIONS.join(", ")
    ))
}

fn unsupported_kind(kind: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(kind.span, format!("unsupported kind `{}`", kind.value))
        .with_help(format!("drbook reads `kind: {RUNBOOK_KIND}` documents"))
}

fn metadata(d: &mut Decoder, node: &Node, key: Option<Span>) -> Option<Metadata> {
    let f = d.fields(node, "`metadata`", METADATA_KEYS)?.held_by(key);
    let name = f
        .required(
            d,
            "name",
            "add `name:`, the name runs are recorded under, like `name: etcd-restore`",
        )
        .and_then(|n| d.non_empty_string(n, "`metadata.name`"));
    let version = f
        .required(
            d,
            "version",
            "add `version: 1.0.0` and raise it whenever the runbook changes",
        )
        .and_then(|n| semver(d, n));
    let title = f
        .get("title")
        .and_then(|n| d.non_empty_string(n, "`metadata.title`"));
    let owners = f
        .get("owners")
        .and_then(|n| {
            d.list(n, "`metadata.owners`", |d, n| {
                d.non_empty_string(n, "an owner")
            })
        })
        .unwrap_or_default();
    let labels = f
        .get("labels")
        .and_then(|n| string_map(d, n, "`metadata.labels`"))
        .unwrap_or_default();
    Some(Metadata {
        name: name?,
        version: version?,
        title,
        owners,
        labels,
    })
}

fn semver(d: &mut Decoder, node: &Node) -> Option<Spanned<semver::Version>> {
    // `version: 1.0` arrives as a float; say what is wrong rather than "not a string".
    let text = match &node.value {
        Value::String(s) => s.clone(),
        _ => {
            d.error(
                Diagnostic::new(
                    node.span,
                    format!(
                        "`metadata.version` must be a semantic version like `1.0.0`, found {}",
                        node.kind_name()
                    ),
                )
                .with_help("write MAJOR.MINOR.PATCH, like `1.0.0`"),
            );
            return None;
        }
    };
    match semver::Version::parse(&text) {
        Ok(v) => Some(Spanned::new(v, node.span)),
        Err(e) => {
            d.error(
                Diagnostic::new(
                    node.span,
                    format!("`metadata.version` `{text}` is not a semantic version: {e}"),
                )
                .with_help("write MAJOR.MINOR.PATCH, like `1.0.0`"),
            );
            None
        }
    }
}

fn string_map(
    d: &mut Decoder,
    node: &Node,
    what: &str,
) -> Option<Vec<(Spanned<String>, Spanned<String>)>> {
    let Value::Map(entries) = &node.value else {
        d.error(Diagnostic::new(
            node.span,
            format!(
                "{what} must be a mapping of strings, found {}",
                node.kind_name()
            ),
        ));
        return None;
    };
    d.unique_keys(node, what);
    Some(
        entries
            .iter()
            .filter_map(|(k, v)| {
                let key = d.string(k, &format!("a key in {what}"))?;
                let value = d.string(v, &format!("`{}` in {what}", key.value))?;
                Some((key, value))
            })
            .collect(),
    )
}

fn spec(d: &mut Decoder, node: &Node, key: Option<Span>) -> Option<Spec> {
    let f = d.fields(node, "`spec`", SPEC_KEYS)?.held_by(key);
    let description = f
        .get("description")
        .and_then(|n| d.string(n, "`spec.description`"));
    let objectives = f
        .get("objectives")
        .and_then(|n| objectives(d, n, f.key_span("objectives")));
    let inputs = f
        .get("inputs")
        .and_then(|n| d.list(n, "`spec.inputs`", input))
        .unwrap_or_default();
    let secrets = f
        .get("secrets")
        .and_then(|n| d.list(n, "`spec.secrets`", secret))
        .unwrap_or_default();
    let steps_node = f.required(d, "steps", "add `steps:` with at least one step");
    let steps = steps_node.and_then(|n| steps(d, n, "`spec.steps`"));
    let drill = f
        .get("drill")
        .and_then(|n| drill(d, n, f.key_span("drill")));
    // Judged on the YAML list: steps that failed to decode are not missing.
    if let Some(Value::Seq(items)) = steps_node.map(|n| &n.value)
        && items.is_empty()
    {
        d.error(
            Diagnostic::new(
                f.key_span("steps").unwrap_or(f.span),
                "`spec.steps` is empty",
            )
            .with_help("a runbook needs at least one step"),
        );
    }
    Some(Spec {
        description,
        objectives,
        inputs,
        secrets,
        steps: steps?,
        drill,
    })
}

fn objectives(d: &mut Decoder, node: &Node, key: Option<Span>) -> Option<Objectives> {
    let f = d
        .fields(node, "`spec.objectives`", OBJECTIVES_KEYS)?
        .held_by(key);
    let rto = f
        .required(
            d,
            "rto",
            "add `rto:`, the longest the recovery may take, like `rto: 1h`",
        )
        .and_then(|n| d.duration_or_zero(n, "`objectives.rto`"));
    let rpo = f
        .required(
            d,
            "rpo",
            "add `rpo:`, the most recent data you may lose, like `rpo: 15m`",
        )
        .and_then(|n| d.duration_or_zero(n, "`objectives.rpo`"));
    Some(Objectives {
        rto: rto?,
        rpo: rpo?,
    })
}

fn input(d: &mut Decoder, node: &Node) -> Option<Input> {
    let what = item_name(node, "name", "input", "an input");
    let f = d.fields(node, &what, INPUT_KEYS)?;
    let name = f
        .required(
            d,
            "name",
            "add `name:`; templates read the input as `inputs.<name>`",
        )
        .and_then(|n| name(d, n, "input", "inputs"));
    let kind = match f.get("type") {
        Some(n) => d
            .keyword(
                n,
                &format!("`type` of {what}"),
                InputKind::NAMES,
                InputKind::from_name,
            )
            .map(|k| k.value),
        None => Some(InputKind::String),
    };
    let description = f
        .get("description")
        .and_then(|n| d.string(n, &format!("`description` of {what}")));
    let choices = f
        .get("choices")
        .and_then(|n| {
            d.list(n, &format!("`choices` of {what}"), |d, n| {
                d.string(n, "a choice")
            })
        })
        .unwrap_or_default();
    let default = f.get("default").map(|n| {
        d.unique_keys(n, &format!("the default of {what}"));
        Spanned::new(n.to_json(), n.span)
    });
    Some(Input {
        name: name?,
        kind: kind?,
        default,
        description,
        choices,
        span: f.span,
    })
}

fn secret(d: &mut Decoder, node: &Node) -> Option<SecretDecl> {
    let what = item_name(node, "name", "secret", "a secret");
    let f = d.fields(node, &what, SECRET_KEYS)?;
    let name = f
        .required(
            d,
            "name",
            "add `name:`; templates read the secret as `secrets.<name>`",
        )
        .and_then(|n| name(d, n, "secret", "secrets"));
    let env = f
        .get("env")
        .and_then(|n| d.non_empty_string(n, &format!("`env` of {what}")));
    let file = f
        .get("file")
        .and_then(|n| d.non_empty_string(n, &format!("`file` of {what}")));
    let description = f
        .get("description")
        .and_then(|n| d.string(n, &format!("`description` of {what}")));
    let source = match (env, file, f.get("env").is_some() || f.get("file").is_some()) {
        (Some(env), None, _) => Some(SecretSource::Env(env)),
        (None, Some(file), _) => Some(SecretSource::File(file)),
        (Some(_), Some(file), _) => {
            d.error(
                Diagnostic::new(file.span, format!("{what} has both `env` and `file`"))
                    .with_help("a secret comes from one place: keep `env` or `file`"),
            );
            None
        }
        // A misspelt `env` or `file` was reported already.
        (None, None, false) if f.misspelt("env") || f.misspelt("file") => None,
        (None, None, false) => {
            d.error(
                Diagnostic::new(
                    f.span.sub(0, 1),
                    format!("{what} has neither `env` nor `file`"),
                )
                .with_help("add `env: VARIABLE` or `file: /path/to/secret`"),
            );
            None
        }
        // `env`/`file` present but wrong: already reported.
        (None, None, true) => None,
    };
    Some(SecretDecl {
        name: name?,
        source: source?,
        description,
    })
}

/// Input and secret names are read after a dot (`inputs.<name>`), so they must be
/// identifiers: `inputs.my-input` would read as `inputs.my` minus `input`.
fn name(d: &mut Decoder, node: &Node, kind: &str, root: &str) -> Option<Spanned<String>> {
    let name = d.non_empty_string(node, &format!("a {kind}'s `name`"))?;
    if is_identifier(&name.value) {
        return Some(name);
    }
    let fixed: String = name
        .value
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let example = if is_identifier(&fixed) {
        format!(", like `{fixed}`")
    } else {
        String::new()
    };
    d.error(
        Diagnostic::new(
            node.span,
            format!("{kind} name `{}` is not a valid name", name.value),
        )
        .with_help(format!(
            "templates read it as `{root}.<name>`: start with a letter, then use letters, digits and `_` only{example}"
        )),
    );
    None
}

fn is_identifier(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn steps(d: &mut Decoder, node: &Node, what: &str) -> Option<Vec<Step>> {
    d.list(node, what, step)
}

/// What a list item is called in messages: by its `id` or `name`, read before the rest
/// of the item so every message about it can name it ("step `drain`").
fn item_name(node: &Node, key: &str, kind: &str, unnamed: &str) -> String {
    let name = match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    };
    match name {
        Some(name) => format!("{kind} `{name}`"),
        None => unnamed.to_string(),
    }
}

fn drill(d: &mut Decoder, node: &Node, key: Option<Span>) -> Option<Drill> {
    let f = d.fields(node, "`spec.drill`", DRILL_KEYS)?.held_by(key);
    let description = f
        .get("description")
        .and_then(|n| d.string(n, "`drill.description`"));
    let inject = f
        .required(
            d,
            "inject",
            "add `inject:` with the steps that cause the failure the drill recovers from",
        )
        .and_then(|n| steps(d, n, "`drill.inject`"));
    Some(Drill {
        description,
        inject: inject?,
    })
}

fn step(d: &mut Decoder, node: &Node) -> Option<Step> {
    let what = item_name(node, "id", "step", "a step");
    let f = d.fields(node, &what, STEP_KEYS)?;
    let id = f
        .required(
            d,
            "id",
            "add `id:`, a short name like `restore-snapshot`; `needs` and templates use it",
        )
        .and_then(|n| step_id(d, n));
    let title = f
        .get("title")
        .and_then(|n| d.non_empty_string(n, &format!("`title` of {what}")));
    let description = f
        .get("description")
        .and_then(|n| d.string(n, &format!("`description` of {what}")));
    let body = step_body(d, &f, &what);
    let needs = f.get("needs").and_then(|n| match &n.value {
        Value::String(id) => {
            d.error(
                Diagnostic::new(
                    n.span,
                    format!("`needs` of {what} must be a list of step ids, found a string"),
                )
                .with_help(format!("write `needs: [{id}]`")),
            );
            None
        }
        _ => d.list(n, &format!("`needs` of {what}"), |d, n| {
            d.non_empty_string(n, "a step id in `needs`")
        }),
    });
    let when = f.get("when").and_then(|n| match n.value {
        Value::Bool(b) => {
            let instead = if b {
                "remove `when`"
            } else {
                "remove the step"
            };
            d.error(
                Diagnostic::new(
                    n.span,
                    format!("`when` of {what} must be a string, found a boolean"),
                )
                .with_help(format!(
                    "`when` holds a template: write `when: \"{{{{ {b} }}}}\"`, or {instead}"
                )),
            );
            None
        }
        _ => d.non_empty_string(n, &format!("`when` of {what}")),
    });
    let foreach = f.get("foreach").and_then(|n| match &n.value {
        Value::String(s) => Some(Foreach::Template(Spanned::new(s.clone(), n.span))),
        Value::Seq(_) => {
            d.unique_keys(n, &format!("`foreach` of {what}"));
            Some(Foreach::List(n.clone()))
        }
        _ => {
            d.error(
                Diagnostic::new(
                    n.span,
                    format!(
                        "`foreach` of {what} must be a list or a template, found {}",
                        n.kind_name()
                    ),
                )
                .with_help("write `foreach: \"{{ inputs.members }}\"` or `foreach: [a, b]`"),
            );
            None
        }
    });
    let concurrency = f
        .get("concurrency")
        .and_then(|n| d.count(n, &format!("`concurrency` of {what}"), 1));
    let timeout = f
        .get("timeout")
        .and_then(|n| d.duration(n, &format!("`timeout` of {what}")));
    let retry = f
        .get("retry")
        .and_then(|n| retry(d, n, &what, f.key_span("retry")));
    let on_failure = f.get("on_failure").and_then(|n| {
        d.keyword(
            n,
            &format!("`on_failure` of {what}"),
            OnFailure::NAMES,
            OnFailure::from_name,
        )
    });
    let marks = f.get("marks").and_then(|n| {
        d.keyword(
            n,
            &format!("`marks` of {what}"),
            Mark::NAMES,
            Mark::from_name,
        )
    });
    let idempotent = f
        .get("idempotent")
        .and_then(|n| d.bool(n, &format!("`idempotent` of {what}")));
    Some(Step {
        id: id?,
        title,
        description,
        body: body?,
        needs,
        when,
        foreach,
        concurrency,
        timeout,
        retry,
        on_failure,
        marks,
        idempotent,
        span: f.span,
    })
}

/// Step ids appear in templates (`steps.<id>.outputs`), so they must be identifiers.
fn step_id(d: &mut Decoder, node: &Node) -> Option<Spanned<String>> {
    let id = d.non_empty_string(node, "a step's `id`")?;
    let valid = id
        .value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && id
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        d.error(
            Diagnostic::new(
                node.span,
                format!("step id `{}` is not a valid id", id.value),
            )
            .with_help("start with a letter; use letters, digits, `-` and `_` only"),
        );
        return None;
    }
    Some(id)
}

fn step_body(d: &mut Decoder, f: &Fields, what: &str) -> Option<StepBody> {
    match (f.get("checkpoint"), f.get("action")) {
        (Some(c), None) => {
            if let Some(span) = f.key_span("with") {
                d.error(
                    Diagnostic::new(
                        span,
                        format!("{what} is a checkpoint and cannot take `with`"),
                    )
                    .with_help("`with` passes parameters to an `action`"),
                );
            }
            checkpoint(d, c, what, f.key_span("checkpoint")).map(StepBody::Checkpoint)
        }
        (None, Some(a)) => {
            let name = d.non_empty_string(a, &format!("`action` of {what}"))?;
            let with = match f.get("with") {
                None => Vec::new(),
                Some(n) => match &n.value {
                    Value::Map(entries) => {
                        d.unique_keys(n, &format!("`with` of {what}"));
                        entries
                            .iter()
                            .filter_map(|(k, v)| {
                                let key =
                                    d.string(k, &format!("a parameter name in `with` of {what}"))?;
                                Some((key, v.clone()))
                            })
                            .collect()
                    }
                    _ => {
                        d.error(Diagnostic::new(
                            n.span,
                            format!(
                                "`with` of {what} must be a mapping of parameters, found {}",
                                n.kind_name()
                            ),
                        ));
                        return None;
                    }
                },
            };
            Some(StepBody::Action(ActionCall { name, with }))
        }
        (Some(_), Some(_)) => {
            d.error(
                Diagnostic::new(
                    f.key_span("action").unwrap_or(f.span),
                    format!("{what} has both `checkpoint` and `action`"),
                )
                .with_help("split it into two steps: one asks the operator, one acts"),
            );
            None
        }
        // A misspelt `action` or `checkpoint` was reported already.
        (None, None) if f.misspelt("action") || f.misspelt("checkpoint") => None,
        (None, None) => {
            d.error(
                Diagnostic::new(
                    f.span.sub(0, 1),
                    format!("{what} has neither `action` nor `checkpoint`"),
                )
                .with_help(
                    "add `action: <name>` to automate it or `checkpoint:` to ask the operator",
                ),
            );
            None
        }
    }
}

fn checkpoint(d: &mut Decoder, node: &Node, what: &str, key: Option<Span>) -> Option<Checkpoint> {
    let cwhat = format!("the checkpoint of {what}");
    let f = d.fields(node, &cwhat, CHECKPOINT_KEYS)?.held_by(key);
    let prompt = f
        .required(
            d,
            "prompt",
            "add `prompt:`, the question the operator answers at this step",
        )
        .and_then(|n| d.non_empty_string(n, &format!("`prompt` of {what}")));
    let kind = match f.get("type") {
        Some(n) => d
            .keyword(
                n,
                &format!("checkpoint `type` of {what}"),
                CheckpointKind::NAMES,
                CheckpointKind::from_name,
            )
            .map(|k| k.value),
        None => Some(CheckpointKind::Confirm),
    };
    let choices = f
        .get("choices")
        .and_then(|n| {
            d.list(n, &format!("`choices` of {what}"), |d, n| {
                d.non_empty_string(n, "a choice")
            })
        })
        .unwrap_or_default();
    let timeout = f
        .get("timeout")
        .and_then(|n| d.duration(n, &format!("checkpoint `timeout` of {what}")));
    let on_no = f.get("on_no").and_then(|n| {
        d.keyword(
            n,
            &format!("checkpoint `on_no` of {what}"),
            OnNo::NAMES,
            OnNo::from_name,
        )
    });
    let default = f.get("default").cloned();
    if let Some(default) = &default {
        d.unique_keys(default, &format!("the checkpoint default of {what}"));
    }
    Some(Checkpoint {
        prompt: prompt?,
        kind: kind?,
        kind_span: f.get("type").map_or(f.span.sub(0, 1), |n| n.span),
        choices,
        default,
        timeout,
        on_no,
        span: f.span,
    })
}

fn retry(d: &mut Decoder, node: &Node, what: &str, key: Option<Span>) -> Option<Retry> {
    let f = d
        .fields(node, &format!("`retry` of {what}"), RETRY_KEYS)?
        .held_by(key);
    let attempts = f
        .required(d, "attempts", "add `attempts:`, like `attempts: 3`")
        .and_then(|n| d.count(n, &format!("`retry.attempts` of {what}"), 1));
    let backoff = f
        .get("backoff")
        .and_then(|n| d.duration_or_zero(n, &format!("`retry.backoff` of {what}")));
    Some(Retry {
        attempts: attempts?,
        backoff,
    })
}
