//! What drbook says when a runbook or a command line would let a secret out: a template
//! that transforms a secret (the masker could not recognise the result), and a secret
//! given with `-i` (it would stay in shell history and show in `ps`). Each message is
//! asserted whole, with its place, as `error_messages.rs` does for other mistakes.

use crate::support::{drbook, write};

/// The head of every runbook here: one secret, read from `API_TOKEN`.
const HEAD: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata:
  name: leak
  version: 1.0.0
spec:
  secrets:
    - name: token
      env: API_TOKEN
  steps:
";

/// Validates `HEAD` + `steps` as `runbook.yaml` and asserts exit 2 and exactly
/// `stderr`.
fn assert_refused(steps: &str, stderr: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "runbook.yaml", &format!("{HEAD}{steps}"));
    let out = drbook(dir.path(), &["validate", "runbook.yaml"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    let expected = stderr.strip_prefix('\n').unwrap_or(stderr);
    assert_eq!(out.stderr, expected, "\n--- actual\n{}", out.stderr);
}

#[test]
fn a_transformed_secret_is_refused_where_it_is_written() {
    assert_refused(
        r#"    - id: show
      action: shell
      with:
        run: echo {{ secrets.token | upper }} {{ secrets.token[2:] }}
        env:
          A: "{{ secrets.token | list | join(' ') }}"
          B: "{{ secrets.token ~ 'x' }}"
      marks: recovered
"#,
        r#"
error: `with.run` of step `show` applies filter `upper` to secret `token`
  --> runbook.yaml:14:22
   |
14 |         run: echo {{ secrets.token | upper }} {{ secrets.token[2:] }}
   |                      ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: `with.run` of step `show` slices secret `token`
  --> runbook.yaml:14:50
   |
14 |         run: echo {{ secrets.token | upper }} {{ secrets.token[2:] }}
   |                                                  ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: `with.env` of step `show` applies filter `list` to secret `token`
  --> runbook.yaml:16:18
   |
16 |           A: "{{ secrets.token | list | join(' ') }}"
   |                  ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: `with.env` of step `show` applies `~` to secret `token`
  --> runbook.yaml:17:18
   |
17 |           B: "{{ secrets.token ~ 'x' }}"
   |                  ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: runbook.yaml is not a valid runbook: 4 errors
"#,
    );
}

#[test]
fn a_secret_in_a_condition_or_a_loop_is_refused() {
    assert_refused(
        r#"    - id: check
      when: "{{ secrets.token == 'test' }}"
      action: shell
      with:
        run: |
          {% for c in secrets.token %}{{ c }}{% endfor %}
    - id: fan
      foreach: "{{ secrets.token }}"
      action: shell
      with:
        run: "echo {{ item }}"
      marks: recovered
"#,
        r#"
error: `when` of step `check` compares secret `token`
  --> runbook.yaml:12:17
   |
12 |       when: "{{ secrets.token == 'test' }}"
   |                 ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: `with.run` of step `check` loops over secret `token`
  --> runbook.yaml:16:23
   |
16 |           {% for c in secrets.token %}{{ c }}{% endfor %}
   |                       ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: `foreach` of step `fan` loops over secret `token`
  --> runbook.yaml:18:20
   |
18 |       foreach: "{{ secrets.token }}"
   |                    ^^^^^^^^^^^^^
   |
   = help: each character would become an item, shown unmasked; pass the secret whole (`{{ secrets.token }}`) to an action parameter, e.g. `env:` of a shell step

error: runbook.yaml is not a valid runbook: 3 errors
"#,
    );
}

#[test]
fn a_secret_kept_in_a_variable_or_read_without_a_name_is_refused() {
    assert_refused(
        r#"    - id: show
      action: shell
      with:
        run: "{% set s = secrets.token %}echo {{ s }} {{ secrets }}"
      marks: recovered
"#,
        r#"
error: `with.run` of step `show` assigns secret `token` to a variable
  --> runbook.yaml:14:26
   |
14 |         run: "{% set s = secrets.token %}echo {{ s }} {{ secrets }}"
   |                          ^^^^^^^^^^^^^
   |
   = help: a transformed secret cannot be masked; pass it whole (`{{ secrets.token }}`), e.g. through `env:` of a shell step

error: `with.run` of step `show` reads `secrets` without naming one secret
  --> runbook.yaml:14:58
   |
14 |         run: "{% set s = secrets.token %}echo {{ s }} {{ secrets }}"
   |                                                          ^^^^^^^
   |
   = help: a secret can only be masked when it is used whole and by name: `{{ secrets.<name> }}`

error: runbook.yaml is not a valid runbook: 2 errors
"#,
    );
}

#[test]
fn a_secret_used_whole_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"    - id: show
      when: "{{ secrets.token }}"
      action: shell
      with:
        run: "curl -u admin:{{ secrets['token'] }} https://backup.example"
        env: {TOKEN: "{{ secrets.token }}"}
      marks: recovered
"#;
    write(dir.path(), "runbook.yaml", &format!("{HEAD}{steps}"));
    let out = drbook(dir.path(), &["validate", "runbook.yaml"]);
    assert_eq!(out.code, 0, "{out:?}");
}

/// `-i` refuses a secret, for `plan` and `run` alike, names where it is read from and
/// never repeats the value.
#[test]
fn a_secret_given_with_dash_i_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let steps = r#"    - id: show
      action: shell
      with:
        env: {TOKEN: "{{ secrets.token }}"}
        run: "true"
      marks: recovered
"#;
    write(dir.path(), "runbook.yaml", &format!("{HEAD}{steps}"));
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    for args in [
        &["plan", "runbook.yaml", "-i", "token=hunter2-canary"][..],
        &[
            "run",
            "runbook.yaml",
            "--state-dir",
            state,
            "-i",
            "token=hunter2-canary",
        ][..],
    ] {
        let out = drbook(dir.path(), args);
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
        assert_eq!(
            out.stderr,
            "error: `-i token=...` is refused: `token` is a secret, and a command line ends up in shell history and in `ps`; the runbook reads it from environment variable `API_TOKEN`: set that instead\n",
            "{args:?}"
        );
        assert!(!out.stdout.contains("hunter2"), "{args:?}: {out:?}");
    }
    assert!(
        !dir.path().join("state").join("runs").exists(),
        "a refused run leaves no record"
    );
}
