//! A lint over the shipped runbooks for the classes of mistake the upstream review
//! found (`runbook-review.md`), so that they cannot come back:
//!
//! - a destructive step (reset, delete, restore, sync: by action name and by the words
//!   of its shell command) with no confirm before it that stops the run on "no"; an
//!   etcd restore whose every data directory is in the run's own work directory (a
//!   throwaway test restore, as S9's) destroys nothing and needs none;
//! - a `foreach` over an input whose default is the empty list (the review's S8 "suspend
//!   the mirror first!" step that silently did nothing);
//! - a confirm whose "no" neither stops the run nor is read by a later step's `when`;
//! - `kubeone reset` without explicit `--remove-volumes`/`--remove-lb-services`
//!   (KubeOne 1.12+ defaults both to true).
//!
//! Checkpoint semantics: a confirm answered "no" stops the run unless it says
//! `on_no: continue` (the opt-out for confirms that only steer later steps), as
//! `Checkpoint::stops_on_no` in the model says.
//!
//! Each rule is a small function over [`LintStep`]s (or the file's text), tested with
//! a bad snippet so that the lint itself can fail.

use drbook::runbook::model::{CheckpointKind, Foreach, Step, StepBody};
use drbook::runbook::{Runbook, load};

use crate::support::repo_root;

/// Actions that overwrite, move aside or delete state: never run without a confirm.
const DESTRUCTIVE_ACTIONS: &[&str] = &[
    "etcd.snapshot.restore",
    "kkp.etcd.restore",
    "pki.restore",
    "rclone.sync",
    "velero.restore",
];

/// Words of a shell command that reset, delete or overwrite.
const DESTRUCTIVE_WORDS: &[&str] = &[
    "kubeone reset",
    "kubeadm reset",
    "kubectl delete",
    "member remove",
    "rm -rf",
    "rclone sync",
    "rclone delete",
    "restic forget",
    "snapshot restore",
];

/// What the lint needs to know of one recovery step.
#[derive(Debug, Clone)]
struct LintStep {
    id: String,
    /// A confirm checkpoint.
    confirm: bool,
    /// For a confirm: whether "no" stops the run (no `on_no: continue`).
    stops_on_no: bool,
    /// The action's name, empty for a checkpoint.
    action: String,
    /// The shell command (`run`) or probe of the step, empty if none.
    command: String,
    /// An etcd restore whose every data directory is in the run's work directory.
    throwaway: bool,
    when: Option<String>,
    /// The input a `foreach: "{{ inputs.X }}"` fans out over.
    foreach_input: Option<String>,
}

impl LintStep {
    fn from_step(step: &Step) -> LintStep {
        let mut throwaway = false;
        let (confirm, stops_on_no, action, command) = match &step.body {
            StepBody::Checkpoint(c) => (
                c.kind == CheckpointKind::Confirm,
                c.stops_on_no(),
                String::new(),
                String::new(),
            ),
            StepBody::Action(call) => {
                let command = call
                    .with
                    .iter()
                    .filter(|(key, _)| key.value == "run" || key.value == "probe")
                    .filter_map(|(_, node)| node.as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                if call.name.value == "etcd.snapshot.restore" {
                    let members = call
                        .with
                        .iter()
                        .find(|(key, _)| key.value == "members")
                        .map(|(_, node)| node.to_json());
                    throwaway =
                        members
                            .as_ref()
                            .and_then(|m| m.as_array())
                            .is_some_and(|members| {
                                !members.is_empty()
                                    && members.iter().all(|m| {
                                        m["data_dir"]
                                            .as_str()
                                            .is_some_and(|d| d.starts_with("{{ run.workdir }}/"))
                                    })
                            });
                }
                (false, false, call.name.value.clone(), command)
            }
        };
        let foreach_input = match &step.foreach {
            Some(Foreach::Template(t)) => t
                .value
                .trim()
                .strip_prefix("{{")
                .and_then(|s| s.strip_suffix("}}"))
                .and_then(|s| s.trim().strip_prefix("inputs."))
                .map(str::to_string),
            _ => None,
        };
        LintStep {
            id: step.id.value.clone(),
            confirm,
            stops_on_no,
            action,
            command,
            throwaway,
            when: step.when.as_ref().map(|w| w.value.clone()),
            foreach_input,
        }
    }

    fn destructive(&self) -> bool {
        (DESTRUCTIVE_ACTIONS.contains(&self.action.as_str()) && !self.throwaway)
            || DESTRUCTIVE_WORDS.iter().any(|w| self.command.contains(w))
    }
}

fn lint_steps(runbook: &Runbook) -> Vec<LintStep> {
    runbook.spec.steps.iter().map(LintStep::from_step).collect()
}

/// Rule 1: every destructive step has a confirm before it that stops on "no".
fn destructive_without_stopping_confirm(steps: &[LintStep]) -> Vec<String> {
    let mut guarded = false;
    let mut found = Vec::new();
    for step in steps {
        if step.confirm && step.stops_on_no {
            guarded = true;
        }
        if step.destructive() && !guarded {
            found.push(format!(
                "step `{}` is destructive ({}) and no confirm before it stops the run on \"no\"",
                step.id,
                if step.action == "shell" || step.action == "wait" {
                    "by its command"
                } else {
                    step.action.as_str()
                }
            ));
        }
    }
    found
}

/// Rule 2: no `foreach` over an input whose default is the empty list.
fn foreach_over_empty_default(runbook: &Runbook, steps: &[LintStep]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|step| {
            let name = step.foreach_input.as_ref()?;
            let input = runbook.spec.inputs.iter().find(|i| &i.name.value == name)?;
            let default = input.default.as_ref()?;
            (default.value == serde_json::json!([])).then(|| {
                format!(
                    "step `{}` fans out over input `{name}`, whose default is empty: it silently does nothing; make the input required",
                    step.id
                )
            })
        })
        .collect()
}

/// Rule 3: a confirm whose "no" does not stop the run is read by a later `when`.
fn unread_confirm_answers(steps: &[LintStep]) -> Vec<String> {
    steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.confirm && !s.stops_on_no)
        .filter(|(i, s)| {
            let read = format!("steps.{}.answer", s.id);
            !steps[i + 1..]
                .iter()
                .any(|later| later.when.as_ref().is_some_and(|w| w.contains(&read)))
        })
        .map(|(_, s)| {
            format!(
                "confirm `{}` neither stops the run on \"no\" nor is read by a later `when`: its answer changes nothing",
                s.id
            )
        })
        .collect()
}

/// Rule 4: every `kubeone reset` command line (in a script, a description or a prompt)
/// says `--remove-volumes=` and `--remove-lb-services=` explicitly.
fn kubeone_reset_without_explicit_flags(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("kubeone reset ") {
            let command = &rest[at..];
            // The command ends at a closing backtick or the end of the line.
            let command = command.split('`').next().unwrap_or(command);
            if command.contains(" -")
                && !command.ends_with("--help")
                && !(command.contains("--remove-volumes=")
                    && command.contains("--remove-lb-services="))
            {
                found.push(format!(
                    "line {}: `{}` relies on KubeOne's defaults, which delete volumes and LoadBalancer Services since 1.12: add --remove-volumes=false --remove-lb-services=false",
                    number + 1,
                    command.trim()
                ));
            }
            rest = &rest[at + "kubeone reset ".len()..];
        }
    }
    found
}

/// Every finding of the lint for one runbook file's text.
fn lint(text: &str) -> Vec<String> {
    let runbook = load(text)
        .unwrap_or_else(|e| panic!("not a valid runbook: {e:?}"))
        .runbook;
    let steps = lint_steps(&runbook);
    let mut found = destructive_without_stopping_confirm(&steps);
    found.extend(foreach_over_empty_default(&runbook, &steps));
    found.extend(unread_confirm_answers(&steps));
    found.extend(kubeone_reset_without_explicit_flags(text));
    found
}

#[test]
fn the_shipped_runbooks_pass_the_lint() {
    let mut files = Vec::new();
    for layer in std::fs::read_dir(repo_root().join("runbooks")).unwrap() {
        let layer = layer.unwrap().path();
        if layer.is_dir() {
            for file in std::fs::read_dir(&layer).unwrap() {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "yaml") {
                    files.push(file);
                }
            }
        }
    }
    assert!(files.len() >= 5, "{files:?}");
    let mut report = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for finding in lint(&text) {
            report.push(format!("{}: {finding}", file.display()));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

fn runbook(steps: &str, inputs: &str) -> String {
    format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: lint, version: 1.0.0}}\nspec:\n  inputs:\n{inputs}  steps:\n{steps}"
    )
}

const RESET_FIRST: &str = "    - id: reset
      action: shell
      with: {run: 'kubeadm reset -f'}
    - id: declare
      checkpoint: {type: confirm, prompt: Is quorum lost?}
";

const DECLARE_FIRST: &str = "    - id: declare
      checkpoint: {type: confirm, prompt: Is quorum lost?}
    - id: reset
      action: shell
      with: {run: 'kubeadm reset -f'}
    - id: restore
      action: pki.restore
      with: {from: /b, from_layout: kubeone-backup, to: /etc/kubernetes/pki}
";

#[test]
fn a_destructive_step_before_any_confirm_is_found() {
    let steps = lint_steps(&load(&runbook(RESET_FIRST, "    []\n")).unwrap().runbook);
    let found = destructive_without_stopping_confirm(&steps);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`reset`"), "{found:?}");
    let steps = lint_steps(&load(&runbook(DECLARE_FIRST, "    []\n")).unwrap().runbook);
    assert!(destructive_without_stopping_confirm(&steps).is_empty());
}

#[test]
fn a_test_restore_into_the_runs_work_directory_needs_no_confirm_but_a_real_one_does() {
    let restore = |dir: &str| {
        format!(
            "    - id: restore
      action: etcd.snapshot.restore
      with:
        file: snap.db
        token: t
        members:
          - {{name: a, peer_url: 'http://127.0.0.1:2380', data_dir: \"{dir}\"}}
"
        )
    };
    let throwaway = restore("{{ run.workdir }}/sample-etcd");
    let steps = lint_steps(&load(&runbook(&throwaway, "    []\n")).unwrap().runbook);
    assert!(destructive_without_stopping_confirm(&steps).is_empty());
    let real = restore("/var/lib/etcd");
    let steps = lint_steps(&load(&runbook(&real, "    []\n")).unwrap().runbook);
    assert_eq!(destructive_without_stopping_confirm(&steps).len(), 1);
}

#[test]
fn a_confirm_whose_no_continues_does_not_guard() {
    let mut steps = lint_steps(&load(&runbook(DECLARE_FIRST, "    []\n")).unwrap().runbook);
    // What `on_no: continue` on `declare` will mean.
    steps[0].stops_on_no = false;
    let found = destructive_without_stopping_confirm(&steps);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[1].contains("pki.restore"), "{found:?}");
}

#[test]
fn a_foreach_over_an_empty_default_is_found() {
    let steps = "    - id: suspend
      foreach: \"{{ inputs.cronjobs }}\"
      action: shell
      with: {run: 'true'}
";
    let empty = runbook(steps, "    - {name: cronjobs, type: list, default: []}\n");
    let parsed = load(&empty).unwrap().runbook;
    let found = foreach_over_empty_default(&parsed, &lint_steps(&parsed));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`cronjobs`"));
    let required = runbook(steps, "    - {name: cronjobs, type: list}\n");
    let parsed = load(&required).unwrap().runbook;
    assert!(foreach_over_empty_default(&parsed, &lint_steps(&parsed)).is_empty());
}

#[test]
fn a_confirm_answer_nobody_reads_is_found() {
    let text = runbook(
        "    - id: consumers
      checkpoint: {type: confirm, prompt: Do the consumers write again?}
    - id: resume
      action: shell
      with: {run: 'true'}
",
        "    []\n",
    );
    let mut steps = lint_steps(&load(&text).unwrap().runbook);
    // A stopping confirm is read by the engine itself.
    assert!(unread_confirm_answers(&steps).is_empty());
    steps[0].stops_on_no = false;
    let found = unread_confirm_answers(&steps);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("`consumers`"));
    steps[1].when = Some("{{ steps.consumers.answer }}".into());
    assert!(unread_confirm_answers(&steps).is_empty());
}

#[test]
fn kubeone_reset_without_explicit_flags_is_found() {
    let old =
        "then `kubeone reset --manifest kubeone.yaml -t tf.json --destroy-workers=false`, then";
    let found = kubeone_reset_without_explicit_flags(old);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("line 1:"), "{found:?}");
    let script = "run: |\n  kubeone reset -m k.yaml --remove-volumes=false\n";
    assert_eq!(kubeone_reset_without_explicit_flags(script).len(), 1);
    let fixed = "`kubeone reset --manifest k.yaml --destroy-workers=false --remove-volumes=false --remove-lb-services=false`";
    assert!(kubeone_reset_without_explicit_flags(fixed).is_empty());
    // Naming the command, or its help, is not running it.
    assert!(
        kubeone_reset_without_explicit_flags(
            "do not use `kubeone reset` here; see `kubeone reset --help`"
        )
        .is_empty()
    );
}
