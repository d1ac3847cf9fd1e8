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
