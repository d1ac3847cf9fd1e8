//! What `drbook resume` refuses, and that a refusal changes nothing: a changed runbook
//! (unless accepted, which is recorded), a run that already finished, a run that does not
//! exist, a journal written in a newer major format.

use super::*;

/// A run killed in the middle of step s04 (idempotent), in state directory `case`.
fn crashed_run(f: &Drbook, case: &str) -> Vec<u8> {
    drbook(
        f,
        case,
        &["run", "twenty.yaml", "--run-id", "r1"],
        &[("CRASH_AT", "s04")],
    )
    .assert_killed(case);
    journal_bytes(f, case, "r1")
}

fn assert_refused(done: &Ran, parts: &[&str]) {
    done.assert_code(4, "the refused resume");
    for part in parts {
        assert!(done.stderr.contains(part), "{part}\n{}", done.stderr);
    }
}

#[test]
fn a_changed_runbook_is_refused_unless_accepted_and_the_acceptance_is_recorded() {
    let f = Drbook::new();
    let path = f.write("twenty.yaml", &twenty_steps());
    let before = crashed_run(&f, "changed");
    let original = std::fs::read(run_dir(&f, "changed", "r1").join("runbook.yaml")).unwrap();
    let changed = format!("{}# s05 checked by hand\n", twenty_steps());
    std::fs::write(&path, &changed).unwrap();

    let refused = drbook(&f, "changed", &["resume", "r1"], &[]);
    assert_refused(
        &refused,
        &[
            &format!(
                "runbook `{}` changed since run `r1` started",
                path.display()
            ),
            "pass `--accept-changed-runbook` to continue with the new one",
        ],
    );
    assert_eq!(
        journal_bytes(&f, "changed", "r1"),
        before,
        "journal changed"
    );
    assert_eq!(effects(&f, "changed"), ["s01", "s02", "s03", "s04"]);

    // A resume from another directory finds the same runbook file, and refuses too.
    let elsewhere = f.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let from_elsewhere = in_case(&f, "changed")
        .current_dir("elsewhere")
        .args(["resume", "r1"])
        .run();
    assert_refused(&from_elsewhere, &["changed since run `r1` started"]);
    assert_eq!(
        journal_bytes(&f, "changed", "r1"),
        before,
        "journal changed"
    );

    let accepted = drbook(
        &f,
        "changed",
        &["resume", "r1", "--accept-changed-runbook"],
        &[],
    );
    accepted.assert_code(0, "the accepted resume");
    assert_eq!(effects(&f, "changed"), each_once_except(Some(4)));
    let records = verified(&journal_bytes(&f, "changed", "r1"));
    assert_eq!(sessions(&records), [0, 1]);
    let opened: Vec<&Value> = records
        .iter()
        .filter(|r| kind(r) == "session_started")
        .collect();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["event"]["accepted_changed_runbook"], true);
    assert_eq!(
        opened[0]["event"]["runbook_sha256"],
        hex(&Sha256::digest(changed.as_bytes())).as_str(),
        "the session records which runbook it ran"
    );
    // The run directory keeps the bytes the run started with.
    assert_eq!(
        std::fs::read(run_dir(&f, "changed", "r1").join("runbook.yaml")).unwrap(),
        original
    );
    assert_one_record(&f, "changed", "r1");
}

#[test]
fn an_accepted_runbook_that_no_longer_fits_the_record_is_refused() {
    let f = Drbook::new();
    let path = f.write("twenty.yaml", &twenty_steps());
    let before = crashed_run(&f, "diverged");
    // s02 already ran; the new runbook does not have it any more.
    let changed = twenty_steps().replace("- id: s02\n", "- id: s02-renamed\n");
    std::fs::write(&path, changed).unwrap();
    let refused = drbook(
        &f,
        "diverged",
        &["resume", "r1", "--accept-changed-runbook"],
        &[],
    );
    assert_refused(
        &refused,
        &[
            "the record of this run does not fit the runbook: record #3 names step `s02`, which the runbook does not have",
        ],
    );
    assert_eq!(
        journal_bytes(&f, "diverged", "r1"),
        before,
        "journal changed"
    );
}

#[test]
fn a_finished_run_an_unknown_run_and_a_malformed_id_are_refused() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    drbook(&f, "done", &["run", "twenty.yaml", "--run-id", "r1"], &[]).assert_code(0, "the run");
    let before = journal_bytes(&f, "done", "r1");
    assert_refused(
        &drbook(&f, "done", &["resume", "r1"], &[]),
        &["run `r1` already finished (succeeded); start a new run instead"],
    );
    assert_eq!(journal_bytes(&f, "done", "r1"), before, "journal changed");
    assert_eq!(effects(&f, "done"), each_once_except(None));

    let state = state(&f, "done");
    let unknown = drbook(&f, "done", &["resume", "r2"], &[]);
    unknown.assert_code(66, "the resume of an unknown run");
    let expected = format!(
        "there is no run `r2` in {}; `drbook runs list` shows the runs there",
        state.display()
    );
    assert!(unknown.stderr.contains(&expected), "{}", unknown.stderr);
    assert!(!run_dir(&f, "done", "r2").exists());

    let bad = drbook(&f, "done", &["resume", "../done/runs/r1"], &[]);
    bad.assert_code(64, "a run id that is a path");
    assert!(
        bad.stderr
            .contains("run id `../done/runs/r1` is not usable"),
        "{}",
        bad.stderr
    );
    assert_eq!(journal_bytes(&f, "done", "r1"), before, "journal changed");
}

/// Rewrites every record of a journal with `edit` and chains the lines again, so only
/// what `edit` changed differs from a journal drbook wrote.
fn rewritten(journal: &[u8], mut edit: impl FnMut(&mut Value)) -> Vec<u8> {
    let mut prev = "0".repeat(64);
    let mut bytes = Vec::new();
    for line in String::from_utf8(journal.to_vec()).unwrap().lines() {
        let mut record: Value = serde_json::from_str(line).unwrap();
        edit(&mut record);
        record["prev"] = prev.clone().into();
        let line = serde_json::to_string(&record).unwrap();
        prev = hex(&Sha256::digest(line.as_bytes()));
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    verified(&bytes);
    bytes
}

#[test]
fn a_journal_in_a_newer_major_format_is_refused() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    let before = crashed_run(&f, "newer");
    // Format 2.0 with an intact hash chain: only the version is wrong.
    let newer = rewritten(&before, |record| {
        if record["seq"] == 0 {
            assert_eq!(record["event"]["format"], "1.2");
            record["event"]["format"] = "2.0".into();
        }
    });
    std::fs::write(journal_path(&f, "newer", "r1"), &newer).unwrap();

    let refused = drbook(&f, "newer", &["resume", "r1"], &[]);
    assert_refused(
        &refused,
        &[&format!(
            "`{}` was written in journal format 2.0, newer than this drbook reads (1.2); use a newer drbook",
            journal_path(&f, "newer", "r1").display()
        )],
    );
    assert_eq!(journal_bytes(&f, "newer", "r1"), newer, "journal changed");
    assert_eq!(effects(&f, "newer"), ["s01", "s02", "s03", "s04"]);
}

#[test]
fn a_journal_in_a_newer_minor_format_is_resumed_and_its_new_fields_kept() {
    let f = Drbook::new();
    f.write("twenty.yaml", &twenty_steps());
    let before = crashed_run(&f, "minor");
    // Format 1.4 added an optional field to step_started, say.
    let newer = rewritten(&before, |record| {
        if record["seq"] == 0 {
            record["event"]["format"] = "1.4".into();
        }
        if record["event"]["type"] == "step_started" {
            record["event"]["host"] = "bastion-1".into();
        }
    });
    std::fs::write(journal_path(&f, "minor", "r1"), &newer).unwrap();

    drbook(&f, "minor", &["resume", "r1"], &[]).assert_code(0, "the resume");
    assert_eq!(effects(&f, "minor"), each_once_except(Some(4)));
    let after = journal_bytes(&f, "minor", "r1");
    assert!(after.starts_with(&newer), "resume rewrote history");
    assert_eq!(sessions(&verified(&after)), [0, 1]);

    // The same field in a journal of a minor this drbook knows is damage.
    let damaged = rewritten(&before, |record| {
        if record["event"]["type"] == "step_started" {
            record["event"]["host"] = "bastion-1".into();
        }
    });
    std::fs::write(journal_path(&f, "minor", "r1"), &damaged).unwrap();
    let refused = drbook(&f, "minor", &["resume", "r1"], &[]);
    assert_refused(
        &refused,
        &["journal.jsonl` line 2 is damaged: unknown field `event.host`"],
    );
    assert_eq!(journal_bytes(&f, "minor", "r1"), damaged, "journal changed");
}
