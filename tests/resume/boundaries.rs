//! drbook killed between two records: the journal of a complete run, cut after each of
//! its records in turn, is what a crash at that point leaves on disk, since every record
//! is fsync'd before the effect it announces begins. A cut in the middle of a line is a
//! crash during that record's write: the record never became durable.

use super::*;

#[test]
fn a_crash_after_any_record_or_during_any_write_is_resumed_without_doing_anything_twice() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    drbook(
        &f,
        "complete",
        &["run", "twenty.yaml", "--run-id", "r1"],
        &[],
    )
    .assert_code(0, "the complete run");
    assert_eq!(effects(&f, "complete"), each_once_except(None));
    let journal = journal_bytes(&f, "complete", "r1");
    let records = verified(&journal);
    // run_started, then started and finished for each step, then run_finished.
    assert_eq!(records.len(), 2 * STEPS + 2);
    let lines: Vec<&[u8]> = journal.split_inclusive(|&b| b == b'\n').collect();
    let cases: Vec<(usize, bool)> = (1..lines.len())
        .flat_map(|kept| [(kept, false), (kept, true)])
        .collect();
    in_parallel(cases.len(), |i| {
        let (kept, torn) = cases[i];
        resume_cut_journal(&f, &lines, &records, kept, torn);
    });
}

/// Resumes the complete run's journal cut after `kept` records, plus half of the next
/// line when `torn`, and checks the effects and the record that come out.
fn resume_cut_journal(f: &Drbook, lines: &[&[u8]], records: &[Value], kept: usize, torn: bool) {
    let case = format!("{}{kept:02}", if torn { "torn" } else { "cut" });
    let mut bytes = lines[..kept].concat();
    if torn {
        let next = lines[kept];
        bytes.extend_from_slice(&next[..next.len() / 2]);
    }
    // What had happened by then: the effect of every step whose end is recorded. A torn
    // `step_finished` means the step ran and drbook died writing its end; a torn
    // `step_started` means the step never began (the start must be durable first).
    let prefix = &records[..kept];
    let step_of = |r: &Value| r["event"]["step"].as_str().unwrap().to_string();
    let mut happened: Vec<String> = prefix
        .iter()
        .filter(|r| kind(r) == "step_finished")
        .map(step_of)
        .collect();
    let torn_finish = torn && kind(&records[kept]) == "step_finished";
    if torn_finish {
        happened.push(step_of(&records[kept]));
    }
    let interrupted = prefix
        .iter()
        .rev()
        .find(|r| kind(r).starts_with("step_"))
        .filter(|r| kind(r) == "step_started")
        .map(|r| {
            r["event"]["step"].as_str().unwrap()[1..]
                .parse::<usize>()
                .unwrap()
        });

    let dir = run_dir(f, &case, "r1");
    std::fs::create_dir_all(dir.join("work")).unwrap();
    for file in ["runbook.yaml", "runbook.sha256"] {
        std::fs::copy(run_dir(f, "complete", "r1").join(file), dir.join(file)).unwrap();
    }
    std::fs::write(journal_path(f, &case, "r1"), &bytes).unwrap();
    let mut so_far = happened.join("\n");
    if !so_far.is_empty() {
        so_far.push('\n');
    }
    std::fs::write(effects_path(f, &case), so_far).unwrap();

    let resumed = drbook(f, &case, &["resume", "r1"], &[]);
    match interrupted {
        Some(k) if !policy(k).rerun_safe() => {
            resumed.assert_code(4, &case);
            let id = step_id(k);
            assert!(
                resumed
                    .stderr
                    .contains(&format!("step `{id}`, which was running")),
                "{case}: {}",
                resumed.stderr
            );
            // Not even the torn tail was cut: a refusal writes nothing.
            assert_eq!(
                journal_bytes(f, &case, "r1"),
                bytes,
                "{case}: journal changed"
            );
            assert_eq!(effects(f, &case), happened, "{case}: ran something");
        }
        _ => {
            resumed.assert_code(0, &case);
            let twice = interrupted.filter(|_| torn_finish);
            assert_eq!(effects(f, &case), each_once_except(twice), "{case}");
            let after = journal_bytes(f, &case, "r1");
            assert!(
                after.starts_with(&lines[..kept].concat()),
                "{case}: resume rewrote history"
            );
            let all = verified(&after);
            assert_eq!(sessions(&all), [0, 1], "{case}");
            assert_eq!(kind(&all[kept]), "session_started", "{case}");
            for j in 1..=STEPS {
                let finished = step_records(&all, "step_finished", &step_id(j));
                assert_eq!(finished.len(), 1, "{case}: step {j} finished {finished:?}");
            }
            let end = all.last().unwrap();
            assert_eq!(kind(end), "run_finished", "{case}");
            assert_eq!(end["event"]["outcome"], "succeeded", "{case}");
        }
    }
    assert_one_record(f, &case, "r1");
}

#[test]
fn a_run_that_had_failed_before_the_crash_ends_failed_and_runs_nothing_again() {
    let f = Drbook::new();
    f.write(
        "fails.yaml",
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: fails, version: 1.0.0}
spec:
  steps:
    - id: bad
      action: shell
      retry: {attempts: 2}
      with: {run: 'echo bad >> "$FX"; exit 3'}
    - id: never
      action: shell
      with: {run: 'echo never >> "$FX"'}
"#,
    );
    drbook(&f, "failed", &["run", "fails.yaml", "--run-id", "r1"], &[])
        .assert_code(1, "the failing run");
    // drbook died after the last attempt's failure was recorded, before the run's end
    // was (other steps may take long to finish after a failure).
    let journal = journal_bytes(&f, "failed", "r1");
    let lines: Vec<&[u8]> = journal.split_inclusive(|&b| b == b'\n').collect();
    let (last, kept) = lines.split_last().unwrap();
    assert!(String::from_utf8_lossy(last).contains("\"type\":\"run_finished\""));
    std::fs::write(journal_path(&f, "failed", "r1"), kept.concat()).unwrap();

    let resumed = drbook(&f, "failed", &["resume", "r1"], &[]);
    resumed.assert_code(1, "the resumed run");
    assert!(
        resumed
            .stderr
            .contains("error: run r1 failed: step `bad` failed: command exited with status 3"),
        "{}",
        resumed.stderr
    );
    assert_eq!(effects(&f, "failed"), ["bad", "bad"], "a step ran again");
    let records = verified(&journal_bytes(&f, "failed", "r1"));
    assert_eq!(sessions(&records), [0, 1]);
    let kinds: Vec<&str> = records[kept.len()..].iter().map(kind).collect();
    assert_eq!(kinds, ["session_started", "run_finished"]);
    assert_eq!(records.last().unwrap()["event"]["outcome"], "failed");
}
