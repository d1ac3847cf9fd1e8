//! `needs`: unknown steps, cycles, and edges between inject and recovery steps.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "needs_unknown_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      needs: [snapshto]
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` needs unknown step `snapshto`
  --> runbook.yaml:13:15
   |
13 |       needs: [snapshto]
   |               ^^^^^^^^
   |
   = help: did you mean `snapshot`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_unknown_step_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      needs: [backup-taken]
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` needs unknown step `backup-taken`
  --> runbook.yaml:13:15
   |
13 |       needs: [backup-taken]
   |               ^^^^^^^^^^^^
   |
   = help: `needs` lists ids of other steps in the same section

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_a_string",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
    - id: restore
      needs: snapshot
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `needs` of step `restore` must be a list of step ids, found a string
  --> runbook.yaml:13:14
   |
13 |       needs: snapshot
   |              ^^^^^^^^
   |
   = help: write `needs: [snapshot]`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_cycle_of_two",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: stop
      needs: [start]
      action: shell
      with:
        run: systemctl stop etcd
    - id: start
      needs: [stop]
      action: shell
      with:
        run: systemctl start etcd
"#,
        stderr: r#"
error: `needs` forms a cycle: `stop` needs `start` needs `stop`
 --> runbook.yaml:9:15
  |
9 |       needs: [start]
  |               ^^^^^
  |
  = help: a step can only need steps that can finish without it; break the cycle

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_cycle_of_three",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: fence
      needs: [verify]
      action: shell
      with:
        run: systemctl stop etcd
    - id: restore
      needs: [fence]
      action: shell
      with:
        run: etcdctl snapshot restore
    - id: verify
      needs: [restore]
      action: shell
      with:
        run: etcdctl endpoint health
"#,
        stderr: r#"
error: `needs` forms a cycle: `fence` needs `verify` needs `restore` needs `fence`
 --> runbook.yaml:9:15
  |
9 |       needs: [verify]
  |               ^^^^^^
  |
  = help: a step can only need steps that can finish without it; break the cycle

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "needs_itself",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      needs: [restore]
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: step `restore` needs itself
 --> runbook.yaml:9:15
  |
9 |       needs: [restore]
  |               ^^^^^^^
  |
  = help: remove it from its own `needs`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "recovery_needs_inject_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      needs: [break-etcd]
      action: shell
      with:
        run: etcdctl snapshot restore
  drill:
    inject:
      - id: break-etcd
        action: shell
        with:
          run: systemctl stop etcd
"#,
        stderr: r#"
error: step `restore` needs `break-etcd`, which is not a step of `spec.steps`
 --> runbook.yaml:9:15
  |
9 |       needs: [break-etcd]
  |               ^^^^^^^^^^
  |
  = help: it is a drill inject step, which never runs in incident mode; recovery steps cannot depend on it

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "inject_needs_recovery_step",
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
  drill:
    inject:
      - id: break-etcd
        needs: [restore]
        action: shell
        with:
          run: systemctl stop etcd
"#,
        stderr: r#"
error: step `break-etcd` needs `restore`, which is not a step of `drill.inject`
  --> runbook.yaml:15:17
   |
15 |         needs: [restore]
   |                 ^^^^^^^
   |
   = help: drill inject steps run before recovery starts and cannot wait for its steps

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
