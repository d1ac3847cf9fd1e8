//! The fake API server itself, through the real client: the statuses and list and watch
//! semantics the coming Velero and KKP actions will rely on are the real server's.

use futures_util::StreamExt;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

use super::Cluster;

fn configmaps(c: &Cluster, runtime: &tokio::runtime::Runtime) -> Api<DynamicObject> {
    let client = runtime.block_on(async {
        let config = kube::Config::from_custom_kubeconfig(
            Kubeconfig::read_from(&c.kubeconfig).unwrap(),
            &KubeConfigOptions::default(),
        )
        .await
        .unwrap();
        kube::Client::try_from(config).unwrap()
    });
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"));
    Api::namespaced_with(client, "shop", &resource)
}

fn config_map(name: &str, labels: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop", "labels": labels},
    }))
    .unwrap()
}

fn status(result: Result<DynamicObject, kube::Error>) -> (u16, String, String) {
    match result {
        Err(kube::Error::Api(s)) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn writes_are_refused_with_the_real_servers_statuses() {
    let c = Cluster::start(41).with_shop();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = configmaps(&c, &runtime);
    let post = PostParams::default();
    let twice = runtime.block_on(api.create(&post, &config_map("settings", json!({}))));
    assert_eq!(
        status(twice),
        (
            409,
            "AlreadyExists".into(),
            "configmaps \"settings\" already exists".into()
        )
    );

    let nameless = runtime.block_on(api.create(&post, &config_map("", json!({}))));
    assert_eq!(
        status(nameless),
        (422, "Invalid".into(), "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required".into())
    );

    let mut stale = runtime.block_on(api.get("settings")).unwrap();
    stale.metadata.resource_version = Some("1".into());
    let replaced = runtime.block_on(api.replace("settings", &post, &stale));
    let (code, reason, message) = status(replaced);
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert!(
        message.starts_with(
            "Operation cannot be fulfilled on configmaps \"settings\": the object has been modified"
        ),
        "{message}"
    );

    let elsewhere = Api::<DynamicObject>::namespaced_with(
        api.clone().into_client(),
        "gone",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap")),
    );
    let mut lost = config_map("x", json!({}));
    lost.metadata.namespace = Some("gone".into());
    assert_eq!(
        status(runtime.block_on(elsewhere.create(&post, &lost))),
        (
            404,
            "NotFound".into(),
            "namespaces \"gone\" not found".into()
        )
    );
}

#[test]
fn lists_and_watches_select_by_label_and_name_and_start_with_the_current_objects() {
    let c = Cluster::start(42).with_shop();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = configmaps(&c, &runtime);
    for (name, app) in [("a", "web"), ("b", "db")] {
        runtime
            .block_on(api.create(
                &PostParams::default(),
                &config_map(name, json!({"app": app})),
            ))
            .unwrap();
    }
    let names = |lp: ListParams| -> Vec<String> {
        runtime
            .block_on(api.list(&lp))
            .unwrap()
            .items
            .into_iter()
            .map(|o| o.metadata.name.unwrap())
            .collect()
    };
    assert_eq!(names(ListParams::default().labels("app=web")), ["a"]);
    assert_eq!(
        names(ListParams::default().labels("app!=web")),
        ["b", "settings"]
    );
    assert_eq!(names(ListParams::default().labels("app")), ["a", "b"]);
    assert_eq!(
        names(ListParams::default().fields("metadata.name=b")),
        ["b"]
    );

    let first = runtime.block_on(async {
        let stream = api
            .watch(&WatchParams::default().labels("app=db"), "0")
            .await
            .unwrap();
        let mut stream = stream.boxed();
        stream.next().await.unwrap().unwrap()
    });
    match first {
        WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("expected a synthetic ADDED, got {other:?}"),
    }
}

/// A controller started on the fake sees a change made through the API and answers it
/// with a write of its own, as Velero's and KKP's controllers will.
#[test]
fn a_controller_follows_changes_and_writes_back() {
    let c = Cluster::start(43).with_shop();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = configmaps(&c, &runtime);
    let handle = c.fake.handle_for_controllers();
    let mut changes = handle.subscribe();
    let writer = handle.clone();
    handle.spawn(async move {
        while let Ok(change) = changes.recv().await {
            if change.event == "ADDED" && change.key.name == "ping" {
                writer.put(json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "pong", "namespace": "shop"},
                    "data": {"answer": change.object["metadata"]["uid"]},
                }));
            }
        }
    });
    let ping = runtime
        .block_on(api.create(&PostParams::default(), &config_map("ping", json!({}))))
        .unwrap();
    let pong = runtime.block_on(async {
        let mut events = api
            .watch(&WatchParams::default().fields("metadata.name=pong"), "0")
            .await
            .unwrap()
            .boxed();
        loop {
            match events.next().await {
                Some(Ok(WatchEvent::Added(object))) => break object,
                Some(Ok(_)) => continue,
                other => panic!("the watch ended before pong appeared: {other:?}"),
            }
        }
    });
    assert_eq!(pong.data["data"]["answer"], json!(ping.metadata.uid));
    let names: Vec<_> = c
        .fake
        .list("v1", "ConfigMap", Some("shop"))
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"ping".into()) && names.contains(&"pong".into()),
        "{names:?}"
    );
}
