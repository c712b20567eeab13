//! The real binary's `status` command against the simulator, and its error paths.

use std::process::Command;

use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::real_nodes::SimOptions;
use breakglass::sim::run::{start, start_with};

use crate::support::tmux;

/// The simulator with simulated OpenBao endpoints only (no real `bao` nodes to wait for).
pub(crate) async fn simulated(
    scenario: &str,
    kc: &std::path::Path,
) -> breakglass::sim::run::SimHandle {
    let options = SimOptions {
        real_nodes: breakglass::sim::real_nodes::RealNodes::Never,
        ..Default::default()
    };
    start_with(scenario, 1.0, kc, options).await.unwrap()
}

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

/// A 0.6-shaped operation seeded into the simulator (a `bg-v2-` operation ID, its cleanup
/// Job on the scoped run ID, a previous operation's cleanup Job): `status` names the line
/// from the CRD and the operation ID and lists only this operation's rollback Jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_names_a_scoped_operation_and_its_rollback_jobs() {
    use breakglass::sim::scenario::Topology;
    use breakglass::sim::store::Resource;
    use breakglass::sim::twin_objects::executor_job;
    use breakglass::sim::twin_seed::create_job;

    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let options = SimOptions {
        operator: OperatorLine::V06,
        ..SimOptions::default()
    };
    let sim = start_with("persistent", 1.0, &kc, options).await.unwrap();
    let (ns, name) = (sim.namespace.clone(), sim.cluster.clone());
    // The twin's 0.6 line started the operation with a bg-v2- ID of its own.
    let cluster = sim
        .store
        .get(Resource::OpenBaoClusters, &ns, &name)
        .unwrap();
    let op = cluster["status"]["blueGreen"]["operationID"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(op.starts_with("bg-v2-"), "{op}");
    let uid = cluster["metadata"]["uid"].as_str().unwrap().to_string();
    let topo = Topology::of(&sim.scenario);
    let action = "bluegreen-remove-green-peers";
    let (current, _) = create_job(
        &sim.store,
        executor_job(&topo, action, &format!("{op}/rollback"), &uid),
    )
    .unwrap();
    let (previous, _) = create_job(
        &sim.store,
        executor_job(&topo, action, "bg-v2-previous/rollback", &uid),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking({
        let (kc, ns, name) = (kc.clone(), ns.clone(), name.clone());
        move || {
            breakglass()
                .args(["status", "--kubeconfig"])
                .arg(&kc)
                .args(["-n", &ns, &name, "--output", "json"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["cluster"]["blueGreen"]["operationID"], op);
    // The 0.6 CRD and the bg-v2- operation ID agree.
    assert_eq!(v["operator"]["generation"], "0.6", "{v:#}");
    assert!(
        v["operator"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains("run IDs are operation-scoped")),
        "{v:#}"
    );
    let names: Vec<&str> = v["rollbackJobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    let current = current["metadata"]["name"].as_str().unwrap();
    let previous = previous["metadata"]["name"].as_str().unwrap();
    assert!(names.contains(&current), "{v:#}");
    assert!(
        !names.contains(&previous),
        "a previous operation's Job (alive for its 1 h TTL) is never this one's: {v:#}"
    );
    let cleanup = v["rollbackJobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == current)
        .unwrap();
    assert_eq!(cleanup["runId"], format!("{op}/rollback"));
    assert_eq!(cleanup["action"], action);
    assert_eq!(cleanup["attempt"], 0);
    // Every listed Job carries this operation's scoped run ID.
    for j in v["rollbackJobs"].as_array().unwrap() {
        assert!(
            j["runId"].as_str().unwrap().starts_with(&format!("{op}/")),
            "{j}"
        );
    }
    // `repairJobs` is as it was: every repair Job of the cluster, whatever its operation.
    assert!(!v["repairJobs"].as_array().unwrap().is_empty());
    sim.shutdown().await;
}

/// Another OpenBaoCluster in `namespace`, created through the API like any client would;
/// with `break_glass_at`, its status says break glass is active since then.
pub(crate) async fn add_cluster(
    sim: &breakglass::sim::run::SimHandle,
    namespace: &str,
    name: &str,
    break_glass_at: Option<&str>,
) {
    use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
    let conn = sim.connect().await.unwrap();
    let resource = breakglass::sources::watch::cluster_resource();
    // The seeded cluster's spec: valid for the CRD's schema as served.
    let seeded: Api<DynamicObject> =
        Api::namespaced_with(conn.client.clone(), &sim.namespace, &resource);
    let spec = seeded.get(&sim.cluster).await.unwrap().data["spec"].clone();
    let api: Api<DynamicObject> = Api::namespaced_with(conn.client, namespace, &resource);
    let obj: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
    let status = match break_glass_at {
        Some(at) => serde_json::json!({"status": {"phase": "Upgrading",
            "breakGlass": {"active": true, "reason": "RollbackConsensusRepairFailed",
                "nonce": format!("nonce-{name}"), "enteredAt": at},
            "blueGreen": {"phase": "RollingBack", "rollbackAttempt": 1}}}),
        None => serde_json::json!({"status": {"phase": "Running"}}),
    };
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

fn status_list(kc: &std::path::Path, args: &[&str]) -> std::process::Output {
    breakglass()
        .args(["status", "--kubeconfig"])
        .arg(kc)
        .args(args)
        .output()
        .unwrap()
}

/// `status -A` lists every OpenBaoCluster (break glass first) and exits 3 when any is in
/// break glass; without CLUSTER and -A it lists the namespace; a denied list says which
/// permission is missing and exits 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_without_a_cluster_lists_the_clusters_of_the_scope() {
    use breakglass::sim::store::Resource;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let sim = simulated("persistent", &kc).await;
    add_cluster(&sim, "team-b", "calm", None).await;
    add_cluster(&sim, "team-c", "second", Some("2020-01-01T00:00:00Z")).await;
    let kc2 = kc.clone();
    let out = tokio::task::spawn_blocking(move || status_list(&kc2, &["-A", "-o", "json"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["allNamespaces"], true);
    assert_eq!(v["breakGlassActive"], 2);
    let names: Vec<&str> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    // The longest-waiting break glass first, the calm cluster last.
    assert_eq!(names, ["second", sim.cluster.as_str(), "calm"], "{v:#}");
    assert_eq!(v["clusters"][0]["rollbackAttempt"], 1);

    let kc2 = kc.clone();
    let out = tokio::task::spawn_blocking(move || status_list(&kc2, &["-n", "team-b"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("NAMESPACE"), "{text}");
    assert!(text.contains("calm") && !text.contains("second"), "{text}");
    assert!(
        text.ends_with("0 of 1 in break glass (namespace \"team-b\").\n"),
        "{text}"
    );

    sim.controls()
        .deny("viewer", "list", Resource::OpenBaoClusters);
    let kc2 = kc.clone();
    let out =
        tokio::task::spawn_blocking(move || status_list(&kc2, &["--context", "sim-viewer", "-A"]))
            .await
            .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs `list` on openbaoclusters.openbao.org at cluster scope"),
        "{stderr}"
    );
    sim.shutdown().await;
}

/// The console without CLUSTER on a real pty: one break glass in the namespace is opened
/// directly (the header says why); with -A and two in break glass, the picker lists them,
/// the longest waiting first, and Enter opens the selected one.
#[test]
fn without_a_cluster_the_console_opens_the_incident_or_offers_a_picker() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let sim = rt.block_on(simulated("persistent", &kc));
    rt.block_on(add_cluster(&sim, &sim.namespace, "calm", None));
    let kc_arg = kc.display().to_string();

    let t = tmux::Tmux::start(160, 40, &["--kubeconfig", &kc_arg]);
    let screen = t.wait_for("opened: the only one in break glass");
    assert!(screen.contains(&sim.cluster), "{screen}");
    t.wait_for("BREAK GLASS");
    t.keys(&["q"]);
    assert_eq!(t.wait_dead(), "0");
    t.assert_restored();

    rt.block_on(add_cluster(
        &sim,
        "team-c",
        "second",
        Some("2020-01-01T00:00:00Z"),
    ));
    let t = tmux::Tmux::start(160, 40, &["--kubeconfig", &kc_arg, "-A"]);
    let screen = t.wait_for("pick the incident");
    assert!(
        screen.contains("3 OpenBaoClusters in all namespaces, 2 in break glass"),
        "{screen}"
    );
    assert!(
        screen.contains("▶ team-c"),
        "the oldest break glass is selected first:\n{screen}"
    );
    t.keys(&["Down", "Enter"]);
    let screen = t.wait_for("picked from all namespaces");
    assert!(screen.contains(&sim.cluster), "{screen}");
    t.keys(&["q"]);
    assert_eq!(t.wait_dead(), "0");
    t.assert_restored();
    rt.block_on(sim.shutdown());
}

/// As a kubectl plugin: a link named `kubectl-breakglass` on PATH makes `kubectl breakglass`
/// work with the same flags and exit status; help names the plugin form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_breakglass_runs_the_plugin_with_the_same_flags() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_breakglass"),
        bin.join("kubectl-breakglass"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kc = dir.path().join("kubeconfig");
    let sim = simulated("persistent", &kc).await;
    let out = tokio::task::spawn_blocking(move || {
        let kubectl = |args: &[&str]| {
            Command::new("kubectl")
                .env("PATH", &path)
                .args(args)
                .output()
                .expect("kubectl must be installed (bash .ci/test installs it)")
        };
        let help = kubectl(&["breakglass", "--help"]);
        let status = kubectl(&[
            "breakglass",
            "status",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "-A",
        ]);
        (help, status)
    })
    .await
    .unwrap();
    let (help, status) = out;
    let help_text = String::from_utf8_lossy(&help.stdout);
    assert!(
        help_text.contains("Usage: kubectl breakglass"),
        "{help_text}"
    );
    assert_eq!(status.status.code(), Some(3), "{status:?}");
    assert!(String::from_utf8_lossy(&status.stdout).contains(&sim.cluster));
    sim.shutdown().await;
}
