//! Templates, continued: filters and tests, text that only looks like a template, and `when`/`foreach` expressions.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "template_unknown_filter",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: node
  steps:
    - id: delete
      action: shell
      with:
        run: kubectl delete node {{ inputs.node | uppercase }}
"#,
        stderr: r#"
error: `with.run` of step `delete` uses unknown filter `uppercase`
  --> runbook.yaml:13:51
   |
13 |         run: kubectl delete node {{ inputs.node | uppercase }}
   |                                                   ^^^^^^^^^
   |
   = help: did you mean `upper`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_filter_not_close",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: node
  steps:
    - id: delete
      action: shell
      with:
        run: kubectl delete node {{ inputs.node | shellquote }}
"#,
        stderr: r#"
error: `with.run` of step `delete` uses unknown filter `shellquote`
  --> runbook.yaml:13:51
   |
13 |         run: kubectl delete node {{ inputs.node | shellquote }}
   |                                                   ^^^^^^^^^^
   |
   = help: templates have minijinja's filters: `upper`, `lower`, `default`, `join`, `replace`, `trim`, `length`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_unknown_test",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: members
      type: list
  steps:
    - id: check
      when: "{{ inputs.members | length is oddd }}"
      action: shell
      with:
        run: etcdctl endpoint health
"#,
        stderr: r#"
error: `when` of step `check` uses unknown test `oddd`
  --> runbook.yaml:12:44
   |
12 |       when: "{{ inputs.members | length is oddd }}"
   |                                            ^^^^
   |
   = help: did you mean `odd`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_shell_string_length",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: count
      action: shell
      with:
        run: "members=(a b c); echo ${#members[@]} members"
"#,
        stderr: r#"
error: template error in `with.run` of step `count`: syntax error: unexpected end of comment
  --> runbook.yaml:11:38
   |
11 |         run: "members=(a b c); echo ${#members[@]} members"
   |                                      ^^
   |
   = help: `{#` starts a template comment; write `{{ '{#' }}` for a literal `{#`, or wrap the command in `{% raw %}...{% endraw %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_go_template_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: nodes
      action: shell
      with:
        run: kubectl get nodes -o go-template='{{range .items}}{{.metadata.name}}{{end}}'
"#,
        stderr: r#"
error: template error in `with.run` of step `nodes`: syntax error: unexpected `.`
  --> runbook.yaml:11:66
   |
11 |         run: kubectl get nodes -o go-template='{{range .items}}{{.metadata.name}}{{end}}'
   |                                                                  ^
   |
   = help: `{{` starts a template expression; for a literal `{{` (Go templates, awk) write `{{ '{{' }}`, or wrap the command in `{% raw %}...{% endraw %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "template_awk_double_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: count
      action: shell
      with:
        run: awk '{if ($2 == "Ready") {{print $1}}}' nodes.txt
"#,
        stderr: r#"
error: template error in `with.run` of step `count`: syntax error: unexpected character
  --> runbook.yaml:11:47
   |
11 |         run: awk '{if ($2 == "Ready") {{print $1}}}' nodes.txt
   |                                               ^
   |
   = help: `{{` starts a template expression; for a literal `{{` (Go templates, awk) write `{{ '{{' }}`, or wrap the command in `{% raw %}...{% endraw %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_two_expressions",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
    - name: forced
      type: bool
  steps:
    - id: restore
      when: "{{ inputs.fresh }} and {{ inputs.forced }}"
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a single `{{ expression }}`
  --> runbook.yaml:14:13
   |
14 |       when: "{{ inputs.fresh }} and {{ inputs.forced }}"
   |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: write the whole condition inside one pair of braces, like `"{{ inputs.fresh_backup and not inputs.dry }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_without_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
  steps:
    - id: restore
      when: inputs.fresh
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a single `{{ expression }}`
  --> runbook.yaml:12:13
   |
12 |       when: inputs.fresh
   |             ^^^^^^^^^^^^
   |
   = help: write `when: "{{ inputs.fresh }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_syntax_error",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
  steps:
    - id: restore
      when: "{{ inputs.fresh and }}"
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: template error in `when` of step `restore`: syntax error: unexpected end of input, expected expression
  --> runbook.yaml:12:30
   |
12 |       when: "{{ inputs.fresh and }}"
   |                              ^^^
   |
   = help: templates use minijinja syntax: `{{ inputs.name }}`, `{% if ... %}`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_boolean",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: restore
      when: true
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a string, found a boolean
 --> runbook.yaml:9:13
  |
9 |       when: true
  |             ^^^^
  |
  = help: `when` holds a template: write `when: "{{ true }}"`, or remove `when`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "when_input_name_without_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: fresh
      type: bool
  steps:
    - id: restore
      when: fresh
      action: shell
      with:
        run: etcdctl snapshot restore
"#,
        stderr: r#"
error: `when` of step `restore` must be a single `{{ expression }}`
  --> runbook.yaml:12:13
   |
12 |       when: fresh
   |             ^^^^^
   |
   = help: write `when: "{{ inputs.fresh }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "foreach_without_braces",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  inputs:
    - name: members
      type: list
  steps:
    - id: restart
      foreach: inputs.members
      action: shell
      with:
        run: ssh {{ item }} systemctl restart kubelet
"#,
        stderr: r#"
error: `foreach` of step `restart` must be a single `{{ expression }}`
  --> runbook.yaml:12:16
   |
12 |       foreach: inputs.members
   |                ^^^^^^^^^^^^^^
   |
   = help: write `foreach: "{{ inputs.members }}"`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
