//! Milestones: `marks: recovered` once, and not on an inject step.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "recovered_twice",
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
      marks: recovered
    - id: verify
      action: shell
      with:
        run: etcdctl endpoint health
      marks: recovered
"#,
        stderr: r#"
error: step `verify` also marks `recovered`
  --> runbook.yaml:17:14
   |
17 |       marks: recovered
   |              ^^^^^^^^^
   |
   = help: only one step stops the RTO clock; `restore` already does (line 8)

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "recovered_on_inject_step",
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
        action: shell
        with:
          run: systemctl stop etcd
        marks: recovered
"#,
        stderr: r#"
error: drill inject step `break-etcd` cannot mark `recovered`
  --> runbook.yaml:18:16
   |
18 |         marks: recovered
   |                ^^^^^^^^^
   |
   = help: the RTO clock stops on a recovery step in `spec.steps`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
