//! The run record: one writer at a time, a hash chain that exposes edits, refusals that
//! leave no trace, the RTO/RPO figures, and what stdout starts with.

use super::*;

#[test]
fn a_second_process_is_refused_while_a_run_is_being_written() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: hold
      action: shell
      with:
        run: |
          . "$LIB"
          touch held
          w release
"#,
    );
    let first = f.clone().args(["run", "r.yaml", "--run-id", "r1"]).spawn();
    let holder = first.pid();
    // Until `release` exists the first run is inside its step, holding the lock.
    wait_for_file(&f.work("r1").join("held"));
    let second = f.run_with(&["resume", "r1"]);
    let shown = f.run_with(&["runs", "show", "r1"]);
    std::fs::write(f.work("r1").join("release"), "").unwrap();
    let first = first.wait();

    assert_eq!(second.code, 4, "{}\n{}", second.stdout, second.stderr);
    assert!(
        second.stderr.contains(&format!(
            "run `r1` is being written by another drbook process (pid {holder} on "
        )),
        "{}",
        second.stderr
    );
    assert_ok(&shown);
    assert!(shown.stdout.contains("status: running"), "{}", shown.stdout);
    assert_ok(&first);
    let journal = f.journal("r1");
    assert_eq!(run_finished(&journal)["outcome"], "succeeded");
    assert!(
        !journal.iter().any(|r| kind(r) == "session_started"),
        "the refused resume wrote to the journal"
    );
}

#[test]
fn an_edited_journal_is_refused_as_damaged() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: a
      action: shell
      with: {run: "echo hello"}
    - id: b
      action: shell
      with: {run: "echo world"}
"#,
    );
    assert_ok(&f.run_with(&["run", "r.yaml", "--run-id", "r1"]));
    let shown = f.run_with(&["runs", "show", "r1"]);
    assert_ok(&shown);
    let events = f.journal("r1").len();
    assert!(
        shown.stdout.contains(&format!(
            "status: succeeded; record verified ({events} events, hash chain intact)"
        )),
        "{}",
        shown.stdout
    );

    // One byte of the output line of `a`, still valid JSON: only the chain can tell.
    let path = f.run_dir("r1").join("journal.jsonl");
    let original = std::fs::read(&path).unwrap();
    let text = String::from_utf8(original.clone()).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"line\":\"hello\""))
        .unwrap();
    let edited = text.replacen("\"line\":\"hello\"", "\"line\":\"hellp\"", 1);
    let differing = original
        .iter()
        .zip(edited.as_bytes())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 1);
    std::fs::write(&path, &edited).unwrap();

    let shown = f.run_with(&["runs", "show", "r1"]);
    assert_ne!(shown.code, 0);
    // The line after the edited one no longer chains to it (lines count from 1).
    assert!(
        shown
            .stderr
            .contains(&format!("journal.jsonl` line {} is damaged", line + 2)),
        "{}",
        shown.stderr
    );
    let resumed = f.run_with(&["resume", "r1"]);
    assert_eq!(resumed.code, 4, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(resumed.stderr.contains("is damaged"), "{}", resumed.stderr);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        edited,
        "resume wrote"
    );
}

#[test]
fn refusals_change_nothing() {
    let f = test();
    let marker = f.path().join("ran");
    let steps = format!(
        "  steps:\n    - id: act\n      action: shell\n      with: {{run: \"touch '{}'\"}}\n",
        marker.display()
    );
    write_runbook(&f, "r.yaml", &steps);
    write_runbook(
        &f,
        "input.yaml",
        &format!(
            "  inputs:\n    - {{name: node, description: The lost node}}\n    - {{name: zone}}\n{steps}"
        ),
    );
    write_runbook(
        &f,
        "secret.yaml",
        &format!("  secrets:\n    - {{name: pw, env: DRBOOK_TEST_UNSET_SECRET}}\n{steps}"),
    );
    f.write("drbook.targets.yaml",
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  prod: {environment: production, drill: forbidden}\n  quiet: {environment: staging}\n  staging: {environment: staging, drill: allowed}\n",
    );
    f.write("answers.yaml", "act: true\n");
    let cases: [(&[&str], i32, &str); 8] = [
        (
            &["run", "r.yaml", "--answers", "answers.yaml"],
            4,
            "`--answers` is refused in incident mode",
        ),
        (&["drill", "r.yaml"], 4, "a drill needs `--target NAME`"),
        (
            &["drill", "r.yaml", "--target", "prod"],
            4,
            "target `prod` (production environment) does not allow drills",
        ),
        (
            &["drill", "r.yaml", "--target", "quiet"],
            4,
            "target `quiet` (staging environment) does not allow drills",
        ),
        (
            &["run", "secret.yaml"],
            4,
            "secret `pw`: environment variable `DRBOOK_TEST_UNSET_SECRET` is not set",
        ),
        (
            &["run", "input.yaml", "-i", "zone=a"],
            4,
            "inputs without a value and no terminal to ask: -i node=...",
        ),
        (
            &["run", "input.yaml"],
            4,
            "no terminal to ask: -i node=... -i zone=...",
        ),
        (
            &["run", "r.yaml", "--run-id", "../x"],
            64,
            "run id `../x` is not usable",
        ),
    ];
    for (args, code, message) in cases {
        let out = f.run_with(args);
        assert_eq!(out.code, code, "{args:?}:\n{}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        assert!(!f.state().join("runs").exists(), "{args:?} created a run");
        assert!(!f.state().join("x").exists() && !f.path().join("x").exists());
        assert!(!marker.exists(), "{args:?} ran a step");
    }

    // An existing run id is refused, and that run's record is left as it was.
    assert_ok(&f.run_with(&["run", "r.yaml", "--run-id", "taken"]));
    std::fs::remove_file(&marker).unwrap();
    let journal = std::fs::read(f.run_dir("taken").join("journal.jsonl")).unwrap();
    let out = f.run_with(&["run", "r.yaml", "--run-id", "taken"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("run `taken` already exists"),
        "{}",
        out.stderr
    );
    assert!(!marker.exists());
    assert_eq!(
        std::fs::read(f.run_dir("taken").join("journal.jsonl")).unwrap(),
        journal
    );
    let runs: Vec<_> = std::fs::read_dir(f.state().join("runs")).unwrap().collect();
    assert_eq!(runs.len(), 1);
}

#[test]
fn rto_stops_at_the_recovered_step_and_rpo_comes_from_the_restored_point() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  objectives: {rto: 3h, rpo: 30m}
  inputs:
    - {name: point}
  steps:
    - id: restore
      action: shell
      with: {run: "echo restored_point={{ inputs.point }}"}
    - id: healthy
      action: shell
      with: {run: "echo healthy"}
      marks: recovered
    - id: post_backup
      action: shell
      with: {run: "sleep 0.2"}
"#,
    );
    // Whole seconds in the past, so every figure is exact in milliseconds.
    let now = Utc::now().timestamp();
    let declared = DateTime::from_timestamp(now - 2 * 3600, 0).unwrap();
    let failed = declared - chrono::Duration::minutes(15);
    let point = failed - chrono::Duration::milliseconds(1_234_567);
    let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let input = format!("point={}", rfc(point));
    let out = f.run_with(&[
        "run",
        "r.yaml",
        "--run-id",
        "r1",
        "-i",
        &input,
        "--declared-at",
        &rfc(declared),
        "--failed-at",
        &rfc(failed),
    ]);
    assert_ok(&out);
    let journal = f.journal("r1");
    let achieved = &run_finished(&journal)["achieved"];
    assert_eq!(achieved["rpo_ms"], 1_234_567);
    assert_eq!(achieved["rpo_objective_ms"], 30 * 60 * 1000);
    assert_eq!(achieved["restored_point"], rfc(point));

    let recovered = one(&journal, "step_finished", "healthy");
    let after = one(&journal, "step_finished", "post_backup");
    let rto = achieved["rto_ms"].as_u64().unwrap();
    assert_eq!(rto as i64, time_ms(recovered) - declared.timestamp_millis());
    // The step after the recovered one took time, and none of it counts.
    assert!(time_ms(after) - time_ms(recovered) >= 200);
    assert!(rto as i64 <= time_ms(journal.last().unwrap()) - declared.timestamp_millis() - 200);
    let (machine, operator, idle) = (
        achieved["machine_ms"].as_u64().unwrap(),
        achieved["operator_ms"].as_u64().unwrap(),
        achieved["idle_ms"].as_u64().unwrap(),
    );
    assert_eq!(machine + operator + idle, rto);
    assert_eq!(operator, 0);
    // Machine time is the two steps before the milestone, to the millisecond the journal
    // shows: a report computed from the journal gets the same figure.
    let busy: i64 = ["restore", "healthy"]
        .iter()
        .map(|s| {
            time_ms(one(&journal, "step_finished", s)) - time_ms(one(&journal, "step_started", s))
        })
        .sum();
    assert_eq!(machine as i64, busy);
    assert!(
        idle >= 2 * 3600 * 1000,
        "the time before the run started is idle"
    );

    // What was printed is what was recorded.
    let expected_rto = format!(
        "RTO {} / objective 3h met (machine {}, operator 0ms, idle {})",
        format_ms(rto),
        format_ms(machine),
        format_ms(idle)
    );
    let expected_rpo = format!(
        "RPO 20m 34s / objective 30m met (restored point {})",
        rfc(point)
    );
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines.contains(&expected_rto.as_str()),
        "{expected_rto}\n{}",
        out.stdout
    );
    assert!(
        lines.contains(&expected_rpo.as_str()),
        "{expected_rpo}\n{}",
        out.stdout
    );
    let shown = f.run_with(&["runs", "show", "r1"]);
    assert!(
        shown.stdout.contains(&format!(
            "run succeeded: RTO {}, RPO 20m 34s (machine {}, operator 0ms, idle {})",
            format_ms(rto),
            format_ms(machine),
            format_ms(idle)
        )),
        "{}",
        shown.stdout
    );

    // Without `--declared-at` the run's start is declared_at, and without `--failed-at`
    // RPO is measured from it; the figures match the journal's millisecond times.
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r2", "-i", &input]);
    assert_ok(&out);
    let journal = f.journal("r2");
    let declared = parse_ms(event(&journal[0])["declared_at"].as_str().unwrap());
    assert!(declared <= time_ms(&journal[0]));
    let achieved = &run_finished(&journal)["achieved"];
    assert_eq!(
        achieved["rto_ms"].as_i64().unwrap(),
        time_ms(one(&journal, "step_finished", "healthy")) - declared
    );
    assert_eq!(
        achieved["rpo_ms"].as_i64().unwrap(),
        declared - point.timestamp_millis()
    );
}

#[test]
fn a_drill_declares_its_incident_when_recovery_begins() {
    let f = test();
    f.write("drbook.targets.yaml",
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging: {environment: staging, drill: allowed}\n",
    );
    write_runbook(
        &f,
        "d.yaml",
        r#"  objectives: {rto: 1h, rpo: 1h}
  inputs:
    - {name: point}
  steps:
    - id: restore
      action: shell
      with: {run: "echo restored_point={{ inputs.point }}; echo DECLARED={{ run.declared_at }}"}
      marks: recovered
  drill:
    inject:
      - id: break_it
        action: shell
        with: {run: "sleep 0.3"}
"#,
    );
    let point = Utc::now() - chrono::Duration::minutes(5);
    let input = format!(
        "point={}",
        point.to_rfc3339_opts(SecondsFormat::Millis, true)
    );
    let out = f.run_with(&[
        "drill", "d.yaml", "--target", "staging", "--run-id", "d1", "-i", &input,
    ]);
    assert_ok(&out);
    let journal = f.journal("d1");
    let injected = one(&journal, "step_finished", "break_it");
    let recovery = journal
        .iter()
        .find(|r| kind(r) == "recovery_started")
        .expect("a drill records when recovery begins");
    let started = one(&journal, "step_started", "restore");
    assert!(seq(injected) < seq(recovery) && seq(recovery) < seq(started));
    let declared = parse_ms(event(recovery)["declared_at"].as_str().unwrap());
    assert!(declared >= time_ms(injected));
    // The RTO measures the recovery alone: the 300 ms of injection are not in it.
    let achieved = &run_finished(&journal)["achieved"];
    let finished = one(&journal, "step_finished", "restore");
    assert_eq!(
        achieved["rto_ms"].as_i64().unwrap(),
        time_ms(finished) - declared
    );
    assert_eq!(
        achieved["rpo_ms"].as_i64().unwrap(),
        declared - point.timestamp_millis()
    );
    // Templates see the same declared time.
    let outputs = &event(finished)["outcome"]["outputs"];
    assert_eq!(parse_ms(outputs["DECLARED"].as_str().unwrap()), declared);
    assert!(out.stdout.contains("recovery begins"), "{}", out.stdout);

    // With --declared-at the operator's time stands; no recovery_started is recorded.
    let declared_at =
        (Utc::now() - chrono::Duration::minutes(1)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let out = f.run_with(&[
        "drill",
        "d.yaml",
        "--target",
        "staging",
        "--run-id",
        "d2",
        "-i",
        &input,
        "--declared-at",
        &declared_at,
    ]);
    assert_ok(&out);
    let journal = f.journal("d2");
    assert!(!journal.iter().any(|r| kind(r) == "recovery_started"));
    let achieved = &run_finished(&journal)["achieved"];
    assert_eq!(
        achieved["rto_ms"].as_i64().unwrap(),
        time_ms(one(&journal, "step_finished", "restore")) - parse_ms(&declared_at)
    );
}

#[test]
fn stdout_starts_with_the_run_id_and_json_output_is_one_record_per_line() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: a
      action: shell
      with: {run: "echo A=1"}
"#,
    );
    let out = f.run_with(&["run", "r.yaml"]);
    assert_ok(&out);
    let first = out.stdout.lines().next().unwrap();
    let id = first.strip_prefix("run ").expect(first);
    assert!(f.run_dir(id).join("journal.jsonl").is_file(), "{id}");
    let out = f.run_with(&["run", "r.yaml", "--run-id", "chosen"]);
    assert_eq!(out.stdout.lines().next(), Some("run chosen"));

    let out = f.run_with(&["run", "r.yaml", "--run-id", "j1", "--output", "json"]);
    assert_ok(&out);
    let records: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(kind(&records[0]), "run_started");
    assert_eq!(event(&records[0])["run_id"], "j1");
    assert_eq!(kind(records.last().unwrap()), "run_finished");
    assert_eq!(records, f.journal("j1"));
}
