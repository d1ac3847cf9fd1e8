//! Which step runs when: written order, `needs` concurrency, bounded `foreach` with its
//! outputs, and `when` steered by inputs and by a drill's answers file.

use super::*;

#[test]
fn steps_without_needs_run_one_after_another_in_written_order() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: one
      action: shell
      with: {run: "echo one >> order.log"}
    - id: two
      action: shell
      with: {run: "echo two >> order.log"}
    - id: three
      action: shell
      with: {run: "echo three >> order.log"}
    - id: four
      action: shell
      with: {run: "echo four >> order.log"}
"#,
    );
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    assert_ok(&out);
    let journal = f.journal("r1");
    let ids = ["one", "two", "three", "four"];
    let started: Vec<&str> = journal
        .iter()
        .filter(|r| kind(r) == "step_started")
        .map(|r| event(r)["step"].as_str().unwrap())
        .collect();
    assert_eq!(started, ids);
    for pair in ids.windows(2) {
        let finished = one(&journal, "step_finished", pair[0]);
        let next = one(&journal, "step_started", pair[1]);
        assert!(
            seq(next) > seq(finished),
            "`{}` started before `{}` finished",
            pair[1],
            pair[0]
        );
        assert!(time_ms(next) >= time_ms(finished));
    }
    assert_eq!(max_running(&journal, None), 1);
    assert_eq!(
        std::fs::read_to_string(f.work("r1").join("order.log")).unwrap(),
        "one\ntwo\nthree\nfour\n"
    );
    assert_eq!(run_finished(&journal)["outcome"], "succeeded");
}

#[test]
fn steps_that_need_the_same_step_run_concurrently() {
    let f = test();
    // `left` and `right` each wait for the other's flag: they can only both succeed when
    // they run at the same time.
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: first
      action: shell
      with: {run: "echo first"}
    - id: left
      needs: [first]
      action: shell
      with:
        run: |
          . "$LIB"
          touch left.flag
          w right.flag
    - id: right
      needs: [first]
      action: shell
      with:
        run: |
          . "$LIB"
          touch right.flag
          w left.flag
    - id: join
      needs: [left, right]
      action: shell
      with: {run: "echo joined"}
"#,
    );
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    assert_ok(&out);
    let journal = f.journal("r1");
    let first_done = one(&journal, "step_finished", "first");
    let starts = [
        one(&journal, "step_started", "left"),
        one(&journal, "step_started", "right"),
    ];
    let ends = [
        one(&journal, "step_finished", "left"),
        one(&journal, "step_finished", "right"),
    ];
    for start in starts {
        assert!(
            seq(start) > seq(first_done),
            "a dependent started too early"
        );
    }
    // Both started before either finished: by sequence number and by wall time.
    let last_start = starts.iter().map(|r| seq(r)).max().unwrap();
    let first_end = ends.iter().map(|r| seq(r)).min().unwrap();
    assert!(last_start < first_end, "left and right did not overlap");
    let last_start_ms = starts.iter().map(|r| time_ms(r)).max().unwrap();
    let first_end_ms = ends.iter().map(|r| time_ms(r)).min().unwrap();
    assert!(last_start_ms <= first_end_ms);
    for end in ends {
        assert_eq!(event(end)["outcome"]["result"], "succeeded", "{end}");
    }
    let join = one(&journal, "step_started", "join");
    assert!(seq(join) > ends.iter().map(|r| seq(r)).max().unwrap());
}

#[test]
fn foreach_is_bounded_by_its_concurrency_and_its_outputs_are_a_list_in_item_order() {
    let f = test();
    // Items pair up (0 with 1, 2 with 3) and wait for each other, so two must run at
    // once; the even item of each pair finishes after the odd one, so completion order
    // (1, 0, 3, 2) differs from item order.
    write_runbook(
        &f,
        "r.yaml",
        r#"  steps:
    - id: fan
      foreach: [0, 1, 2, 3]
      concurrency: 2
      action: shell
      with:
        run: |
          . "$LIB"
          i={{ item }}
          p=$((i ^ 1))
          touch "$i.flag"
          w "$p.flag"
          if [ $((i % 2)) -eq 0 ]; then wj fan "$p"; fi
          echo "KEY=value-$i"
    - id: read
      action: shell
      with: {run: "echo FIRST={{ steps.fan.outputs[0].KEY }}; echo LAST={{ steps.fan.outputs[3].KEY }}; echo COUNT={{ steps.fan.outputs | length }}"}
"#,
    );
    let out = f.run_with(&["run", "r.yaml", "--run-id", "r1"]);
    assert_ok(&out);
    let journal = f.journal("r1");
    assert_eq!(max_running(&journal, Some("fan")), 2);
    let finished = step_records(&journal, "step_finished", "fan");
    let order: Vec<u64> = finished
        .iter()
        .map(|r| event(r)["item"].as_u64().unwrap())
        .collect();
    assert_eq!(
        order,
        [1, 0, 3, 2],
        "the items finished in an unexpected order"
    );
    for record in &finished {
        let item = event(record)["item"].as_u64().unwrap();
        assert_eq!(
            event(record)["outcome"],
            json!({"result": "succeeded", "outputs": {"KEY": format!("value-{item}")}})
        );
    }
    let labels: Vec<&str> = step_records(&journal, "step_started", "fan")
        .iter()
        .map(|r| event(r)["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["0", "1", "2", "3"]);
    assert_eq!(
        event(one(&journal, "step_finished", "read"))["outcome"]["outputs"],
        json!({"FIRST": "value-0", "LAST": "value-3", "COUNT": "4"})
    );
}

#[test]
fn a_drill_answer_steers_a_when_branch_and_skips_record_their_reason() {
    let f = test();
    write_runbook(
        &f,
        "r.yaml",
        r#"  inputs:
    - {name: extra, type: bool, default: false}
  steps:
    - id: choose
      checkpoint: {prompt: "Restore or skip?", type: choice, choices: [restore, skip]}
    - id: do_restore
      when: "{{ steps.choose.answer == 'restore' }}"
      action: shell
      with: {run: "echo restoring"}
    - id: do_skip
      when: "{{ steps.choose.answer == 'skip' }}"
      action: shell
      with: {run: "echo skipping"}
    - id: optional
      when: "{{ inputs.extra }}"
      action: shell
      with: {run: "echo extra"}
    - id: done
      action: shell
      with: {run: "echo done"}
  drill:
    inject:
      - id: break_it
        action: shell
        with: {run: "echo broken"}
"#,
    );
    let f = f
        .targets("apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging: {environment: staging, drill: allowed}\n")
        .answers("choose: restore\n");
    let answers = f.path().join("answers.yaml");
    let out = f.run_with(&[
        "drill",
        "r.yaml",
        "--target",
        "staging",
        "--answers",
        "answers.yaml",
        "--run-id",
        "d1",
    ]);
    assert_ok(&out);
    let journal = f.journal("d1");
    let started = event(&journal[0]);
    assert_eq!(started["mode"], "drill");
    assert_eq!(started["target"], "staging");
    assert_eq!(started["answers_file"], answers.to_str().unwrap());
    // The inject step runs first, in drill mode only.
    assert_eq!(event(&journal[1])["step"], "break_it");
    let answered = one(&journal, "checkpoint_answered", "choose");
    assert_eq!(
        event(answered)["by"],
        json!({"kind": "answers_file", "path": answers.to_str().unwrap()})
    );
    assert_eq!(event(answered)["answer"], "restore");
    assert!(
        !journal.iter().any(|r| event(r)["by"]["kind"] == "operator"),
        "an answer from the file was recorded as a person's"
    );
    assert_eq!(
        event(one(&journal, "step_finished", "do_restore"))["outcome"]["result"],
        "succeeded"
    );
    assert!(step_records(&journal, "step_started", "do_skip").is_empty());
    assert_eq!(
        event(one(&journal, "step_skipped", "do_skip"))["reason"],
        "`when: {{ steps.choose.answer == 'skip' }}` was false"
    );
    assert_eq!(
        event(one(&journal, "step_skipped", "optional"))["reason"],
        "`when: {{ inputs.extra }}` was false"
    );
    // A skipped step counts as done: the step after it runs.
    one(&journal, "step_finished", "done");
    assert!(
        out.stdout
            .contains(&format!("from answers file {}", answers.display())),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("↷ do_skip skipped: `when: {{ steps.choose.answer == 'skip' }}` was false"),
        "{}",
        out.stdout
    );
}
