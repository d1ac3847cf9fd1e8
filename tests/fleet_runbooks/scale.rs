//! S9 and S5 over 200 user clusters on one fake seed, end to end through the real drbook,
//! timed: what a fleet-sized seed costs drbook itself (the fake answers at once and its
//! KKP controller does not wait KKP's real requeue intervals, so these are drbook's own
//! overheads: connecting, discovery, watches, the journal). The durations are printed
//! (`--nocapture`) and recorded in docs/performance.md.

use std::time::Instant;

use super::seed_rebuilt::{ANSWERS, RUNBOOK as S5, left_on_seed, put_seed_backup, velero_left};
use super::{drill, finished, outputs, put_fleet, put_velero};
use crate::support::Drbook;
use crate::support::fake_kube::FakeKube;
use crate::support::fake_kube::kkp::Kkp;

const CLUSTERS: usize = 200;

#[test]
fn s9_audits_200_user_clusters() {
    let fake = FakeKube::start(501);
    put_fleet(&fake, CLUSTERS, 5);
    put_velero(&fake, Vec::new());
    let f = Drbook::new().limit(std::time::Duration::from_secs(600));
    let targets = fake.drill_targets(f.path());
    let started = Instant::now();
    let ran = drill(
        f.targets(&targets),
        "runbooks/kkp/backup-readiness.yaml",
        "s9-200",
        "review: none\n",
        &[],
    );
    let took = started.elapsed();
    ran.assert_code(0, "S9 over 200 clusters");
    let events = ran.events();
    for step in ["etcd_backups", "etcd_scheduling", "etcd_age"] {
        let items = finished(&events, step);
        assert_eq!(items.len(), CLUSTERS, "{step}");
        assert!(
            items.iter().all(|e| e["outcome"]["result"] == "succeeded"),
            "{step}"
        );
    }
    assert_eq!(outputs(&events, "rpo")["ETCD_FRESH"], CLUSTERS.to_string());
    eprintln!("S9 over {CLUSTERS} user clusters: {took:.1?}");
}

#[test]
fn s5_restores_200_user_clusters() {
    let fake = FakeKube::start(502);
    let clusters = put_fleet(&fake, CLUSTERS, 5);
    put_seed_backup(&fake, &clusters);
    Kkp::new().start(&fake);
    let f = Drbook::new().limit(std::time::Duration::from_secs(900));
    let targets = fake.drill_targets(f.path());
    let started = Instant::now();
    let ran = drill(f.targets(&targets), S5, "s5-200", ANSWERS, &[]);
    let took = started.elapsed();
    ran.assert_code(0, "S5 over 200 clusters");
    let events = ran.events();
    let restores = finished(&events, "restore");
    assert_eq!(restores.len(), CLUSTERS);
    assert!(
        restores
            .iter()
            .all(|e| e["outcome"]["result"] == "succeeded")
    );
    for id in &clusters {
        assert_eq!(left_on_seed(&fake, id), (1, 1, false, 3, 3), "{id}");
    }
    assert_eq!(
        velero_left(&fake),
        (
            vec!["drbook-s5-200-seed-restore Completed".to_string()],
            "ReadWrite".to_string()
        )
    );
    eprintln!("S5 over {CLUSTERS} user clusters: {took:.1?}");
}
