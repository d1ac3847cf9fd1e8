//! Unknown keys, at every level, with a suggestion when one is close.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "unknown_key_top_level",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metdata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `metdata` in the runbook
 --> runbook.yaml:3:1
  |
3 | metdata:
  | ^^^^^^^
  |
  = help: did you mean `metadata`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_metadata",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
  owner: sre-team
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `owner` in `metadata`
 --> runbook.yaml:6:3
  |
6 |   owner: sre-team
  |   ^^^^^
  |
  = help: did you mean `owners`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_spec",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  step:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `step` in `spec`
 --> runbook.yaml:7:3
  |
7 |   step:
  |   ^^^^
  |
  = help: did you mean `steps`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_step",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      acton: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: unknown key `acton` in step `restore`
 --> runbook.yaml:9:7
  |
9 |       acton: shell
  |       ^^^^^
  |
  = help: did you mean `action`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_step_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      owner: sre-team
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `owner` in step `confirm`
 --> runbook.yaml:9:7
  |
9 |       owner: sre-team
  |       ^^^^^
  |
  = help: allowed keys: id, title, description, checkpoint, action, with, needs, when, foreach, concurrency, timeout, retry, on_failure, marks, idempotent

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_key_checkpoint",
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
        promt: Ready?
"#,
        stderr: r#"
error: unknown key `promt` in the checkpoint of step `confirm`
  --> runbook.yaml:10:9
   |
10 |         promt: Ready?
   |         ^^^^^
   |
   = help: did you mean `prompt`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "unknown_keys_nested",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  objectives:
    rto: 1h
    rpo: 15m
    sla: 99.9
  inputs:
    - name: cluster
      typ: string
  secrets:
    - name: token
      evn: API_TOKEN
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
      retry:
        attempts: 3
        backof: 10s
  drill:
    injects:
      - id: break-etcd
        action: shell
        with:
          run: systemctl stop etcd
"#,
        stderr: r#"
error: unknown key `sla` in `spec.objectives`
  --> runbook.yaml:10:5
   |
10 |     sla: 99.9
   |     ^^^
   |
   = help: allowed keys: rto, rpo

error: unknown key `typ` in input `cluster`
  --> runbook.yaml:13:7
   |
13 |       typ: string
   |       ^^^
   |
   = help: did you mean `type`?

error: unknown key `evn` in secret `token`
  --> runbook.yaml:16:7
   |
16 |       evn: API_TOKEN
   |       ^^^
   |
   = help: did you mean `env`?

error: unknown key `backof` in `retry` of step `restore`
  --> runbook.yaml:24:9
   |
24 |         backof: 10s
   |         ^^^^^^
   |
   = help: did you mean `backoff`?

error: unknown key `injects` in `spec.drill`
  --> runbook.yaml:26:5
   |
26 |     injects:
   |     ^^^^^^^
   |
   = help: did you mean `inject`?

error: runbook.yaml is not a valid runbook: 5 errors
"#,
    },
];
