//! The simulator with a token file for its OpenBao nodes (real or simulated), a kube-rs
//! client through its kubeconfig, and the console's node access: what the Raft tests share.

use breakglass::sim::real_nodes::{RealNodes, SimOptions};
use breakglass::sim::run::{SimHandle, start_with};
use breakglass::sources::connect::{Target, connect};
use breakglass::sources::openbao_access::{AccessOptions, node_access};
use breakglass::sources::openbao_http::NodeAccess;
use kube::Client;

pub struct NodeSetup {
    pub sim: SimHandle,
    pub client: Client,
    pub kubeconfig: std::path::PathBuf,
    pub token_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The `transient` scenario at speed 1 with `real_nodes`, its root token written to a file.
pub async fn start(real_nodes: RealNodes) -> NodeSetup {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let token_file = dir.path().join("openbao-token");
    let sim = start_with(
        "transient",
        1.0,
        &kubeconfig,
        SimOptions {
            real_nodes,
            token_file: Some(token_file.clone()),
            ..SimOptions::default()
        },
    )
    .await
    .expect("simulator");
    let client = connect(&Target {
        kubeconfig: Some(kubeconfig.clone()),
        ..Target::default()
    })
    .await
    .expect("kubeconfig")
    .client;
    NodeSetup {
        sim,
        client,
        kubeconfig,
        token_file,
        _dir: dir,
    }
}

impl NodeSetup {
    /// How the console reaches the nodes, with the token file.
    pub async fn access(&self) -> NodeAccess {
        let options = AccessOptions {
            token_file: Some(self.token_file.clone()),
            ..AccessOptions::default()
        };
        node_access(
            &self.client,
            &self.sim.namespace,
            &self.sim.cluster,
            &options,
            None,
        )
        .await
        .expect("access")
    }
}
