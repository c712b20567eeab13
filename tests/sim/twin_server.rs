//! The whole simulator over real HTTPS (`sim::run::start`): seeded objects pass the
//! server's CRD validation, an acknowledgement sent as a merge patch drives the twin, and the
//! simulated OpenBao answers behind the pod proxy.
use std::time::Duration;

use breakglass::sim::run::{SimHandle, start};
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    ApiResource, DynamicObject, GroupVersionKind, LogParams, Patch, PatchParams, PostParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Config};
use serde_json::{Value, json};

const RETRY_1: &str = "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609";

async fn client(sim: &SimHandle) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

fn clusters(client: Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("openbao.org", "v1alpha1", "OpenBaoCluster");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "openbaoclusters");
    Api::namespaced_with(client, "security", &ar)
}

async fn get_text(client: &Client, path: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    let req = hyper::Request::builder()
        .method("GET")
        .uri(path)
        .body(kube::client::Body::from(Vec::new()))
        .unwrap();
    let resp = client.send(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn an_unknown_scenario_names_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let e = start("nope", 1.0, &dir.path().join("kc"))
        .await
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("transient") && msg.contains("persistent") && msg.contains("green-crashloop"),
        "{msg}"
    );
}

#[tokio::test]
async fn seeded_objects_pass_the_servers_crd_validation() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("persistent", 20.0, &dir.path().join("kc"))
        .await
        .unwrap();
    let api = clusters(client(&sim).await);
    let seeded = api.get("prod-cluster").await.unwrap();
    let mut copy: Value = serde_json::to_value(&seeded).unwrap();
    let status = copy["status"].clone();
    copy["metadata"] = json!({"name": "copy-of-prod", "namespace": "security"});
    if let Some(m) = copy.as_object_mut() {
        m.remove("status");
    }
    let obj: DynamicObject = serde_json::from_value(copy).unwrap();
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    assert_eq!(
        created.data["spec"], seeded.data["spec"],
        "nothing pruned or rejected"
    );
    // The whole status, written through the status subresource, is valid too.
    let patched = api
        .patch_status(
            "copy-of-prod",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": status})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.data["status"]["breakGlass"],
        seeded.data["status"]["breakGlass"]
    );
    assert_eq!(
        patched.data["status"]["conditions"],
        seeded.data["status"]["conditions"]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_merge_patch_ack_over_https_starts_the_retry_job() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("transient", 20.0, &dir.path().join("kc"))
        .await
        .unwrap();
    let client = client(&sim).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), "security");
    let mut events = watcher::watcher(jobs.clone(), watcher::Config::default()).boxed();

    let nonce = sim.seeded.nonce.clone();
    clusters(client.clone())
        .patch(
            "prod-cluster",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"breakGlassAck": nonce}})),
        )
        .await
        .unwrap();

    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = events.next().await {
            if let Ok(Event::Apply(j) | Event::InitApply(j)) = ev
                && j.metadata.name.as_deref() == Some(RETRY_1)
            {
                return j;
            }
        }
        panic!("watch ended");
    })
    .await
    .expect("the retry Job is watched within the bound");
    let ann = found.metadata.annotations.unwrap();
    assert_eq!(ann["openbao.org/upgrade-run-id"], "rollback-retry-1");

    // The failed first attempt's log, through the API like `kubectl logs`.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "security");
    let log = pods
        .logs(
            &sim.seeded.failed_pod,
            &LogParams {
                container: Some("upgrade-executor".into()),
                ..LogParams::default()
            },
        )
        .await
        .unwrap();
    assert!(
        log.trim_end().ends_with("context deadline exceeded"),
        "{log}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_pod_proxy_answers_with_simulated_openbao() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start("persistent", 20.0, &dir.path().join("kc"))
        .await
        .unwrap();
    let client = client(&sim).await;
    let path =
        |pod: &str| format!("/api/v1/namespaces/security/pods/{pod}:8200/proxy/v1/sys/leader");
    let (code, body) = get_text(&client, &path("prod-cluster-269c4f7ba494030d-1")).await;
    assert_eq!(code, 200, "{body}");
    let leader: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(leader["is_self"], true);
    let (_, body) = get_text(&client, &path("prod-cluster-e8983038c519c718-0")).await;
    let blue: Value = serde_json::from_str(&body).unwrap();
    let lag = leader["raft_committed_index"].as_u64().unwrap()
        - blue["raft_committed_index"].as_u64().unwrap();
    assert!(lag >= 3000, "Blue is thousands behind: {lag}");
    // (A 429 standby answer is covered by the unit tests: kube-rs's client retries 429s,
    // so through it a standby's plain sys/health would only show up as a slow call.)
    let (code, body) = get_text(
        &client,
        "/api/v1/namespaces/security/pods/prod-cluster-e8983038c519c718-0:8200/proxy/v1/sys/health?standbyok=true",
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (health["standby"].as_bool(), health["version"].as_str()),
        (Some(true), Some("2.4.3"))
    );
    sim.shutdown().await;
}
