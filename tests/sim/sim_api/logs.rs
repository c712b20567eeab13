//! Pod logs: following streams chunks (not lines) and ends when the container terminates;
//! timestamps, tailLines, and the API server's errors (container not named, waiting, 404).

use std::time::Duration;

use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::{Api, Client};

use crate::support::sim::*;

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
