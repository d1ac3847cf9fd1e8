//! How steps fail: retries, per-attempt timeouts that leave nothing running, and what
//! `on_failure: continue | abort | ask` do with the rest of the run (and, for
//! `continue`, with a resumed one).

use super::*;

#[test]
fn retry_records_every_attempt_until_one_succeeds() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: flaky
      retry: {attempts: 3, backoff: 10ms}
      action: shell
      with:
        run: |
          n=$(cat count 2>/dev/null || echo 0)
          n=$((n + 1))
          echo "$n" > count
          echo "attempt $n"
          [ "$n" -ge 3 ]
"#,
    );
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    assert_ok(&out);
    let journal = f.journal("r1");
    let attempts: Vec<u64> = step_records(&journal, "step_started", "flaky")
        .iter()
        .map(|r| event(r)["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    let finished = step_records(&journal, "step_finished", "flaky");
    let results: Vec<(u64, &str)> = finished
        .iter()
        .map(|r| {
            (
                event(r)["attempt"].as_u64().unwrap(),
                event(r)["outcome"]["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(results, [(1, "failed"), (2, "failed"), (3, "succeeded")]);
    // The back-off passed between an attempt's end and the next one's start.
    let starts = step_records(&journal, "step_started", "flaky");
    for (end, next) in finished.iter().zip(&starts[1..]) {
        assert!(time_ms(next) - time_ms(end) >= 10, "{end}\n{next}");
    }
    assert_eq!(
        std::fs::read_to_string(f.work("r1").join("count")).unwrap(),
        "3\n"
    );
    assert!(out.stdout.contains("▶ flaky (attempt 3)"), "{}", out.stdout);
}

#[test]
fn a_timeout_stops_each_attempt_promptly_and_leaves_nothing_running() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: stuck
      timeout: 300ms
      retry: {attempts: 2}
      action: shell
      with: {run: "sleep 30 & echo $! >> sleep.pids; wait"}
    - id: never
      action: shell
      with: {run: "touch never.ran"}
"#,
    );
    let started = Instant::now();
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    let elapsed = started.elapsed();
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    let journal = f.journal("r1");
    let finished = step_records(&journal, "step_finished", "stuck");
    assert_eq!(finished.len(), 2, "the timeout applies to each attempt");
    for record in &finished {
        let outcome = &event(record)["outcome"];
        assert_eq!(outcome["result"], "timed_out", "{record}");
        let after = outcome["after_ms"].as_u64().unwrap();
        assert!((300..10_000).contains(&after), "after {after} ms");
    }
    assert!(step_records(&journal, "step_started", "never").is_empty());
    assert!(!f.work("r1").join("never.ran").exists());
    assert_eq!(run_finished(&journal)["outcome"], "failed");
    assert!(
        out.stderr
            .contains("error: run r1 failed: step `stuck` failed: timed out after"),
        "{}",
        out.stderr
    );
    let pids = std::fs::read_to_string(f.work("r1").join("sleep.pids")).unwrap();
    let pids: Vec<i32> = pids.lines().map(|p| p.parse().unwrap()).collect();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(!is_running(pid), "`sleep 30` (pid {pid}) outlived its step");
    }
}

#[test]
fn on_failure_continue_lets_the_run_go_on_and_succeed() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: evidence
      on_failure: continue
      action: shell
      with: {run: "echo cannot collect >&2; exit 2"}
    - id: after
      action: shell
      with: {run: "echo after ran"}
    - id: each
      foreach: [0, 1, 2]
      concurrency: 1
      on_failure: continue
      action: shell
      with: {run: "echo KEY=v{{ item }}; [ {{ item }} -ne 0 ]"}
    - id: last
      action: shell
      with: {run: "echo COUNT={{ steps.each.outputs | length }}; echo SECOND={{ steps.each.outputs[1].KEY }}"}
"#,
    );
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    assert_ok(&out);
    let journal = f.journal("r1");
    assert_eq!(
        event(one(&journal, "step_finished", "evidence"))["outcome"],
        json!({"result": "failed", "error": "command exited with status 2; last stderr: cannot collect"})
    );
    one(&journal, "step_finished", "after");
    // Item 0 failed; the items after it still ran (one at a time).
    let items: Vec<(u64, &str)> = step_records(&journal, "step_finished", "each")
        .iter()
        .map(|r| {
            (
                event(r)["item"].as_u64().unwrap(),
                event(r)["outcome"]["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(items, [(0, "failed"), (1, "succeeded"), (2, "succeeded")]);
    assert_eq!(
        event(one(&journal, "step_finished", "last"))["outcome"]["outputs"],
        json!({"COUNT": "3", "SECOND": "v1"})
    );
    assert_eq!(run_finished(&journal)["outcome"], "succeeded");
    // Succeeded, but the summary does not hide what failed.
    assert!(
        out.stdout.contains(
            "run succeeded, but these steps failed and the run went on without them: evidence, each"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn on_failure_abort_stops_new_steps_and_lets_running_ones_finish() {
    let f = test();
    // `slow` starts with `fails` and only finishes once the journal records that `fails`
    // failed: it was running when the run aborted. `next` needs it and must never start.
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: fails
      needs: []
      action: shell
      with:
        run: |
          . "$LIB"
          w slow.started
          echo boom >&2
          exit 3
    - id: slow
      needs: []
      action: shell
      with:
        run: |
          . "$LIB"
          touch slow.started
          wj fails
          echo SLOW=finished
    - id: next
      needs: [slow]
      action: shell
      with: {run: "touch next.ran"}
"#,
    );
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let journal = f.journal("r1");
    let failed = one(&journal, "step_finished", "fails");
    assert_eq!(event(failed)["outcome"]["result"], "failed");
    let slow = one(&journal, "step_finished", "slow");
    assert!(seq(slow) > seq(failed));
    assert_eq!(
        event(slow)["outcome"],
        json!({"result": "succeeded", "outputs": {"SLOW": "finished"}})
    );
    assert!(step_records(&journal, "step_started", "next").is_empty());
    assert!(!f.work("r1").join("next.ran").exists());
    assert_eq!(run_finished(&journal)["outcome"], "failed");
    assert!(
        out.stderr.contains(
            "error: run r1 failed: step `fails` failed: command exited with status 3; last stderr: boom"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn questions_without_a_terminal_never_hang_a_failure_fails_a_checkpoint_is_refused_up_front() {
    let f = test();
    write_runbook(
        &f,
        "ask.yaml",
        r#"  steps:
    - id: preflight
      on_failure: ask
      action: shell
      with: {run: "exit 1"}
    - id: next
      action: shell
      with: {run: "touch next.ran"}
"#,
    );
    let out = f.run_with(&["run", "ask.yaml", "--run-id", "a1"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "the failure of step `preflight` (on_failure: ask) needs an answer, but there is no terminal to ask on"
        ),
        "{}",
        out.stderr
    );
    let journal = f.journal("a1");
    assert_eq!(run_finished(&journal)["outcome"], "failed");
    assert!(!f.work("a1").join("next.ran").exists());

    write_runbook(
        &f,
        "checkpoint.yaml",
        r#"  steps:
    - id: approve
      checkpoint: {prompt: "Go on?"}
"#,
    );
    // Keys in a pipe are not an answer: only a person at a terminal is asked. Nobody
    // could answer, and that is known before the first step: the run is refused up
    // front (exit 4) and nothing is recorded, instead of stopping half-way.
    let out = f
        .clone()
        .args(["run", "checkpoint.yaml", "--run-id", "c1"])
        .stdin("y\n")
        .run();
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "there is no terminal to ask on, but this run asks the operator at checkpoint `approve`"
        ),
        "{}",
        out.stderr
    );
    assert!(!f.run_dir("c1").exists(), "no run was recorded");
}

#[test]
fn a_step_gone_past_before_a_crash_is_not_run_again_on_resume() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: evidence
      on_failure: continue
      action: shell
      with: {run: "echo ran >> evidence.log; exit 2"}
    - id: hold
      idempotent: true
      action: shell
      with:
        run: |
          . "$LIB"
          touch held
          w release
"#,
    );
    let first = f.clone().args(["run", "r.yaml", "--run-id", "r1"]).spawn();
    wait_for_file(&f.work("r1").join("held"));
    first.signal(nix::sys::signal::Signal::SIGKILL);
    let killed = first.wait();
    assert_eq!(killed.code, -1, "drbook was not killed");
    std::fs::write(f.work("r1").join("release"), "").unwrap();

    let out = killed.resume();
    assert_ok(&out);
    let journal = f.journal("r1");
    assert_eq!(
        journal
            .iter()
            .filter(|r| kind(r) == "session_started")
            .count(),
        1
    );
    // `evidence` failed for good and the run went past it: it is finished, not re-run.
    assert_eq!(step_records(&journal, "step_started", "evidence").len(), 1);
    assert_eq!(
        std::fs::read_to_string(f.work("r1").join("evidence.log")).unwrap(),
        "ran\n"
    );
    assert_eq!(step_records(&journal, "step_finished", "hold").len(), 1);
    assert_eq!(run_finished(&journal)["outcome"], "succeeded");
}
