//! The recipes for scheduled drills: the `Dockerfile`, the Kubernetes manifests in
//! `deploy/kubernetes/` (and the fleet fan-out script beside them), the systemd units in
//! `deploy/systemd/` and the ClusterRole of the actions in `deploy/rbac/`. Docker and a
//! cluster are not available here, so what can go wrong on paper is checked on paper:
//! every manifest parses as YAML into Kubernetes objects; every CronJob (and every copy
//! the fan-out makes, and the systemd service) runs `drbook drill` on a runbook the image
//! holds, signs and stores its record, takes its targets and answers from a mounted
//! ConfigMap whose answers cover the runbook's checkpoints, and `drbook plan --drill`
//! accepts its arguments; and the RBAC grants exactly what the listed actions need, no
//! verb, resource or namespace more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Drbook, repo_root};

/// Where the image keeps the shipped runbooks (the Dockerfile's `COPY runbooks …`).
const IMAGE_RUNBOOKS: &str = "/usr/share/drbook/runbooks/";

/// Every `*.yaml` under `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The YAML documents of `text` (empty ones left out), or the parser's error.
fn documents(text: &str, what: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// Every Kubernetes object of `deploy/`, with the file it is in.
fn objects() -> Vec<(PathBuf, Value)> {
    yaml_files(&repo_root().join("deploy"))
        .into_iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            documents(&text, &path.display().to_string())
                .into_iter()
                .map(move |d| (path.clone(), d))
        })
        .filter(|(_, d)| d["kind"] != "Kustomization")
        .collect()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("`{pointer}` missing or not a string in {value}"))
}

#[test]
fn every_manifest_parses_into_named_kubernetes_objects() {
    let all = objects();
    assert!(
        all.iter().any(|(_, o)| o["kind"] == "CronJob"),
        "no CronJob in deploy/"
    );
    for (path, object) in &all {
        for field in ["/apiVersion", "/kind", "/metadata/name"] {
            str_at(object, field);
        }
        assert!(
            object.pointer("/metadata/labels/app.kubernetes.io~1name") == Some(&"drbook".into()),
            "{}: {} without the app.kubernetes.io/name label",
            path.display(),
            object["metadata"]["name"]
        );
    }
    // The kustomization applies every manifest of its folder, and only those.
    let dir = repo_root().join("deploy/kubernetes");
    let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let kustomization = &documents(&text, "kustomization.yaml")[0];
    let listed: BTreeSet<String> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    assert_eq!(listed, present, "deploy/kubernetes/kustomization.yaml");
}

#[test]
fn the_image_holds_drbook_the_runbooks_and_the_tools_of_the_actions() {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let lines: Vec<&str> = dockerfile.lines().map(str::trim).collect();
    let last_from = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("a FROM");
    assert!(
        lines[last_from].starts_with("FROM debian:12"),
        "the runtime is Debian 12: {}",
        lines[last_from]
    );
    for line in [
        "COPY --from=build /drbook /usr/local/bin/drbook",
        &format!("COPY runbooks {}", IMAGE_RUNBOOKS.trim_end_matches('/')),
        "USER 65532:65532",
        // drbook pauses cleanly on SIGINT; SIGTERM would end it where it stands.
        "STOPSIGNAL SIGINT",
    ] {
        assert!(
            lines.contains(&line),
            "`{line}` missing from the Dockerfile"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("RUN cargo build --release --locked")),
        "drbook is built from this repository in the build stage"
    );
    let runtime = lines[last_from..].join(" ");
    for package in [
        "etcd-client",
        "restic",
        "rclone",
        "openssh-client",
        "ca-certificates",
    ] {
        assert!(
            runtime.contains(&format!(" {package} ")),
            "`{package}` not installed in the runtime stage"
        );
    }
    // What the build stage copies is what `cargo build` needs: the declared test and
    // bench targets must exist for Cargo to read the manifest.
    for copied in ["src", "templates", "benches", "tests", "Cargo.lock"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("COPY ") && l.contains(copied)),
            "the build stage does not copy {copied}"
        );
    }
}

/// What a drill CronJob (or systemd service) runs, once checked.
struct Drill {
    /// The runbook in this repository.
    runbook: PathBuf,
    /// `drbook drill` arguments after the runbook.
    args: Vec<String>,
    /// The targets file's text.
    targets: String,
    /// The answers file's text.
    answers: String,
}

/// The value of `--name=value` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let prefix = format!("--{name}=");
    args.iter().find_map(|a| a.strip_prefix(&prefix))
}

/// The repository file of a runbook path in the image.
fn runbook_in_repo(image_path: &str, what: &str) -> PathBuf {
    let relative = image_path
        .strip_prefix(IMAGE_RUNBOOKS)
        .unwrap_or_else(|| panic!("{what}: runbook `{image_path}` is not under {IMAGE_RUNBOOKS}"));
    let path = repo_root().join("runbooks").join(relative);
    assert!(
        path.is_file(),
        "{what}: runbook `{image_path}` is not in the image: runbooks/{relative} does not exist"
    );
    path
}

/// Checks one CronJob against the rest of `all` and returns what it drills.
fn check_cronjob(all: &[(PathBuf, Value)], cronjob: &Value) -> Drill {
    let name = str_at(cronjob, "/metadata/name");
    let namespace = str_at(cronjob, "/metadata/namespace");
    let what = format!("CronJob {namespace}/{name}");
    assert!(
        name.len() <= 52,
        "{what}: a CronJob name has at most 52 characters"
    );
    assert_eq!(cronjob["spec"]["concurrencyPolicy"], "Forbid", "{what}");
    let job = &cronjob["spec"]["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 0, "{what}: a drill is never retried");
    assert!(job["activeDeadlineSeconds"].is_u64(), "{what}: no deadline");
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never", "{what}");
    assert!(
        pod["terminationGracePeriodSeconds"].as_u64() >= Some(30),
        "{what}: time to pause and store the record after the stop signal"
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{what}");

    let account = str_at(pod, "/serviceAccountName");
    assert!(
        all.iter().any(|(_, o)| o["kind"] == "ServiceAccount"
            && o["metadata"]["name"] == account
            && o["metadata"]["namespace"] == namespace),
        "{what}: its ServiceAccount {account} is not in deploy/"
    );

    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "{what}");
    let container = &containers[0];
    assert_eq!(
        container["securityContext"]["readOnlyRootFilesystem"], true,
        "{what}"
    );
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"], false,
        "{what}"
    );
    let args: Vec<String> = container["args"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no args"))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(args[0], "drill", "{what}: runs `drbook drill`");
    let runbook = runbook_in_repo(&args[1], &what);

    // Volumes by mount path: (kind, name) of what is mounted there.
    let volumes: BTreeMap<&str, &Value> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v))
        .collect();
    let mounted = |path: &str| -> &Value {
        container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| path.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())))
            .map(|m| volumes[m["name"].as_str().unwrap()])
            .next()
            .unwrap_or_else(|| panic!("{what}: nothing is mounted where `{path}` is"))
    };
    let config_file = |path: &str| -> String {
        let volume = mounted(path);
        let map = str_at(volume, "/configMap/name");
        let key = Path::new(path).file_name().unwrap().to_str().unwrap();
        let config = all
            .iter()
            .find(|(_, o)| o["kind"] == "ConfigMap" && o["metadata"]["name"] == map)
            .unwrap_or_else(|| panic!("{what}: ConfigMap {map} is not in deploy/"));
        config.1["data"][key]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: ConfigMap {map} has no `{key}`"))
            .to_string()
    };
    let targets = config_file(flag(&args, "targets").expect("--targets="));
    let answers = config_file(flag(&args, "answers").expect("--answers="));

    let env: BTreeMap<&str, &str> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    let key = env
        .get("DRBOOK_SIGN_KEY")
        .unwrap_or_else(|| panic!("{what}: the record is not signed ($DRBOOK_SIGN_KEY)"));
    assert!(
        mounted(key)["secret"]["secretName"].is_string(),
        "{what}: $DRBOOK_SIGN_KEY is not a file of a Secret"
    );
    let store = env
        .get("DRBOOK_STORE")
        .unwrap_or_else(|| panic!("{what}: the record is not stored ($DRBOOK_STORE)"));
    assert!(store.starts_with("s3://"), "{what}: store {store}");
    for name in env.keys() {
        let secretish = ["KEY", "SECRET", "PASSWORD", "TOKEN"]
            .iter()
            .any(|s| name.contains(s));
        assert!(
            !secretish || *name == "DRBOOK_SIGN_KEY",
            "{what}: `{name}` is written into the manifest; take it from a Secret"
        );
    }
    assert!(
        container["envFrom"]
            .as_array()
            .is_some_and(|e| e.iter().all(|s| s["secretRef"]["name"].is_string())),
        "{what}: the store's and the runbook's credentials come from Secrets"
    );
    // The image's state directory is writable scratch space.
    assert!(
        mounted("/var/lib/drbook/state")["emptyDir"].is_object(),
        "{what}: /var/lib/drbook is not an emptyDir"
    );
    Drill {
        runbook,
        args: args[2..].to_vec(),
        targets,
        answers,
    }
}

/// The ids of the runbook's checkpoints (recovery and inject steps) and of all its steps.
fn checkpoints_and_steps(runbook: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(runbook).unwrap();
    let doc = &documents(&text, &runbook.display().to_string())[0];
    let mut checkpoints = BTreeSet::new();
    let mut steps = BTreeSet::new();
    for list in [&doc["spec"]["steps"], &doc["spec"]["drill"]["inject"]] {
        for step in list.as_array().into_iter().flatten() {
            let id = step["id"].as_str().unwrap().to_string();
            if step.get("checkpoint").is_some() {
                checkpoints.insert(id.clone());
            }
            steps.insert(id);
        }
    }
    (checkpoints, steps)
}

/// The drill's answers cover every checkpoint of its runbook and name no other step,
/// and `drbook plan --drill` accepts its runbook, target, targets file and inputs.
fn check_drill(drill: &Drill, what: &str) {
    let answers = &documents(&drill.answers, &format!("{what}: answers"))[0];
    let answered: BTreeSet<String> = answers.as_object().unwrap().keys().cloned().collect();
    let (checkpoints, steps) = checkpoints_and_steps(&drill.runbook);
    let missing: Vec<_> = checkpoints.difference(&answered).collect();
    assert!(
        missing.is_empty(),
        "{what}: unanswered checkpoints {missing:?}"
    );
    let unknown: Vec<_> = answered.difference(&steps).collect();
    assert!(
        unknown.is_empty(),
        "{what}: answers for no step {unknown:?}"
    );

    let test = Drbook::new();
    let targets = test.write("targets.yaml", &drill.targets);
    let mut args: Vec<String> = vec![
        "plan".into(),
        drill.runbook.display().to_string(),
        "--drill".into(),
        format!("--targets={}", targets.display()),
    ];
    for arg in &drill.args {
        let keep = ["--target=", "--input="].iter().any(|p| arg.starts_with(p));
        let known = keep
            || ["--targets=", "--answers=", "--output="]
                .iter()
                .any(|p| arg.starts_with(p));
        assert!(known, "{what}: argument `{arg}` is not checked here");
        if keep {
            args.push(arg.clone());
        }
    }
    let ran = test.args(&args).run();
    ran.assert_code(0, &format!("{what}: drbook plan --drill of its arguments"));
}

#[test]
fn each_cronjob_drills_a_runbook_of_the_image_and_signs_and_stores_the_record() {
    let all = objects();
    for (path, cronjob) in all.iter().filter(|(_, o)| o["kind"] == "CronJob") {
        let what = format!("{}", path.display());
        let drill = check_cronjob(&all, cronjob);
        check_drill(&drill, &what);
    }
}

/// Runs `deploy/kubernetes/fan-out` on the shipped CronJob.
fn fan_out(targets: &[&str]) -> std::process::Output {
    let dir = repo_root().join("deploy/kubernetes");
    Command::new(dir.join("fan-out"))
        .arg(dir.join("cronjob-minio-lost.yaml"))
        .args(targets)
        .output()
        .expect("bash runs deploy/kubernetes/fan-out")
}

#[test]
fn fan_out_makes_one_staggered_cronjob_per_target() {
    let fleet = ["seed-eu", "seed-us", "seed-ap"];
    let out = fan_out(&fleet);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let cronjobs = documents(&text, "the fan-out's output");
    assert_eq!(cronjobs.len(), fleet.len(), "{text}");
    let mut all = objects();
    let mut schedules = BTreeSet::new();
    for (cronjob, target) in cronjobs.iter().zip(fleet) {
        assert_eq!(
            str_at(cronjob, "/metadata/name"),
            format!("drbook-drill-minio-lost-{target}")
        );
        assert_eq!(
            cronjob.pointer("/metadata/labels/drbook.io~1target"),
            Some(&Value::from(target))
        );
        schedules.insert(str_at(cronjob, "/spec/schedule").to_string());
        all.push((PathBuf::from("fan-out"), cronjob.clone()));
    }
    assert_eq!(schedules.len(), fleet.len(), "staggered: {schedules:?}");
    for cronjob in &cronjobs {
        let mut drill = check_cronjob(&all, cronjob);
        let target = flag(&drill.args, "target").unwrap().to_string();
        assert!(fleet.contains(&target.as_str()), "{target}");
        // A fleet's targets file names every target; here, each one like `staging`.
        drill.targets.push_str(&format!(
            "  {target}: {{environment: staging, drill: allowed, minio: {{endpoint: http://minio:9000}}, \
             offsite: {{endpoint: https://s3.example, region: eu-central-1}}, \
             restic_repository: s3:http://minio:9000/r, offsite_restic_repository: s3:https://s3.example/r}}\n"
        ));
        check_drill(&drill, &format!("fan-out to {target}"));
    }

    let bad = fan_out(&["Prod_EU"]);
    assert_eq!(bad.status.code(), Some(65));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("target `Prod_EU`: not a Kubernetes name"),
        "{bad:?}"
    );
    let long = fan_out(&["a-target-name-far-too-long-for-a-cronjob"]);
    assert_eq!(long.status.code(), Some(65), "{long:?}");
}

#[test]
fn the_systemd_service_drills_a_shipped_runbook_on_its_timer() {
    let dir = repo_root().join("deploy/systemd");
    let service = std::fs::read_to_string(dir.join("drbook-drill-minio-lost.service")).unwrap();
    let timer = std::fs::read_to_string(dir.join("drbook-drill-minio-lost.timer")).unwrap();
    assert!(timer.contains("\nOnCalendar="), "{timer}");
    // systemd joins a line ending in `\` with the next.
    let joined = service.replace("\\\n", " ");
    let exec = joined
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart=");
    let words: Vec<String> = exec.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[0], "/usr/local/bin/drbook");
    assert_eq!(words[1], "drill");
    let runbook = runbook_in_repo(&words[2], "the systemd service");
    assert!(
        joined.contains("\nKillSignal=SIGINT\n"),
        "drbook pauses on SIGINT"
    );
    for env in ["DRBOOK_SIGN_KEY=%d/", "DRBOOK_STORE=s3://"] {
        assert!(
            joined.contains(&format!("\nEnvironment={env}")),
            "`{env}` missing"
        );
    }
    // The same staging target and answers the CronJob uses.
    let config = objects()
        .into_iter()
        .find(|(_, o)| o["kind"] == "ConfigMap")
        .unwrap()
        .1;
    let file = |path: &str| {
        let key = path.strip_prefix("/etc/drbook/").unwrap();
        config["data"][key].as_str().unwrap().to_string()
    };
    let args = words[3..].to_vec();
    let drill = Drill {
        runbook,
        targets: file(flag(&args, "targets").unwrap()),
        answers: file(flag(&args, "answers").unwrap()),
        args,
    };
    check_drill(&drill, "the systemd service");
}

/// One permission: (namespace or `*` for the whole cluster, API group, resource, object
/// name or `*` for any, verb).
type Grant = (String, String, String, String, String);

/// Every permission the Roles and ClusterRoles of `file` grant, refusing wildcards and
/// the verbs that hand out more rights.
fn grants(file: &str) -> BTreeSet<Grant> {
    let path = repo_root().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = BTreeSet::new();
    for object in documents(&text, file) {
        let scope = match object["kind"].as_str().unwrap() {
            "ClusterRole" => "*".to_string(),
            "Role" => str_at(&object, "/metadata/namespace").to_string(),
            _ => continue,
        };
        for rule in object["rules"].as_array().unwrap() {
            let list = |key: &str| -> Vec<String> {
                rule[key]
                    .as_array()
                    .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            };
            let names = list("resourceNames");
            let names = if names.is_empty() {
                vec!["*".to_string()]
            } else {
                names
            };
            assert!(
                rule.get("nonResourceURLs").is_none(),
                "{file}: nonResourceURLs"
            );
            for group in list("apiGroups") {
                for resource in list("resources") {
                    for name in &names {
                        for verb in list("verbs") {
                            for word in [&group, &resource, &verb] {
                                assert_ne!(word, "*", "{file}: a wildcard in {rule}");
                            }
                            assert!(
                                !["escalate", "bind", "impersonate"].contains(&verb.as_str()),
                                "{file}: {verb}"
                            );
                            out.insert((
                                scope.clone(),
                                group.clone(),
                                resource.clone(),
                                name.clone(),
                                verb,
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

fn grant_set(rows: &[(&str, &str, &str, &str, &[&str])]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for (scope, group, resource, name, verbs) in rows {
        for verb in *verbs {
            out.insert((
                scope.to_string(),
                group.to_string(),
                resource.to_string(),
                name.to_string(),
                verb.to_string(),
            ));
        }
    }
    out
}

/// Compares what is granted with what is needed, naming both differences.
fn assert_grants(file: &str, needed: BTreeSet<Grant>) {
    let granted = grants(file);
    let extra: Vec<_> = granted.difference(&needed).collect();
    let missing: Vec<_> = needed.difference(&granted).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{file}: granted beyond what the steps need: {extra:?}; needed but not granted: {missing:?}"
    );
}

#[test]
fn the_drill_account_may_do_what_the_minio_lost_steps_do_and_nothing_else() {
    // runbooks/kkp/minio-lost.yaml runs kubectl for exactly these, with the inputs of
    // deploy/kubernetes/cronjob-minio-lost.yaml.
    let needed = grant_set(&[
        // mirror_guard: `kubectl get cronjobs -A`.
        ("*", "batch", "cronjobs", "*", &["list"]),
        // suspend_mirror, resume_mirror: `kubectl patch cronjob` of sync_cronjobs, and
        // `kubectl get jobs` + `kubectl delete job --wait` of their running Jobs.
        (
            "rclone-s3-syncer",
            "batch",
            "cronjobs",
            "user-cluster-backup",
            &["patch"],
        ),
        (
            "rclone-s3-syncer",
            "batch",
            "jobs",
            "*",
            &["get", "list", "watch", "delete"],
        ),
        // suspend_producers, resume_producers: the same for producer_cronjobs.
        (
            "kube-system",
            "batch",
            "cronjobs",
            "etcd-s3-backup",
            &["patch"],
        ),
        (
            "kube-system",
            "batch",
            "jobs",
            "*",
            &["get", "list", "watch", "delete"],
        ),
        // velero_read_only, velero_read_write: `kubectl patch backupstoragelocation`.
        (
            "velero",
            "velero.io",
            "backupstoragelocations",
            "default",
            &["patch"],
        ),
    ]);
    let file = "deploy/kubernetes/rbac-minio-lost.yaml";
    assert_grants(file, needed);
    // Each role is bound to the drill's ServiceAccount, and to nothing else.
    let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
    let docs = documents(&text, file);
    for role in docs
        .iter()
        .filter(|o| o["kind"] == "Role" || o["kind"] == "ClusterRole")
    {
        let binding_kind = if role["kind"] == "Role" {
            "RoleBinding"
        } else {
            "ClusterRoleBinding"
        };
        let binding = docs
            .iter()
            .find(|b| {
                b["kind"] == binding_kind
                    && b["roleRef"]["name"] == role["metadata"]["name"]
                    && b["metadata"]["namespace"] == role["metadata"]["namespace"]
            })
            .unwrap_or_else(|| panic!("{file}: {} is not bound", role["metadata"]));
        assert_eq!(
            binding["subjects"],
            serde_json::json!([{"kind": "ServiceAccount", "name": "drbook-drill", "namespace": "drbook-drills"}])
        );
    }
}

#[test]
fn the_actions_cluster_role_grants_what_velero_and_kkp_actions_need_and_nothing_else() {
    let follow: &[&str] = &["get", "list", "watch"];
    let create: &[&str] = &["get", "list", "watch", "create"];
    let needed = grant_set(&[
        // The cluster's identity; velero.restore's namespace checks and diagnosis.
        ("*", "", "namespaces", "*", &["get", "list"]),
        ("*", "", "pods", "*", &["list"]),
        // kkp.etcd.restore shows KKP's Warning events.
        ("*", "", "events", "*", &["list", "watch"]),
        ("*", "velero.io", "backups", "*", follow),
        ("*", "velero.io", "schedules", "*", follow),
        ("*", "velero.io", "restores", "*", create),
        (
            "*",
            "velero.io",
            "backupstoragelocations",
            "*",
            &["get", "list", "watch", "patch"],
        ),
        ("*", "velero.io", "downloadrequests", "*", create),
        ("*", "kubermatic.k8c.io", "clusters", "*", follow),
        ("*", "kubermatic.k8c.io", "seeds", "*", &["get", "list"]),
        (
            "*",
            "kubermatic.k8c.io",
            "etcdbackupconfigs",
            "*",
            &["get", "list"],
        ),
        ("*", "kubermatic.k8c.io", "etcdrestores", "*", create),
        // velero.restore reads the storage location's credentials, in velero only.
        ("velero", "", "secrets", "cloud-credentials", &["get"]),
    ]);
    assert_grants("deploy/rbac/drbook-actions.yaml", needed);
}
