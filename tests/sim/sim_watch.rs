//! Watch details, the pod proxy, previous logs and shutdown of the simulator's API server,
//! through kube-rs and raw requests on its client.

use std::sync::Arc;
use std::time::Duration;

use crate::support::sim::*;
use breakglass::sim::openbao::{PodProxy, ProxyFuture, ProxyResponse};
use breakglass::sim::server::{ServeOptions, User};
use breakglass::sim::store::Resource;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use serde_json::{Value, json};

fn events(chunks: &[String]) -> Vec<Value> {
    chunks
        .concat()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn watch_frames_bookmarks_and_timeout() {
    let sim = start().await;
    let admin = sim.admin().await;
    let c = sim.server.controls();
    c.set_bookmark_interval(Duration::from_millis(100));
    let rv = sim.store.current_rv();
    let base =
        format!("/api/v1/namespaces/{NS}/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1");
    let store = sim.store.clone();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        store
            .modify(Resource::Pods, NS, "starting", |p| {
                p["metadata"]["labels"]["w"] = json!("1")
            })
            .unwrap();
    });
    let started = std::time::Instant::now();
    let (code, chunks) = raw_chunks(&admin, "GET", &base, "", "").await;
    writer.await.unwrap();
    assert_eq!(code, 200);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "timeoutSeconds honoured"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "watch ended at its timeout"
    );
    assert!(
        chunks.iter().any(|c| !c.ends_with('\n')),
        "frames split across chunks"
    );
    let evs = events(&chunks);
    assert_eq!(evs.len(), 1, "no bookmarks unless asked: {evs:?}");
    assert_eq!(evs[0]["type"], "MODIFIED");

    let now = sim.store.current_rv();
    let path = format!(
        "/api/v1/namespaces/{NS}/pods?watch=1&resourceVersion={now}&timeoutSeconds=1&allowWatchBookmarks=true"
    );
    let (_, chunks) = raw_chunks(&admin, "GET", &path, "", "").await;
    let evs = events(&chunks);
    assert!(
        !evs.is_empty() && evs.iter().all(|e| e["type"] == "BOOKMARK"),
        "{evs:?}"
    );
    assert_eq!(evs[0]["object"]["kind"], "Pod");
    assert_eq!(
        evs[0]["object"]["metadata"]["resourceVersion"],
        sim.store.current_rv()
    );
}

#[tokio::test]
async fn label_selector_watch_sees_objects_enter_and_leave() {
    let sim = start().await;
    let pods: Api<Pod> = Api::namespaced(sim.admin().await, NS);
    let rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let wp = WatchParams::default()
        .labels("openbao-active=true")
        .timeout(10);
    let mut stream = pods.watch(&wp, &rv).await.unwrap().boxed();
    let set = |pod: &str, v: Option<&str>| {
        sim.store
            .modify(Resource::Pods, NS, pod, |p| {
                let labels = p["metadata"]["labels"].as_object_mut().unwrap();
                match v {
                    Some(v) => labels.insert("openbao-active".into(), json!(v)),
                    None => labels.remove("openbao-active"),
                };
            })
            .unwrap();
    };
    set("prod-cluster-0", Some("true"));
    set("prod-cluster-0", None);
    set("starting", Some("true"));
    set("two-containers", Some("false"));
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let name = |p: Pod| p.metadata.name.unwrap();
        match stream.try_next().await.unwrap().expect("event") {
            WatchEvent::Added(p) => seen.push(format!("ADDED {}", name(p))),
            WatchEvent::Modified(p) => seen.push(format!("MODIFIED {}", name(p))),
            WatchEvent::Deleted(p) => seen.push(format!("DELETED {}", name(p))),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            "ADDED prod-cluster-0",
            "DELETED prod-cluster-0",
            "ADDED starting"
        ]
    );
}

#[tokio::test]
async fn streaming_list_watcher_gets_initial_events() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let cfg = watcher::Config::default().streaming_lists();
    let mut w = watcher(api, cfg).boxed();
    let mut names = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            watcher::Event::InitApply(o) => names.push(o.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(names, [CLUSTER]);
    let list_calls = sim
        .server
        .controls()
        .requests()
        .iter()
        .filter(|r| !r.query.contains("watch"))
        .count();
    assert_eq!(list_calls, 0, "streaming list needs no list request");
}

struct Leader;

impl PodProxy for Leader {
    fn get<'a>(
        &'a self,
        _ns: &'a str,
        pod: &'a str,
        port: u16,
        path: &'a str,
        token: Option<&'a str>,
    ) -> ProxyFuture<'a> {
        Box::pin(async move {
            (port == 8200).then(|| ProxyResponse {
                status: 200,
                content_type: "application/json".into(),
                body: match token {
                    None => json!({"pod": pod, "path": path}),
                    Some(t) => json!({"pod": pod, "path": path, "token": t}),
                }
                .to_string(),
            })
        })
    }
}

#[tokio::test]
async fn pod_proxy_answers_or_503() {
    let opts = ServeOptions {
        users: vec![User::admin()],
        proxy: Some(Arc::new(Leader)),
    };
    let sim = start_with(opts).await;
    // kube-rs retries 503s (up to 15 times, backing off to minutes) unless told not to.
    let mut cfg = sim.config("sim").await;
    cfg.default_retry = false;
    let admin = kube::Client::try_from(cfg).unwrap();
    let (code, body) = raw(
        &admin,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods/prod-cluster-0:8200/proxy/v1/sys/leader"),
        "",
        "",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        json!({"pod": "prod-cluster-0", "path": "/v1/sys/leader"})
    );
    // The console's X-Vault-Token reaches the proxied node (and only when it asks for it).
    let access = breakglass::sources::openbao_http::NodeAccess {
        token: breakglass::domain::token::OpenBaoToken::new("s.proxied"),
        ..Default::default()
    };
    for (authenticated, token) in [(true, json!("s.proxied")), (false, Value::Null)] {
        let answer = access
            .get(
                &admin,
                NS,
                "prod-cluster",
                "prod-cluster-0",
                "v1/sys/storage/raft/configuration",
                authenticated,
            )
            .await
            .unwrap();
        let v: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(v["token"], token, "{v}");
        assert_eq!(v["path"], "/v1/sys/storage/raft/configuration");
    }
    let (code, body) = raw(
        &admin,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods/https:prod-cluster-0:8201/proxy/v1/sys/health?standbyok=true"),
        "",
        "",
    )
    .await;
    assert_eq!(code, 503);
    assert!(body.contains("\"kind\":\"Status\""), "{body}");
    let (code, _) = raw(
        &admin,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods/ghost:8200/proxy/x"),
        "",
        "",
    )
    .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn previous_logs_after_a_restart() {
    let sim = start().await;
    let admin = sim.admin().await;
    sim.store
        .append_log(NS, "prod-cluster-0", "openbao", "before restart");
    sim.store.restart_log(NS, "prod-cluster-0", "openbao");
    sim.store
        .append_log(NS, "prod-cluster-0", "openbao", "after restart");
    let path = format!("/api/v1/namespaces/{NS}/pods/prod-cluster-0/log");
    let (code, body) = raw(&admin, "GET", &format!("{path}?previous=true"), "", "").await;
    assert_eq!((code, body.as_str()), (200, "before restart\n"));
    let (code, body) = raw(&admin, "GET", &path, "", "").await;
    assert_eq!((code, body.as_str()), (200, "after restart\n"));
    let (_, body) = raw(
        &admin,
        "GET",
        &format!("{path}?sinceTime=2999-01-01T00:00:00Z"),
        "",
        "",
    )
    .await;
    assert_eq!(body, "");
}

#[tokio::test]
async fn shutdown_ends_open_watches() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let rv = sim.store.current_rv();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let Sim { server, .. } = sim;
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown does not hang on open watches");
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    assert!(
        matches!(end, Ok(None) | Ok(Some(Err(_)))),
        "watch ended: {end:?}"
    );
    assert!(api.get(CLUSTER).await.is_err(), "server no longer answers");
}
