//! Differential conformance: a fixed list of the requests the console (and kubectl) send,
//! sent to the real kube-apiserver and to the simulator holding the same objects (the twin's
//! seeded incident). Status codes and `Status.reason` are compared, and for successful reads
//! the fields the console reads. Every difference is either fixed in the simulator or listed
//! in [`KNOWN`] with why (and in the README); a listed difference that no longer occurs fails
//! too, so the list stays true.

use std::sync::Arc;
use std::time::Duration;

use breakglass::sim::server::{ServeOptions, serve};
use breakglass::sources::connect::{Target, connect};
use http_body_util::BodyExt;
use kube::Client;
use serde_json::{Value, json};

use super::incident;
use super::rig::Rig;

/// One request: who sends it, method, path, content type, body.
struct Req {
    name: &'static str,
    user: &'static str,
    method: &'static str,
    path: String,
    ctype: &'static str,
    body: Option<String>,
    /// Compare these JSON pointers of the response too (reads only).
    fields: &'static [&'static str],
    /// Sent by the console's Raft poller through the pod proxy: (namespace, cluster, pod).
    node: Option<(String, String, String)>,
}

/// Known differences: request name and why. Kept in step with the README.
const KNOWN: &[(&str, &str)] = &[
    (
        "watch from a compacted rv",
        "different histories, not different rules: the real server's watch cache starts when \
         the server starts, so resourceVersion 1 is older than its window (410 Expired, as an \
         ERROR event); the simulator's store was seeded fresh and rv 1 is still in its history \
         (it answers 410 once an rv falls out of its last events, tests/sim/sim_watch.rs)",
    ),
    (
        "unknown resource",
        "the real server answers an unknown resource of a served group with a plain-text \
         `404 page not found` (no Status, so no reason); the simulator sends a Status with \
         reason NotFound. Clients see 404 either way; the console treats both alike",
    ),
];

/// What a server answered: code, Status.reason (or the watch ERROR event's), and the body.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    code: u16,
    reason: String,
    body: Value,
}

async fn call(side: &str, client: &Client, r: &Req) -> Answer {
    if let Some((ns, cluster, pod)) = &r.node {
        // The console's own pod-proxy client (the Raft poller's).
        let access = breakglass::sources::openbao_http::NodeAccess::default();
        let a = access
            .get(client, ns, cluster, pod, "/v1/sys/leader", false)
            .await
            .unwrap_or_else(|e| panic!("{side}: {}: {e}", r.name));
        let body: Value = serde_json::from_str(&a.body).unwrap_or(Value::String(a.body.clone()));
        let reason = body["reason"].as_str().unwrap_or_default().to_string();
        return Answer {
            code: a.status,
            reason,
            body,
        };
    }
    let mut b = http::Request::builder()
        .method(r.method)
        .uri(r.path.as_str());
    if r.body.is_some() {
        b = b.header("content-type", r.ctype);
    }
    // No body: an empty one, as the console sends (a zero-length streamed body keeps the
    // real server's pod proxy waiting for its end).
    let body = match &r.body {
        Some(b) => kube::client::Body::from(b.clone().into_bytes()),
        None => kube::client::Body::empty(),
    };
    let req = b.body(body).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), client.send(req))
        .await
        .unwrap_or_else(|_| panic!("{side}: {}: no answer in 10 s", r.name))
        .unwrap_or_else(|e| panic!("{}: {e}", r.name));
    let code = resp.status().as_u16();
    let bytes = match tokio::time::timeout(Duration::from_secs(5), resp.into_body().collect()).await
    {
        Ok(Ok(c)) => c.to_bytes().to_vec(),
        other => panic!("{}: body: {other:?}", r.name),
    };
    let text = String::from_utf8_lossy(&bytes).to_string();
    // A watch answers a stream of events: the first one counts.
    let first = text.lines().next().unwrap_or_default();
    let body: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(first))
        .unwrap_or(Value::String(text.clone()));
    let status = if body["type"] == "ERROR" {
        &body["object"]
    } else {
        &body
    };
    let reason = if status["kind"] == "Status" {
        status["reason"].as_str().unwrap_or_default().to_string()
    } else {
        String::new()
    };
    let code = if body["type"] == "ERROR" {
        status["code"].as_u64().unwrap_or(0) as u16
    } else {
        code
    };
    Answer { code, reason, body }
}

/// A client for the simulator's `context`, made as the console makes its own.
async fn sim_client(kubeconfig: &std::path::Path, context: &str) -> Client {
    let target = Target {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        context: Some(context.into()),
        namespace: None,
    };
    connect(&target).await.unwrap().client
}

fn requests(ns: &str, cluster: &str, pod: &str, op_ns: &str, op: &str, nonce: &str) -> Vec<Req> {
    let c = format!("/apis/openbao.org/v1alpha1/namespaces/{ns}/openbaoclusters");
    let merge = "application/merge-patch+json";
    let r = |name, user, method, path: String, ctype, body: Option<Value>, fields| Req {
        name,
        user,
        method,
        path,
        ctype,
        body: body.map(|b| b.to_string()),
        fields,
        node: None,
    };
    let labels = breakglass::sources::watch::pod_selector(cluster);
    vec![
        r(
            "discovery /api",
            "admin",
            "GET",
            "/api".into(),
            "",
            None,
            &["/kind"],
        ),
        r(
            "discovery group",
            "admin",
            "GET",
            "/apis/openbao.org/v1alpha1".into(),
            "",
            None,
            &["/kind", "/groupVersion"],
        ),
        r(
            "get cluster",
            "admin",
            "GET",
            format!("{c}/{cluster}"),
            "",
            None,
            &[
                "/spec/version",
                "/status/breakGlass/nonce",
                "/status/breakGlass/active",
                "/status/phase",
                "/status/blueGreen/phase",
            ],
        ),
        r(
            "get missing cluster",
            "admin",
            "GET",
            format!("{c}/nope"),
            "",
            None,
            &["/kind", "/details/name"],
        ),
        r(
            "list clusters rv=0",
            "admin",
            "GET",
            format!("{c}?resourceVersion=0"),
            "",
            None,
            &["/kind", "/items/0/metadata/name"],
        ),
        r(
            "list pods by label",
            "admin",
            "GET",
            format!("/api/v1/namespaces/{ns}/pods?labelSelector={labels}"),
            "",
            None,
            &["/kind", "/items/0/metadata/name"],
        ),
        r(
            "list jobs by label",
            "admin",
            "GET",
            format!(
                "/apis/batch/v1/namespaces/{ns}/jobs?labelSelector={}",
                breakglass::sources::watch::job_selector(cluster)
            ),
            "",
            None,
            &["/kind"],
        ),
        r(
            "watch from a compacted rv",
            "admin",
            "GET",
            format!("{c}?watch=1&resourceVersion=1&timeoutSeconds=2"),
            "",
            None,
            &[],
        ),
        r(
            "merge patch with a stale rv",
            "admin",
            "PATCH",
            format!("{c}/{cluster}"),
            merge,
            Some(json!({"metadata": {"resourceVersion": "1"}, "spec": {"breakGlassAck": "x"}})),
            &["/kind"],
        ),
        r(
            "strategic merge patch on the CR",
            "admin",
            "PATCH",
            format!("{c}/{cluster}"),
            "application/strategic-merge-patch+json",
            Some(json!({"spec": {"paused": false}})),
            &["/kind"],
        ),
        r(
            "dry-run merge patch",
            "admin",
            "PATCH",
            format!("{c}/{cluster}?dryRun=All"),
            merge,
            Some(json!({"spec": {"breakGlassAck": "dry"}})),
            &["/spec/breakGlassAck"],
        ),
        r(
            "merge patch with a wrong type",
            "admin",
            "PATCH",
            format!("{c}/{cluster}?dryRun=All"),
            merge,
            Some(json!({"spec": {"replicas": "three"}})),
            &["/kind"],
        ),
        r(
            "merge patch that is not JSON",
            "admin",
            "PATCH",
            format!("{c}/{cluster}?dryRun=All"),
            merge,
            Some(json!("{not json")),
            &["/kind"],
        ),
        r(
            "json patch testing the status nonce (stale)",
            "admin",
            "PATCH",
            format!("{c}/{cluster}?dryRun=All"),
            "application/json-patch+json",
            Some(
                json!([{"op": "test", "path": "/status/breakGlass/nonce", "value": "stale"},
                        {"op": "add", "path": "/spec/breakGlassAck", "value": "stale"}]),
            ),
            &["/kind"],
        ),
        r(
            "json patch testing the status nonce (current)",
            "admin",
            "PATCH",
            format!("{c}/{cluster}?dryRun=All"),
            "application/json-patch+json",
            Some(
                json!([{"op": "test", "path": "/status/breakGlass/nonce", "value": nonce},
                        {"op": "add", "path": "/spec/breakGlassAck", "value": nonce}]),
            ),
            &["/spec/breakGlassAck"],
        ),
        r(
            "status subresource dry run",
            "admin",
            "PATCH",
            format!("{c}/{cluster}/status?dryRun=All"),
            merge,
            Some(json!({"status": {"phase": "Upgrading"}})),
            &["/status/phase"],
        ),
        r(
            "get scale",
            "admin",
            "GET",
            format!("/apis/apps/v1/namespaces/{op_ns}/deployments/{op}/scale"),
            "",
            None,
            &["/kind", "/spec/replicas"],
        ),
        r(
            "patch scale dry run",
            "admin",
            "PATCH",
            format!("/apis/apps/v1/namespaces/{op_ns}/deployments/{op}/scale?dryRun=All"),
            merge,
            Some(json!({"spec": {"replicas": 0}})),
            &["/kind", "/spec/replicas"],
        ),
        r(
            "create a cluster without spec",
            "admin",
            "POST",
            format!("{c}?dryRun=All"),
            "application/json",
            Some(
                json!({"apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster", "metadata": {"name": "bad"}}),
            ),
            &["/kind"],
        ),
        r(
            "unknown resource",
            "admin",
            "GET",
            format!("/apis/openbao.org/v1alpha1/namespaces/{ns}/nothings"),
            "",
            None,
            &[],
        ),
        r(
            "SelfSubjectAccessReview",
            "viewer",
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into(),
            "application/json",
            Some(
                json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": {"verb": "patch", "group": "openbao.org", "resource": "openbaoclusters", "namespace": ns}}}),
            ),
            &["/kind", "/status/allowed"],
        ),
        r(
            "SelfSubjectReview",
            "viewer",
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews".into(),
            "application/json",
            Some(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})),
            &["/kind", "/status/userInfo/username"],
        ),
        r(
            "viewer reads the cluster",
            "viewer",
            "GET",
            format!("{c}/{cluster}"),
            "",
            None,
            &["/metadata/name"],
        ),
        r(
            "viewer patches the cluster",
            "viewer",
            "PATCH",
            format!("{c}/{cluster}"),
            merge,
            Some(json!({"spec": {"breakGlassAck": "x"}})),
            &["/kind", "/details/kind"],
        ),
        r(
            "log of a missing container",
            "admin",
            "GET",
            format!("/api/v1/namespaces/{ns}/pods/{pod}/log?container=nope"),
            "",
            None,
            &["/kind"],
        ),
        Req {
            node: Some((ns.to_string(), cluster.to_string(), pod.to_string())),
            ..r(
                "pod proxy to a node with nothing listening",
                "admin",
                "GET",
                String::new(),
                "",
                None,
                &[],
            )
        },
    ]
}

pub async fn differential_conformance(rig: Arc<Rig>, ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let incident = incident::incident(&rig, "transient", &ns).await;
    let cluster = incident.scenario.cluster.clone();
    let topo = breakglass::sim::scenario::Topology::of(&incident.scenario);
    let pod = topo.pod(true, 0);
    let op = breakglass::sim::twin_objects::operator_deployment(
        breakglass::sim::operator_line::OperatorLine::V01,
    );
    let (op_ns, op_name) = (
        op["metadata"]["namespace"].as_str().unwrap(),
        op["metadata"]["name"].as_str().unwrap(),
    );
    let sim = serve(
        incident::mirror(
            &admin,
            &ns,
            breakglass::sim::operator_line::OperatorLine::V01,
        )
        .await,
        ServeOptions::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sim_kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&sim_kc, &ns).unwrap();
    let real = [
        ("admin", admin.clone()),
        ("viewer", rig.client("viewer").await.unwrap()),
    ];
    let simulated = [
        ("admin", sim_client(&sim_kc, "sim").await),
        ("viewer", sim_client(&sim_kc, "sim-viewer").await),
    ];
    let pick = |side: &[(&str, Client)], user: &str| {
        side.iter().find(|(u, _)| *u == user).unwrap().1.clone()
    };
    let mut differences = Vec::new();
    let mut table = Vec::new();
    for r in requests(&ns, &cluster, &pod, op_ns, op_name, &incident.seeded.nonce) {
        let a = call("real", &pick(&real, r.user), &r).await;
        let b = call("sim", &pick(&simulated, r.user), &r).await;
        let mut diff = Vec::new();
        if (a.code, &a.reason) != (b.code, &b.reason) {
            diff.push(format!(
                "real {} {:?}, sim {} {:?}",
                a.code, a.reason, b.code, b.reason
            ));
        }
        for f in r.fields {
            let (x, y) = (a.body.pointer(f), b.body.pointer(f));
            // SelfSubjectReview names the user: the rig's token user is `viewer` on both.
            if x != y {
                diff.push(format!("{f}: real {x:?}, sim {y:?}"));
            }
        }
        table.push(format!(
            "{:<45} real {} {:<22} sim {} {}",
            r.name, a.code, a.reason, b.code, b.reason
        ));
        if !diff.is_empty() {
            differences.push((r.name, diff.join("; ")));
        }
    }
    println!(
        "  differential ({} requests):\n    {}",
        table.len(),
        table.join("\n    ")
    );
    let unexplained: Vec<_> = differences
        .iter()
        .filter(|(n, _)| !KNOWN.iter().any(|(k, _)| k == n))
        .collect();
    let gone: Vec<_> = KNOWN
        .iter()
        .filter(|(k, _)| !differences.iter().any(|(n, _)| n == k))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained differences: {unexplained:#?}"
    );
    assert!(
        gone.is_empty(),
        "listed differences that no longer occur: {gone:#?}"
    );
    // The console's RBAC preflight for the viewer: the same paths disabled. The permissions
    // differ by one, by design: the simulator's `viewer` may read everything, the rig's is
    // bound to assets/rbac/viewer.yaml, which does not list Deployments (README).
    let real_denied = breakglass::sources::rbac::preflight(&pick(&real, "viewer"), &ns)
        .await
        .unwrap();
    let sim_denied = breakglass::sources::rbac::preflight(&pick(&simulated, "viewer"), &ns)
        .await
        .unwrap();
    let paths = |d: &[breakglass::domain::diagnosis::Denied]| {
        let mut p: Vec<String> = d.iter().map(|x| format!("{:?}", x.path)).collect();
        p.dedup();
        p
    };
    assert_eq!(
        paths(&real_denied),
        paths(&sim_denied),
        "{real_denied:?}\n{sim_denied:?}"
    );
    let only_real: Vec<_> = real_denied
        .iter()
        .filter(|d| !sim_denied.contains(d))
        .map(|d| d.permission.as_str())
        .collect();
    assert_eq!(
        only_real,
        ["list deployments.apps in all namespaces"],
        "{sim_denied:?}"
    );
    assert!(
        sim_denied.iter().all(|d| real_denied.contains(d)),
        "{sim_denied:?}"
    );
    sim.shutdown().await;
}
