//! Inputs: defaults of the wrong type and names that are not identifiers.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "input_default_wrong_type",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: members
      type: number
      default: three
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: the default of input `members` is not a number
  --> runbook.yaml:10:16
   |
10 |       default: three
   |                ^^^^^
   |
   = help: write a number value or change `type`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "input_name_not_identifier",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: healthy-node
  steps:
    - id: members
      action: shell
      with:
        run: etcdctl member list
"#,
        stderr: r#"
error: input name `healthy-node` is not a valid name
 --> runbook.yaml:8:13
  |
8 |     - name: healthy-node
  |             ^^^^^^^^^^^^
  |
  = help: templates read it as `inputs.<name>`: start with a letter, then use letters, digits and `_` only, like `healthy_node`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
