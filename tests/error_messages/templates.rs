//! Templates: syntax, and the inputs, secrets, steps and variables they name.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "template_unclosed",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --cluster {{ inputs.cluster snapshot restore
"#,
        stderr: r#"
error: template error in `with.run` of step `restore`: syntax error: unexpected identifier, expected end of variable block
  --> runbook.yaml:13:50
   |
13 |         run: etcdctl --cluster {{ inputs.cluster snapshot restore
   |                                                  ^^^^^^^^
   |
   = help: is a closing `}}` missing?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unclosed_at_end",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: "etcdctl snapshot restore --cluster {{ inputs.cluster"
"#,
        stderr: r#"
error: template error in `with.run` of step `restore`: syntax error: unexpected end of input, expected end of variable block
  --> runbook.yaml:13:60
   |
13 |         run: "etcdctl snapshot restore --cluster {{ inputs.cluster"
   |                                                            ^^^^^^^
   |
   = help: is a closing `}}` missing?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_bad_filter",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --cluster {{ inputs.cluster | }} snapshot restore
"#,
        stderr: r#"
error: template error in `with.run` of step `restore`: syntax error: unexpected end of variable block, expected identifier
  --> runbook.yaml:13:52
   |
13 |         run: etcdctl --cluster {{ inputs.cluster | }} snapshot restore
   |                                                    ^^
   |
   = help: a `|` is followed by a filter name, like `{{ inputs.name | upper }}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_input",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --cluster {{ inputs.clustr }} snapshot restore
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown input `clustr`
  --> runbook.yaml:13:35
   |
13 |         run: etcdctl --cluster {{ inputs.clustr }} snapshot restore
   |                                   ^^^^^^^^^^^^^
   |
   = help: did you mean `cluster`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_secret",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: etcd_passwd
      env: ETCD_PASSWORD
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl --password {{ secrets.etcd_password }} snapshot restore
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown secret `etcd_password`
  --> runbook.yaml:14:36
   |
14 |         run: etcdctl --password {{ secrets.etcd_password }} snapshot restore
   |                                    ^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `etcd_passwd`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_step",
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
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshto.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown step `snapshto`
  --> runbook.yaml:15:42
   |
15 |         run: etcdctl snapshot restore {{ steps.snapshto.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `snapshot`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_variable",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: cluster
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore --cluster {{ input.cluster }}
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown variable `input`
  --> runbook.yaml:13:52
   |
13 |         run: etcdctl snapshot restore --cluster {{ input.cluster }}
   |                                                    ^^^^^^^^^^^^^
   |
   = help: did you mean `inputs`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_step_not_before",
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
    - id: fence
      needs: []
      action: shell
      with:
        run: systemctl stop etcd
    - id: restore
      needs: [fence]
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads step `snapshot`, which is not guaranteed to run before it
  --> runbook.yaml:21:42
   |
21 |         run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: add `snapshot` to the `needs` of step `restore`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_later_step",
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
        run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
    - id: snapshot
      action: shell
      with:
        run: etcdctl snapshot save
"#,
        stderr: r#"
error: `with.run` of step `restore` reads step `snapshot`, which runs after it
  --> runbook.yaml:11:42
   |
11 |         run: etcdctl snapshot restore {{ steps.snapshot.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: move step `snapshot` above step `restore`, or read the value in a later step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_own_step",
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
        run: etcdctl snapshot restore {{ steps.restore.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads the result of its own step `restore`
  --> runbook.yaml:11:42
   |
11 |         run: etcdctl snapshot restore {{ steps.restore.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: a step's outputs exist only after it finished; read them in a later step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_item_outside_foreach",
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
        run: etcdctl --endpoints {{ item }} snapshot restore
"#,
        stderr: r#"
error: `with.run` of step `restore` uses `item`, which only exists in a `foreach` step
  --> runbook.yaml:11:37
   |
11 |         run: etcdctl --endpoints {{ item }} snapshot restore
   |                                     ^^^^
   |
   = help: add `foreach:` to the step, or use a value from `inputs`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_answer_of_action",
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
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.snapshot.answer }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads `steps.snapshot.answer`, but `snapshot` is an action
  --> runbook.yaml:15:42
   |
15 |         run: etcdctl snapshot restore {{ steps.snapshot.answer }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^
   |
   = help: an action's results are `steps.snapshot.outputs.<name>`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_outputs_of_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: pick
      checkpoint:
        prompt: Which snapshot?
        type: text
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore {{ steps.pick.outputs.path }}
"#,
        stderr: r#"
error: `with.run` of step `restore` reads `steps.pick.outputs`, but `pick` is a checkpoint
  --> runbook.yaml:15:42
   |
15 |         run: etcdctl snapshot restore {{ steps.pick.outputs.path }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: a checkpoint's result is `steps.pick.answer`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_subscript_later_step",
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
        run: etcdctl snapshot restore {{ steps['snapshot'].outputs.PATH }}
    - id: snapshot
      action: shell
      with:
        run: echo PATH=/var/backups/etcd.db
"#,
        stderr: r#"
error: `with.run` of step `restore` reads step `snapshot`, which runs after it
  --> runbook.yaml:11:42
   |
11 |         run: etcdctl snapshot restore {{ steps['snapshot'].outputs.PATH }}
   |                                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: move step `snapshot` above step `restore`, or read the value in a later step

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_subscript_unknown_step",
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
        prompt: Is the old leader fenced?
    - id: restore
      action: shell
      with:
        run: "echo {{ steps['confrim'].answer }}"
"#,
        stderr: r#"
error: `with.run` of step `restore` uses unknown step `confrim`
  --> runbook.yaml:14:23
   |
14 |         run: "echo {{ steps['confrim'].answer }}"
   |                       ^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `confirm`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_subscript_answer_of_action",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: find-member
      action: shell
      with:
        run: echo MEMBER_ID=8e9e05c52164694d
    - id: remove
      action: shell
      with:
        run: etcdctl member remove {{ steps['find-member'].answer }}
"#,
        stderr: r#"
error: `with.run` of step `remove` reads `steps['find-member'].answer`, but `find-member` is an action
  --> runbook.yaml:15:39
   |
15 |         run: etcdctl member remove {{ steps['find-member'].answer }}
   |                                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: an action's results are `steps['find-member'].outputs.<name>`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_hyphenated_step_id",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: find-member
      action: shell
      with:
        run: echo MEMBER_ID=8e9e05c52164694d
    - id: remove
      action: shell
      with:
        run: etcdctl member remove {{ steps.find-member.outputs.MEMBER_ID }}
"#,
        stderr: r#"
error: in `with.run` of step `remove`, `steps.find-member` reads as `steps.find` minus `member`
  --> runbook.yaml:15:39
   |
15 |         run: etcdctl member remove {{ steps.find-member.outputs.MEMBER_ID }}
   |                                       ^^^^^^^^^^^^^^^^^
   |
   = help: write `steps['find-member']` or rename the step with `_`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_hyphenated_unknown_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: find-member
      action: shell
      with:
        run: echo MEMBER_ID=8e9e05c52164694d
    - id: remove
      action: shell
      with:
        run: etcdctl member remove {{ steps.find-membr.outputs.MEMBER_ID }}
"#,
        stderr: r#"
error: in `with.run` of step `remove`, `steps.find-membr` reads as `steps.find` minus `membr`
  --> runbook.yaml:15:39
   |
15 |         run: etcdctl member remove {{ steps.find-membr.outputs.MEMBER_ID }}
   |                                       ^^^^^^^^^^^^^^^^
   |
   = help: there is no step `find-membr` either; did you mean `steps['find-member']`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_hyphenated_input",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: healthy_node
  steps:
    - id: members
      action: shell
      with:
        run: kubectl -n kube-system exec etcd-{{ inputs.healthy-node }} -- etcdctl member list
"#,
        stderr: r#"
error: in `with.run` of step `members`, `inputs.healthy-node` reads as `inputs.healthy` minus `node`
  --> runbook.yaml:13:50
   |
13 |         run: kubectl -n kube-system exec etcd-{{ inputs.healthy-node }} -- etcdctl member list
   |                                                  ^^^^^^^^^^^^^^^^^^^
   |
   = help: input names cannot contain `-`; did you mean `inputs.healthy_node`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
