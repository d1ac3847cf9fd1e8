//! YAML syntax: what the YAML parser refuses, and files that are empty or not a mapping.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "yaml_bad_indentation",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
   version: 1.0.0
"#,
        stderr: r#"
error: invalid YAML: mapping values are not allowed in this context
 --> runbook.yaml:5:11
  |
5 |    version: 1.0.0
  |           ^
  |
  = help: is this line indented differently from the keys next to it? A value that contains `: ` must be quoted

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_unclosed_quote",
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
        prompt: "Is the old leader fenced?
    - id: restore
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: invalid YAML: invalid indentation in quoted scalar
  --> runbook.yaml:10:17
   |
10 |         prompt: "Is the old leader fenced?
   |                 ^
   |
   = help: is a closing quote missing? A quoted value that goes on to the next line must be indented more than its key

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_unclosed_quote_at_end",
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
        prompt: "Is the old leader fenced?
"#,
        stderr: r#"
error: invalid YAML: while scanning a quoted scalar, found unexpected end of stream
  --> runbook.yaml:10:17
   |
10 |         prompt: "Is the old leader fenced?
   |                 ^
   |
   = help: is a closing quote missing? A quoted value that goes on to the next line must be indented more than its key

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_tab_indentation",
        runbook: "\
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint:
\tprompt: Ready?
",
        stderr: "\
error: invalid YAML: tabs disallowed within this context (block indentation)
  --> runbook.yaml:10:2
   |
10 |     prompt: Ready?
   |     ^
   |
   = help: indent with spaces; YAML does not allow tabs in indentation

error: runbook.yaml is not a valid runbook: 1 error
",
    },
    Case {
        name: "yaml_unclosed_flow_list",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      needs: [confirm
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: invalid YAML: illegal placement of ':' indicator
  --> runbook.yaml:10:13
   |
10 |       action: shell
   |             ^
   |
   = help: is a `[` or `{` missing its closing `]` or `}`? Otherwise quote the value

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_second_document",
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
        prompt: Ready?
---
apiVersion: drbook.io/v1
"#,
        stderr: r#"
error: a runbook file holds one YAML document, found a second one
  --> runbook.yaml:11:1
   |
11 | ---
   | ^^^
   |
   = help: put each runbook in a file of its own

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_alias",
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
        prompt: Ready?
    - id: again
      checkpoint: *ask
"#,
        stderr: r#"
error: invalid YAML: while parsing node, found unknown anchor
  --> runbook.yaml:12:19
   |
12 |       checkpoint: *ask
   |                   ^
   |
   = help: YAML aliases (`*name`) are not supported in runbooks: write the value out where it is used

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_anchor",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: confirm
      checkpoint: &ask
        prompt: Ready?
"#,
        stderr: r#"
error: YAML anchors (`&name`) are not supported in runbooks
 --> runbook.yaml:9:19
  |
9 |       checkpoint: &ask
  |                   ^^^^
  |
  = help: write the value out where it is used, so the runbook reads top to bottom

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "yaml_tag",
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
        prompt: !secret Ready?
"#,
        stderr: r#"
error: YAML tag `!secret` is not supported in runbooks
  --> runbook.yaml:10:17
   |
10 |         prompt: !secret Ready?
   |                 ^^^^^^^^^^^^^^
   |
   = help: remove the tag; quote the value if it must be read as a string

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "empty_file",
        runbook: r#"
"#,
        stderr: r#"
error: the file is empty
 --> runbook.yaml:1:1
  |
1 |
  | ^
  |
  = help: a runbook starts with `apiVersion: drbook.io/v1` and `kind: Runbook`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "only_comments",
        runbook: r#"
# etcd restore runbook

"#,
        stderr: r#"
error: the file is empty
 --> runbook.yaml:1:1
  |
1 | # etcd restore runbook
  | ^
  |
  = help: a runbook starts with `apiVersion: drbook.io/v1` and `kind: Runbook`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "not_a_mapping",
        runbook: r#"
- apiVersion: drbook.io/v1
"#,
        stderr: r#"
error: the runbook must be a mapping, found a list
 --> runbook.yaml:1:1
  |
1 | - apiVersion: drbook.io/v1
  | ^^^^^^^^^^^^^^^^^^^^^^^^^^
  |
  = help: expected keys: apiVersion, kind, metadata, spec

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
