//! `velero.restore`: creates a Velero Restore and follows it to its end.
//!
//! Phase by phase, and why a re-run after a crash is safe:
//! 1. The Restore's name comes from the run id and the step (`api::restore_name`), so a
//!    re-run looks it up by name first. Found unfinished, or finished but not yet
//!    reported, it is followed (step 4), never created twice; drbook never deletes a
//!    Restore. Only a Restore whose failure this step already reported (annotation
//!    `drbook.io/failure-reported`) makes a re-run create the next one (`…-2`).
//! 2. Before creating: the backup exists and completed, its storage location is
//!    Available, no other Restore is unfinished (it would queue ours), no target
//!    namespace is Terminating; namespaces that exist are listed with what
//!    `existing_resource_policy` will do (`restore_checks`). Nothing is created if any
//!    check fails.
//! 3. The Restore is created in the Velero namespace (labelled as drbook's, annotated
//!    with the run and step).
//! 4. It is watched (`follow`) through empty → InProgress → Finalizing / Waiting… →
//!    Completed, PartiallyFailed, Failed or FailedValidation, with its progress.
//!    PartiallyFailed, Failed and FailedValidation fail the step with the reason; for
//!    PartiallyFailed the warning and error texts are read from the bucket (`results`)
//!    and shown grouped. When the step's timeout (or Ctrl-C) stops the wait, what holds
//!    the restore up is diagnosed (`diagnose`) before the step ends.
//!
//! What the step asks for becomes the Restore's spec in `restore_plan`, before the cluster
//! is reached. `restored_point` is the backup's `status.completionTimestamp`: the run's RPO.

use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::api::{
    NAMESPACE, api_error, count, json as to_json, namespace, restore_name, text, velero_api,
};
use super::error::VeleroError;
use super::restore_checks;
use super::restore_plan::{Plan, plan};
use super::{diagnose, follow, results};
use crate::actions::by_hand::{Given, quote};
use crate::actions::execute::{
    Action, ActionError, ActionEvent, ActionFuture, ActionRequest, Outputs,
};
use crate::actions::kube::{CONNECTION_PARAMS, Cluster, connect, is_not_found};
use crate::actions::{ActionSpec, ParamKind, ParamSpec, Rerun};
use crate::journal::event::Stream;

pub const SPEC: ActionSpec = ActionSpec {
    name: "velero.restore",
    summary: "Creates a Velero Restore (once per run and step) and follows it to its end.",
    params: &[
        ParamSpec {
            name: "backup",
            kind: ParamKind::String,
            required: false,
            doc: "The Backup to restore from, e.g. `{{ steps.latest.outputs.name }}` (exactly one of `backup` and `schedule`).",
        },
        ParamSpec {
            name: "schedule",
            kind: ParamKind::String,
            required: false,
            doc: "Restore the newest Completed backup of this Schedule (Velero picks it; exactly one of `backup` and `schedule`).",
        },
        ParamSpec {
            name: "namespaces",
            kind: ParamKind::StringList,
            required: false,
            doc: "The namespaces to restore (`includedNamespaces`, globs allowed); default all.",
        },
        ParamSpec {
            name: "exclude_namespaces",
            kind: ParamKind::StringList,
            required: false,
            doc: "Namespaces not to restore (`excludedNamespaces`).",
        },
        ParamSpec {
            name: "include_resources",
            kind: ParamKind::StringList,
            required: false,
            doc: "Only these resources, e.g. `[configmaps, secrets]` (`includedResources`).",
        },
        ParamSpec {
            name: "exclude_resources",
            kind: ParamKind::StringList,
            required: false,
            doc: "Resources not to restore (`excludedResources`).",
        },
        ParamSpec {
            name: "namespace_mapping",
            kind: ParamKind::StringMap,
            required: false,
            doc: "Restore namespace A into B: `{shop: shop-scratch}` (`namespaceMapping`), e.g. to inspect before the real restore.",
        },
        ParamSpec {
            name: "label_selector",
            kind: ParamKind::String,
            required: false,
            doc: "Only objects with these labels: `app=web,tier=db` (`labelSelector.matchLabels`).",
        },
        ParamSpec {
            name: "existing_resource_policy",
            kind: ParamKind::String,
            required: false,
            doc: "What happens to objects that already exist: `none` (default: kept, skipped with a warning) or `update` (patched to the backup's version).",
        },
        ParamSpec {
            name: "restore_pvs",
            kind: ParamKind::Bool,
            required: false,
            doc: "Restore persistent volumes from snapshots (`restorePVs`); default Velero's (true).",
        },
        ParamSpec {
            name: "include_cluster_resources",
            kind: ParamKind::Bool,
            required: false,
            doc: "Restore cluster-scoped objects too (`includeClusterResources`); default Velero's (auto).",
        },
        NAMESPACE,
        CONNECTION_PARAMS[0],
        CONNECTION_PARAMS[1],
        CONNECTION_PARAMS[2],
    ],
    outputs: Some(&[
        "name",
        "phase",
        "warnings",
        "errors",
        "restored_point",
        "backup",
        "cluster_uid",
        "server",
    ]),
    rerun: Rerun::Safe(
        "its Restore is named after the run and step, so a re-run finds and follows the one it created instead of creating another",
    ),
    by_hand,
    executor: &RestoreAction,
};

fn by_hand(given: &Given) -> Vec<String> {
    let ns = given.opt("namespace").unwrap_or_else(|| "velero".into());
    let mut command = format!("velero -n {} restore create <name>", quote(&ns));
    match given.opt("schedule") {
        Some(schedule) => command.push_str(&format!(" --from-schedule {}", quote(&schedule))),
        None => command.push_str(&format!(" --from-backup {}", given.word("backup"))),
    }
    let mut list = |flag: &str, param: &str| {
        let items = given.list(param);
        if !items.is_empty() {
            command.push_str(&format!(" --{flag} {}", quote(&items.join(","))));
        }
    };
    list("include-namespaces", "namespaces");
    list("exclude-namespaces", "exclude_namespaces");
    list("include-resources", "include_resources");
    list("exclude-resources", "exclude_resources");
    let mapping = given.map("namespace_mapping");
    if !mapping.is_empty() {
        let pairs: Vec<String> = mapping.iter().map(|(a, b)| format!("{a}:{b}")).collect();
        command.push_str(&format!(
            " --namespace-mappings {}",
            quote(&pairs.join(","))
        ));
    } else if let Some(text) = given.opt("namespace_mapping") {
        command.push_str(&format!(" --namespace-mappings {}", quote(&text)));
    }
    if let Some(selector) = given.opt("label_selector") {
        command.push_str(&format!(" --selector {}", quote(&selector)));
    }
    if let Some(policy) = given.opt("existing_resource_policy") {
        command.push_str(&format!(" --existing-resource-policy {}", quote(&policy)));
    }
    if let Some(pvs) = given.opt("restore_pvs") {
        command.push_str(&format!(" --restore-volumes={pvs}"));
    }
    if let Some(cluster) = given.opt("include_cluster_resources") {
        command.push_str(&format!(" --include-cluster-resources={cluster}"));
    }
    vec![
        format!(
            "kubectl -n {} get restores.velero.io   # no other restore may be unfinished: Velero runs one at a time",
            quote(&ns)
        ),
        command + " --wait",
        format!(
            "velero -n {} restore describe <name> --details   # warnings and errors",
            quote(&ns)
        ),
    ]
}

/// The executor of `velero.restore`.
pub struct RestoreAction;

impl Action for RestoreAction {
    fn execute(&self, request: ActionRequest) -> ActionFuture {
        Box::pin(run(request))
    }
}

/// Marks a Restore whose failure this step reported, so a re-run makes the next one.
const REPORTED: &str = "drbook.io/failure-reported";

async fn run(request: ActionRequest) -> Result<Outputs, ActionError> {
    let plan = plan(&request)?;
    let ns = namespace(&request)?;
    let cluster = connect(&request).await?;
    let api = velero_api(&cluster, "Restore", "restores", &ns);
    let run = request.run_id.clone();
    let (name, existing) = own_restore(&api, &ns, &run, &request.step).await?;
    let label = format!("Restore `{ns}/{name}`");
    match existing {
        Some(found) => {
            let phase = text(&found, "/status/phase");
            request.emit(ActionEvent::Progress(format!(
                "found {label}, which this step created before (phase {}); following it instead of creating another",
                if phase.is_empty() { "empty" } else { &phase }
            )));
        }
        None => {
            let backup = restore_checks::backup(&cluster, &ns, &plan.source).await?;
            let location = restore_checks::location(&cluster, &ns, &backup).await?;
            request.emit(ActionEvent::Progress(format!(
                "backup `{}` completed {}; storage location `{}` is Available",
                super::api::name_of(&backup),
                text(&backup, "/status/completionTimestamp"),
                super::api::name_of(&location),
            )));
            restore_checks::nothing_running(&cluster, &ns, &name).await?;
            restore_checks::target_namespaces(&cluster, &request, &plan.targets, &plan.policy)
                .await?;
            create(&api, &ns, &name, &run, &request.step, &plan).await?;
            request.emit(ActionEvent::Progress(format!("created {label}")));
        }
    }
    let followed = tokio::select! {
        done = follow::until_terminal(&request, &api, &label, &name) => done,
        () = request.cancel.cancelled() => {
            explain_delay(&cluster, &request, &api, &ns, &name, &plan.targets).await;
            return Err(ActionError::Cancelled);
        }
    };
    let restore = followed?;
    finish(&cluster, &request, &api, &ns, &name, restore).await
}

/// This step's Restore: the first of `name`, `name-2`, … that does not exist or whose
/// failure has not been reported yet; `Some` when it exists.
async fn own_restore(
    api: &Api<DynamicObject>,
    ns: &str,
    run: &str,
    step: &str,
) -> Result<(String, Option<Value>), ActionError> {
    let mut attempt = 1;
    loop {
        let name = restore_name(run, step, attempt);
        let found = match api.get(&name).await {
            Ok(found) => to_json(&found),
            Err(e) if is_not_found(&e) => return Ok((name, None)),
            Err(e) => return Err(api_error("read", format!("Restore `{ns}/{name}`"), &e)),
        };
        if text(
            &found,
            &format!("/metadata/annotations/{}", REPORTED.replace('/', "~1")),
        ) != "true"
        {
            return Ok((name, Some(found)));
        }
        attempt += 1;
    }
}

async fn create(
    api: &Api<DynamicObject>,
    ns: &str,
    name: &str,
    run: &str,
    step: &str,
    plan: &Plan,
) -> Result<(), ActionError> {
    let object = json!({
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "drbook"},
            "annotations": {"drbook.io/run": run, "drbook.io/step": step},
        },
        "spec": plan.spec,
    });
    let object: DynamicObject =
        serde_json::from_value(object).map_err(|e| VeleroError::BadParam {
            name: "namespaces",
            problem: format!("cannot form a Restore: {e}"),
        })?;
    api.create(&PostParams::default(), &object)
        .await
        .map_err(|e| api_error("create", format!("Restore `{ns}/{name}`"), &e))?;
    Ok(())
}

/// Says why the restore is not done, bounded so a timed-out step still ends promptly;
/// the lines are the step's output, so the run's record keeps them.
async fn explain_delay(
    cluster: &Cluster,
    request: &ActionRequest,
    api: &Api<DynamicObject>,
    ns: &str,
    name: &str,
    targets: &[String],
) {
    let work = async {
        let Ok(own) = api.get(name).await else { return };
        let scene = diagnose::gather(cluster, ns, to_json(&own), targets).await;
        // As output, not progress: the run's record keeps it, so the report of a
        // timed-out restore says why, not only that.
        let mut lines = vec![format!(
            "Restore `{ns}/{name}` has not finished; what holds it up:"
        )];
        lines.extend(
            diagnose::explain(&scene, ns)
                .into_iter()
                .map(|f| format!("  {f}")),
        );
        for line in lines {
            request.emit(ActionEvent::Output {
                stream: Stream::Stderr,
                line,
            });
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
}

/// The outputs of a Completed restore, or the step's failure with its reason.
async fn finish(
    cluster: &Cluster,
    request: &ActionRequest,
    api: &Api<DynamicObject>,
    ns: &str,
    name: &str,
    restore: Value,
) -> Result<Outputs, ActionError> {
    let phase = text(&restore, "/status/phase");
    let backup_name = text(&restore, "/spec/backupName");
    // Empty when Velero refused a schedule before choosing a backup.
    let backup = match backup_name.as_str() {
        "" => Value::Null,
        name => velero_api(cluster, "Backup", "backups", ns)
            .get(name)
            .await
            .map(|b| to_json(&b))
            .unwrap_or(Value::Null),
    };
    let (warnings, errors) = (
        count(&restore, "/status/warnings"),
        count(&restore, "/status/errors"),
    );
    let failure = match phase.as_str() {
        "Completed" => None,
        "FailedValidation" => {
            let texts: Vec<String> = restore
                .pointer("/status/validationErrors")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some(VeleroError::FailedValidation {
                namespace: ns.into(),
                name: name.into(),
                advice: advice(&texts),
                errors: texts,
            })
        }
        "Failed" => Some(VeleroError::Failed {
            namespace: ns.into(),
            name: name.into(),
            reason: match text(&restore, "/status/failureReason") {
                r if r.is_empty() => "Velero gave no reason".to_string(),
                r => r,
            },
        }),
        _ => {
            let texts = match results::fetch(cluster, request, ns, name, &backup).await {
                Ok(found) => {
                    let lines = found.lines();
                    for line in &lines {
                        request.emit(ActionEvent::Output {
                            stream: Stream::Stdout,
                            line: line.clone(),
                        });
                    }
                    // The message keeps the first texts; all of them are in the output.
                    const IN_MESSAGE: usize = 20;
                    let mut shown = lines
                        .iter()
                        .take(IN_MESSAGE)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ");
                    if lines.len() > IN_MESSAGE {
                        shown.push_str(&format!(
                            " … ({} more lines in the step's output)",
                            lines.len() - IN_MESSAGE
                        ));
                    }
                    format!(": {shown}")
                }
                Err(why) => format!(
                    "; their texts could not be read from the bucket ({why}): run `velero restore describe {name} -n {ns} --details`"
                ),
            };
            Some(VeleroError::PartiallyFailed {
                namespace: ns.into(),
                name: name.into(),
                errors,
                warnings,
                texts,
            })
        }
    };
    if let Some(failure) = failure {
        // Reported: a re-run of this step creates the next Restore instead of reporting
        // this one again. Best effort: without it a re-run reports the same failure.
        let mark = json!({"metadata": {"annotations": {REPORTED: "true"}}});
        let _ = api
            .patch(name, &PatchParams::default(), &Patch::Merge(&mark))
            .await;
        return Err(failure.into());
    }
    if warnings > 0 {
        request.emit(ActionEvent::Progress(format!(
            "completed with {warnings} warning(s): `velero restore describe {name} -n {ns} --details` shows them"
        )));
    }
    let mut outputs = Outputs::new();
    outputs.insert("name".into(), json!(name));
    outputs.insert("phase".into(), json!(phase));
    outputs.insert("warnings".into(), json!(warnings));
    outputs.insert("errors".into(), json!(errors));
    outputs.insert("backup".into(), json!(backup_name));
    outputs.insert(
        "restored_point".into(),
        json!(text(&backup, "/status/completionTimestamp")),
    );
    cluster.identify(&mut outputs);
    Ok(outputs)
}

/// What to do about Velero's validation errors.
fn advice(errors: &[String]) -> &'static str {
    let all = errors.join(" ");
    if all.contains("unavailable") {
        "the storage location must be Available (`velero backup-location get`); fix it, then run the step again: a new Restore is created"
    } else if all.contains("can't find backup")
        || all.contains("No backups found")
        || all.contains("No completed backups")
    {
        "the backup is gone or not synced yet (`velero backup get`); pick another, then run the step again: a new Restore is created"
    } else {
        "correct the step's parameters, then run it again: a new Restore is created"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::by_hand::given;

    #[test]
    fn by_hand_is_the_velero_cli() {
        let lines = SPEC.by_hand(&given(json!({"backup": "b1", "namespaces": ["shop"], "namespace_mapping": {"shop": "scratch"}})));
        assert_eq!(
            lines[1],
            "velero -n velero restore create <name> --from-backup b1 --include-namespaces shop --namespace-mappings shop:scratch --wait"
        );
    }
}
