//! `drbook review`: the scenario owner's signed review of a finished drill, refused when
//! signed with the key that signed the journal (the operator cannot review their own
//! drill) or signed off by the operator; checked by `verify`, shown by `report`.

use drbook::signing::verification::SignatureStatus;
use drbook::signing::verify_record;

use super::*;

const REVIEW: &str = "lessons_learned: |
  The restic password was only in one person's vault.
corrective_actions:
  - action: Put the restic password in the team vault
    owner: bob
    due: 2027-01-31
    ticket: OPS-1234
sign_off:
  by: carol
";

fn review(f: &Drbook, key: &Key) -> Ran {
    f.clone()
        .args(["review", "d1", "--from", "review-input.yaml", "--sign-key"])
        .args([&key.private])
        .run()
}

#[test]
fn the_operator_cannot_review_their_own_drill_and_the_owner_can() {
    let f = drill_dir(true).file("review-input.yaml", REVIEW);
    let alice = key(f.path(), "alice");
    let carol = key(f.path(), "carol");
    drill(&f, "d1", &alice).assert_code(0, "the drill finishes");
    let dir = f.run_dir("d1");

    let own = review(&f, &alice);
    own.assert_code(4, "a review signed with the journal's key is refused");
    assert!(
        own.stderr.contains(
            "the key that signed the run's journal. The operator cannot review their own drill"
        ),
        "{}",
        own.stderr
    );
    assert!(!dir.join("review.yaml").exists(), "nothing was written");

    f.write(
        "operator-signs-off.yaml",
        &REVIEW.replace("by: carol", "by: test-operator"),
    );
    let ran = f
        .clone()
        .args([
            "review",
            "d1",
            "--from",
            "operator-signs-off.yaml",
            "--sign-key",
        ])
        .args([&carol.private])
        .run();
    ran.assert_code(4, "the operator cannot sign off");
    assert!(
        ran.stderr
            .contains("`test-operator` operated run `d1` and cannot sign off"),
        "{}",
        ran.stderr
    );

    let ran = f
        .clone()
        .args(["review", "d1", "--sign-key"])
        .args([&carol.private])
        .run();
    ran.assert_code(4, "no terminal, no --from");
    assert!(ran.stderr.contains("pass `--from FILE`"), "{}", ran.stderr);

    review(&f, &carol).assert_code(0, "the scenario owner reviews");
    assert!(dir.join("review.sig").is_file());
    review(&f, &carol).assert_code(4, "a review is never replaced");

    let allowed = allowed_signers(
        f.path(),
        "allowed",
        &[("test-operator", &alice), ("carol", &carol)],
    );
    let v = verify_record(&dir, &load(&allowed));
    assert!(v.is_verified(), "{v:#?}");
    assert!(v.is_reviewed() && !v.is_truncated());
    let checked = v.review.expect("the review is checked");
    assert_eq!(checked.sign_off_by.as_deref(), Some("carol"));
    assert!(
        matches!(&checked.status, SignatureStatus::Verified { principals, .. } if principals == &["carol".to_string()])
    );

    // The key of someone else than the person who signs off: the wrong key.
    let dave = key(f.path(), "dave");
    let as_dave = allowed_signers(
        f.path(),
        "dave-for-carol",
        &[
            ("test-operator", &alice),
            ("dave", &dave),
            ("carol", &carol),
        ],
    );
    std::fs::write(
        &as_dave,
        std::fs::read_to_string(&as_dave).unwrap().replace(
            &format!("carol {}", carol.public),
            &format!("dave {}", carol.public),
        ),
    )
    .unwrap();
    let v = verify_record(&dir, &load(&as_dave));
    assert!(
        matches!(&v.review.as_ref().unwrap().status, SignatureStatus::SignerNotSignOff { principals, .. } if principals == &["dave".to_string()]),
        "{v:#?}"
    );

    let md = f.clone().args(["report", "d1", "--format", "md"]).run();
    md.assert_code(0, "the report");
    assert!(md.stdout.contains("## Review"), "{}", md.stdout);
    assert!(
        md.stdout.contains("Signed off by **carol**"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains(
            "| Put the restic password in the team vault | bob | 2027-01-31 | OPS-1234 |"
        ),
        "{}",
        md.stdout
    );

    // An edited review no longer matches its signature.
    let text = std::fs::read_to_string(dir.join("review.yaml")).unwrap();
    std::fs::write(
        dir.join("review.yaml"),
        text.replace("2027-01-31", "2028-01-31"),
    )
    .unwrap();
    let v = verify_record(&dir, &load(&allowed));
    assert!(!v.is_verified() && !v.is_reviewed());
    assert!(matches!(
        v.review.unwrap().status,
        SignatureStatus::BadSignature { .. }
    ),);
}

#[test]
fn a_review_with_a_bad_date_or_an_unknown_key_is_refused_with_the_field() {
    let f = drill_dir(true)
        .file("bad-date.yaml", &REVIEW.replace("2027-01-31", "31.01.2027"))
        .file(
            "typo.yaml",
            &REVIEW.replace("corrective_actions", "corective_actions"),
        );
    let alice = key(f.path(), "alice");
    let carol = key(f.path(), "carol");
    drill(&f, "d1", &alice).assert_code(0, "the drill finishes");
    for (file, says) in [
        (
            "bad-date.yaml",
            "`corrective_actions[0].due` `31.01.2027` is not a date",
        ),
        ("typo.yaml", "corective_actions"),
    ] {
        let ran = f
            .clone()
            .args(["review", "d1", "--from", file, "--sign-key"])
            .args([&carol.private])
            .run();
        ran.assert_code(4, file);
        assert!(ran.stderr.contains(says), "{file}: {}", ran.stderr);
    }
}

#[test]
fn the_review_is_asked_at_a_terminal() {
    let f = drill_dir(true);
    let alice = key(f.path(), "alice");
    let carol = key(f.path(), "carol");
    drill(&f, "d1", &alice).assert_code(0, "the drill finishes");
    let command = f
        .clone()
        .args(["review", "d1", "--sign-key"])
        .args([&carol.private])
        .command();
    let mut pty = crate::interactive::Pty::spawn(command);
    pty.expect("Lessons learned");
    pty.send("Backups were fine\r");
    pty.expect("…");
    pty.send("\r");
    pty.expect("Add a corrective action?");
    pty.send("y");
    pty.expect("Action");
    pty.send("Rotate the restic key\r");
    pty.expect("Owner");
    pty.send("bob\r");
    pty.expect("Due (YYYY-MM-DD)");
    pty.send("soon\r");
    pty.expect("is not a date");
    pty.send("2027-02-01\r");
    pty.expect("Ticket");
    pty.send("\r");
    pty.expect("Add a corrective action?");
    pty.send("n");
    pty.expect("Signed off by");
    pty.send("carol\r");
    pty.expect("review of run d1 written");
    assert_eq!(pty.exit_code(), 0);
    let review = drbook::review::Review::parse(
        &std::fs::read_to_string(f.run_dir("d1").join("review.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(review.lessons_learned, "Backups were fine");
    assert_eq!(review.corrective_actions.len(), 1);
    assert_eq!(review.corrective_actions[0].due, "2027-02-01");
    assert_eq!(review.corrective_actions[0].ticket, None);
    assert_eq!(review.sign_off.by, "carol");
}
