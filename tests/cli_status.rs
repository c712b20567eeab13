//! The real binary's `status` command against the simulator, and its error paths.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

use std::process::Command;

use breakglass::sim::run::start;

fn breakglass() -> Command {
    Command::new(env!("CARGO_BIN_EXE_breakglass"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_during_break_glass_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let sim = start("persistent", 1.0, &kc).await.unwrap();
    let out = tokio::task::spawn_blocking({
        let (kc, ns, cluster) = (kc.clone(), sim.namespace.clone(), sim.cluster.clone());
        move || {
            breakglass()
                .args(["status", "--kubeconfig"])
                .arg(&kc)
                .args(["-n", &ns, &cluster, "--output", "json"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["breakGlassActive"], true);
    assert_eq!(
        v["cluster"]["breakGlass"]["reason"],
        "RollbackConsensusRepairFailed"
    );
    assert_eq!(
        v["cluster"]["breakGlass"]["steps"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(v["repairJobs"][0]["runId"], "rollback");
    assert_eq!(v["rollbackJobs"][0]["runId"], "rollback");
    assert_eq!(v["rollbackJobs"][0]["action"], "bluegreen-repair-consensus");
    assert_eq!(v["rollbackJobs"][0]["attempt"], 0);
    assert_eq!(v["rollbackJobs"][0]["state"], "failed");
    // The operator's line and every signal behind it; the seeded controller Deployment
    // is found by its labels, and a CRD the simulator may not serve is evidence, not an error.
    let generation = v["operator"]["generation"].as_str().unwrap();
    assert!(
        ["0.1", "0.2-0.5.0", "0.6", "unknown"].contains(&generation),
        "{generation}"
    );
    let evidence: Vec<&str> = v["operator"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.starts_with("CRD openbaoclusters.openbao.org")),
        "{evidence:?}"
    );
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("openbao-operator:") && e.starts_with("operator image")),
        "{evidence:?}"
    );
    let nodes = v["raft"]["nodes"].as_array().unwrap();
    assert!(
        nodes.iter().any(|n| n["revision"] == "blue")
            && nodes.iter().any(|n| n["revision"] == "green")
    );
    for key in [
        "pod",
        "revision",
        "role",
        "committed",
        "applied",
        "lag",
        "reachable",
        "age_ms",
    ] {
        assert!(nodes[0].get(key).is_some(), "raft.nodes[].{key} missing");
    }
    sim.shutdown().await;
}

#[test]
fn a_bad_kubeconfig_exits_1_and_names_the_file() {
    let out = breakglass()
        .args(["status", "--kubeconfig", "/nonexistent/kc", "prod-cluster"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/kc"), "{stderr}");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = breakglass().args(["status", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 when break glass is active"), "{text}");
}

#[test]
fn the_console_refuses_to_run_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kc");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:9'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
    )
    .unwrap();
    let out = breakglass()
        .arg("--kubeconfig")
        .arg(&kc)
        .arg("prod-cluster")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a terminal"));
}
