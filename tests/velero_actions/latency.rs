//! The measurement behind `benches/watch_latency.sh` (ignored in normal test runs): how
//! long after a Restore changes in the API server `velero.restore` sees it. The action
//! creates its Restore and watches it; a driver thread then changes the Restore's
//! progress 100 times, one change at a time, and takes the time from each write (in the
//! fake API server) to the progress event the action reports for it. It prints the
//! median and the worst delay, and fails when the median is over the goal (50 ms:
//! `velero restore create --wait` resyncs every second; a watch should be far below).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use drbook::actions::ActionEvent;
use serde_json::json;

use super::{BACKUP, Seed};

const CHANGES: u64 = 100;

#[test]
#[ignore = "a benchmark: run benches/watch_latency.sh"]
fn watch_latency() {
    let seed = Seed::start(99);
    let (seen_tx, seen_rx) = mpsc::channel::<(u64, Instant)>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let fake = seed.fake.handle_for_controllers();
    let restores = seed.fake.handle_for_controllers();
    let driver = std::thread::spawn(move || {
        // Measured from the moment the action watches: its first list is not the point.
        go_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the action watches");
        let name = restores.list("velero.io/v1", "Restore", Some("velero"))[0]["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let mut delays = Vec::new();
        for i in 1..=CHANGES {
            let changed = Instant::now();
            fake.change("velero.io/v1", "Restore", Some("velero"), &name, |r| {
                r["status"] = json!({"phase": "InProgress", "progress": {"totalItems": CHANGES + 1, "itemsRestored": i}});
            });
            loop {
                let (n, at) = seen_rx
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the action saw the change");
                if n == i {
                    delays.push(at.duration_since(changed));
                    break;
                }
            }
        }
        fake.change("velero.io/v1", "Restore", Some("velero"), &name, |r| {
            r["status"]["phase"] = json!("Completed");
        });
        delays
    });
    let (result, _) = seed.execute_with("velero.restore", json!({"backup": BACKUP}), &|event| {
        // Reported after the first list, just before the watch opens.
        if let ActionEvent::Progress(text) = event
            && text.contains("phase empty")
        {
            seed.fake.wait_for_watches(1);
            let _ = go_tx.send(());
        }
        if let ActionEvent::Progress(text) = event
            && let Some(count) = text.split_whitespace().nth(1)
            && let Some((done, _)) = count.split_once('/')
            && let Ok(done) = done.parse::<u64>()
        {
            let _ = seen_tx.send((done, Instant::now()));
        }
        false
    });
    result.expect("the restore completes");
    let delays = driver.join().expect("the driver finishes");
    let slowest = (0..delays.len()).max_by_key(|&i| delays[i]).unwrap_or(0) + 1;
    let mut delays = delays;
    delays.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(delays[delays.len() / 2]);
    let worst = ms(*delays.last().unwrap());
    println!(
        "watch latency over {} changes: median {median:.2} ms, worst {worst:.2} ms (change {slowest}), best {:.2} ms",
        delays.len(),
        ms(delays[0])
    );
    assert!(
        median <= 50.0,
        "median {median:.2} ms is over the 50 ms goal"
    );
}
