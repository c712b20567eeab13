//! One call that brings the whole simulator up for the demo and end-to-end tests: a store
//! seeded from a scenario, the operator twin, the HTTPS API server with the simulated OpenBao
//! behind its pod proxy, and a kubeconfig for the console (and `kubectl`) to use.
//!
//! `start` → [`SimHandle`] → `shutdown`. Nothing here is used by the live code paths.
//!
//! [`start_with`] can put real `bao` nodes behind the pod proxy (`sim::real_nodes`); plain
//! [`start`] keeps the simulated endpoints, which come up at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::bao::BaoError;
use super::real_nodes::{
    RealCluster, RealNodes, SimOptions, SwitchProxy, Tasks, annotate_pods, wanted,
};
use super::scenario::Topology;
use super::scenario::{Scenario, ScenarioError};
use super::server::{Controls, RunningServer, ServeOptions, SimError, serve};
use super::store::{ApiError, Store};
use super::twin::{TwinHandle, model_for, spawn};
use super::twin_seed::{Seeded, seed};
use crate::domain::token::OpenBaoToken;

/// Why the simulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("seeding the store failed: {0}")]
    Seed(#[from] ApiError),
    #[error(transparent)]
    Server(#[from] SimError),
    #[error("real OpenBao nodes: {0}")]
    RealNodes(#[from] BaoError),
    #[error("cannot write the token file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Write `token` to `path` with mode 0600, atomically (a reader never sees half a token).
pub(crate) fn write_token_file(path: &Path, token: &OpenBaoToken) -> Result<(), StartError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| StartError::TokenFile {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(token.expose().as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// The real cluster once it is up (shared with the background start-up of `Auto`).
type RealSlot = Arc<Mutex<Option<Arc<RealCluster>>>>;

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
    real: RealSlot,
    /// The background start-up of `Auto` (aborted with the handle).
    real_start: Tasks,
}

impl SimHandle {
    /// Connect as the console does, through the kubeconfig the simulator wrote.
    pub async fn connect(
        &self,
    ) -> Result<crate::sources::connect::Connection, crate::sources::connect::ConnectError> {
        crate::sources::connect::connect(&crate::sources::connect::Target {
            kubeconfig: Some(self.kubeconfig.clone()),
            ..Default::default()
        })
        .await
    }

    /// Test controls of the API server (fault injection, denials, request log).
    pub fn controls(&self) -> Controls {
        self.server.controls()
    }

    pub fn twin(&self) -> &TwinHandle {
        &self.twin
    }

    /// The real OpenBao nodes behind the pod proxy, once they are up (None: simulated).
    pub fn real_nodes(&self) -> Option<Arc<RealCluster>> {
        self.real
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stop the twin, then the server (ending open watches and log streams), then any real
    /// nodes (every process killed, their directory removed).
    pub async fn shutdown(self) {
        self.real_start.stop().await;
        self.twin.stop().await;
        self.server.shutdown().await;
        let real = self
            .real
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(real) = real.and_then(Arc::into_inner) {
            let _ = real.shutdown().await;
        }
    }
}

/// Start scenario `scenario` at `speed` with simulated OpenBao endpoints and write the
/// kubeconfig (contexts `sim` = admin, `sim-viewer` = read-only; namespace = the
/// scenario's) to `kubeconfig_out`.
pub async fn start(
    scenario: &str,
    speed: f64,
    kubeconfig_out: &Path,
) -> Result<SimHandle, StartError> {
    start_with(scenario, speed, kubeconfig_out, SimOptions::default()).await
}

/// [`start`], choosing what answers behind the pod proxy: with [`RealNodes::Always`] this
/// returns once the real nodes are up (or fails); with [`RealNodes::Auto`] they start in the
/// background when `bao` is found and take over the pod proxy when ready.
pub async fn start_with(
    scenario: &str,
    speed: f64,
    kubeconfig_out: &Path,
    options: SimOptions,
) -> Result<SimHandle, StartError> {
    let scenario = Scenario::named(scenario)?
        .with_operator(options.operator)?
        .with_speed(speed)?;
    let topo = Topology::of(&scenario);
    let real_wanted = wanted(options.real_nodes)?;
    let store = Store::for_operator(options.operator);
    let seeded = seed(&store, &scenario, &model_for(&scenario))?;
    let twin = spawn(store.clone(), scenario.clone());
    let proxy = SwitchProxy::new(twin.proxy());
    if let Some(f) = &options.token_file {
        let token = twin.openbao().model().root_token().clone();
        write_token_file(f, &token)?;
    }
    let real: RealSlot = Arc::default();
    annotate_pods(&store, &topo, "simulated");
    let real_start = Tasks::default();
    if real_wanted {
        let attach = {
            let (store, topo, proxy, real) =
                (store.clone(), topo.clone(), proxy.clone(), real.clone());
            let driver = twin.raft_driver().clone();
            let token_file = options.token_file.clone();
            move |cluster: RealCluster| {
                if let (Some(f), Some(token)) = (&token_file, cluster.cluster().root_token())
                    && let Err(e) = write_token_file(f, &token)
                {
                    tracing::warn!("{e}");
                }
                let cluster = Arc::new(cluster);
                proxy.switch(Arc::new(cluster.proxy(&topo.namespace)));
                driver.attach(cluster.clone());
                *real.lock().unwrap_or_else(PoisonError::into_inner) = Some(cluster);
                annotate_pods(&store, &topo, "real");
            }
        };
        if options.real_nodes == RealNodes::Always {
            attach(RealCluster::start(&scenario, &topo).await?);
        } else {
            let (scenario, topo) = (scenario.clone(), topo.clone());
            real_start.push(tokio::spawn(async move {
                match RealCluster::start(&scenario, &topo).await {
                    Ok(cluster) => attach(cluster),
                    Err(e) => tracing::warn!("real OpenBao nodes did not start: {e}"),
                }
            }));
        }
    }
    let server = serve(
        store.clone(),
        ServeOptions {
            proxy: Some(Arc::new(proxy)),
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
        real,
        real_start,
    })
}
