//! Shared setup for the simulator's API tests: a seeded store, a running server, its
//! kubeconfig in a temp dir, and kube-rs clients for the `sim` / `sim-viewer` contexts.
use std::path::PathBuf;
use std::sync::Arc;

use breakglass::sim::server::{RunningServer, ServeOptions, serve};
use breakglass::sim::store::{Resource, Store};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::{Value, json};

pub const NS: &str = "security";
pub const CLUSTER: &str = "prod-cluster";

pub struct Sim {
    pub server: RunningServer,
    pub store: Arc<Store>,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

/// A minimal OpenBaoCluster that satisfies the real CRD's schema.
pub fn cluster(name: &str) -> Value {
    json!({
        "apiVersion": "openbao.org/v1alpha1",
        "kind": "OpenBaoCluster",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "openbao"}},
        "spec": {
            "version": "2.4.0",
            "replicas": 3,
            "profile": "Hardened",
            "storage": {"size": "10Gi"},
            "tls": {"enabled": true, "rotationPeriod": "720h"},
            "upgrade": {"strategy": "BlueGreen", "blueGreen": {"autoPromote": true}}
        }
    })
}

/// A pod with the given containers; `waiting` puts the first container in ContainerCreating.
pub fn pod(name: &str, containers: &[&str], labels: Value, waiting: bool) -> Value {
    let specs: Vec<Value> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "openbao/openbao:2.4.0"}))
        .collect();
    let statuses: Vec<Value> = containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let state = if waiting && i == 0 {
                json!({"waiting": {"reason": "ContainerCreating"}})
            } else {
                json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}})
            };
            json!({"name": c, "ready": !waiting, "restartCount": 0, "image": "x", "imageID": "", "state": state})
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"containers": specs},
        "status": {"phase": if waiting { "Pending" } else { "Running" }, "containerStatuses": statuses}
    })
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running simulator with `prod-cluster` and a few pods seeded.
pub async fn start() -> Sim {
    start_with(ServeOptions::default()).await
}

pub async fn start_with(opts: ServeOptions) -> Sim {
    install_crypto();
    let store = Store::new();
    store
        .create(Resource::OpenBaoClusters, cluster(CLUSTER))
        .expect("seed cluster");
    store
        .create(
            Resource::Pods,
            pod(
                "prod-cluster-0",
                &["openbao"],
                json!({"app.kubernetes.io/instance": CLUSTER, "openbao.org/revision": "blue"}),
                false,
            ),
        )
        .expect("seed pod");
    store
        .create(
            Resource::Pods,
            pod(
                "two-containers",
                &["openbao", "sidecar"],
                json!({"app": "other"}),
                false,
            ),
        )
        .expect("seed pod");
    store
        .create(
            Resource::Pods,
            pod("starting", &["openbao"], json!({"app": "other"}), true),
        )
        .expect("seed pod");
    let server = serve(store.clone(), opts).await.expect("server starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig, NS)
        .expect("kubeconfig written");
    Sim {
        server,
        store,
        dir,
        kubeconfig,
    }
}

impl Sim {
    pub async fn config(&self, context: &str) -> Config {
        let kc = Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig parses");
        let opts = KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        };
        Config::from_custom_kubeconfig(kc, &opts)
            .await
            .expect("config from kubeconfig")
    }

    pub async fn client(&self, context: &str) -> Client {
        Client::try_from(self.config(context).await).expect("client")
    }

    pub async fn admin(&self) -> Client {
        self.client("sim").await
    }

    pub async fn viewer(&self) -> Client {
        self.client("sim-viewer").await
    }
}

pub fn clusters(client: Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("openbao.org", "v1alpha1", "OpenBaoCluster");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "openbaoclusters");
    Api::namespaced_with(client, NS, &ar)
}

/// The Status of a failed kube-rs call.
pub fn status_of<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> Box<kube::core::Status> {
    match r {
        Err(kube::Error::Api(s)) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A raw request through kube-rs's client (real TLS + auth): status and body text.
pub async fn raw(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let (status, chunks) = raw_chunks(client, method, path, content_type, body).await;
    (status, chunks.concat())
}

/// Like [`raw`], but the body as the chunks (frames) it arrived in.
pub async fn raw_chunks(
    client: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Vec<String>) {
    use http_body_util::BodyExt;
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(kube::client::Body::from(body.as_bytes().to_vec()))
        .expect("request");
    let resp = client.send(req).await.expect("response");
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut chunks = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("frame");
        if let Ok(data) = frame.into_data() {
            chunks.push(String::from_utf8_lossy(&data).into_owned());
        }
    }
    (status, chunks)
}
