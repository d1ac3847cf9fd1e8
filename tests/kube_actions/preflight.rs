//! The session's cluster check, through the real executable: a drill whose target's
//! kubeconfig reaches another cluster than the one it pins is refused before any step
//! (its first step is a shell step that would create a file), with nothing created or
//! changed in either cluster and no run directory; the same on `drbook resume` after the
//! target was pointed elsewhere, with the journal untouched. On the right cluster the
//! identity is recorded once (`cluster_reached`) and shown in the header, `runs show`
//! and every report format, and the token shows nowhere. A step whose `with:` names
//! another cluster records that one too, once; so does a resumed session whose unpinned
//! target now reaches another cluster.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::Drbook;
use crate::support::fake_kube::{FakeKube, write_kubeconfig};

/// A drill: the inject step creates `injected`; recovery asks, creates `noted`, and
/// applies a ConfigMap `default/restored`.
fn runbook(dir: &Path) -> String {
    format!(
        r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {{name: guarded, version: 1.0.0}}
spec:
  description: Applies the settings again.
  steps:
    - id: go
      checkpoint: {{prompt: "Restore now?"}}
    - id: note
      action: shell
      with: {{run: "touch '{noted}'"}}
    - id: restore
      action: kube.apply
      with:
        manifest: |
          apiVersion: v1
          kind: ConfigMap
          metadata: {{name: restored, namespace: default}}
          data: {{mode: restored}}
      marks: recovered
  drill:
    inject:
      - id: break
        action: shell
        with: {{run: "touch '{injected}'"}}
"#,
        noted = dir.join("noted").display(),
        injected = dir.join("injected").display(),
    )
}

/// A fake cluster holding a ConfigMap `default/settings`.
fn cluster(seed: u64) -> FakeKube {
    let fake = FakeKube::start(seed);
    fake.put(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "default"}, "data": {"mode": "normal"}}));
    fake
}

fn settings(fake: &FakeKube) -> Value {
    fake.object("v1", "ConfigMap", Some("default"), "settings")
        .expect("the ConfigMap exists")
}

/// Targets file text: `staging` reaches `kubeconfig` and pins `uid`.
fn targets(kubeconfig: &Path, uid: &str) -> String {
    format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    kubeconfig: {}\n    cluster_uid: {uid}\n",
        kubeconfig.display()
    )
}

/// The two clusters, each with a kubeconfig of its own in the test's directory.
struct Two {
    pinned: FakeKube,
    other: FakeKube,
    pinned_config: PathBuf,
    other_config: PathBuf,
    f: Drbook,
}

fn two(answer: bool) -> Two {
    let pinned = cluster(41);
    let other = cluster(42);
    assert_ne!(pinned.uid(), other.uid());
    let f = Drbook::new();
    let pinned_config = write_kubeconfig(f.path(), "pinned.kubeconfig", &[("pinned", &pinned)]);
    let other_config = write_kubeconfig(f.path(), "other.kubeconfig", &[("other", &other)]);
    let text = runbook(f.path());
    let f = f.runbook(&text).answers(&format!("go: {answer}\n"));
    Two {
        pinned,
        other,
        pinned_config,
        other_config,
        f,
    }
}

/// `drbook drill` of the runbook against `staging`, as run `g1`.
fn drill(f: &Drbook) -> Drbook {
    f.clone().args([
        "drill",
        "runbook.yaml",
        "--target",
        "staging",
        "--answers",
        "answers.yaml",
        "--run-id",
        "g1",
    ])
}

/// Every file under `dir`, read as text (lossily).
fn texts_under(dir: &Path) -> String {
    let mut all = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return all;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            all.push_str(&texts_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

#[test]
fn a_drill_reaching_another_cluster_than_the_pinned_one_is_refused_before_any_step() {
    let t = two(true);
    let (pinned_before, other_before) = (settings(&t.pinned), settings(&t.other));
    let f =
        t.f.clone()
            .targets(&targets(&t.other_config, &t.pinned.uid()));
    let ran = drill(&f).run();
    ran.assert_code(4, "refused: the kubeconfig reaches the other cluster");
    assert_eq!(
        ran.stderr,
        format!(
            "error: wrong cluster for target `staging`: kubeconfig `{}` (context `other`) reaches {}, whose kube-system UID is {}, but the target pins cluster_uid {}; nothing was run. Point the target's `kubeconfig` and `context` at the cluster it names, or, if this is the right cluster (a rebuilt cluster has a new UID), correct `cluster_uid` in `{}`: `kubectl get ns kube-system -o jsonpath='{{.metadata.uid}}'` prints it\n",
            t.other_config.display(),
            t.other.url(),
            t.other.uid(),
            t.pinned.uid(),
            "drbook.targets.yaml"
        )
    );
    assert!(
        !f.path().join("injected").exists(),
        "the inject step never ran"
    );
    assert!(!f.path().join("noted").exists());
    assert!(!f.run_dir("g1").exists(), "no run directory was created");
    for (fake, before) in [(&t.pinned, pinned_before), (&t.other, other_before)] {
        assert_eq!(
            fake.api_writes(),
            0,
            "nothing was written to {}",
            fake.url()
        );
        assert_eq!(settings(fake), before, "resourceVersion and data unchanged");
        assert!(
            fake.object("v1", "ConfigMap", Some("default"), "restored")
                .is_none()
        );
    }
    for token in [t.pinned.token(), t.other.token()] {
        assert!(!ran.stdout.contains(token) && !ran.stderr.contains(token));
    }
}

#[test]
fn a_resume_after_the_target_was_pointed_elsewhere_is_refused_with_the_journal_untouched() {
    let t = two(false);
    let f =
        t.f.clone()
            .targets(&targets(&t.pinned_config, &t.pinned.uid()));
    let first = drill(&f).run();
    first.assert_code(5, "the drill stops at `go`, answered no");
    assert!(f.path().join("injected").exists(), "the inject step ran");
    let journal = std::fs::read(f.run_dir("g1").join("journal.jsonl")).unwrap();

    // Between the sessions the target is pointed at another cluster.
    f.write(
        "drbook.targets.yaml",
        &targets(&t.other_config, &t.pinned.uid()),
    );
    f.write("answers.yaml", "go: true\n");
    let (pinned_before, other_before) = (settings(&t.pinned), settings(&t.other));
    let refused = first.resume();
    refused.assert_code(4, "refused: the target reaches the other cluster now");
    assert!(
        refused.stderr.starts_with(&format!(
            "error: wrong cluster for target `staging`: kubeconfig `{}` (context `other`) reaches {}, whose kube-system UID is {}, but the target pins cluster_uid {}; nothing was run.",
            t.other_config.display(),
            t.other.url(),
            t.other.uid(),
            t.pinned.uid()
        )),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read(f.run_dir("g1").join("journal.jsonl")).unwrap(),
        journal,
        "the journal was not written to"
    );
    assert!(!f.path().join("noted").exists(), "no step ran");
    for (fake, before) in [(&t.pinned, pinned_before), (&t.other, other_before)] {
        assert_eq!(
            fake.api_writes(),
            0,
            "nothing was written to {}",
            fake.url()
        );
        assert_eq!(settings(fake), before);
    }

    // Pointed back, the run goes on; the cluster it had reached is not recorded again.
    f.write(
        "drbook.targets.yaml",
        &targets(&t.pinned_config, &t.pinned.uid()),
    );
    let resumed = first.resume();
    resumed.assert_code(0, "the resumed drill on the pinned cluster");
    assert!(f.path().join("noted").exists());
    assert!(
        t.pinned
            .object("v1", "ConfigMap", Some("default"), "restored")
            .is_some()
    );
    assert_eq!(t.other.api_writes(), 0);
    let reached: Vec<&Value> = resumed
        .events()
        .into_iter()
        .filter(|e| e["type"] == "cluster_reached")
        .collect();
    assert_eq!(
        reached,
        [
            &json!({"type": "cluster_reached", "server": t.pinned.url(), "uid": t.pinned.uid(), "context": "pinned", "via": "preflight"})
        ],
        "recorded once, by the first session's preflight"
    );
    let line = format!(
        "cluster: {} (kube-system UID {})",
        t.pinned.url(),
        t.pinned.uid()
    );
    assert!(first.stdout.contains(&line), "{}", first.stdout);
    assert!(resumed.stdout.contains(&line), "{}", resumed.stdout);
}

#[test]
fn the_identity_is_recorded_once_and_shown_in_the_header_runs_show_and_every_report() {
    let t = two(true);
    let f =
        t.f.clone()
            .targets(&targets(&t.pinned_config, &t.pinned.uid()));
    let ran = drill(&f).run();
    ran.assert_code(0, "the drill on the pinned cluster");
    let events = ran.events();
    assert_eq!(events[0]["type"], "run_started");
    assert_eq!(events[0]["format"], "1.2");
    assert_eq!(
        events[1],
        &json!({"type": "cluster_reached", "server": t.pinned.url(), "uid": t.pinned.uid(), "context": "pinned", "via": "preflight"}),
        "recorded before the first step"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "cluster_reached")
            .count(),
        1,
        "the step on the same cluster adds nothing: {events:#?}"
    );
    let line = format!(
        "cluster: {} (kube-system UID {})",
        t.pinned.url(),
        t.pinned.uid()
    );
    // The header's last line, before the runbook's description.
    let header: Vec<&str> = ran.stdout.lines().take(7).collect();
    assert_eq!(
        header[4..],
        [line.as_str(), "", "  Applies the settings again."],
        "the header names the cluster: {}",
        ran.stdout
    );

    let shown = ran.then().args(["runs", "show", "g1"]).run();
    shown.assert_code(0, "runs show");
    assert!(
        shown.stdout.contains(&format!(
            "{line}, context `pinned`, checked before the first step"
        )),
        "{}",
        shown.stdout
    );
    let json_show = ran
        .then()
        .args(["runs", "show", "g1", "--output", "json"])
        .run();
    json_show.assert_code(0, "runs show --output json");
    let shown: Value = serde_json::from_str(&json_show.stdout).unwrap();
    assert_eq!(
        shown["run"]["clusters"],
        json!([{"server": t.pinned.url(), "uid": t.pinned.uid(), "context": "pinned", "via": "preflight"}])
    );
    let event = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "cluster_reached")
        .expect("the event is listed");
    assert!(
        event["summary"].as_str().unwrap().starts_with(&line),
        "{event}"
    );

    let mut outputs = format!("{}{}{}", ran.stdout, ran.stderr, json_show.stdout);
    for format in ["html", "md", "json", "junit"] {
        let report = ran.then().args(["report", "g1", "--format", format]).run();
        report.assert_code(0, format);
        assert!(
            report.stdout.contains(&t.pinned.uid()),
            "the {format} report names the cluster: {}",
            report.stdout
        );
        outputs.push_str(&report.stdout);
    }
    outputs.push_str(&texts_under(&f.state()));
    assert!(!outputs.contains(t.pinned.token()), "the token leaked");
}

#[test]
fn a_step_that_reaches_another_cluster_records_it_once() {
    let home = cluster(43);
    let away = cluster(44);
    let f = Drbook::new();
    let home_config = write_kubeconfig(f.path(), "home.kubeconfig", &[("home", &home)]);
    let away_config = write_kubeconfig(f.path(), "away.kubeconfig", &[("away", &away)]);
    let get = |id: &str, kubeconfig: &str| {
        format!(
            "    - {{id: {id}, action: kube.get, with: {{api_version: v1, kind: ConfigMap, name: settings, namespace: default{kubeconfig}}}}}\n"
        )
    };
    let away_param = format!(", kubeconfig: {}", away_config.display());
    let text = format!(
        "apiVersion: drbook.io/v1\nkind: Runbook\nmetadata: {{name: two, version: 1.0.0}}\nspec:\n  steps:\n{}{}{}",
        get("here", ""),
        get("there", &away_param),
        get("there-again", &away_param)
    );
    let ran = f
        .runbook(&text)
        .targets(&format!(
            "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  prod:\n    environment: production\n    kubeconfig: {}\n",
            home_config.display()
        ))
        .args(["run", "runbook.yaml", "--target", "prod"])
        .run();
    ran.assert_code(0, "the run over two clusters");
    let reached: Vec<(&Value, &Value)> = ran
        .events()
        .into_iter()
        .filter(|e| e["type"] == "cluster_reached")
        .map(|e| (&e["uid"], &e["via"]))
        .collect();
    assert_eq!(
        reached,
        [
            (&json!(home.uid()), &json!("preflight")),
            (&json!(away.uid()), &json!("there")),
        ]
    );
    assert!(
        ran.stdout.contains(&format!(
            "there: cluster: {} (kube-system UID {})",
            away.url(),
            away.uid()
        )),
        "{}",
        ran.stdout
    );
}

#[test]
fn an_unreachable_cluster_that_the_target_pins_is_a_refusal_and_plan_contacts_nothing() {
    let gone = cluster(45);
    let t = two(true);
    let config = write_kubeconfig(t.f.path(), "gone.kubeconfig", &[("gone", &gone)]);
    let (uid, url) = (gone.uid(), gone.url());
    drop(gone);
    let f = t.f.clone().targets(&targets(&config, &uid));
    let ran = drill(&f).run();
    ran.assert_code(4, "refused: the pinned cluster cannot be reached");
    assert!(
        ran.stderr.starts_with(&format!(
            "error: cannot check the cluster of target `staging`, which pins cluster_uid {uid}: kubeconfig `{}` does not reach it: cannot read the identity of the cluster at {url}",
            config.display()
        )),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("remove `cluster_uid` from the entry of `staging`"),
        "{}",
        ran.stderr
    );
    assert!(!f.path().join("injected").exists());
    assert!(!f.run_dir("g1").exists());

    // `plan` binds the same target and never reaches out.
    f.clone()
        .args(["plan", "runbook.yaml", "--target", "staging"])
        .run()
        .assert_code(0, "plan does not contact the cluster");
}

#[test]
fn a_resumed_run_that_reaches_a_new_cluster_without_a_pin_records_it_for_that_session() {
    let t = two(false);
    let unpinned = |kubeconfig: &Path| {
        format!(
            "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    drill: allowed\n    kubeconfig: {}\n",
            kubeconfig.display()
        )
    };
    let f = t.f.clone().targets(&unpinned(&t.pinned_config));
    let first = drill(&f).run();
    first.assert_code(5, "the drill stops at `go`, answered no");
    f.write("drbook.targets.yaml", &unpinned(&t.other_config));
    f.write("answers.yaml", "go: true\n");
    let resumed = first.resume();
    resumed.assert_code(0, "nothing pins the cluster: the resumed run goes on");
    let reached: Vec<(&Value, &Value)> = resumed
        .journal
        .iter()
        .filter(|r| r["event"]["type"] == "cluster_reached")
        .map(|r| (&r["session"], &r["event"]["uid"]))
        .collect();
    assert_eq!(
        reached,
        [
            (&json!(0), &json!(t.pinned.uid())),
            (&json!(1), &json!(t.other.uid())),
        ],
        "each cluster once, the second by the resumed session's check"
    );
    let shown = resumed.then().args(["runs", "show", "g1"]).run();
    assert!(
        shown.stdout.contains(&format!(
            "cluster: {} (kube-system UID {}), context `other`, checked before the first step of session 1",
            t.other.url(),
            t.other.uid()
        )),
        "{}",
        shown.stdout
    );
}
