//! Outputs of built-in actions: a name the action never sets.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "output_in_another_spelling",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snap
      action: etcd.snapshot.verify
      with: {file: /backup/snap.db}
    - id: count
      action: shell
      with:
        run: "test {{ steps.snap.outputs.totalKeys }} -gt 0"
"#,
        stderr: r#"
error: `with.run` of step `count` reads output `totalKeys` of step `snap`, but `etcd.snapshot.verify` has no output `totalKeys`
  --> runbook.yaml:14:23
   |
14 |         run: "test {{ steps.snap.outputs.totalKeys }} -gt 0"
   |                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `total_keys`? `etcd.snapshot.verify` sets: file, revision, total_keys, total_size, size, sha256, hash, compressed

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "output_an_action_never_sets",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: health
      action: etcd.health
      with: {endpoints: ["http://127.0.0.1:2379"]}
    - id: gate
      when: "{{ steps.health.outputs.quorum }}"
      checkpoint: {prompt: Go on?}
"#,
        stderr: r#"
error: `when` of step `gate` reads output `quorum` of step `health`, but `etcd.health` has no output `quorum`
  --> runbook.yaml:12:17
   |
12 |       when: "{{ steps.health.outputs.quorum }}"
   |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: `etcd.health` sets: healthy, total, endpoints, cluster_id

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
