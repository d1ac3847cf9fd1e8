//! `pki.verify` and `pki.restore` on real PKIs made by `support::pki`: a good PKI passes
//! in both layouts; each way of breaking one, one at a time on a fresh PKI, gives its own
//! finding naming the file, the problem and the fix; a restore installs exactly the
//! eight shared files, keeps what it replaced, changes nothing on a second run, and
//! refuses unsafe or broken sources and destinations before touching anything (proved
//! by hashing every file of the destination before and after). No private key's body
//! ever appears in what the actions report.

mod restore;
mod verify;

use std::path::Path;

use drbook::actions::{ActionError, ActionEvent, Outputs};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::actions;

/// Runs action `name` once through the library API (`support::actions`), checking that
/// no secret of this test leaks.
fn execute(
    name: &str,
    params: Value,
    workdir: &Path,
) -> (Result<Outputs, ActionError>, Vec<ActionEvent>) {
    actions::execute(name, params, workdir, &[])
}

/// The outputs of an action that must succeed.
fn ok(name: &str, params: Value, workdir: &Path) -> Value {
    actions::ok(name, params, workdir, &[])
}

/// The message of an action that must fail.
fn refused(name: &str, params: Value, workdir: &Path) -> String {
    actions::refused(name, params, workdir, &[])
}

fn sha256(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(bytes))
}
