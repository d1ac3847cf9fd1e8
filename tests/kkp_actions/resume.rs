//! A kill -9 of drbook while `kkp.etcd.restore` waits for KKP, then `drbook resume`:
//! the resumed step finds the EtcdRestore the killed one created and follows it to
//! `Completed`; exactly one EtcdRestore exists and the run completes.

use nix::sys::signal::Signal;

use super::{NAMESPACE, Seed};
use crate::support::Drbook;
use crate::support::fake_kube::kkp::{Kkp, restore_phase, wait_until};

const RUNBOOK: &str = r#"apiVersion: drbook.io/v1
kind: Runbook
metadata: {name: kkp-restore, version: 1.0.0}
spec:
  steps:
    - id: backups
      action: kkp.etcd.backups
      with: {cluster: zvc78xnnz7}
    - id: restore
      action: kkp.etcd.restore
      with:
        cluster: zvc78xnnz7
        backup: "{{ steps.backups.outputs.backup }}"
        destination: "{{ steps.backups.outputs.destination }}"
      marks: recovered
"#;

/// The EtcdRestore of run `k9`, step `restore`.
const RESTORE: &str = "drbook-k9-restore";

#[test]
fn a_restore_killed_while_waiting_is_resumed_and_follows_the_same_etcdrestore() {
    let seed = Seed::start(81);
    let kkp = Kkp::new().holding_etcd().start(&seed.fake);
    let f = Drbook::new().runbook(RUNBOOK);
    let kubeconfig = seed.fake.kubeconfig(f.path());
    let targets = format!(
        "apiVersion: drbook.io/v1\nkind: Targets\ntargets:\n  staging:\n    environment: staging\n    kubeconfig: {}\n    cluster_uid: {}\n",
        kubeconfig.display(),
        seed.fake.uid()
    );
    let running = f
        .targets(&targets)
        .args([
            "run",
            "runbook.yaml",
            "--target",
            "staging",
            "--run-id",
            "k9",
        ])
        .spawn();
    // drbook follows the restore (its three watches are open) while KKP rebuilds etcd.
    seed.fake.wait_for_watches(3);
    wait_until(&seed.fake, "KKP is rebuilding etcd", |fake| {
        restore_phase(fake, NAMESPACE, RESTORE).as_deref() == Some("StsRebuilding")
    });
    running.signal(Signal::SIGKILL);
    let killed = running.wait();
    killed.assert_killed("drbook during the restore's wait");

    let resumed = killed.then().args(["resume", "k9"]).spawn();
    seed.fake.wait_for_watches(6);
    kkp.release_etcd();
    let ran = resumed.wait();
    ran.assert_code(0, "the resumed run");
    let restores = seed.restores();
    assert_eq!(restores.len(), 1, "exactly one EtcdRestore: {restores:#?}");
    assert_eq!(restores[0]["metadata"]["name"], RESTORE);
    assert_eq!(restores[0]["status"]["phase"], "Completed");
    assert_eq!(
        seed.fake.api_writes(),
        1,
        "the EtcdRestore was created once"
    );
    let everything = format!("{}{}{:?}", ran.stdout, ran.stderr, ran.events());
    assert!(
        everything.contains(&format!("found EtcdRestore `{NAMESPACE}/{RESTORE}`, created by an earlier attempt of this step (StsRebuilding); following it instead of creating another")),
        "{everything}"
    );
    assert!(
        everything.contains("EtcdRestore phase = Completed"),
        "{everything}"
    );
    for secret in seed.secrets() {
        assert!(
            !everything.contains(&secret),
            "a secret leaked: {everything}"
        );
    }
    let finish = ran.events().into_iter().last().cloned().unwrap();
    assert_eq!(finish["type"], "run_finished", "{finish}");
    assert_eq!(finish["outcome"], "succeeded", "{finish}");
}
