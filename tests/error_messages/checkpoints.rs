//! Checkpoints: types, choices, defaults and timeouts.

use super::Case;

pub(super) const CASES: &[Case] = &[
    Case {
        name: "choice_without_choices",
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
        type: choice
"#,
        stderr: r#"
error: the choice checkpoint of step `pick` has no `choices`
  --> runbook.yaml:11:15
   |
11 |         type: choice
   |               ^^^^^^
   |
   = help: add `choices: [a, b]`, or use `type: confirm`, `text` or `number`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "choices_on_confirm",
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
        prompt: Restore the latest snapshot?
        choices: [latest, previous]
"#,
        stderr: r#"
error: step `pick` lists `choices` but its checkpoint is of type `confirm`
  --> runbook.yaml:11:19
   |
11 |         choices: [latest, previous]
   |                   ^^^^^^
   |
   = help: set `type: choice` or remove `choices`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_default_wrong_type",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: go
      checkpoint:
        prompt: Restore the latest snapshot?
        default: yes
"#,
        stderr: r#"
error: the default of step `go` must be true or false for a `confirm` checkpoint, found a string
  --> runbook.yaml:11:18
   |
11 |         default: yes
   |                  ^^^
   |
   = help: write `default: true` or `default: false`; YAML 1.2 reads `yes` and `no` as text

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_default_not_a_choice",
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
        type: choice
        choices: [latest, previous]
        default: lates
"#,
        stderr: r#"
error: the default `lates` of step `pick` is not one of its choices
  --> runbook.yaml:13:18
   |
13 |         default: lates
   |                  ^^^^^
   |
   = help: did you mean `latest`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_type_unknown",
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
        type: choise
"#,
        stderr: r#"
error: `choise` is not a valid checkpoint `type` of step `pick`; expected one of: confirm, choice, text, number
  --> runbook.yaml:11:15
   |
11 |         type: choise
   |               ^^^^^^
   |
   = help: did you mean `choice`?

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "checkpoint_timeout_zero",
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
        default: false
        timeout: 0m
"#,
        stderr: r#"
error: checkpoint `timeout` of step `approve` is zero
  --> runbook.yaml:12:18
   |
12 |         timeout: 0m
   |                  ^^
   |
   = help: write a duration longer than zero, like `30s`, or leave the key out for no limit

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "on_no_on_a_text_checkpoint",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: ticket
      checkpoint:
        prompt: Incident ticket?
        type: text
        on_no: continue
"#,
        stderr: r#"
error: step `ticket` has `on_no` but its checkpoint is of type `text`
  --> runbook.yaml:12:16
   |
12 |         on_no: continue
   |                ^^^^^^^^
   |
   = help: only a confirm is answered "no"; remove `on_no`

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
    Case {
        name: "confirm_answer_compared_with_yes",
        runbook: r#"
apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: etcd-restore
  version: 1.0.0
spec:
  steps:
    - id: approve
      checkpoint: {prompt: Restore?}
    - id: restore
      when: "{{ steps.approve.answer == 'yes' }}"
      action: shell
      with: {run: "true"}
"#,
        stderr: r#"
error: `when` of step `restore` compares the answer of confirm `approve` with 'yes', which it never is
  --> runbook.yaml:11:41
   |
11 |       when: "{{ steps.approve.answer == 'yes' }}"
   |                                         ^^^^^
   |
   = help: a confirm's answer is true or false; write `{{ steps.approve.answer }}` (or `{{ not steps.approve.answer }}` for no)

error: runbook.yaml is not a valid runbook: 1 error
"#,
    },
];
