//! What the observers are told a step is about: once per step instance and session,
//! just before its `step_started`, a `foreach` step's description once (again only when
//! it reads `item`), nothing again on a retry, and titles rendered per item.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::fakes::{Act, Harness};
use crate::engine::{Observer, StepGuidance};
use crate::journal::Record;
use crate::journal::event::{Event, RunOutcome};

/// What an observer saw, in order: `guide <step> <item> <title> | <description>` and
/// `started <step> <item> <attempt>`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Observer for Seen {
    fn on_record(&mut self, record: &Record) {
        if let Event::StepStarted {
            step,
            item,
            attempt,
            ..
        } = &record.event
        {
            self.0
                .lock()
                .unwrap()
                .push(format!("started {step} {item:?} {attempt}"));
        }
    }

    fn on_guidance(&mut self, g: &StepGuidance) {
        self.0.lock().unwrap().push(format!(
            "guide {} {:?} {} | {}",
            g.step,
            g.item,
            g.title.as_deref().unwrap_or("-"),
            g.description.as_deref().unwrap_or("-")
        ));
    }
}

#[tokio::test]
async fn guidance_comes_once_per_instance_before_its_start_and_a_description_once_per_step() {
    let mut h = Harness::new(
        r#"  steps:
    - id: plain
      action: shell
      with: {run: a}
    - id: fan
      title: "Restore {{ item }}"
      description: Restores one member.
      foreach: [m0, m1]
      concurrency: 1
      action: shell
      with: {run: b}
    - id: per_item
      description: "Member {{ item }} first."
      foreach: [x, y]
      concurrency: 1
      action: shell
      with: {run: c}
    - id: flaky
      title: Flaky
      retry: {attempts: 2}
      action: shell
      with: {run: d}
"#,
    );
    h.catalog
        .script("flaky", [Act::Fail("boom"), Act::Succeed(json!({}))]);
    let seen = Seen::default();
    let mut engine = h.engine_observed(Vec::new(), vec![Box::new(seen.clone())]);
    let end = h.drive(&mut engine, async {}).await;
    assert_eq!(end.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            "started plain None 1",
            "guide fan Some(0) Restore m0 | Restores one member.",
            "started fan Some(0) 1",
            "guide fan Some(1) Restore m1 | -",
            "started fan Some(1) 1",
            "guide per_item Some(0) - | Member x first.",
            "started per_item Some(0) 1",
            "guide per_item Some(1) - | Member y first.",
            "started per_item Some(1) 1",
            "guide flaky None Flaky | -",
            "started flaky None 1",
            "started flaky None 2",
        ]
    );
}
