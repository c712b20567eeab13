//! The real control plane inside the test's own network namespace: etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok (the kubelet), with generated
//! certificates, static tokens for `admin` (system:masters), `viewer` and `responder`, and a
//! kubeconfig per user.
//!
//! Addresses (all in 198.51.100.0/24, routed `local` on lo inside the namespace):
//! `.1` kube-apiserver (advertise + bind), `.2` the kwok node (InternalIP, kubelet API),
//! `.16/28` the service range (the `kubernetes` Service gets `.17`), `.128/25` pod IPs.
//! etcd and the controllers' own health ports stay on 127.0.0.1. `.4` is a second
//! kube-apiserver holding the 0.6 CRDs (`rig06.rs`), started when a case first asks for it.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use breakglass::sim::tls::{KubeconfigContext, kubeconfig_yaml};
use breakglass::sources::connect::{Target, connect};
use kube::Client;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::process::{Child, Command};

pub const RANGE: &str = "198.51.100.0/24";
pub const APISERVER_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const NODE_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
pub const APISERVER06_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 4);
pub const SERVICE_RANGE: &str = "198.51.100.16/28";
pub const POD_CIDR: &str = "198.51.100.128/25";
pub const NODE_NAME: &str = "kwok-node";

pub const USERS: [(&str, &str, &str); 3] = [
    ("admin", "admin-token-rig", "system:masters"),
    ("viewer", "viewer-token-rig", ""),
    ("responder", "responder-token-rig", ""),
];

/// A rig error: what failed, and the tail of the component's log when one is involved.
#[derive(Debug)]
pub struct RigError(pub String);

impl std::fmt::Display for RigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(super) fn err(what: &str, e: impl std::fmt::Display) -> RigError {
    RigError(format!("{what}: {e}"))
}

/// One running component; killed on drop (and with the namespace's pid 1 in any case).
struct Component {
    name: &'static str,
    bin: String,
    args: Vec<String>,
    child: Child,
    log: PathBuf,
}

pub struct Rig {
    pub dir: PathBuf,
    pub tools: PathBuf,
    pub server: String,
    pub ca_pem: String,
    pub version: String,
    /// etcd's client URL (both API servers use it, under their own prefixes).
    pub etcd_url: String,
    /// The 0.6 server's URL once started (`rig06.rs`).
    pub(super) v06: tokio::sync::OnceCell<String>,
    components: Mutex<Vec<Component>>,
}

/// The flags every control-plane component run by the rig shares: the admin kubeconfig for
/// its API access, authentication and authorization, a free loopback serving port, no
/// leader election. The caller appends its own.
pub fn component_args(kubeconfig: &str, own: &[&str]) -> Result<Vec<String>, RigError> {
    let port = free_port(Ipv4Addr::LOCALHOST)?.to_string();
    let mut args: Vec<String> = [
        "--kubeconfig",
        kubeconfig,
        "--authentication-kubeconfig",
        kubeconfig,
        "--authorization-kubeconfig",
        kubeconfig,
        "--bind-address",
        "127.0.0.1",
        "--secure-port",
        &port,
        "--leader-elect=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(own.iter().map(|s| s.to_string()));
    Ok(args)
}

pub fn free_port(ip: Ipv4Addr) -> Result<u16, RigError> {
    let l = TcpListener::bind(SocketAddr::from((ip, 0))).map_err(|e| err("free port", e))?;
    Ok(l.local_addr().map_err(|e| err("free port", e))?.port())
}

struct Pki {
    ca_pem: String,
    ca_key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn pki() -> Result<Pki, RigError> {
    let key = KeyPair::generate().map_err(|e| err("CA key", e))?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| err("CA", e))?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "breakglass-real-apiserver-ca");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).map_err(|e| err("CA", e))?;
    let ca_key_pem = key.serialize_pem();
    Ok(Pki {
        ca_pem: cert.pem(),
        ca_key_pem,
        issuer: Issuer::new(params, key),
    })
}

/// A serving certificate for `sans` signed by the rig's CA: (cert PEM, key PEM).
fn serving(pki: &Pki, cn: &str, sans: &[&str]) -> Result<(String, String), RigError> {
    let key = KeyPair::generate().map_err(|e| err("key", e))?;
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .map_err(|e| err("cert", e))?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let cert = params
        .signed_by(&key, &pki.issuer)
        .map_err(|e| err("cert", e))?;
    Ok((cert.pem(), key.serialize_pem()))
}

pub fn write(path: &Path, text: &str) -> Result<(), RigError> {
    std::fs::write(path, text).map_err(|e| err(&path.display().to_string(), e))
}

impl Rig {
    /// The file kwok serves as the log of every container in `namespace`.
    pub fn log_file(&self, namespace: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{namespace}.log"))
    }

    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.dir.join(format!("kubeconfig-{user}"))
    }

    /// A kubeconfig for `user` whose context namespace is `namespace`.
    pub fn kubeconfig_in(&self, user: &str, namespace: &str) -> Result<PathBuf, RigError> {
        let path = self.dir.join(format!("kubeconfig-{user}-{namespace}"));
        self.write_kubeconfig(&path, &self.server, user, namespace)?;
        Ok(path)
    }

    /// Write a kubeconfig for `user` of the server at `server` into `path`.
    pub fn write_kubeconfig(
        &self,
        path: &Path,
        server: &str,
        user: &str,
        namespace: &str,
    ) -> Result<(), RigError> {
        let token = USERS
            .iter()
            .find(|u| u.0 == user)
            .map(|u| u.1)
            .ok_or_else(|| RigError(format!("no user {user}")))?;
        let yaml = kubeconfig_yaml(
            server,
            &self.ca_pem,
            &[KubeconfigContext {
                context: user.into(),
                user: user.into(),
                token: token.into(),
                namespace: namespace.into(),
            }],
        );
        write(path, &yaml)
    }

    /// A client for `user`, made by the console's own `connect` (no kube-rs retries: a 503
    /// from the pod proxy is an answer, not something to retry for minutes).
    pub async fn client(&self, user: &str) -> Result<Client, RigError> {
        client_of(&self.kubeconfig(user)).await
    }

    fn components(&self) -> std::sync::MutexGuard<'_, Vec<Component>> {
        self.components
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn spawn(
        &self,
        name: &'static str,
        bin: &str,
        args: &[String],
    ) -> Result<(), RigError> {
        let log = self.dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| err("log file", e))?;
        let errf = out.try_clone().map_err(|e| err("log file", e))?;
        let child = Command::new(self.tools.join(bin))
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(errf)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| err(&format!("start {name}"), e))?;
        self.components().push(Component {
            name,
            bin: bin.to_string(),
            args: args.to_vec(),
            child,
            log,
        });
        Ok(())
    }

    /// Kill component `name` and start it again with the same arguments (a kubelet restart,
    /// for instance: every log stream it serves is cut).
    pub async fn restart(&self, name: &str) -> Result<(), RigError> {
        let old = {
            let mut cs = self.components();
            let i = cs
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| RigError(format!("no component {name}")))?;
            cs.remove(i)
        };
        let Component {
            name,
            bin,
            args,
            mut child,
            ..
        } = old;
        let _ = child.kill().await;
        self.spawn(name, &bin, &args)
    }

    /// Fail with the component's log tail if any component has exited.
    pub fn check_alive(&self) -> Result<(), RigError> {
        for c in self.components().iter_mut() {
            if let Ok(Some(status)) = c.child.try_wait() {
                return Err(RigError(format!(
                    "{} exited ({status}); last lines of its log:\n{}",
                    c.name,
                    tail(&c.log, 25)
                )));
            }
        }
        Ok(())
    }

    /// Start everything and wait until the API server is ready, the node is Ready and the
    /// controller-manager has made the `default` ServiceAccount.
    pub async fn start(
        dir: PathBuf,
        tools: PathBuf,
        namespaces: &[String],
    ) -> Result<Rig, RigError> {
        let pki = pki()?;
        std::fs::create_dir_all(dir.join("logs")).map_err(|e| err("logs dir", e))?;
        let p = |name: &str| dir.join(name).display().to_string();
        write(&dir.join("ca.crt"), &pki.ca_pem)?;
        write(&dir.join("ca.key"), &pki.ca_key_pem)?;
        let (api_crt, api_key) = serving(
            &pki,
            "kube-apiserver",
            &[
                "198.51.100.1",
                "198.51.100.4",
                "198.51.100.17",
                "127.0.0.1",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
            ],
        )?;
        write(&dir.join("apiserver.crt"), &api_crt)?;
        write(&dir.join("apiserver.key"), &api_key)?;
        let (kwok_crt, kwok_key) = serving(&pki, NODE_NAME, &["198.51.100.2"])?;
        write(&dir.join("kwok.crt"), &kwok_crt)?;
        write(&dir.join("kwok.key"), &kwok_key)?;
        let sa = KeyPair::generate().map_err(|e| err("SA key", e))?;
        write(&dir.join("sa.key"), &sa.serialize_pem())?;
        write(&dir.join("sa.pub"), &sa.public_key_pem())?;
        let tokens: String = USERS
            .iter()
            .map(|(user, token, group)| {
                if group.is_empty() {
                    format!("{token},{user},{user}\n")
                } else {
                    format!("{token},{user},{user},\"{group}\"\n")
                }
            })
            .collect();
        write(&dir.join("tokens.csv"), &tokens)?;
        write(
            &dir.join("kwok.yaml"),
            &super::kwok::config(&dir, namespaces),
        )?;

        let etcd_client = free_port(Ipv4Addr::LOCALHOST)?;
        let etcd_peer = free_port(Ipv4Addr::LOCALHOST)?;
        let api_port = free_port(APISERVER_IP)?;
        let kubelet_port = free_port(NODE_IP)?;
        let server = format!("https://{APISERVER_IP}:{api_port}");
        for (user, token, _) in USERS {
            let yaml = kubeconfig_yaml(
                &server,
                &pki.ca_pem,
                &[KubeconfigContext {
                    context: user.into(),
                    user: user.into(),
                    token: token.into(),
                    namespace: "default".into(),
                }],
            );
            write(&dir.join(format!("kubeconfig-{user}")), &yaml)?;
        }
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let mut rig = Rig {
            dir: dir.clone(),
            tools,
            server,
            ca_pem: pki.ca_pem.clone(),
            version: String::new(),
            etcd_url: etcd_url.clone(),
            v06: tokio::sync::OnceCell::new(),
            components: Mutex::new(Vec::new()),
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let peer_url = format!("http://127.0.0.1:{etcd_peer}");
        rig.spawn(
            "etcd",
            "etcd",
            &s(&[
                "--data-dir",
                &p("etcd"),
                "--listen-client-urls",
                &etcd_url,
                "--advertise-client-urls",
                &etcd_url,
                "--listen-peer-urls",
                &peer_url,
                "--initial-advertise-peer-urls",
                &peer_url,
                "--initial-cluster",
                &format!("default={peer_url}"),
                "--listen-metrics-urls",
                &format!("http://127.0.0.1:{}", free_port(Ipv4Addr::LOCALHOST)?),
                "--log-level",
                "warn",
            ]),
        )?;
        rig.spawn(
            "kube-apiserver",
            "kube-apiserver",
            &rig.apiserver_args(APISERVER_IP, api_port, "/registry"),
        )?;
        let admin = rig.client("admin").await?;
        rig.wait_ready(&admin).await?;
        // kwok's Logs CRD first: kwok reads per-pod Logs objects from the API (--enable-crds).
        for doc in super::kube::documents(&rig.tools.join("kwok.x-k8s.io_logs.yaml"))? {
            super::kube::apply(&admin, &doc, None).await?;
        }
        super::kube::wait_servable(&admin, "kwok.x-k8s.io", "v1alpha1", "Logs", "logs").await?;
        let kc = p("kubeconfig-admin");
        rig.spawn(
            "kube-controller-manager",
            "kube-controller-manager",
            &component_args(
                &kc,
                &[
                    "--controllers",
                    // The StatefulSets' pods are the twin's simulated OpenBao nodes, which it
                    // seeds and plays itself (README "Real kube-apiserver tests").
                    "*,-statefulset",
                    // kwok renews kwok-node's lease more slowly than the default 50 s grace: the
                    // node flapped NotReady every ~55 s, which marks its pods NotReady for good
                    // (kwok never makes them Ready again); twin-node has no kubelet at all. Both
                    // stay as they are for longer than the suite runs.
                    "--node-monitor-grace-period",
                    "10m",
                    "--node-startup-grace-period",
                    "10m",
                    "--use-service-account-credentials",
                    "--service-account-private-key-file",
                    &p("sa.key"),
                    "--root-ca-file",
                    &p("ca.crt"),
                    "--cluster-signing-cert-file",
                    &p("ca.crt"),
                    "--cluster-signing-key-file",
                    &p("ca.key"),
                ],
            )?,
        )?;
        rig.spawn(
            "kube-scheduler",
            "kube-scheduler",
            &component_args(&kc, &[])?,
        )?;
        rig.spawn(
            "kwok",
            "kwok",
            &s(&[
                "--kubeconfig",
                &kc,
                "--config",
                &p("kwok.yaml"),
                "--manage-nodes-with-annotation-selector",
                "kwok.x-k8s.io/node=fake",
                "--cidr",
                POD_CIDR,
                "--node-ip",
                &NODE_IP.to_string(),
                "--node-port",
                &kubelet_port.to_string(),
                "--server-address",
                &format!("{NODE_IP}:{kubelet_port}"),
                "--tls-cert-file",
                &p("kwok.crt"),
                "--tls-private-key-file",
                &p("kwok.key"),
                "--enable-crds",
                "Logs",
            ]),
        )?;
        super::kube::create_node(&admin).await?;
        rig.wait_controllers(&admin).await?;
        Ok(rig)
    }

    /// The arguments of a kube-apiserver on `ip:port` storing under `etcd_prefix`.
    pub(super) fn apiserver_args(&self, ip: Ipv4Addr, port: u16, etcd_prefix: &str) -> Vec<String> {
        let p = |name: &str| self.dir.join(name).display().to_string();
        [
            "--etcd-servers",
            &self.etcd_url,
            "--etcd-prefix",
            etcd_prefix,
            "--bind-address",
            &ip.to_string(),
            "--advertise-address",
            &ip.to_string(),
            "--secure-port",
            &port.to_string(),
            "--tls-cert-file",
            &p("apiserver.crt"),
            "--tls-private-key-file",
            &p("apiserver.key"),
            "--client-ca-file",
            &p("ca.crt"),
            "--token-auth-file",
            &p("tokens.csv"),
            "--authorization-mode",
            "Node,RBAC",
            "--service-account-issuer",
            "https://kubernetes.default.svc",
            "--service-account-key-file",
            &p("sa.pub"),
            "--service-account-signing-key-file",
            &p("sa.key"),
            "--service-cluster-ip-range",
            SERVICE_RANGE,
            "--kubelet-client-certificate",
            &p("apiserver.crt"),
            "--kubelet-client-key",
            &p("apiserver.key"),
            "--kubelet-preferred-address-types",
            "InternalIP",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    }

    /// Wait until the server `client` talks to answers `/readyz` with `ok`.
    pub(super) async fn wait_readyz(&self, client: &Client, log: &str) -> Result<(), RigError> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            self.check_alive()?;
            let req = http::Request::get("/readyz")
                .body(Vec::new())
                .map_err(|e| err("readyz", e))?;
            if let Ok(body) = client.request_text(req).await
                && body.trim() == "ok"
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(RigError(format!(
                    "{log} not ready after 90 s; log tail:\n{}",
                    tail(&self.dir.join(format!("{log}.log")), 25)
                )));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn wait_ready(&mut self, admin: &Client) -> Result<(), RigError> {
        self.wait_readyz(admin, "kube-apiserver").await?;
        let req = http::Request::get("/version")
            .body(Vec::new())
            .map_err(|e| err("version", e))?;
        let v: serde_json::Value = admin
            .request(req)
            .await
            .map_err(|e| err("GET /version", e))?;
        self.version = v["gitVersion"].as_str().unwrap_or_default().to_string();
        Ok(())
    }

    async fn wait_controllers(&mut self, admin: &Client) -> Result<(), RigError> {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            self.check_alive()?;
            let missing = super::kube::rig_not_ready(admin).await;
            match missing {
                None => return Ok(()),
                Some(what) if Instant::now() > deadline => {
                    return Err(RigError(format!(
                        "rig not ready after 90 s: {what}\nkube-controller-manager log tail:\n{}\nkwok log tail:\n{}",
                        tail(&self.dir.join("kube-controller-manager.log"), 15),
                        tail(&self.dir.join("kwok.log"), 15)
                    )));
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    /// Stop every component (SIGKILL; the data is throw-away) and wait for each.
    pub async fn stop(&self) {
        let all = std::mem::take(&mut *self.components());
        for mut c in all.into_iter().rev() {
            let _ = c.child.kill().await;
        }
    }
}

/// A client from a kubeconfig, made by the console's own `connect`.
pub async fn client_of(kubeconfig: &Path) -> Result<Client, RigError> {
    let target = Target {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        ..Target::default()
    };
    Ok(connect(&target)
        .await
        .map_err(|e| err("connect", e))?
        .client)
}

/// The last `n` lines of a log file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
