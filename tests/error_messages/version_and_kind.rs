//! `apiVersion` and `kind`: missing, misspelt or not supported.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "api_version_unsupported",
        runbook: r#"
apiVersion: drbook.io/v2
kind: Runbook
metadata:
  name: etcd-restore
"#,
        stderr: r#"
error: unsupported apiVersion `drbook.io/v2`
 --> runbook.yaml:1:13
  |
1 | apiVersion: drbook.io/v2
  |             ^^^^^^^^^^^^
  |
  = help: this drbook supports: drbook.io/v1; a newer runbook needs a newer drbook

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_unsupported_other_keys",
        runbook: r#"
apiVersion: drbook.io/v2
kind: Runbook
metadata:
  name: etcd-restore
  version: 2.0.0
spec:
  steps: []
runbook:
  steps: []
"#,
        stderr: r#"
error: unsupported apiVersion `drbook.io/v2`
 --> runbook.yaml:1:13
  |
1 | apiVersion: drbook.io/v2
  |             ^^^^^^^^^^^^
  |
  = help: this drbook supports: drbook.io/v1; a newer runbook needs a newer drbook

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_missing",
        runbook: r#"
kind: Runbook
metadata:
  name: etcd-restore
"#,
        stderr: r#"
error: the runbook has no `apiVersion`
 --> runbook.yaml:1:1
  |
1 | kind: Runbook
  | ^
  |
  = help: add `apiVersion: drbook.io/v1` (supported: drbook.io/v1)

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "api_version_misspelt",
        runbook: r#"
apiVerison: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
        prompt: Ready?
"#,
        stderr: r#"
error: unknown key `apiVerison` in the runbook
 --> runbook.yaml:1:1
  |
1 | apiVerison: drbook.io/v1
  | ^^^^^^^^^^
  |
  = help: did you mean `apiVersion`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "kind_wrong",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Deployment
"#,
        stderr: r#"
error: unsupported kind `Deployment`
 --> runbook.yaml:2:7
  |
2 | kind: Deployment
  |       ^^^^^^^^^^
  |
  = help: drbook reads `kind: Runbook`, `kind: Targets` and `kind: Answers` documents

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "kind_wrong_other_keys",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Deployment
metadata:
  name: etcd
template:
  spec: {}
"#,
        stderr: r#"
error: unsupported kind `Deployment`
 --> runbook.yaml:2:7
  |
2 | kind: Deployment
  |       ^^^^^^^^^^
  |
  = help: drbook reads `kind: Runbook`, `kind: Targets` and `kind: Answers` documents

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "kind_missing",
        runbook: r#"
apiVersion: drbook.io/v1
metadata:
  name: etcd-restore
"#,
        stderr: r#"
error: the runbook is missing the required key `kind`
 --> runbook.yaml:1:1
  |
1 | apiVersion: drbook.io/v1
  | ^
  |
  = help: add `kind: Runbook`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
