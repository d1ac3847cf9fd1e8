//! The S3 actions against a real S3 server (moto, `support::s3`): listing with and
//! without a prefix; the newest backup with a suffix and before a time; downloads that
//! are byte-identical (SHA-256 of the source), resumed from a partial of the same
//! version, restarted from one of another, never replacing a different file; the
//! errors for a missing bucket, a missing key and an endpoint nobody listens on; and a
//! fetch driven end to end by `drbook run` with the secret key from a runbook secret;
//! an HTTPS endpoint whose certificate is checked.
//!
//! Every helper checks that the secret key (the canary) appears in no output, event or
//! error message. Nothing sleeps to synchronise: objects with distinct times are made by
//! polling the server's clock (moto keeps whole seconds).

mod drbook_run;
mod errors;
mod get;
mod listing;
mod private_ca;
mod tls;

use std::path::Path;

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::actions;
use crate::support::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

/// Runs action `name` once through the library API (`support::actions`), cancelling it
/// when `cancel_on` matches an event; checks that the secret key leaks nowhere.
fn execute_with(
    name: &str,
    params: Value,
    workdir: &Path,
    cancel_on: Option<&dyn Fn(&ActionEvent) -> bool>,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    actions::execute_until(name, params, workdir, &[SECRET_KEY], cancel_on)
}

fn execute(
    name: &str,
    params: Value,
    workdir: &Path,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    execute_with(name, params, workdir, None)
}

/// The outputs and events of an action that must succeed.
fn ok_events(name: &str, params: Value, workdir: &Path) -> (Value, Vec<String>) {
    match execute(name, params, workdir) {
        (Ok(outputs), events) => (Value::Object(outputs), progress(&events)),
        (Err(e), events) => panic!("{name} failed: {e}\nevents: {events:#?}"),
    }
}

fn ok(name: &str, params: Value, workdir: &Path) -> Value {
    ok_events(name, params, workdir).0
}

/// The message of an action that must fail.
fn refused(name: &str, params: Value, workdir: &Path) -> String {
    match execute(name, params, workdir) {
        (Ok(outputs), _) => panic!("{name} succeeded: {outputs:#?}"),
        (Err(e), _) => e.to_string(),
    }
}

/// The texts of the progress events.
fn progress(events: &[ActionEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ActionEvent::Progress(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// The connection parameters for `bucket` of `server`, plus `extra`.
fn params(server: &S3Server, bucket: &str, extra: Value) -> Value {
    let mut params = json!({
        "endpoint": server.endpoint(),
        "bucket": bucket,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
    });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

fn sha256(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(bytes))
}

/// `len` bytes that differ from object to object (`seed`) and do not repeat.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The MD5 of `bytes` in hex: what a single-part upload's ETag is.
fn md5_of(bytes: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
