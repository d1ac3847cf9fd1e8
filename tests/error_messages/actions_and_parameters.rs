//! Actions and their parameters: unknown, missing or of the wrong type.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "action_unknown",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: shel
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: unknown action `shel` in step `restore`
 --> runbook.yaml:9:15
  |
9 |       action: shel
  |               ^^^^
  |
  = help: did you mean `shell`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "action_unknown_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      action: etcd.restore
      with:
        snapshot: /backup/snap.db
"#,
        stderr: r#"
error: unknown action `etcd.restore` in step `restore`
 --> runbook.yaml:9:15
  |
9 |       action: etcd.restore
  |               ^^^^^^^^^^^^
  |
  = help: did you mean `etcd.snapshot.restore`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_unknown",
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
        cwd: /var/lib/etcd
"#,
        stderr: r#"
error: action `shell` in step `restore` has no parameter `cwd`
  --> runbook.yaml:12:9
   |
12 |         cwd: /var/lib/etcd
   |         ^^^
   |
   = help: `shell` takes: run, env, workdir

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_unknown_close",
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
        workdri: /var/lib/etcd
"#,
        stderr: r#"
error: action `shell` in step `restore` has no parameter `workdri`
  --> runbook.yaml:12:9
   |
12 |         workdri: /var/lib/etcd
   |         ^^^^^^^
   |
   = help: did you mean `workdir`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_missing",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: etcdctl endpoint health
"#,
        stderr: r#"
error: action `wait` in step `healthy` is missing the required parameter `timeout`
 --> runbook.yaml:9:15
  |
9 |       action: wait
  |               ^^^^
  |
  = help: add `timeout: ...` under `with:`. How long to keep polling before the step fails; required, so a wait can never hang a run.

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_missing_no_with",
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
"#,
        stderr: r#"
error: action `shell` in step `restore` is missing the required parameter `run`
 --> runbook.yaml:9:15
  |
9 |       action: shell
  |               ^^^^^
  |
  = help: add `run: ...` under `with:`. The command line, run with `/bin/sh -c`.

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_shell_run_list",
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
        run:
          - etcdctl snapshot restore
          - systemctl start etcd
"#,
        stderr: r#"
error: parameter `run` of action `shell` in step `restore` must be a string, found a list
  --> runbook.yaml:12:11
   |
12 |           - etcdctl snapshot restore
   |           ^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: write one string; several commands can be joined with `&&` or written as a `|` block

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_timeout_words",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: etcdctl endpoint health
        timeout: ten minutes
"#,
        stderr: r#"
error: parameter `timeout` of step `healthy` is not a duration: `ten` is not a number
  --> runbook.yaml:12:18
   |
12 |         timeout: ten minutes
   |                  ^^^^^^^^^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_timeout_bare_number",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: etcdctl endpoint health
        timeout: 600
"#,
        stderr: r#"
error: parameter `timeout` of step `healthy` needs a unit: `600` could be seconds or minutes
  --> runbook.yaml:12:18
   |
12 |         timeout: 600
   |                  ^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_timeout_months",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: kubectl get --raw=/readyz
        timeout: 2 months
"#,
        stderr: r#"
error: parameter `timeout` of step `healthy` uses `months`: runbooks do not take months or years
  --> runbook.yaml:12:18
   |
12 |         timeout: 2 months
   |                  ^^^^^^^^
   |
   = help: write it in days or weeks, like `61d`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_wait_interval_zero",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: healthy
      action: wait
      with:
        probe: kubectl get --raw=/readyz
        timeout: 10m
        interval: 0s
"#,
        stderr: r#"
error: parameter `interval` of step `healthy` is zero
  --> runbook.yaml:13:19
   |
13 |         interval: 0s
   |                   ^^
   |
   = help: write a duration longer than zero, like `30s`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_env_list",
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
        env:
          - ETCDCTL_API=3
"#,
        stderr: r#"
error: parameter `env` of action `shell` in step `restore` must be a mapping of names to strings, found a list
  --> runbook.yaml:13:11
   |
13 |           - ETCDCTL_API=3
   |           ^^^^^^^^^^^^^^^
   |
   = help: write one `NAME: value` per line instead of list items

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "param_env_value_not_string",
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
        env:
          ETCDCTL_API: 3
"#,
        stderr: r#"
error: `ETCDCTL_API` in parameter `env` of step `restore` must be a string, found an integer
  --> runbook.yaml:13:24
   |
13 |           ETCDCTL_API: 3
   |                        ^
   |
   = help: quote it to pass it as text: `ETCDCTL_API: "3"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
