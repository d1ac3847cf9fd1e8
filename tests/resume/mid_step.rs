//! drbook killed in the middle of a step, after the step's effect and before its end was
//! recorded: on resume the step is "interrupted", and what happens to it is its re-run
//! policy's to say.

use super::*;

#[test]
fn a_crash_in_the_middle_of_any_step_is_resumed_as_the_steps_policy_says() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    in_parallel(STEPS, |i| {
        let k = i + 1;
        let id = step_id(k);
        let case = format!("mid{k:02}");
        let run = drbook(
            &f,
            &case,
            &["run", "twenty.yaml", "--run-id", "r1"],
            &[("CRASH_AT", &id)],
        );
        run.assert_killed(&case);
        let ran: Vec<String> = (1..=k).map(step_id).collect();
        assert_eq!(effects(&f, &case), ran, "{case}: effects before resume");
        let before = journal_bytes(&f, &case, "r1");
        let records = verified(&before);
        let last = records.last().unwrap();
        assert_eq!(kind(last), "step_started", "{case}: {last}");
        assert_eq!(last["event"]["step"], id.as_str(), "{case}");

        let resumed = drbook(&f, &case, &["resume", "r1"], &[]);
        if policy(k).rerun_safe() {
            resumed.assert_code(0, &case);
            // Step k ran again (its line twice, back to back); every other step once.
            assert_eq!(effects(&f, &case), each_once_except(Some(k)), "{case}");
            let after = journal_bytes(&f, &case, "r1");
            assert!(after.starts_with(&before), "{case}: resume rewrote history");
            let all = verified(&after);
            assert_eq!(sessions(&all), [0, 1], "{case}");
            let opened = &all[records.len()];
            assert_eq!(kind(opened), "session_started", "{case}");
            assert_eq!(opened["event"]["operator"], "tester");
            assert_eq!(opened["event"]["accepted_changed_runbook"], false);
            let attempts: Vec<&Value> = step_records(&all, "step_started", &id)
                .iter()
                .map(|r| &r["event"]["attempt"])
                .collect();
            assert_eq!(attempts, [1, 2], "{case}");
            for j in 1..=STEPS {
                let finished = step_records(&all, "step_finished", &step_id(j));
                assert_eq!(finished.len(), 1, "{case}: step {j} finished {finished:?}");
                assert_eq!(finished[0]["event"]["outcome"]["result"], "succeeded");
            }
            let end = all.last().unwrap();
            assert_eq!(kind(end), "run_finished", "{case}");
            assert_eq!(end["event"]["outcome"], "succeeded", "{case}");
        } else {
            resumed.assert_code(4, &case);
            assert_eq!(
                resumed.stderr,
                format!(
                    "error: step `{id}`, which was running when drbook stopped, needs an answer, but there is no terminal to ask on; run `drbook resume` at a terminal to say whether it finished, or mark the step `idempotent: true` if running it again is safe\n"
                ),
                "{case}"
            );
            assert_eq!(
                journal_bytes(&f, &case, "r1"),
                before,
                "{case}: journal changed"
            );
            assert_eq!(
                effects(&f, &case),
                ran,
                "{case}: a refused resume ran something"
            );
        }
        assert_one_record(&f, &case, "r1");
    });
}

#[test]
fn a_crash_during_a_resume_is_resumed_again_as_a_third_session() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    let args = ["run", "twenty.yaml", "--run-id", "r1"];
    drbook(&f, "again", &args, &[("CRASH_AT", "s04")]).assert_killed("the run");
    // s11 is a `wait` step: its probe kills the resuming drbook too.
    drbook(&f, "again", &["resume", "r1"], &[("CRASH_AT", "s11")])
        .assert_killed("the first resume");
    drbook(&f, "again", &["resume", "r1"], &[]).assert_code(0, "the second resume");

    let mut expected = each_once_except(Some(4));
    expected.insert(
        expected.iter().position(|s| s == "s11").unwrap(),
        "s11".into(),
    );
    assert_eq!(effects(&f, "again"), expected);
    let records = verified(&journal_bytes(&f, "again", "r1"));
    assert_eq!(sessions(&records), [0, 1, 2]);
    for (step, session) in [("s04", [0, 1]), ("s11", [1, 2])] {
        let started: Vec<(u64, u64)> = step_records(&records, "step_started", step)
            .iter()
            .map(|r| {
                let attempt = r["event"]["attempt"].as_u64().unwrap();
                (r["session"].as_u64().unwrap(), attempt)
            })
            .collect();
        assert_eq!(started, [(session[0], 1), (session[1], 2)], "{step}");
    }
    assert_eq!(kind(records.last().unwrap()), "run_finished");
    assert_one_record(&f, "again", "r1");
}
