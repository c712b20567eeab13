//! A second kube-apiserver for the operator's 0.6 CRDs. Both CRD generations define the same
//! names at the same version, so one server holds one generation; this one stores under
//! `--etcd-prefix=/registry-06` in the rig's etcd, listens on 198.51.100.4 (same CA, serving
//! certificate, tokens and RBAC mode as the main server) and gets `assets/crds/0.6/*.yaml`.
//!
//! It is started by the first case that asks for it ([`Rig::v06`]) and stopped with the
//! rest of the rig. Only one controller runs for it: the ServiceAccount controller of a
//! kube-controller-manager (`--controllers=serviceaccount`), which makes each namespace's
//! `default` ServiceAccount (admission refuses pods without it). No kubelet, scheduler or
//! Job controller: the 0.6 cases read and write objects only.

use std::path::PathBuf;

use kube::Client;

use super::rig::{APISERVER06_IP, Rig, RigError, USERS, client_of, component_args, free_port};

impl Rig {
    /// The 0.6 server's URL; started (with its CRDs installed) on first use.
    pub async fn v06(&self) -> Result<&str, RigError> {
        self.v06
            .get_or_try_init(|| self.start_v06())
            .await
            .map(String::as_str)
    }

    /// The kubeconfig of `user` on the 0.6 server.
    pub fn kubeconfig06(&self, user: &str) -> PathBuf {
        self.dir.join(format!("kubeconfig-06-{user}"))
    }

    /// A kubeconfig of `user` on the 0.6 server whose context namespace is `namespace`.
    pub async fn kubeconfig06_in(&self, user: &str, namespace: &str) -> Result<PathBuf, RigError> {
        let server = self.v06().await?.to_string();
        let path = self.dir.join(format!("kubeconfig-06-{user}-{namespace}"));
        self.write_kubeconfig(&path, &server, user, namespace)?;
        Ok(path)
    }

    /// A client of `user` on the 0.6 server (the console's own `connect`).
    pub async fn client06(&self, user: &str) -> Result<Client, RigError> {
        self.v06().await?;
        client_of(&self.kubeconfig06(user)).await
    }

    async fn start_v06(&self) -> Result<String, RigError> {
        let port = free_port(APISERVER06_IP)?;
        let server = format!("https://{APISERVER06_IP}:{port}");
        self.spawn(
            "kube-apiserver-06",
            "kube-apiserver",
            &self.apiserver_args(APISERVER06_IP, port, "/registry-06"),
        )?;
        for (user, _, _) in USERS {
            self.write_kubeconfig(&self.kubeconfig06(user), &server, user, "default")?;
        }
        let admin = client_of(&self.kubeconfig06("admin")).await?;
        self.wait_readyz(&admin, "kube-apiserver-06").await?;
        let kc = self.kubeconfig06("admin").display().to_string();
        let args = component_args(&kc, &["--controllers", "serviceaccount"])?;
        self.spawn(
            "kube-controller-manager-06",
            "kube-controller-manager",
            &args,
        )?;
        let files = super::kube::install_crds(&admin, "0.6").await?;
        println!(
            "  0.6 server up at {server}; CRDs installed: {}",
            files.join(", ")
        );
        Ok(server)
    }
}
