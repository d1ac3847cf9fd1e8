//! The run record: `journal.jsonl`, append-only, hash-chained and fsync'd, plus the lock
//! that keeps a run to one writer. Reports, `runs` and `resume` read only the journal.

pub mod error;
pub mod event;
pub mod lock;
pub mod reader;
pub mod writer;

pub use error::JournalError;
pub use event::{Event, Record};
pub use lock::RunLock;
pub use reader::Journal;
pub use writer::JournalWriter;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::Utc;
    use sha2::Digest as _;

    use super::event::*;
    use super::*;

    fn started() -> Event {
        Event::RunStarted {
            format: format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
            drbook_version: "test".into(),
            run_id: "r1".into(),
            mode: Mode::Incident,
            runbook: RunbookRef {
                path: "r.yaml".into(),
                name: "r".into(),
                version: "1.0.0".into(),
                sha256: "ab".into(),
            },
            target: None,
            targets_file: None,
            answers_file: None,
            operator: "alice".into(),
            declared_at: Utc::now(),
            declared_at_given: false,
            failed_at: None,
            inputs: Default::default(),
        }
    }

    fn skipped(step: &str) -> Event {
        Event::StepSkipped {
            step: step.into(),
            reason: "test".into(),
        }
    }

    fn write(path: &Path, events: Vec<Event>) {
        let mut writer = JournalWriter::create(path).unwrap();
        for event in events {
            writer.append(event).unwrap();
        }
    }

    #[test]
    fn round_trips_and_chains() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        write(&path, vec![started(), skipped("a"), skipped("b")]);
        let journal = reader::read(&path).unwrap();
        assert_eq!(journal.records.len(), 3);
        assert_eq!(journal.records[0].prev, GENESIS_HASH);
        assert_ne!(journal.records[1].prev, GENESIS_HASH);
        assert_eq!(journal.records[2].event, skipped("b"));
    }

    #[test]
    fn an_edited_line_breaks_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        write(&path, vec![started(), skipped("a"), skipped("b")]);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"a\"", "\"x\"", 1)).unwrap();
        let error = reader::read(&path).unwrap_err().to_string();
        assert!(error.contains("line 3 is damaged"), "{error}");
    }

    #[test]
    fn a_torn_last_line_is_cut_and_the_journal_continues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        write(&path, vec![started(), skipped("a")]);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"seq\":2,\"sess");
        std::fs::write(&path, &bytes).unwrap();
        let journal = reader::read(&path).unwrap();
        assert_eq!(journal.records.len(), 2);
        assert!(journal.torn_tail_at.is_some());
        let mut writer = JournalWriter::resume(&path, &journal).unwrap();
        assert_eq!(writer.session(), 1);
        writer.append(skipped("b")).unwrap();
        let journal = reader::read(&path).unwrap();
        assert_eq!(journal.records.len(), 3);
        assert_eq!(journal.records[2].session, 1);
        assert!(journal.torn_tail_at.is_none());
    }

    #[test]
    fn refuses_a_newer_major_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut event = started();
        if let Event::RunStarted { format, .. } = &mut event {
            *format = format!("{}.0", FORMAT_MAJOR + 1);
        }
        write(&path, vec![event]);
        let error = reader::read(&path).unwrap_err().to_string();
        assert!(error.contains("newer than this drbook reads"), "{error}");
    }

    /// Journal bytes from JSON records, with `seq` and a valid hash chain filled in.
    fn chained(mut records: Vec<serde_json::Value>) -> Vec<u8> {
        let mut prev = GENESIS_HASH.to_string();
        let mut bytes = Vec::new();
        for (seq, record) in records.iter_mut().enumerate() {
            record["seq"] = seq.into();
            record["prev"] = prev.clone().into();
            let line = serde_json::to_string(record).unwrap();
            prev = base16ct::lower::encode_string(&sha2::Sha256::digest(line.as_bytes()));
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        bytes
    }

    /// A run_started record in `format` and a step_skipped one, as JSON.
    fn two_records(format: &str) -> Vec<serde_json::Value> {
        let mut first = serde_json::to_value(Record {
            seq: 0,
            session: 0,
            time: Utc::now(),
            mono_ms: 0,
            prev: String::new(),
            event: started(),
        })
        .unwrap();
        first["event"]["format"] = format.into();
        let mut second = first.clone();
        second["event"] = serde_json::to_value(skipped("a")).unwrap();
        vec![first, second]
    }

    #[test]
    fn a_newer_minor_is_read_and_its_new_fields_ignored() {
        let path = Path::new("journal.jsonl");
        let mut records = two_records(&format!("{FORMAT_MAJOR}.{}", FORMAT_MINOR + 3));
        records[0]["event"]["signed_by"] = "key-1".into();
        records[1]["event"]["reason_code"] = 7.into();
        let journal = reader::parse(path, &chained(records)).unwrap();
        assert_eq!(journal.records.len(), 2);
        assert_eq!(journal.records[1].event, skipped("a"));
    }

    #[test]
    fn an_unknown_field_in_a_known_minor_is_damage() {
        let path = Path::new("journal.jsonl");
        let mut records = two_records(&format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"));
        records[1]["event"]["reason_code"] = 7.into();
        let error = reader::parse(path, &chained(records.clone()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2 is damaged: unknown field `event.reason_code`"),
            "{error}"
        );
        // An explicit null where the writer would leave an optional field out is fine.
        records[1]["event"]
            .as_object_mut()
            .unwrap()
            .remove("reason_code");
        records[1]["event"]["item"] = serde_json::Value::Null;
        reader::parse(path, &chained(records)).unwrap();
    }

    #[test]
    fn a_newer_major_is_refused_before_its_records_are_read() {
        let path = Path::new("journal.jsonl");
        let mut records = two_records(&format!("{}.0", FORMAT_MAJOR + 1));
        // A future format may change anything: the version alone decides.
        records[0]["event"]["runbook"] = "elsewhere".into();
        let error = reader::parse(path, &chained(records))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "`journal.jsonl` was written in journal format {}.0, newer than this drbook reads ({FORMAT_MAJOR}.{FORMAT_MINOR}); use a newer drbook",
                FORMAT_MAJOR + 1
            )
        );
        for bad in ["1", "one.0", "1.x", ""] {
            let error = reader::parse(path, &chained(two_records(bad)))
                .unwrap_err()
                .to_string();
            assert!(error.contains("is not MAJOR.MINOR"), "{bad}: {error}");
        }
    }

    #[test]
    fn an_event_type_of_a_newer_minor_is_refused_as_newer_not_as_damage() {
        let path = Path::new("journal.jsonl");
        let newer = format!("{FORMAT_MAJOR}.{}", FORMAT_MINOR + 1);
        let mut records = two_records(&newer);
        records[1]["event"] = serde_json::json!({"type": "disk_checked", "free": 3});
        let error = reader::parse(path, &chained(records.clone()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "`journal.jsonl` was written in journal format {newer}, newer than this drbook reads ({FORMAT_MAJOR}.{FORMAT_MINOR}); use a newer drbook"
            )
        );
        // In a minor this build writes, the same line is damage.
        records[0]["event"]["format"] = format!("{FORMAT_MAJOR}.{FORMAT_MINOR}").into();
        let error = reader::parse(path, &chained(records))
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 2 is damaged"), "{error}");
    }

    #[test]
    fn a_1_1_journal_still_reads_and_cluster_reached_round_trips() {
        let path = Path::new("journal.jsonl");
        let mut records = two_records("1.1");
        let old = reader::parse(path, &chained(records.clone())).unwrap();
        assert_eq!(old.records.len(), 2);
        let reached = Event::ClusterReached {
            server: "https://10.0.0.1:6443".into(),
            uid: "5f0c".into(),
            context: None,
            via: VIA_PREFLIGHT.into(),
        };
        records[0]["event"]["format"] = "1.2".into();
        records[1]["event"] = serde_json::to_value(&reached).unwrap();
        assert_eq!(
            records[1]["event"],
            serde_json::json!({"type": "cluster_reached", "server": "https://10.0.0.1:6443", "uid": "5f0c", "via": "preflight"})
        );
        let new = reader::parse(path, &chained(records)).unwrap();
        assert_eq!(new.records[1].event, reached);
    }

    #[test]
    fn the_lock_admits_one_writer() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "r1").unwrap();
        let error = RunLock::acquire(dir.path(), "r1").unwrap_err().to_string();
        assert!(
            error.contains("being written by another drbook process (pid"),
            "{error}"
        );
        drop(first);
        RunLock::acquire(dir.path(), "r1").unwrap();
    }
}
