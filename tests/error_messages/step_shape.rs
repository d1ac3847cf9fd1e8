//! Step shape: action or checkpoint, `foreach` and `concurrency`, step ids.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "step_velero_restore_in_foreach",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: velero-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      foreach: [shop, billing]
      action: velero.restore
      with:
        backup: nightly
        namespaces: ["{{ item }}"]
"#,
        stderr: r#"
error: step `restore` runs `velero.restore` in a `foreach`, but each of its items would create or follow the same Restore `drbook-<run id>-restore`
  --> runbook.yaml:10:15
   |
10 |       action: velero.restore
   |               ^^^^^^^^^^^^^^
   |
   = help: Velero runs one restore at a time anyway: write one step per restore (each gets its own Restore), or restore several namespaces in one step with `namespaces: [a, b]`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "step_action_and_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      checkpoint:
        prompt: Restore now?
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` has both `checkpoint` and `action`
  --> runbook.yaml:11:7
   |
11 |       action: shell
   |       ^^^^^^
   |
   = help: split it into two steps: one asks the operator, one acts

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "step_neither_action_nor_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      title: Restore the snapshot
"#,
        stderr: r#"
error: step `restore` has neither `action` nor `checkpoint`
 --> runbook.yaml:8:7
  |
8 |     - id: restore
  |       ^
  |
  = help: add `action: <name>` to automate it or `checkpoint:` to ask the operator

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "concurrency_without_foreach",
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
      concurrency: 2
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` sets `concurrency` without `foreach`
  --> runbook.yaml:10:20
   |
10 |       concurrency: 2
   |                    ^
   |
   = help: `concurrency` bounds how many `foreach` items run at once

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_with_foreach",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - {name: members, type: list, default: [m0, m1]}
  steps:
    - id: confirm_each
      foreach: "{{ inputs.members }}"
      checkpoint: {prompt: "Is {{ item }} stopped?"}
"#,
        stderr: r#"
error: step `confirm_each` is a checkpoint and cannot fan out with `foreach`
  --> runbook.yaml:11:16
   |
11 |       foreach: "{{ inputs.members }}"
   |                ^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: ask once and list the items in the prompt, e.g. `{{ inputs.members | join(', ') }}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "step_id_invalid",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: 1st restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step id `1st restore` is not a valid id
 --> runbook.yaml:8:11
  |
8 |     - id: 1st restore
  |           ^^^^^^^^^^^
  |
  = help: start with a letter; use letters, digits, `-` and `_` only

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
