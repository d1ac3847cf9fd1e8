//! Several errors in one file, reported together in file order.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "several_errors_in_file_order",
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
    - id: fence
      action: shell
      timeout: 5 minutes
      with:
        run: systemctl stop etcd --cluster {{ inputs.clustr }}
    - id: restore
      needs: [fense]
      action: shel
      with:
        run: etcdctl snapshot restore
    - id: confirm
      checkpoint:
        prompt: Is {{ secrets.token }} still valid?
        type: choice
"#,
        stderr: r#"
error: `with.run` of step `fence` uses unknown input `clustr`
  --> runbook.yaml:14:47
   |
14 |         run: systemctl stop etcd --cluster {{ inputs.clustr }}
   |                                               ^^^^^^^^^^^^^
   |
   = help: did you mean `cluster`?

error: step `restore` needs unknown step `fense`
  --> runbook.yaml:16:15
   |
16 |       needs: [fense]
   |               ^^^^^
   |
   = help: did you mean `fence`?

error: unknown action `shel` in step `restore`
  --> runbook.yaml:17:15
   |
17 |       action: shel
   |               ^^^^
   |
   = help: did you mean `shell`?

error: the prompt of step `confirm` uses unknown secret `token`
  --> runbook.yaml:22:23
   |
22 |         prompt: Is {{ secrets.token }} still valid?
   |                       ^^^^^^^^^^^^^
   |
   = help: declaring it under `spec.secrets` would not help: secrets may only be passed to action parameters, never shown in titles, prompts or descriptions

error: the choice checkpoint of step `confirm` has no `choices`
  --> runbook.yaml:23:15
   |
23 |         type: choice
   |               ^^^^^^
   |
   = help: add `choices: [a, b]`, or use `type: confirm`, `text` or `number`

error: runbook.yaml is not a valid runbook: 5 errors
"#,
    },
    Case {
        name: "several_structural_errors",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: fence
      action: shell
      timeout: 5
      with:
        run: systemctl stop etcd
    - id: restore
      acton: shell
    - id: verify
      checkpoint:
        type: confirm
"#,
        stderr: r#"
error: `timeout` of step `fence` needs a unit: `5` could be seconds or minutes
  --> runbook.yaml:10:16
   |
10 |       timeout: 5
   |                ^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: unknown key `acton` in step `restore`
  --> runbook.yaml:14:7
   |
14 |       acton: shell
   |       ^^^^^
   |
   = help: did you mean `action`?

error: the checkpoint of step `verify` is missing the required key `prompt`
  --> runbook.yaml:16:7
   |
16 |       checkpoint:
   |       ^^^^^^^^^^
   |
   = help: add `prompt:`, the question the operator answers at this step

error: runbook.yaml is not a valid runbook: 3 errors
"#,
    },
    Case {
        name: "etcd_member_table_bad_peer_urls_duplicates_and_missing_keys",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members:
          - {name: cp-0, peer_url: "https://10.0.0.1:2380", data_dir: /var/lib/etcd}
          - {name: cp-1, peer_url: "https://10.0.0.2", data_dir: /var/lib/etcd-1}
          - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
          - name: cp-3
            peer_urls: "https://10.0.0.4:2380"
"#,
        stderr: r#"
error: `peer_url` of member 2 of parameter `members` of step `restore` has no port; etcd does not assume 2380
  --> runbook.yaml:15:36
   |
15 |           - {name: cp-1, peer_url: "https://10.0.0.2", data_dir: /var/lib/etcd-1}
   |                                    ^^^^^^^^^^^^^^^^^^
   |
   = help: write it like `https://10.0.0.1:2380`: scheme, host and port, as `--initial-advertise-peer-urls` takes it

error: member 3 of parameter `members` of step `restore` has the same `name` as member 1
  --> runbook.yaml:16:20
   |
16 |           - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
   |                    ^^^^
   |
   = help: member 1 is on line 14; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: member 3 of parameter `members` of step `restore` has the same `peer_url` as member 1
  --> runbook.yaml:16:36
   |
16 |           - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
   |                                    ^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: member 1 is on line 14; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: member 3 of parameter `members` of step `restore` has the same `data_dir` as member 1
  --> runbook.yaml:16:72
   |
16 |           - {name: cp-0, peer_url: "https://10.0.0.1:2380/", data_dir: /var/lib/etcd/}
   |                                                                        ^^^^^^^^^^^^^^
   |
   = help: member 1 is on line 14; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: member 4 of parameter `members` of step `restore` is missing `peer_url` and `data_dir`
  --> runbook.yaml:17:13
   |
17 |           - name: cp-3
   |             ^^^^
   |
   = help: every member needs `name`, `peer_url` (like `https://10.0.0.1:2380`) and `data_dir`

error: unknown key `peer_urls` in member 4 of parameter `members` of step `restore`
  --> runbook.yaml:18:13
   |
18 |             peer_urls: "https://10.0.0.4:2380"
   |             ^^^^^^^^^
   |
   = help: did you mean `peer_url`?

error: runbook.yaml is not a valid runbook: 6 errors
"#,
    },
    Case {
        name: "etcd_member_table_url_without_scheme_and_shared_data_dir_templates_skipped",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: kubeone-etcd-restore
  version: 1.0.0
spec:
  inputs:
    - {name: node_ip, type: string}
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members:
          - name: cp-0
            peer_url: "https://{{ inputs.node_ip }}:2380"
            data_dir: /var/lib/etcd
          - name: cp-1
            peer_url: 10.0.0.2:2380
            data_dir: /var/lib/etcd
"#,
        stderr: r#"
error: `peer_url` of member 2 of parameter `members` of step `restore` has no scheme (`https://` or `http://`)
  --> runbook.yaml:20:23
   |
20 |             peer_url: 10.0.0.2:2380
   |                       ^^^^^^^^^^^^^
   |
   = help: write it like `https://10.0.0.1:2380`: scheme, host and port, as `--initial-advertise-peer-urls` takes it

error: member 2 of parameter `members` of step `restore` has the same `data_dir` as member 1
  --> runbook.yaml:21:23
   |
21 |             data_dir: /var/lib/etcd
   |                       ^^^^^^^^^^^^^
   |
   = help: member 1 is on line 18; every member needs its own name, peer URL and data directory (they become `--initial-cluster` and the restore's `--data-dir`)

error: runbook.yaml is not a valid runbook: 2 errors
"#,
    },
    Case {
        name: "etcd_member_table_not_a_list_or_empty",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members: cp-0=https://10.0.0.1:2380
    - id: again
      action: etcd.snapshot.restore
      with:
        file: /backup/etcd.db
        token: etcd-restored
        members: []
"#,
        stderr: r#"
error: parameter `members` of action `etcd.snapshot.restore` in step `restore` must be a list of members, each with `name`, `peer_url` and `data_dir`, found a string
  --> runbook.yaml:13:18
   |
13 |         members: cp-0=https://10.0.0.1:2380
   |                  ^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: `members`: Every member of the restored cluster: `- {name: cp-0, peer_url: https://10.0.0.1:2380, data_dir: /var/lib/etcd}`.

error: parameter `members` of step `again` lists no members
  --> runbook.yaml:19:18
   |
19 |         members: []
   |                  ^^
   |
   = help: every member needs `name`, `peer_url` (like `https://10.0.0.1:2380`) and `data_dir`

error: runbook.yaml is not a valid runbook: 2 errors
"#,
    },
];
