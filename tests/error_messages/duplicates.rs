//! Duplicate step ids, keys and inputs.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "duplicate_step_id",
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
    - id: restore
      action: shell
      with:
        run: systemctl start etcd
"#,
        stderr: r#"
error: duplicate step id `restore`
  --> runbook.yaml:12:11
   |
 8 |     - id: restore
   |           ------- first written here
...
12 |     - id: restore
   |           ^^^^^^^
   |
   = help: every step id must be unique

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_key_in_step",
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
      timeout: 5m
      with:
        run: etcdctl snapshot restore
      timeout: 10m
"#,
        stderr: r#"
error: key `timeout` appears twice in step `restore`
  --> runbook.yaml:13:7
   |
10 |       timeout: 5m
   |       ------- first written here
...
13 |       timeout: 10m
   |       ^^^^^^^
   |
   = help: keep one of them; YAML would silently use the last

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_key_in_with",
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
        run: systemctl start etcd
"#,
        stderr: r#"
error: key `run` appears twice in `with` of step `restore`
  --> runbook.yaml:12:9
   |
11 |         run: etcdctl snapshot restore
   |         --- first written here
12 |         run: systemctl start etcd
   |         ^^^
   |
   = help: keep one of them; YAML would silently use the last

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duplicate_input",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: duplicate input `cluster`
 --> runbook.yaml:9:13
  |
8 |     - name: cluster
  |             ------- first written here
9 |     - name: cluster
  |             ^^^^^^^
  |
  = help: every input must be unique

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
