//! Every command against every class of mistake, through the real executable: the
//! exit code docs/exit-codes.md documents and the words of the message. The same
//! mistake must get the same code and the same words whichever command meets it.

use crate::support::{self, Drbook};

const RUNBOOK: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: codes, version: 1.0.0, title: Exit codes}
spec:
  objectives: {rto: 1m, rpo: 1m}
  inputs:
    - {name: count, type: number, default: 1}
  steps:
    - id: first
      action: shell
      with: {run: \"true\"}
";

const INVALID: &str = "apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: codes, version: 1.0.0, title: Exit codes}
spec:
  objectives: {rto: 1m, rpo: 1m}
  steps:
    - id: first
      action: shel
";

const TARGETS: &str = "apiVersion: drbook.io/v1
kind: Targets
targets:
  prod:
    environment: production
    drill: forbidden
  staging:
    environment: staging
    drill: allowed
";

/// One invocation and what it must end with.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
    /// A piece of stderr that must be there.
    says: &'static str,
    /// Run without any way to find a state directory.
    no_state_dir: bool,
}

const fn case(
    name: &'static str,
    args: &'static [&'static str],
    code: i32,
    says: &'static str,
) -> Case {
    Case {
        name,
        args,
        code,
        says,
        no_state_dir: false,
    }
}

const CASES: &[Case] = &[
    // A file that is not there: 66, named, everywhere.
    case(
        "validate missing file",
        &["validate", "missing.yaml"],
        66,
        "error: cannot read `missing.yaml`: no such file",
    ),
    case(
        "plan missing file",
        &["plan", "missing.yaml"],
        66,
        "error: cannot read `missing.yaml`: no such file",
    ),
    case(
        "render missing file",
        &["render", "missing.yaml"],
        66,
        "error: cannot read `missing.yaml`: no such file",
    ),
    case(
        "run missing file",
        &["run", "missing.yaml", "--state-dir", "state"],
        66,
        "error: cannot read `missing.yaml`: no such file",
    ),
    case(
        "drill missing file",
        &[
            "drill",
            "missing.yaml",
            "--state-dir",
            "state",
            "--target",
            "staging",
        ],
        66,
        "error: cannot read `missing.yaml`: no such file",
    ),
    // Signing keys and records (docs/signing.md).
    case(
        "run with a missing signing key",
        &[
            "run",
            "runbook.yaml",
            "--state-dir",
            "state",
            "--sign-key",
            "nokey",
        ],
        66,
        "error: cannot read `nokey`: no such file (the signing key",
    ),
    case(
        "verify of an unsigned run",
        &[
            "verify",
            "done",
            "--state-dir",
            "state",
            "--allowed-signers",
            "allowed_signers",
        ],
        6,
        "error: record `done` did not verify (see above)",
    ),
    case(
        "verify of a run that is not there",
        &[
            "verify",
            "nosuch",
            "--state-dir",
            "state",
            "--allowed-signers",
            "allowed_signers",
        ],
        66,
        "error: there is no run `nosuch`",
    ),
    case(
        "verify without its allowed signers file",
        &[
            "verify",
            "done",
            "--state-dir",
            "state",
            "--allowed-signers",
            "missing",
        ],
        66,
        "error: cannot read `missing`: no such file",
    ),
    case(
        "review of a run that is not there",
        &[
            "review",
            "nosuch",
            "--state-dir",
            "state",
            "--sign-key",
            "nokey",
        ],
        66,
        "error: there is no run `nosuch`",
    ),
    // An invalid runbook: 2, before anything runs.
    case(
        "validate invalid runbook",
        &["validate", "invalid.yaml"],
        2,
        "error: invalid.yaml is not a valid runbook: 1 error",
    ),
    case(
        "plan invalid runbook",
        &["plan", "invalid.yaml"],
        2,
        "error: invalid.yaml is not a valid runbook: 1 error",
    ),
    case(
        "render invalid runbook",
        &["render", "invalid.yaml"],
        2,
        "error: invalid.yaml is not a valid runbook: 1 error",
    ),
    case(
        "run invalid runbook",
        &["run", "invalid.yaml", "--state-dir", "state"],
        2,
        "error: invalid.yaml is not a valid runbook: 1 error",
    ),
    // A run id that could point elsewhere: 64.
    case(
        "resume bad run id",
        &["resume", "../x", "--state-dir", "state"],
        64,
        "error: run id `../x` is not usable",
    ),
    case(
        "runs show bad run id",
        &["runs", "show", "../x", "--state-dir", "state"],
        64,
        "error: run id `../x` is not usable",
    ),
    case(
        "run bad run id",
        &[
            "run",
            "runbook.yaml",
            "--run-id",
            "a/b",
            "--state-dir",
            "state",
        ],
        64,
        "error: run id `a/b` is not usable",
    ),
    // A run that does not exist: 66.
    case(
        "resume unknown run",
        &["resume", "nosuch", "--state-dir", "state"],
        66,
        "error: there is no run `nosuch` in state",
    ),
    case(
        "runs show unknown run",
        &["runs", "show", "nosuch", "--state-dir", "state"],
        66,
        "error: there is no run `nosuch` in state",
    ),
    // A finished run cannot be resumed; an existing run id cannot be reused: 4.
    case(
        "resume finished run",
        &["resume", "done", "--state-dir", "state"],
        4,
        "error: run `done` already finished (succeeded)",
    ),
    case(
        "run existing run id",
        &[
            "run",
            "runbook.yaml",
            "--run-id",
            "done",
            "--state-dir",
            "state",
        ],
        4,
        "error: run `done` already exists in state",
    ),
    // A damaged record: 4, for resume and for show.
    case(
        "resume damaged run",
        &["resume", "damaged", "--state-dir", "state"],
        4,
        "line 1 is damaged",
    ),
    case(
        "runs show damaged run",
        &["runs", "show", "damaged", "--state-dir", "state"],
        4,
        "line 1 is damaged",
    ),
    // Refused targets: 4, for a drill and for the plan of one.
    case(
        "drill on a forbidden target",
        &[
            "drill",
            "runbook.yaml",
            "--target",
            "prod",
            "--state-dir",
            "state",
        ],
        4,
        "error: target `prod` (production environment) does not allow drills",
    ),
    case(
        "plan of a drill on a forbidden target",
        &["plan", "runbook.yaml", "--drill", "--target", "prod"],
        4,
        "error: target `prod` (production environment) does not allow drills",
    ),
    case(
        "run with a checkpoint and no terminal",
        &["run", "ask.yaml", "--state-dir", "state"],
        4,
        "error: there is no terminal to ask on, but this run asks the operator at checkpoint `approve`",
    ),
    case(
        "drill whose answers file misses a checkpoint",
        &[
            "drill",
            "ask.yaml",
            "--target",
            "staging",
            "--answers",
            "empty-answers.yaml",
            "--state-dir",
            "state",
        ],
        4,
        "has no answer for checkpoint `approve`",
    ),
    case(
        "drill whose answers file has a wrong answer type",
        &[
            "drill",
            "ask.yaml",
            "--target",
            "staging",
            "--answers",
            "wrong-answers.yaml",
            "--state-dir",
            "state",
        ],
        2,
        "the answer to checkpoint `approve` does not fit it",
    ),
    case(
        "drill without a target",
        &["drill", "runbook.yaml", "--state-dir", "state"],
        4,
        "error: a drill needs `--target NAME`",
    ),
    case(
        "run on an unknown target",
        &[
            "run",
            "runbook.yaml",
            "--target",
            "prdo",
            "--state-dir",
            "state",
        ],
        4,
        "did you mean `prod`?",
    ),
    case(
        "answers in incident mode",
        &[
            "run",
            "runbook.yaml",
            "--answers",
            "answers.yaml",
            "--state-dir",
            "state",
        ],
        4,
        "error: `--answers` is refused in incident mode",
    ),
    // The command line itself: 64.
    case(
        "validate unknown flag",
        &["validate", "--bogus", "runbook.yaml"],
        64,
        "unexpected argument '--bogus'",
    ),
    case(
        "run unknown flag",
        &["run", "runbook.yaml", "--bogus"],
        64,
        "unexpected argument '--bogus'",
    ),
    case(
        "plan malformed input",
        &["plan", "runbook.yaml", "-i", "count"],
        64,
        "error: ",
    ),
    case(
        "run wrongly typed input",
        &[
            "run",
            "runbook.yaml",
            "-i",
            "count=abc",
            "--state-dir",
            "state",
        ],
        64,
        "error: ",
    ),
    case(
        "run bad declared-at",
        &[
            "run",
            "runbook.yaml",
            "--declared-at",
            "yesterday",
            "--state-dir",
            "state",
        ],
        64,
        "error: --declared-at `yesterday` is not an RFC 3339 time",
    ),
    // No state directory to be found: 64 everywhere.
    Case {
        no_state_dir: true,
        ..case(
            "runs list without a state dir",
            &["runs", "list"],
            64,
            "error: cannot find a state directory (no $HOME): pass `--state-dir DIR` or set $DRBOOK_STATE_DIR",
        )
    },
    Case {
        no_state_dir: true,
        ..case(
            "run without a state dir",
            &["run", "runbook.yaml"],
            64,
            "error: cannot find a state directory (no $HOME)",
        )
    },
    Case {
        no_state_dir: true,
        ..case(
            "resume without a state dir",
            &["resume", "done"],
            64,
            "error: cannot find a state directory (no $HOME)",
        )
    },
];

/// drbook in `test`'s directory, with no state directory from the environment (every
/// case names `--state-dir` itself, or has none to find).
fn drbook(test: &Drbook, args: &[&str], no_state_dir: bool) -> (i32, String) {
    let mut command = test.clone().env_remove("DRBOOK_STATE_DIR").args(args);
    if no_state_dir {
        command = command.env_remove("HOME").env_remove("XDG_STATE_HOME");
    }
    let ran = command.run();
    (ran.code, ran.stderr)
}

#[test]
fn every_command_maps_each_class_of_mistake_to_its_documented_code() {
    let test = Drbook::new()
        .runbook(RUNBOOK)
        .file("invalid.yaml", INVALID)
        .targets(TARGETS)
        .file(
            "answers.yaml",
            "first: true
",
        )
        .file(
            "ask.yaml",
            &RUNBOOK.replace(
                "  steps:
",
                "  steps:
    - {id: approve, checkpoint: {prompt: Go?}}
",
            ),
        )
        .file("allowed_signers", "")
        .file(
            "empty-answers.yaml",
            "{}
",
        )
        .file(
            "wrong-answers.yaml",
            "approve: \"yes\"
",
        );
    let dir = test.path();
    let (code, stderr) = drbook(
        &test,
        &[
            "run",
            "runbook.yaml",
            "--run-id",
            "done",
            "--state-dir",
            "state",
        ],
        false,
    );
    assert_eq!(code, 0, "the finished run is made: {stderr}");
    let damaged = dir.join("state/runs/damaged");
    std::fs::create_dir_all(&damaged).expect("a run directory");
    std::fs::write(damaged.join("journal.jsonl"), "{not json\n").expect("a damaged journal");

    let mut failures = Vec::new();
    for case in CASES {
        let (code, stderr) = drbook(&test, case.args, case.no_state_dir);
        if code != case.code || !stderr.contains(case.says) {
            failures.push(format!(
                "=== {}: exit {code} (expected {}), stderr:\n{stderr}expected to contain: {}",
                case.name, case.code, case.says
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        !dir.join("state/runs").read_dir().expect("runs").any(|e| {
            let name = e.expect("an entry").file_name();
            name != "done" && name != "damaged"
        }),
        "a refused command created a run directory"
    );
}

#[test]
fn a_locked_run_is_refused_by_resume_with_who_holds_it() {
    let test = Drbook::new().runbook(&RUNBOOK.replace("\"true\"", "\"exit 1\""));
    let dir = test.path();
    let (code, _) = drbook(
        &test,
        &[
            "run",
            "runbook.yaml",
            "--run-id",
            "r1",
            "--state-dir",
            "state",
        ],
        false,
    );
    assert_eq!(code, 1, "the run fails, so it is finished");
    // Hold the lock as another drbook would.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("state/runs/r1/lock"))
        .expect("the run's lock file");
    lock.try_lock().expect("the test takes the lock");
    let (code, stderr) = drbook(&test, &["resume", "r1", "--state-dir", "state"], false);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("run `r1` is being written by another drbook process"),
        "{stderr}"
    );
}

#[test]
fn a_paused_run_names_the_exact_command_to_continue_it() {
    // The step tells the test it has started by creating a file, then waits.
    let runbook = RUNBOOK.replace(
        "run: \"true\"",
        "run: \"touch ../../../../started; sleep 30\"",
    );
    let test = Drbook::new().runbook(&runbook);
    let dir = test.path();
    let running = test
        .clone()
        .env_remove("DRBOOK_STATE_DIR")
        .args([
            "run",
            "runbook.yaml",
            "--run-id",
            "p1",
            "--state-dir",
            "state",
        ])
        .spawn();
    support::wait_until(
        "the step started",
        std::time::Duration::from_secs(20),
        || dir.join("started").exists(),
    );
    running.signal(nix::sys::signal::Signal::SIGINT);
    let paused = running.wait();
    paused.assert_code(3, "the run paused by Ctrl-C");
    let expected = format!(
        "Continue with `drbook resume p1 --state-dir {}`",
        dir.join("state").display()
    );
    assert!(paused.stderr.contains(&expected), "{}", paused.stderr);
}

#[test]
fn an_audit_of_a_record_that_fails_verification_exits_6_after_printing_it() {
    let test = Drbook::new();
    // A run registered in a store that never uploaded its journal: truncated.
    let run = test.path().join("store/runs/r1");
    std::fs::create_dir_all(&run).expect("the store directory");
    support::write(
        &run,
        "registration.json",
        r#"{"format": "1.0", "run_id": "r1", "runbook": {"name": "codes", "version": "1.0.0", "sha256": "ab"},
            "mode": "drill", "target": "staging", "operator": "alice",
            "started_at": "2026-11-24T03:12:00Z", "drbook_version": "0.1.0"}"#,
    );
    let (code, stderr) = drbook(&test, &["audit", "store"], false);
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("error: 1 run record failed verification"),
        "{stderr}"
    );
}
