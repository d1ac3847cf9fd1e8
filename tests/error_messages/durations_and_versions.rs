//! Durations and versions that do not parse.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "duration_words",
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
      timeout: ten minutes
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` is not a duration: `ten` is not a number
  --> runbook.yaml:10:16
   |
10 |       timeout: ten minutes
   |                ^^^^^^^^^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_bare_number",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  objectives:
    rto: 60
    rpo: 15m
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `objectives.rto` needs a unit: `60` could be seconds or minutes
 --> runbook.yaml:8:10
  |
8 |     rto: 60
  |          ^^
  |
  = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_unknown_unit",
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
      timeout: 10 minuets
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` is not a duration: unknown unit `minuets`
  --> runbook.yaml:10:16
   |
10 |       timeout: 10 minuets
   |                ^^^^^^^^^^
   |
   = help: write a number with a unit, like `30s`, `10m`, `1h 30m` or `10 minutes`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_capital_m_is_months",
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
      timeout: 10M
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` uses `M`, which means months
  --> runbook.yaml:10:16
   |
10 |       timeout: 10M
   |                ^^^
   |
   = help: did you mean `10m` (minutes)?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_years",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: approve
      checkpoint:
        prompt: Restore?
        timeout: 1 year
"#,
        stderr: r#"
error: checkpoint `timeout` of step `approve` uses `year`: runbooks do not take months or years
  --> runbook.yaml:11:18
   |
11 |         timeout: 1 year
   |                  ^^^^^^
   |
   = help: write it in days or weeks, like `365d`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "duration_zero_step_timeout",
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
      timeout: 0s
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `timeout` of step `restore` is zero
  --> runbook.yaml:10:16
   |
10 |       timeout: 0s
   |                ^^
   |
   = help: write a duration longer than zero, like `30s`, or leave the key out for no limit

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "version_not_semver",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: v1.2
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `metadata.version` `v1.2` is not a semantic version: unexpected character 'v' while parsing major version number
 --> runbook.yaml:5:12
  |
5 |   version: v1.2
  |            ^^^^
  |
  = help: write MAJOR.MINOR.PATCH, like `1.0.0`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "version_a_number",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0
spec:
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `metadata.version` must be a semantic version like `1.0.0`, found a number
 --> runbook.yaml:5:12
  |
5 |   version: 1.0
  |            ^^^
  |
  = help: write MAJOR.MINOR.PATCH, like `1.0.0`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
