//! Missing keys and empty required sections.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "missing_metadata_name",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: `metadata` is missing the required key `name`
 --> runbook.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^
  |
  = help: add `name:`, the name runs are recorded under, like `name: etcd-restore`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_metadata_version",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: `metadata` is missing the required key `version`
 --> runbook.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^
  |
  = help: add `version: 1.0.0` and raise it whenever the runbook changes

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_spec_steps",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  description: Restore etcd from the last snapshot.
"#,
        stderr: r#"
error: `spec` is missing the required key `steps`
 --> runbook.yaml:6:1
  |
6 | spec:
  | ^^^^
  |
  = help: add `steps:` with at least one step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "empty_steps",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps: []
"#,
        stderr: r#"
error: `spec.steps` is empty
 --> runbook.yaml:7:3
  |
7 |   steps: []
  |   ^^^^^
  |
  = help: a runbook needs at least one step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_step_id",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - title: Confirm the leader is fenced
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: a step is missing the required key `id`
 --> runbook.yaml:8:7
  |
8 |     - title: Confirm the leader is fenced
  |       ^
  |
  = help: add `id:`, a short name like `restore-snapshot`; `needs` and templates use it

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_checkpoint_prompt",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        type: confirm
"#,
        stderr: r#"
error: the checkpoint of step `confirm` is missing the required key `prompt`
 --> runbook.yaml:9:7
  |
9 |       checkpoint:
  |       ^^^^^^^^^^
  |
  = help: add `prompt:`, the question the operator answers at this step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "empty_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
"#,
        stderr: r#"
error: the checkpoint of step `confirm` must be a mapping, found nothing (null)
 --> runbook.yaml:9:17
  |
9 |       checkpoint:
  |                 ^
  |
  = help: expected keys: prompt, type, choices, default, timeout, on_no

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_retry_attempts",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
      retry:
        backoff: 10s
"#,
        stderr: r#"
error: `retry` of step `restore` is missing the required key `attempts`
  --> runbook.yaml:12:7
   |
12 |       retry:
   |       ^^^^^
   |
   = help: add `attempts:`, like `attempts: 3`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "missing_drill_inject",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
  drill:
    description: Stop etcd on one member.
"#,
        stderr: r#"
error: `spec.drill` is missing the required key `inject`
  --> runbook.yaml:11:3
   |
11 |   drill:
   |   ^^^^^
   |
   = help: add `inject:` with the steps that cause the failure the drill recovers from

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
