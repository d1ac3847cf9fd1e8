//! `--output json`: every journal record as one JSON line on stdout, exactly as recorded.

use std::io::Write as _;

use crate::engine::Observer;
use crate::journal::Record;

pub struct JsonView;

impl Observer for JsonView {
    fn on_record(&mut self, record: &Record) {
        if let Ok(line) = serde_json::to_string(record) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
