//! The fake's Events field selectors and status subresource, held to the real server's
//! behaviour through the real client (`kkp.etcd.restore` relies on both), and the
//! scripted KKP controller's one-restore-per-cluster mutex.

use k8s_openapi::api::core::v1::Event;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde_json::json;

use super::{CLUSTER, KKP, NAMESPACE, NEWEST, Seed};
use crate::support::fake_kube::kkp::{Kkp, phases_after, restore_phase, wait_until};

fn client(seed: &Seed, runtime: &tokio::runtime::Runtime) -> kube::Client {
    let config = runtime
        .block_on(kube::Config::from_custom_kubeconfig(
            kube::config::Kubeconfig::read_from(&seed.kubeconfig).unwrap(),
            &Default::default(),
        ))
        .unwrap();
    let _guard = runtime.enter();
    kube::Client::try_from(config).unwrap()
}

#[test]
fn events_are_selected_by_the_fields_the_real_server_indexes() {
    let seed = Seed::start(51);
    for (name, kind, type_, reason) in [
        ("a.1", "EtcdRestore", "Warning", "ReconcilingError"),
        ("a.2", "EtcdRestore", "Normal", "Started"),
        ("b.1", "Cluster", "Warning", "ReconcilingError"),
    ] {
        seed.fake.put(json!({
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": NAMESPACE},
            "involvedObject": {"kind": kind, "name": "r", "uid": format!("uid-{name}")},
            "type": type_, "reason": reason, "message": "m",
        }));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let events: Api<Event> = Api::namespaced(client(&seed, &runtime), NAMESPACE);
    let names = |fields: &str| -> Vec<String> {
        runtime
            .block_on(events.list(&ListParams::default().fields(fields)))
            .unwrap()
            .items
            .into_iter()
            .filter_map(|e| e.metadata.name)
            .collect()
    };
    assert_eq!(
        names("involvedObject.kind=EtcdRestore,involvedObject.name=r,type=Warning"),
        ["a.1"]
    );
    assert_eq!(names("reason=ReconcilingError"), ["a.1", "b.1"]);
    assert_eq!(names("involvedObject.uid=uid-a.2"), ["a.2"]);
    assert_eq!(names("type!=Warning"), ["a.2"]);
    let refused = runtime
        .block_on(events.list(&ListParams::default().fields("message=m")))
        .unwrap_err();
    match refused {
        kube::Error::Api(status) => {
            assert_eq!(
                (status.code, status.message.as_str()),
                (400, "field label not supported: message")
            );
        }
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[test]
fn a_kind_with_a_status_subresource_keeps_its_status_on_main_resource_writes() {
    let seed = Seed::start(52);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kubermatic.k8c.io", "v1", "EtcdRestore"),
        "etcdrestores",
    );
    let api: Api<DynamicObject> =
        Api::namespaced_with(client(&seed, &runtime), NAMESPACE, &resource);
    let mut restore: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "kubermatic.k8c.io/v1", "kind": "EtcdRestore",
        "metadata": {"name": "r", "namespace": NAMESPACE},
        "spec": {"name": "r"}, "status": {"phase": "Completed"},
    }))
    .unwrap();
    let created = runtime
        .block_on(api.create(&PostParams::default(), &restore))
        .unwrap();
    assert!(
        created.data.get("status").is_none(),
        "a create sets no status: {created:?}"
    );
    let patched = runtime
        .block_on(api.patch(
            "r",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Started"}, "spec": {"backupName": "b"}})),
        ))
        .unwrap();
    assert!(patched.data.get("status").is_none() && patched.data["spec"]["backupName"] == "b");
    let patched = runtime
        .block_on(api.patch_status(
            "r",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Started"}, "spec": {"backupName": "c"}})),
        ))
        .unwrap();
    assert_eq!(patched.data["status"]["phase"], "Started");
    assert_eq!(
        patched.data["spec"]["backupName"], "b",
        "a status write changes only the status"
    );
    restore.metadata.resource_version = patched.metadata.resource_version.clone();
    restore.data["spec"]["backupName"] = json!("d");
    let replaced = runtime
        .block_on(api.replace("r", &PostParams::default(), &restore))
        .unwrap();
    assert_eq!(
        replaced.data["status"]["phase"], "Started",
        "a replace keeps the status"
    );
    assert_eq!(replaced.data["spec"]["backupName"], "d");
}

/// KKP's mutex, as the scripted controller keeps it: a second EtcdRestore of a cluster
/// another one holds gets no status (and no event) until the first has completed.
#[test]
fn the_kkp_controller_starts_a_second_restore_only_after_the_first_completed() {
    let seed = Seed::start(53);
    let kkp = Kkp::new().holding_etcd().start(&seed.fake);
    let restore = |name: &str| {
        json!({
            "apiVersion": KKP, "kind": "EtcdRestore", "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"name": name, "cluster": {"apiVersion": KKP, "kind": "Cluster", "name": CLUSTER}, "backupName": NEWEST, "destination": "minio"},
        })
    };
    seed.fake.put(restore("first"));
    wait_until(&seed.fake, "the first restore rebuilds etcd", |fake| {
        restore_phase(fake, NAMESPACE, "first").as_deref() == Some("StsRebuilding")
    });
    assert_eq!(
        seed.cluster()["metadata"]["annotations"]["kubermatic.k8c.io/active-restore"],
        format!("{NAMESPACE}/first")
    );
    let phases = phases_after(
        &seed.fake,
        || {
            seed.fake.put(restore("second"));
            kkp.release_etcd();
        },
        |seen| {
            seen.last()
                .is_some_and(|(n, p)| n == "second" && p == "Completed")
        },
    );
    let first_done = phases
        .iter()
        .position(|(n, p)| n == "first" && p == "Completed")
        .expect("the first completed");
    let second_started = phases
        .iter()
        .position(|(n, p)| n == "second" && p == "Started")
        .expect("the second started");
    assert!(first_done < second_started, "{phases:?}");
    let events = seed.fake.list("v1", "Event", Some(NAMESPACE));
    assert!(
        events.is_empty(),
        "waiting for the mutex is no failure: {events:?}"
    );
}
