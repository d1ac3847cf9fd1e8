//! Secrets: where they may not be used, and how they are declared.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "secret_in_prompt",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
    - id: go
      checkpoint:
        prompt: "Is {{ secrets.token }} the right token?"
"#,
        stderr: r#"
error: the prompt of step `go` would show secret `token` on screen and in the record
  --> runbook.yaml:13:24
   |
13 |         prompt: "Is {{ secrets.token }} the right token?"
   |                        ^^^^^^^^^^^^^
   |
   = help: secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_in_title",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
    - id: restore
      title: Restore with {{ secrets.token }}
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: the title of step `restore` would show secret `token` on screen and in the record
  --> runbook.yaml:12:30
   |
12 |       title: Restore with {{ secrets.token }}
   |                              ^^^^^^^^^^^^^
   |
   = help: secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_in_description",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
    - id: restore
      description: |
        Restores etcd from the last snapshot.
        Uses the token {{ secrets.token }}.
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: the description of step `restore` would show secret `token` on screen and in the record
  --> runbook.yaml:14:27
   |
14 |         Uses the token {{ secrets.token }}.
   |                           ^^^^^^^^^^^^^
   |
   = help: secrets may only be used where they are passed on (action parameters), never in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_unknown_in_prompt_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: restic_password
      env: RESTIC_PASSWORD
  steps:
    - id: confirm
      checkpoint:
        prompt: Is {{ secrets.restic_pasword }} the new password?
"#,
        stderr: r#"
error: the prompt of step `confirm` uses unknown secret `restic_pasword`
  --> runbook.yaml:13:23
   |
13 |         prompt: Is {{ secrets.restic_pasword }} the new password?
   |                       ^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: did you mean `restic_password`? Even so, it cannot be used here: secrets may only be passed to action parameters, never shown in titles, prompts or descriptions

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_env_and_file",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
      file: /run/secrets/token
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: secret `token` has both `env` and `file`
  --> runbook.yaml:10:13
   |
10 |       file: /run/secrets/token
   |             ^^^^^^^^^^^^^^^^^^
   |
   = help: a secret comes from one place: keep `env` or `file`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_neither_env_nor_file",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: token
      description: The etcd API token.
  steps:
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: secret `token` has neither `env` nor `file`
 --> runbook.yaml:8:7
  |
8 |     - name: token
  |       ^
  |
  = help: add `env: VARIABLE` or `file: /path/to/secret`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "secret_name_not_identifier",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  secrets:
    - name: restic password
      env: RESTIC_PASSWORD
  steps:
    - id: snapshots
      action: shell
      with:
        run: restic snapshots
"#,
        stderr: r#"
error: secret name `restic password` is not a valid name
 --> runbook.yaml:8:13
  |
8 |     - name: restic password
  |             ^^^^^^^^^^^^^^^
  |
  = help: templates read it as `secrets.<name>`: start with a letter, then use letters, digits and `_` only, like `restic_password`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
