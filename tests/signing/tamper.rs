//! Tampering with a signed record is found, and each kind is reported as what it is:
//! every single-byte change of the journal at every position, a journal cut below a
//! signed point, a re-ordered event, a signature by someone else's key, a signature
//! made for another namespace, and a signer the allowed signers file does not list.

use std::os::unix::fs::FileExt as _;
use std::path::Path;

use drbook::signing::Signer;
use drbook::signing::chain::ChainProblem;
use drbook::signing::verification::SignatureStatus;
use drbook::signing::verify_record;

use super::*;

/// A finished drill signed by alice, and the allowed signers naming her as the operator.
fn signed_drill() -> (Drbook, Key, std::path::PathBuf) {
    let f = drill_dir(true);
    let alice = key(f.path(), "alice");
    drill(&f, "d1", &alice).assert_code(0, "the drill finishes");
    let allowed = allowed_signers(f.path(), "allowed", &[("test-operator", &alice)]);
    (f, alice, allowed)
}

/// A copy of the run directory `from` in `to`, with its journal replaced by `journal`.
fn copy_with(from: &Path, to: &Path, journal: &[u8]) {
    std::fs::create_dir_all(to.join("signatures")).unwrap();
    for entry in std::fs::read_dir(from.join("signatures")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("signatures").join(entry.file_name())).unwrap();
    }
    std::fs::write(to.join("journal.jsonl"), journal).unwrap();
}

#[test]
fn every_single_byte_change_of_a_signed_journal_is_detected() {
    let (f, _, allowed) = signed_drill();
    let allowed = load(&allowed);
    let dir = f.run_dir("d1");
    assert!(verify_record(&dir, &allowed).is_verified());
    let original = std::fs::read(dir.join("journal.jsonl")).unwrap();
    let copy = f.path().join("copy");
    copy_with(&dir, &copy, &original);
    // The byte is changed in place and put back (no rewrite of the file, which on
    // ext4 flushes on every truncation), so thousands of copies take seconds.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(copy.join("journal.jsonl"))
        .unwrap();
    let mut undetected = Vec::new();
    for position in 0..original.len() {
        // Two changes per byte: its lowest bit, and a change of case or class.
        for flip in [0x01u8, 0x20] {
            file.write_all_at(&[original[position] ^ flip], position as u64)
                .unwrap();
            let v = verify_record(&copy, &allowed);
            let signature_fails = v.signatures.iter().any(|s| !s.status.is_verified());
            if v.is_verified() || !signature_fails {
                undetected.push(format!("byte {position} ^ {flip:#04x}"));
            }
        }
        file.write_all_at(&original[position..=position], position as u64)
            .unwrap();
    }
    assert_eq!(std::fs::read(copy.join("journal.jsonl")).unwrap(), original);
    assert!(original.len() > 500, "the journal is small but real");
    assert!(undetected.is_empty(), "not detected: {undetected:?}");
}

#[test]
fn a_journal_cut_below_a_signed_point_is_reported_as_truncated() {
    let f = drill_dir(false);
    let alice = key(f.path(), "alice");
    drill(&f, "d1", &alice).assert_code(5, "stopped");
    let first = f.journal("d1").len();
    f.write("answers.yaml", "approve: true\n");
    f.clone()
        .args(["resume", "d1", "--sign-key"])
        .args([&alice.private])
        .run()
        .assert_code(0, "finished");
    let allowed = load(&allowed_signers(
        f.path(),
        "allowed",
        &[("test-operator", &alice)],
    ));
    let dir = f.run_dir("d1");
    let bytes = std::fs::read(dir.join("journal.jsonl")).unwrap();
    // Cut to one line less than the first signature covers: both signed points lie
    // beyond the journal that is left, and the chain of what is left is intact.
    let keep = drbook::signing::journal_signature::prefix(&bytes, first - 1).unwrap();
    let copy = f.path().join("cut");
    copy_with(&dir, &copy, keep);
    let v = verify_record(&copy, &allowed);
    assert!(!v.is_verified());
    assert_eq!(v.chain.broken, None, "what is left chains");
    assert!(v.is_truncated() && !v.is_unsigned());
    assert_eq!(
        statuses(&v).into_iter().map(|(_, s)| s).collect::<Vec<_>>(),
        vec![
            SignatureStatus::BeyondJournal {
                journal_lines: first - 1
            };
            2
        ]
    );
    let ran = f
        .clone()
        .args(["verify", "cut", "--allowed-signers", "allowed"])
        .run();
    ran.assert_code(6, "truncated");
    assert!(
        ran.stdout.contains(&format!(
            "TRUNCATED: the journal has only {} lines; it was cut below this signed point",
            first - 1
        )),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_reordered_event_is_reported_with_its_line_and_type() {
    let (f, _, allowed) = signed_drill();
    let dir = f.run_dir("d1");
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(1, 2);
    let swapped = lines.join("\n") + "\n";
    let second_type: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    let copy = f.path().join("swapped");
    copy_with(&dir, &copy, swapped.as_bytes());
    let v = verify_record(&copy, &load(&allowed));
    let broken = v.chain.broken.clone().expect("the chain breaks");
    assert_eq!(broken.line, 2);
    assert_eq!(
        broken.event.as_deref(),
        second_type["event"]["type"].as_str()
    );
    assert_eq!(
        broken.problem,
        ChainProblem::Reordered {
            seq: 2,
            expected: 1
        }
    );
    assert!(matches!(
        v.signatures[0].status,
        SignatureStatus::BadSignature { .. }
    ));
    let ran = f
        .clone()
        .args(["verify", "swapped", "--allowed-signers", "allowed"])
        .run();
    ran.assert_code(6, "re-ordered");
    assert!(
        ran.stdout.contains(&format!(
            "chain: BROKEN at line 2 ({}) holds event 2 where event 1 belongs: events were re-ordered",
            broken.event.unwrap()
        )),
        "{}",
        ran.stdout
    );
}

#[test]
fn an_edited_line_is_named_by_the_line_after_it() {
    let (f, _, allowed) = signed_drill();
    let dir = f.run_dir("d1");
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    // Line 4 is the output of `before`; the line after it no longer follows from it.
    let edited = text.replacen(r#""line":"before""#, r#""line":"BEFORE""#, 1);
    assert_ne!(edited, text);
    let copy = f.path().join("edited");
    copy_with(&dir, &copy, edited.as_bytes());
    let v = verify_record(&copy, &load(&allowed));
    let broken = v.chain.broken.expect("the chain breaks");
    assert_eq!(broken.problem, ChainProblem::Edited);
    assert_eq!(
        (broken.line, broken.event.as_deref()),
        (5, Some("step_finished"))
    );
}

#[test]
fn a_signature_by_another_listed_key_is_reported_as_the_wrong_key() {
    let (f, _, _) = signed_drill();
    let mallory = key(f.path(), "mallory");
    let alice = Key {
        private: f.path().join("alice"),
        public: std::fs::read_to_string(f.path().join("alice.pub"))
            .unwrap()
            .trim()
            .into(),
    };
    let dir = f.run_dir("d1");
    let copy = resigned(&f, &dir, &mallory, "drbook-journal", "by-mallory");
    let allowed = load(&allowed_signers(
        f.path(),
        "both",
        &[("test-operator", &alice), ("mallory", &mallory)],
    ));
    let v = verify_record(&copy, &allowed);
    assert!(!v.is_verified());
    assert!(
        matches!(&v.signatures[0].status, SignatureStatus::SignerNotOperator { principals, .. } if principals == &["mallory".to_string()]),
        "{v:#?}"
    );
    assert!(
        v.signatures[0]
            .status
            .describe()
            .starts_with("WRONG KEY: signed by mallory")
    );
}

#[test]
fn a_signer_missing_from_allowed_signers_is_reported_as_such() {
    let (f, _, allowed) = signed_drill();
    let mallory = key(f.path(), "mallory");
    let dir = f.run_dir("d1");
    let copy = resigned(&f, &dir, &mallory, "drbook-journal", "unlisted");
    let v = verify_record(&copy, &load(&allowed));
    assert!(
        matches!(
            v.signatures[0].status,
            SignatureStatus::UnknownSigner { .. }
        ),
        "{v:#?}"
    );
    // Listed, but for git commits only.
    let text = format!("test-operator namespaces=\"git\" {}\n", mallory.public);
    std::fs::write(f.path().join("git-only"), text).unwrap();
    let v = verify_record(&copy, &load(&f.path().join("git-only")));
    assert!(
        matches!(
            v.signatures[0].status,
            SignatureStatus::NotAllowedForNamespace { .. }
        ),
        "{v:#?}"
    );
}

#[test]
fn a_signature_for_another_namespace_is_reported_as_such() {
    let (f, alice_key, allowed) = signed_drill();
    let dir = f.run_dir("d1");
    let copy = resigned(&f, &dir, &alice_key, "git", "git-namespace");
    let v = verify_record(&copy, &load(&allowed));
    assert_eq!(
        v.signatures[0].status,
        SignatureStatus::WrongNamespace {
            found: "git".into()
        }
    );
}

/// A copy of the run directory `dir` named `name`, whose only signature is `key`'s
/// over the whole journal in `namespace`.
fn resigned(f: &Drbook, dir: &Path, key: &Key, namespace: &str, name: &str) -> std::path::PathBuf {
    let journal = std::fs::read(dir.join("journal.jsonl")).unwrap();
    let lines = journal.iter().filter(|&&b| b == b'\n').count();
    let copy = f.path().join(name);
    std::fs::create_dir_all(copy.join("signatures")).unwrap();
    std::fs::write(copy.join("journal.jsonl"), &journal).unwrap();
    let armored = Signer::from_key_file(&key.private)
        .unwrap()
        .sign(namespace, &journal, "test")
        .unwrap();
    std::fs::write(copy.join(format!("signatures/{lines}.sig")), armored).unwrap();
    copy
}
