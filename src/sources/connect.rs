//! Building a kube-rs `Client` from a kubeconfig, the one way breakglass reaches any
//! cluster (real, demo or test). Errors name the file and context so a tired human can fix
//! them.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Per-request deadlines of every API call (see `connect`).
pub(crate) const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
pub(crate) const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);
pub(crate) const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read kubeconfig {path}: {detail}")]
    Kubeconfig { path: String, detail: String },
    #[error(
        "no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config ({detail})"
    )]
    NoKubeconfig { detail: String },
    #[error("context {context:?} is not in {path} (contexts: {available})")]
    UnknownContext {
        context: String,
        path: String,
        available: String,
    },
    #[error("kubeconfig {path} cannot be used: {detail}")]
    Config { path: String, detail: String },
}

/// Where to connect: the command line's `--kubeconfig`, `--context`, `-n`.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// A client plus what the user should see about where it points.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    /// The namespace to use: `-n`, else the context's, else `default` (like kubectl).
    pub namespace: String,
    /// The context's name, for the header.
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// The kubeconfig user of the context (the identity when SelfSubjectReview is not served).
    pub user: String,
    /// `-A`: the console was opened on every namespace, so other clusters entering break
    /// glass are watched in every namespace, not only in `namespace` ([`Connection::scope`]).
    pub all_namespaces: bool,
}

impl Connection {
    /// Where other OpenBaoClusters are looked for and watched: the namespace, or all.
    pub fn scope(&self) -> crate::domain::discovery::Scope {
        use crate::domain::discovery::Scope;
        if self.all_namespaces {
            Scope::All
        } else {
            Scope::Namespace(self.namespace.clone())
        }
    }
}

fn describe(path: Option<&Path>) -> String {
    match path {
        Some(p) => p.display().to_string(),
        None => std::env::var("KUBECONFIG").unwrap_or_else(|_| "~/.kube/config".into()),
    }
}

/// The context the console uses and its kubeconfig user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub context: String,
    /// The context's user entry's name (empty when the context names none).
    pub user: String,
}

/// The console's own reading of a parsed kubeconfig: `wanted` (`--context`), else its
/// current context, which must be one of its contexts (else the error lists them; `path`
/// names the file). Pure: it builds no client and runs no credential plugin (kube-rs runs
/// a context's `exec` only when the client is built from it, in [`connect`]), so it can
/// be fuzzed (`fuzz/fuzz_targets/kubeconfig.rs`).
pub fn choose_context(
    kubeconfig: &Kubeconfig,
    wanted: Option<&str>,
    path: &str,
) -> Result<Chosen, ConnectError> {
    let context = wanted
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let Some(named) = kubeconfig.contexts.iter().find(|c| c.name == context) else {
        let available: Vec<_> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(ConnectError::UnknownContext {
            context,
            path: path.to_string(),
            available: if available.is_empty() {
                "none".into()
            } else {
                available.join(", ")
            },
        });
    };
    let user = named
        .context
        .as_ref()
        .and_then(|c| c.user.clone())
        .unwrap_or_default();
    Ok(Chosen { context, user })
}

/// Read the kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`) and build a
/// client for the chosen context. Does not contact the API server.
pub async fn connect(target: &Target) -> Result<Connection, ConnectError> {
    let path = describe(target.kubeconfig.as_deref());
    let kubeconfig = match &target.kubeconfig {
        Some(p) => Kubeconfig::read_from(p).map_err(|e| ConnectError::Kubeconfig {
            path: path.clone(),
            detail: e.to_string(),
        })?,
        None => Kubeconfig::read().map_err(|e| ConnectError::NoKubeconfig {
            detail: e.to_string(),
        })?,
    };
    let Chosen { context, user } = choose_context(&kubeconfig, target.context.as_deref(), &path)?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ConnectError::Config {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    // kube-rs would retry 429/503/504 for minutes (a pod proxy to a down OpenBao pod is a
    // 503): the sources back off and report staleness themselves, and a mutation must
    // never be resent behind the user's back.
    config.default_retry = false;
    // Every read has a deadline (kube-rs has none by default): a hung API server must
    // surface as an error, not as a request waiting forever. The read timeout counts from
    // the request (not from when a pooled connection went idle); it is longer than a
    // watch's server-side timeout (`watch::WATCH_TIMEOUT_SECS`), and the log follower
    // re-opens a quiet stream before it (`logfollow`).
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    config.write_timeout = Some(WRITE_TIMEOUT);
    config.reset_reader_on_write = true;
    let namespace = target
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config.cluster_url.to_string();
    // After a 401 nothing more is sent (`liveness_auth`).
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| ConnectError::Config {
            path,
            detail: e.to_string(),
        })?
        .with_layer(&super::liveness_auth::StopAfter401::default())
        .build();
    Ok(Connection {
        client,
        namespace,
        context,
        server,
        user,
        all_namespaces: false,
    })
}

/// One line for a kube error, with what the user can do about the common ones.
pub fn explain(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) if s.code == 403 => {
            format!("RBAC denied (403): {} — see README \"RBAC\"", s.message)
        }
        // The client sends nothing more after a 401 (`liveness_auth`): say so.
        kube::Error::Api(s) if s.code == 401 => {
            format!(
                "not authenticated (401): {} — {}, nothing is sent: renew the kubeconfig's credentials and restart breakglass",
                s.message,
                super::liveness::READS_STOPPED
            )
        }
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        kube::Error::Service(e) if e.is::<super::liveness_auth::StoppedAfter401>() => e.to_string(),
        kube::Error::HyperError(e) => format!("API server unreachable: {e}"),
        kube::Error::Service(e) => format!("API server unreachable: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_kubeconfig_names_the_file() {
        let t = Target {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..Default::default()
        };
        let e = connect(&t).await.err().unwrap().to_string();
        assert!(e.contains("/nonexistent/kubeconfig"), "{e}");
    }

    const TWO: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: real\n  context: {cluster: c, user: u}\n- name: bare\ncurrent-context: real\n";

    #[test]
    fn the_current_context_unless_one_is_asked_for() {
        let kc = Kubeconfig::from_yaml(TWO).unwrap();
        let chosen = choose_context(&kc, None, "kc").unwrap();
        assert_eq!(
            (chosen.context.as_str(), chosen.user.as_str()),
            ("real", "u")
        );
        // A context without a body (or without a user) is chosen with no user.
        let chosen = choose_context(&kc, Some("bare"), "kc").unwrap();
        assert_eq!(
            (chosen.context.as_str(), chosen.user.as_str()),
            ("bare", "")
        );
        let e = choose_context(&kc, Some("prod"), "kc")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"prod\"") && e.contains("real, bare"), "{e}");
    }

    #[test]
    fn no_current_context_and_no_contexts_is_said() {
        let kc = Kubeconfig::from_yaml("apiVersion: v1\nkind: Config\n").unwrap();
        let e = choose_context(&kc, None, "kc").unwrap_err().to_string();
        assert!(e.contains("\"\"") && e.contains("contexts: none"), "{e}");
    }

    #[tokio::test]
    async fn an_unknown_context_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kc");
        std::fs::write(
            &p,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: real\n  context: {cluster: c, user: u}\ncurrent-context: real\n",
        )
        .unwrap();
        let t = Target {
            kubeconfig: Some(p),
            context: Some("prod".into()),
            ..Default::default()
        };
        let e = connect(&t).await.err().unwrap().to_string();
        assert!(e.contains("\"prod\"") && e.contains("real"), "{e}");
    }
}
