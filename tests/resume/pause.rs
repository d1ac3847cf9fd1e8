//! Ctrl-C (SIGINT) pauses a run: the running step is stopped with everything it started,
//! the cancellation and the pause are recorded, drbook exits 3, and `drbook resume`
//! finishes the run. The cancelled step was cut short, so resume treats it like a step
//! drbook died in: re-run when that is safe, otherwise the operator is asked.

use std::path::Path;

use nix::sys::signal::Signal;

use super::*;

/// `hold` waits for `$DIR/release`; `POLICY` is replaced by the step's re-run policy.
/// `on_failure: continue` must not make resume go past a step that was only paused.
const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: pause, version: 1.0.0}
spec:
  steps:
    - id: before
      action: shell
      with: {run: 'echo before >> "$FX"'}
    - id: hold
      action: shell
      on_failure: continue
      POLICY
      with:
        run: |
          echo hold >> "$FX"
          sleep 60 &
          echo $! > "$DIR/hold.child"
          echo $$ > "$DIR/hold.pid"
          i=0
          while [ ! -e "$DIR/release" ]; do
            i=$((i + 1))
            if [ "$i" -gt 1000 ]; then echo "never released" >&2; exit 9; fi
            sleep 0.01
          done
          echo released >> "$FX"
    - id: after
      action: shell
      with: {run: 'echo after >> "$FX"'}
"#;

/// True while `pid` is a live process (a zombie is dead: it only waits to be reaped).
fn is_running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim().chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        }
        Err(_) => false,
    }
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs `pause.yaml` until `hold` runs, then sends SIGINT; checks the pause and returns
/// the journal it left.
fn paused_run(f: &Drbook) -> Vec<u8> {
    let dir = f.path().to_str().unwrap();
    let mut child = in_case(f, "paused")
        .env("DIR", dir)
        .args(["run", "pause.yaml", "--run-id", "r1"])
        .spawn();
    // `hold.pid` is written last: by then the step's background child exists too.
    let pid_file = f.path().join("hold.pid");
    let mut exited = false;
    support::wait_until("the step `hold` started", LIMIT, || {
        exited = child.has_exited();
        exited || pid_file.exists()
    });
    if exited {
        let out = child.wait();
        panic!(
            "drbook ended before `hold` ran:\n{}\n{}",
            out.stdout, out.stderr
        );
    }
    let shell = read_pid(&pid_file);
    let grandchild = read_pid(&f.path().join("hold.child"));
    child.signal(Signal::SIGINT);
    let paused = child.wait();

    paused.assert_code(3, "the interrupted run");
    // The hint is the exact command to paste, with the (non-default) state directory.
    let state = state(f, "paused");
    let hint = format!(
        "run r1 paused: interrupted (Ctrl-C); its state is recorded. Continue with `drbook resume r1 --state-dir {}`",
        state.display()
    );
    assert!(paused.stderr.contains(&hint), "{}", paused.stderr);
    // Nothing the step started outlives drbook.
    assert!(
        !is_running(shell),
        "the step's shell (pid {shell}) still runs"
    );
    assert!(
        !is_running(grandchild),
        "the step's background child (pid {grandchild}) still runs"
    );
    let before = journal_bytes(f, "paused", "r1");
    let records = verified(&before);
    let cancelled = step_records(&records, "step_finished", "hold");
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["event"]["outcome"]["result"], "cancelled");
    let last = records.last().unwrap();
    assert_eq!(kind(last), "run_paused");
    assert_eq!(last["event"]["reason"], "interrupted (Ctrl-C)");
    assert!(step_records(&records, "step_started", "after").is_empty());
    assert_eq!(effects(f, "paused"), ["before", "hold"]);
    let shown = drbook(f, "paused", &["runs", "show", "r1"], &[]);
    shown.assert_code(0, "runs show");
    assert!(shown.stdout.contains("status: paused"), "{}", shown.stdout);

    before
}

#[test]
fn ctrl_c_pauses_the_run_stops_its_processes_and_resume_finishes_it() {
    let f = Drbook::new();
    f.write("pause.yaml", &RUNBOOK.replace("POLICY", "idempotent: true"));
    let before = paused_run(&f);
    let dir = f.path().to_str().unwrap();
    // The operator is ready again: `hold` is safe to re-run, so it runs anew and
    // finishes this time, and so does the run.
    std::fs::write(f.path().join("release"), "").unwrap();
    let resumed = drbook(&f, "paused", &["resume", "r1"], &[("DIR", dir)]);
    resumed.assert_code(0, "the resumed run");
    assert_eq!(
        effects(&f, "paused"),
        ["before", "hold", "hold", "released", "after"]
    );
    let after = journal_bytes(&f, "paused", "r1");
    assert!(after.starts_with(&before));
    let all = verified(&after);
    assert_eq!(sessions(&all), [0, 1]);
    let outcomes: Vec<(&Value, &Value)> = step_records(&all, "step_finished", "hold")
        .iter()
        .map(|r| (&r["event"]["attempt"], &r["event"]["outcome"]["result"]))
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(
        (outcomes[0].0, outcomes[0].1),
        (&Value::from(1), &Value::from("cancelled"))
    );
    assert_eq!(
        (outcomes[1].0, outcomes[1].1),
        (&Value::from(2), &Value::from("succeeded"))
    );
    assert_eq!(step_records(&all, "step_started", "before").len(), 1);
    assert_eq!(kind(all.last().unwrap()), "run_finished");
    assert_one_record(&f, "paused", "r1");
}

#[test]
fn a_step_paused_in_its_middle_that_is_not_safe_to_rerun_is_asked_about() {
    let f = Drbook::new();
    f.write("pause.yaml", &RUNBOOK.replace("      POLICY\n", ""));
    let before = paused_run(&f);
    std::fs::write(f.path().join("release"), "").unwrap();
    let dir = f.path().to_str().unwrap();
    let refused = drbook(&f, "paused", &["resume", "r1"], &[("DIR", dir)]);
    refused.assert_code(4, "the resume without a terminal");
    assert!(
        refused
            .stderr
            .contains("step `hold`, which was running when drbook stopped, needs an answer"),
        "{}",
        refused.stderr
    );
    assert_eq!(journal_bytes(&f, "paused", "r1"), before, "journal changed");
    assert_eq!(effects(&f, "paused"), ["before", "hold"]);
}
