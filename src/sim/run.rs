//! One call that brings the whole simulator up for the demo and end-to-end tests: a store
//! seeded from a scenario, the operator twin, the HTTPS API server with the simulated OpenBao
//! behind its pod proxy, and a kubeconfig for the console (and `kubectl`) to use.
//!
//! `start` → [`SimHandle`] → `shutdown`. Nothing here is used by the live code paths.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::scenario::{Scenario, ScenarioError};
use super::server::{Controls, RunningServer, ServeOptions, SimError, serve};
use super::store::{ApiError, Store};
use super::twin::{TwinHandle, model_for, spawn};
use super::twin_seed::{Seeded, seed};

/// Why the simulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("seeding the store failed: {0}")]
    Seed(#[from] ApiError),
    #[error(transparent)]
    Server(#[from] SimError),
}

/// A running simulator. Dropping it stops the server and the twin too.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub namespace: String,
    pub cluster: String,
    pub kubeconfig: PathBuf,
    pub store: Arc<Store>,
    pub scenario: Scenario,
    /// The names and nonce seeding produced.
    pub seeded: Seeded,
    server: RunningServer,
    twin: TwinHandle,
}

impl SimHandle {
    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Test controls of the API server (fault injection, denials, request log).
    pub fn controls(&self) -> Controls {
        self.server.controls()
    }

    pub fn twin(&self) -> &TwinHandle {
        &self.twin
    }

    /// Stop the twin, then the server (ending open watches and log streams).
    pub async fn shutdown(self) {
        self.twin.stop().await;
        self.server.shutdown().await;
    }
}

/// Start scenario `scenario` at `speed` and write the kubeconfig (contexts `sim` = admin,
/// `sim-viewer` = read-only; namespace = the scenario's) to `kubeconfig_out`.
pub async fn start(
    scenario: &str,
    speed: f64,
    kubeconfig_out: &Path,
) -> Result<SimHandle, StartError> {
    let scenario = Scenario::named(scenario)?.with_speed(speed)?;
    let store = Store::new();
    let seeded = seed(&store, &scenario, &model_for(&scenario))?;
    let twin = spawn(store.clone(), scenario.clone());
    let server = serve(
        store.clone(),
        ServeOptions {
            proxy: Some(twin.proxy()),
            ..ServeOptions::default()
        },
    )
    .await?;
    server.write_kubeconfig(kubeconfig_out, &scenario.namespace)?;
    Ok(SimHandle {
        addr: server.addr,
        namespace: scenario.namespace.clone(),
        cluster: scenario.cluster.clone(),
        kubeconfig: kubeconfig_out.to_path_buf(),
        store,
        scenario,
        seeded,
        server,
        twin,
    })
}
