//! The simulator's API server seen through kube-rs (real TLS, bearer tokens, a kubeconfig
//! the server wrote): the API-server behaviours the console relies on (errors as Status, watches, patches, RBAC).

use std::time::Duration;

use crate::support::sim::*;
use breakglass::sim::store::Resource;
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, LogParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::{Value, json};

const CONFLICT: &str = "Operation cannot be fulfilled on openbaoclusters.openbao.org \"prod-cluster\": the object has been modified; please apply your changes to the latest version and try again";

fn rv(o: &kube::api::DynamicObject) -> String {
    o.metadata.resource_version.clone().unwrap_or_default()
}

#[tokio::test]
async fn list_get_and_not_found() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(
        !list
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .is_empty()
    );
    let got = api.get(CLUSTER).await.unwrap();
    assert_eq!(
        got.data["spec"]["tls"]["mode"], "OperatorManaged",
        "CRD default applied"
    );
    let s = status_of(api.get("x").await);
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "openbaoclusters.openbao.org \"x\" not found");
    let pods: Api<Pod> = Api::namespaced(sim.admin().await, NS);
    let sel = pods
        .list(&ListParams::default().labels("app.kubernetes.io/instance=prod-cluster"))
        .await
        .unwrap();
    assert_eq!(sel.items.len(), 1);
    let set = pods
        .list(&ListParams::default().labels("app in (other),app!=x"))
        .await
        .unwrap();
    assert_eq!(set.items.len(), 2);
    let by_name = pods
        .list(&ListParams::default().fields("metadata.name=starting"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);
}

#[tokio::test]
async fn pagination_keeps_first_rv_and_expires() {
    let sim = start().await;
    let pods: Api<Pod> = Api::namespaced(sim.admin().await, NS);
    let first = pods.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().expect("continue token");
    sim.store
        .modify(Resource::Pods, NS, "starting", |p| {
            p["metadata"]["labels"]["x"] = json!("y")
        })
        .unwrap();
    let second = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
    assert!(
        second
            .metadata
            .continue_
            .as_deref()
            .unwrap_or("")
            .is_empty()
    );
    sim.server.controls().expire_history();
    let s = status_of(
        pods.list(&ListParams::default().limit(2).continue_token(&token))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (410, "Expired"));
}

#[tokio::test]
async fn list_then_watch_loses_nothing_and_noop_is_silent() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let list = api.list(&ListParams::default()).await.unwrap();
    let from = list.metadata.resource_version.clone().unwrap();
    // Changes between the list and the watch must all arrive.
    sim.store
        .create(Resource::OpenBaoClusters, cluster("second"))
        .unwrap();
    let before = sim.store.current_rv();
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |_| {})
        .unwrap();
    assert_eq!(sim.store.current_rv(), before, "no-op write changes no rv");
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    assert_eq!(sim.store.current_rv(), before, "no-op patch changes no rv");
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |o| {
            o["spec"]["replicas"] = json!(5)
        })
        .unwrap();
    sim.store
        .delete(Resource::OpenBaoClusters, NS, "second")
        .unwrap();
    let wp = WatchParams::default().timeout(5);
    let mut stream = api.watch(&wp, &from).await.unwrap().boxed();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match stream.try_next().await.unwrap().expect("event") {
            WatchEvent::Added(o) => seen.push(format!("ADDED {}", o.metadata.name.unwrap())),
            WatchEvent::Modified(o) => seen.push(format!("MODIFIED {}", o.metadata.name.unwrap())),
            WatchEvent::Deleted(o) => seen.push(format!("DELETED {}", o.metadata.name.unwrap())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        ["ADDED second", "MODIFIED prod-cluster", "DELETED second"]
    );
}

#[tokio::test]
async fn expired_watch_is_an_in_stream_410_and_watcher_relists() {
    let sim = start().await;
    let controls = sim.server.controls();
    let admin = sim.admin().await;
    let api = clusters(admin.clone());
    let old = rv(&api.get(CLUSTER).await.unwrap());
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |o| {
            o["status"] = json!({"phase": "Running"})
        })
        .unwrap();
    controls.expire_history();
    let path = format!(
        "/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters?watch=true&resourceVersion={old}"
    );
    let (code, body) = raw(&admin, "GET", &path, "application/json", "").await;
    assert_eq!(code, 200, "expired watch is HTTP 200");
    let ev: Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["kind"], "Status");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");

    // kube-rs's watcher: on the 410 it re-lists.
    controls.set_bookmark_interval(Duration::from_secs(3600));
    let mut w = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut init_done = 0;
    while init_done < 1 {
        if let Ok(watcher::Event::InitDone) = w.next().await.expect("watcher event") {
            init_done += 1;
        }
    }
    let lists_before = list_calls(&controls);
    // A write the watcher does not see (another resource) moves the rv on; compaction then
    // makes the watcher's rv too old; closing its watch makes it re-watch and get the 410.
    sim.store
        .modify(Resource::Pods, NS, "starting", |p| {
            p["metadata"]["labels"]["k"] = json!("v")
        })
        .unwrap();
    controls.expire_history();
    controls.close_watches();
    let relisted = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(watcher::Event::InitDone) = w.next().await.expect("watcher event") {
                return;
            }
        }
    })
    .await;
    assert!(relisted.is_ok(), "watcher re-listed after 410");
    assert!(list_calls(&controls) > lists_before);
}

fn list_calls(c: &breakglass::sim::server::Controls) -> usize {
    c.requests()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.ends_with("/openbaoclusters") && !r.query.contains("watch")
        })
        .count()
}

#[tokio::test]
async fn stale_rv_in_merge_patch_is_409_with_exact_message() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let cur = api.get(CLUSTER).await.unwrap();
    sim.store
        .modify(Resource::OpenBaoClusters, NS, CLUSTER, |o| {
            o["status"] = json!({"phase": "Upgrading"})
        })
        .unwrap();
    let patch = json!({"metadata": {"resourceVersion": rv(&cur)}, "spec": {"breakGlassAck": "n"}});
    let s = status_of(
        api.patch(CLUSTER, &PatchParams::default(), &Patch::Merge(&patch))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(s.message, CONFLICT);
    // Without a resourceVersion a patch does not conflict.
    let ok = api
        .patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"breakGlassAck": "n"}})),
        )
        .await
        .unwrap();
    assert_eq!(ok.data["spec"]["breakGlassAck"], "n");
    // A stale PUT conflicts the same way; an AlreadyExists is a different 409.
    let s = status_of(api.replace(CLUSTER, &PostParams::default(), &cur).await);
    assert_eq!(s.message, CONFLICT);
    let mut dup = cur.clone();
    dup.metadata.resource_version = None;
    let s = status_of(api.create(&PostParams::default(), &dup).await);
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
}

#[tokio::test]
async fn strategic_patch_is_415_on_custom_resources_only() {
    let sim = start().await;
    let admin = sim.admin().await;
    let s = status_of(
        clusters(admin.clone())
            .patch(
                CLUSTER,
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"replicas": 5}})),
            )
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (415, "UnsupportedMediaType"));
    assert!(s.message.starts_with("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"));
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NS);
    let p = pods
        .patch(
            "starting",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"s": "1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.labels.unwrap()["s"], "1");
    // Server-side apply needs a field manager.
    let s = status_of(
        clusters(admin.clone())
            .patch(
                CLUSTER,
                &PatchParams::default(),
                &Patch::Apply(cluster(CLUSTER)),
            )
            .await,
    );
    assert_eq!(s.code, 422);
    assert!(s.message.contains("fieldManager: Required value"));
    clusters(admin.clone())
        .patch(
            CLUSTER,
            &PatchParams::apply("test"),
            &Patch::Apply(cluster(CLUSTER)),
        )
        .await
        .unwrap();
    // JSON patch.
    let path = format!("/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters/{CLUSTER}");
    let (code, body) = raw(
        &admin,
        "PATCH",
        &path,
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        sim.store
            .get(Resource::OpenBaoClusters, NS, CLUSTER)
            .unwrap()["spec"]["replicas"],
        4
    );
}

#[tokio::test]
async fn status_subresource_and_generation_rules() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let pp = PatchParams::default();
    let g0 = api.get(CLUSTER).await.unwrap().metadata.generation.unwrap();
    // Main resource: .status is ignored; metadata-only change keeps generation.
    let o = api
        .patch(
            CLUSTER,
            &pp,
            &Patch::Merge(
                json!({"metadata": {"labels": {"x": "1"}}, "status": {"phase": "Failed"}}),
            ),
        )
        .await
        .unwrap();
    assert!(
        o.data.get("status").is_none(),
        "status ignored on main resource"
    );
    assert_eq!(o.metadata.generation.unwrap(), g0);
    // Status subresource: everything but .status is ignored; generation unchanged.
    let o = api
        .patch_status(
            CLUSTER,
            &pp,
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"phase": "Upgrading"}})),
        )
        .await
        .unwrap();
    assert_eq!(o.data["status"]["phase"], "Upgrading");
    assert_eq!(o.data["spec"]["replicas"], 3);
    assert_eq!(o.metadata.generation.unwrap(), g0);
    // Spec change: generation + 1.
    let o = api
        .patch(
            CLUSTER,
            &pp,
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(o.metadata.generation.unwrap(), g0 + 1);
    assert_eq!(o.data["status"]["phase"], "Upgrading", "status kept");
}

#[tokio::test]
async fn dry_run_persists_nothing_and_sends_no_event() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let before = sim.store.current_rv();
    let mut rx = sim.store.subscribe();
    let o = api
        .patch(
            CLUSTER,
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(o.data["spec"]["replicas"], 7);
    assert_eq!(
        sim.store
            .get(Resource::OpenBaoClusters, NS, CLUSTER)
            .unwrap()["spec"]["replicas"],
        3
    );
    assert_eq!(sim.store.current_rv(), before);
    assert!(rx.try_recv().is_err());
    let mut c = cluster("dry");
    c["metadata"]["namespace"] = json!(NS);
    let obj: kube::api::DynamicObject = serde_json::from_value(c).unwrap();
    api.create(
        &PostParams {
            dry_run: true,
            field_manager: None,
        },
        &obj,
    )
    .await
    .unwrap();
    assert!(
        sim.store
            .get(Resource::OpenBaoClusters, NS, "dry")
            .is_none()
    );
}

#[tokio::test]
async fn schema_violation_is_422_with_causes_and_unknown_fields_are_pruned() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let bad = json!({"status": {"breakGlass": {"active": true, "reason": "DirtyWrite"}}});
    let s = status_of(
        api.patch_status(CLUSTER, &PatchParams::default(), &Patch::Merge(&bad))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(s.message.starts_with("OpenBaoCluster.openbao.org \"prod-cluster\" is invalid: status.breakGlass.reason: Unsupported value: \"DirtyWrite\""), "{}", s.message);
    let causes = s.details.unwrap().causes;
    assert_eq!(causes[0].field, "status.breakGlass.reason");
    assert_eq!(causes[0].reason, "FieldValueNotSupported");
    let o = api
        .patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"bogus": 1}})),
        )
        .await
        .unwrap();
    assert!(
        o.data["spec"].get("bogus").is_none(),
        "unknown field pruned"
    );
    let strict = PatchParams {
        field_validation: Some(kube::api::ValidationDirective::Strict),
        ..Default::default()
    };
    let s = status_of(
        api.patch(
            CLUSTER,
            &strict,
            &Patch::Merge(json!({"spec": {"bogus": 1}})),
        )
        .await,
    );
    assert_eq!(s.code, 400);
    assert!(s.message.contains("unknown field \"spec.bogus\""));
    let s = status_of(
        api.patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await,
    );
    assert_eq!(s.code, 422);
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"finalizers": ["openbao.org/openbaocluster-finalizer"]}}),
        ),
    )
    .await
    .unwrap();
    api.delete(CLUSTER, &Default::default()).await.unwrap();
    let o = api.get(CLUSTER).await.unwrap();
    assert!(o.metadata.deletion_timestamp.is_some());
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(status_of(api.get(CLUSTER).await).code, 404);
}

async fn log_text(client: &Client, pod: &str, query: &str) -> (u16, String) {
    raw(
        client,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods/{pod}/log{query}"),
        "",
        "",
    )
    .await
}

#[tokio::test]
async fn log_follow_streams_chunks_and_ends_at_termination() {
    let sim = start().await;
    let admin = sim.admin().await;
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NS);
    let c = sim.server.controls();
    c.append_log(NS, "prod-cluster-0", "openbao", "first line of the log");
    let lp = LogParams {
        follow: true,
        timestamps: true,
        ..Default::default()
    };
    let reader = pods.log_stream("prod-cluster-0", &lp).await.unwrap();
    let writer = tokio::spawn(async move {
        for i in 0..5 {
            c.append_log(
                NS,
                "prod-cluster-0",
                "openbao",
                &format!("line {i} with some text"),
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        c.terminate_log(NS, "prod-cluster-0", "openbao");
    });
    let lines: Vec<String> =
        tokio::time::timeout(Duration::from_secs(10), reader.lines().try_collect())
            .await
            .expect("follow ends when the container terminates")
            .unwrap();
    writer.await.unwrap();
    assert_eq!(lines.len(), 6);
    let (ts, text) = lines[1].split_once(' ').unwrap();
    assert!(
        ts.parse::<jiff::Timestamp>().is_ok() && ts.ends_with('Z'),
        "{ts}"
    );
    assert_eq!(text, "line 0 with some text");
    // Chunks do not line up with lines.
    let (code, chunks) = raw_chunks(
        &admin,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods/prod-cluster-0/log"),
        "",
        "",
    )
    .await;
    assert_eq!(code, 200);
    assert!(
        chunks.len() > 1 && chunks.iter().any(|c| !c.ends_with('\n')),
        "{chunks:?}"
    );
    let (_, tail) = log_text(&admin, "prod-cluster-0", "?tailLines=2").await;
    assert_eq!(tail, "line 3 with some text\nline 4 with some text\n");
}

#[tokio::test]
async fn log_error_cases() {
    let sim = start().await;
    let admin = sim.admin().await;
    let (code, body) = log_text(&admin, "two-containers", "").await;
    assert_eq!(code, 400);
    assert!(body.contains("a container name must be specified for pod two-containers, choose one of: [openbao sidecar]"), "{body}");
    let (code, body) = log_text(&admin, "starting", "").await;
    assert_eq!(code, 400);
    assert!(
        body.contains(
            r#"container \"openbao\" in pod \"starting\" is waiting to start: ContainerCreating"#
        ),
        "{body}"
    );
    let (code, body) = log_text(&admin, "prod-cluster-0", "?previous=true").await;
    assert_eq!(code, 400, "{body}");
    let (code, _) = log_text(
        &admin,
        "prod-cluster-0",
        "?sinceSeconds=10&sinceTime=2026-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(code, 422);
    let (code, body) = log_text(&admin, "nope", "").await;
    assert_eq!(code, 404);
    assert!(body.contains(r#"pods \"nope\" not found"#));
    let (code, _) = log_text(&admin, "two-containers", "?container=sidecar").await;
    assert_eq!(code, 200);
}

async fn can_i(client: Client, verb: &str) -> bool {
    let ssar = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(NS.into()),
                verb: Some(verb.into()),
                group: Some("openbao.org".into()),
                resource: Some("openbaoclusters".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    api.create(&PostParams::default(), &ssar)
        .await
        .unwrap()
        .status
        .unwrap()
        .allowed
}

#[tokio::test]
async fn access_reviews_forbidden_and_unauthorized() {
    let sim = start().await;
    assert!(can_i(sim.admin().await, "patch").await);
    assert!(!can_i(sim.viewer().await, "patch").await);
    assert!(can_i(sim.viewer().await, "get").await);
    let viewer = clusters(sim.viewer().await);
    viewer.get(CLUSTER).await.unwrap();
    let s = status_of(
        viewer
            .patch(
                CLUSTER,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 1}})),
            )
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "openbaoclusters.openbao.org \"prod-cluster\" is forbidden: User \"viewer\" cannot patch resource \"openbaoclusters\" in API group \"openbao.org\" in the namespace \"security\""
    );
    // Denials change at run time.
    let c = sim.server.controls();
    c.deny("admin", "get", Resource::OpenBaoClusters);
    assert_eq!(
        status_of(clusters(sim.admin().await).get(CLUSTER).await).code,
        403
    );
    c.allow("admin", "get", Resource::OpenBaoClusters);
    clusters(sim.admin().await).get(CLUSTER).await.unwrap();
    // No token: 401.
    let mut cfg = sim.config("sim").await;
    cfg.auth_info.token = None;
    let anon = clusters(Client::try_from(cfg).unwrap());
    assert_eq!(status_of(anon.get(CLUSTER).await).code, 401);
    let viewer_mutations = c
        .requests()
        .iter()
        .filter(|r| r.user == "viewer" && r.is_mutating() && r.status < 400)
        .count();
    assert_eq!(viewer_mutations, 0);
}

#[tokio::test]
async fn injected_faults_latency_and_scale() {
    let sim = start().await;
    let admin = sim.admin().await;
    let c = sim.server.controls();
    let path = format!("/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters/{CLUSTER}");
    c.inject_error("PATCH", &path, 500, 1);
    let api = clusters(admin.clone());
    let s = status_of(
        api.patch(
            CLUSTER,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    // kube-rs retries a 503 on its own: the injected one is answered, then the retry works.
    c.clear_requests();
    c.inject_error("PATCH", &path, 503, 1);
    api.patch(
        CLUSTER,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    let statuses: Vec<u16> = c
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 200]);
    c.inject_error("GET", &path, 409, 1);
    assert_eq!(status_of(api.get(CLUSTER).await).message, CONFLICT);
    c.set_latency(Duration::from_millis(300));
    let t = std::time::Instant::now();
    api.get(CLUSTER).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(300));
    c.set_latency(Duration::ZERO);

    use k8s_openapi::api::apps::v1::Deployment;
    sim.store
        .create(
            Resource::Deployments,
            json!({"metadata": {"name": "openbao-operator-controller", "namespace": NS},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "op"}},
                            "template": {"metadata": {"labels": {"app": "op"}}, "spec": {"containers": [{"name": "m", "image": "x"}]}}}}),
        )
        .unwrap();
    let deps: Api<Deployment> = Api::namespaced(admin.clone(), NS);
    let scale = deps.get_scale("openbao-operator-controller").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    let scaled = deps
        .patch_scale(
            "openbao-operator-controller",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    // autoscaling/v1 `replicas,omitempty`: the real kube-apiserver leaves 0 out
    // (tests/real_apiserver.rs, differential "patch scale dry run").
    assert_eq!(scaled.spec.unwrap().replicas, None);
    assert_eq!(
        deps.get("openbao-operator-controller")
            .await
            .unwrap()
            .spec
            .unwrap()
            .replicas,
        Some(0)
    );
}
