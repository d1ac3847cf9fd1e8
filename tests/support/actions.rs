//! Running one action through the library API, as the engine would, for the tests of
//! each action family. Every call is also a canary check: none of the secrets the test
//! names may appear in the action's outputs, events or error.

use std::path::Path;

use drbook::actions::{self, ActionError, ActionEvent, ActionRequest, Outputs};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// What one execution returned, and every event it reported.
pub type Executed = (Result<Outputs, ActionError>, Vec<ActionEvent>);

/// Runs action `name` once with `params` in `workdir`, cancelling it as soon as
/// `cancel_on` matches an event (when given); fails the test when a secret leaks.
pub fn execute_until(
    name: &str,
    params: Value,
    workdir: &Path,
    secrets: &[&str],
    cancel_on: Option<&dyn Fn(&ActionEvent) -> bool>,
) -> Executed {
    let spec = actions::lookup(name).unwrap_or_else(|| panic!("`{name}` is in the catalogue"));
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let request = ActionRequest {
        step: "test".into(),
        run_id: "test-run".into(),
        params: params.as_object().expect("params are an object").clone(),
        workdir: workdir.to_path_buf(),
        target: serde_json::json!({}),
        kube_clients: Default::default(),
        cancel: cancel.clone(),
        events,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (result, events) = runtime.block_on(async {
        let task = tokio::spawn(spec.execute(request));
        let mut seen = Vec::new();
        if let Some(trigger) = cancel_on {
            while let Some(event) = received.recv().await {
                let hit = trigger(&event);
                seen.push(event);
                if hit {
                    cancel.cancel();
                    break;
                }
            }
        }
        let result = task.await.expect("the action does not panic");
        seen.extend(std::iter::from_fn(|| received.try_recv().ok()));
        (result, seen)
    });
    let everything = match &result {
        Ok(outputs) => format!("{} {events:?}", Value::Object(outputs.clone())),
        Err(e) => format!("{e} {e:?} {events:?}"),
    };
    for secret in secrets {
        assert!(
            !everything.contains(secret),
            "a secret leaked from `{name}`: {everything}"
        );
    }
    (result, events)
}

/// Runs action `name` once; fails the test when a secret leaks.
pub fn execute(name: &str, params: Value, workdir: &Path, secrets: &[&str]) -> Executed {
    execute_until(name, params, workdir, secrets, None)
}

/// The outputs of an action that must succeed.
pub fn ok(name: &str, params: Value, workdir: &Path, secrets: &[&str]) -> Value {
    match execute(name, params, workdir, secrets) {
        (Ok(outputs), _) => Value::Object(outputs),
        (Err(e), events) => panic!("{name} failed: {e}\nevents: {events:#?}"),
    }
}

/// The message of an action that must fail.
pub fn refused(name: &str, params: Value, workdir: &Path, secrets: &[&str]) -> String {
    match execute(name, params, workdir, secrets) {
        (Ok(outputs), _) => panic!("{name} succeeded: {outputs:#?}"),
        (Err(e), _) => e.to_string(),
    }
}
