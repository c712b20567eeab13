//! A small HTTP/1.1 client for the OpenBao endpoints the real-node cluster uses, over plain
//! HTTP on loopback (`tls_disable = true` on the API listener).
//!
//! Built on hyper-util's pooled client (keep-alive matters for `write_load`). Every request
//! carries a timeout covering connect, headers and body: a SIGSTOPped node accepts the TCP
//! connection and never answers, so a request without one would hang forever.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::BaoError;
use crate::domain::token::OpenBaoToken;

/// Timeout for authenticated and control requests.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Bodies larger than this are refused (the endpoints used here answer a few KiB).
const MAX_BODY: usize = 4 << 20;

/// An HTTP answer as received: what the pod proxy passes through unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl RawResponse {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// `GET /v1/sys/leader` (OpenBao 2.7's recorded `sys/leader` answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderStatus {
    #[serde(default)]
    pub ha_enabled: bool,
    #[serde(default)]
    pub is_self: bool,
    #[serde(default)]
    pub active_time: Option<String>,
    #[serde(default)]
    pub leader_address: String,
    #[serde(default)]
    pub leader_cluster_address: String,
    #[serde(default)]
    pub raft_committed_index: u64,
    #[serde(default)]
    pub raft_applied_index: u64,
}

/// `GET /v1/sys/storage/raft/configuration`, `data.config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftConfiguration {
    pub servers: Vec<RaftServer>,
    #[serde(default)]
    pub index: u64,
}

impl RaftConfiguration {
    pub fn server(&self, node_id: &str) -> Option<&RaftServer> {
        self.servers.iter().find(|s| s.node_id == node_id)
    }

    /// Node ids of the voters.
    pub fn voters(&self) -> Vec<&str> {
        self.servers
            .iter()
            .filter(|s| s.voter)
            .map(|s| s.node_id.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftServer {
    pub node_id: String,
    /// The cluster (Raft) address.
    pub address: String,
    #[serde(default)]
    pub leader: bool,
    #[serde(default)]
    pub voter: bool,
    #[serde(default)]
    pub protocol_version: String,
}

/// `GET /v1/sys/storage/raft/autopilot/state`, `data`. Echo-based and lagging: right after
/// a leader change every follower shows `last_index` 0 (README pitfall 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotState {
    #[serde(default)]
    pub healthy: bool,
    #[serde(default)]
    pub failure_tolerance: i64,
    #[serde(default)]
    pub leader: String,
    #[serde(default)]
    pub voters: Vec<String>,
    #[serde(default)]
    pub servers: std::collections::BTreeMap<String, AutopilotServer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutopilotServer {
    pub id: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub node_status: String,
    #[serde(default)]
    pub last_contact: String,
    #[serde(default)]
    pub last_term: u64,
    #[serde(default)]
    pub last_index: u64,
    #[serde(default)]
    pub healthy: bool,
    #[serde(default)]
    pub stable_since: String,
    /// `leader`, `voter` or `non-voter`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub node_type: String,
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ConfigData {
    config: RaftConfiguration,
}

/// HTTP client for OpenBao nodes. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct BaoApi {
    client: Client<HttpConnector, Full<Bytes>>,
    token: Option<Arc<OpenBaoToken>>,
}

impl fmt::Debug for BaoApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaoApi")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Default for BaoApi {
    fn default() -> Self {
        Self::new()
    }
}

impl BaoApi {
    /// An unauthenticated client (enough for `sys/leader`, `sys/health`) that keeps idle
    /// connections for reuse.
    pub fn new() -> Self {
        Self::build(true)
    }

    /// A client that opens a connection per request. Pooled connections are served by tasks
    /// on the runtime that opened them; the pod proxy may be called from another runtime
    /// (the simulator's server), and it makes only a few requests a second anyway.
    pub(crate) fn unpooled() -> Self {
        Self::build(false)
    }

    fn build(pooled: bool) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(1)));
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_idle_timeout(Duration::from_secs(10));
        if !pooled {
            builder.pool_max_idle_per_host(0);
        }
        BaoApi {
            client: builder.build(connector),
            token: None,
        }
    }

    /// The same client sending `X-Vault-Token`.
    pub(crate) fn with_token(&self, token: OpenBaoToken) -> Self {
        BaoApi {
            client: self.client.clone(),
            token: Some(Arc::new(token)),
        }
    }

    /// The token this client sends, if any (the demo hands the root token to its console).
    pub(crate) fn token(&self) -> Option<&OpenBaoToken> {
        self.token.as_deref()
    }

    /// One request to `addr` (`http://127.0.0.1:port`) and `path` (`v1/...`, leading `/`
    /// optional); any HTTP status is returned as is.
    pub async fn send(
        &self,
        method: Method,
        addr: &str,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<RawResponse, BaoError> {
        let url = format!("{addr}/{}", path.trim_start_matches('/'));
        let err = |message: String| BaoError::Http {
            method: method.to_string(),
            url: url.clone(),
            message,
        };
        let mut req = Request::builder().method(method.clone()).uri(&url);
        if let Some(token) = &self.token {
            let mut value =
                HeaderValue::from_str(token.expose()).map_err(|_| err("unusable token".into()))?;
            // Keeps it out of any Debug output of the request.
            value.set_sensitive(true);
            req = req.header("X-Vault-Token", value);
        }
        let payload = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(v.to_string())
            }
            None => Bytes::new(),
        };
        let req = req
            .body(Full::new(payload))
            .map_err(|e| err(e.to_string()))?;
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| err(error_chain(&e)))?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let bytes = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| err(format!("reading body: {e}")))?
                .to_bytes();
            Ok(RawResponse {
                status,
                content_type,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| BaoError::Timeout {
                method: method.to_string(),
                url: url.clone(),
                timeout,
            })?
    }

    /// GET, any status.
    pub async fn get(
        &self,
        addr: &str,
        path: &str,
        timeout: Duration,
    ) -> Result<RawResponse, BaoError> {
        self.send(Method::GET, addr, path, None, timeout).await
    }

    /// A request that must succeed (2xx); the body is returned.
    async fn checked(
        &self,
        method: Method,
        addr: &str,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<RawResponse, BaoError> {
        let resp = self.send(method.clone(), addr, path, body, timeout).await?;
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(BaoError::Status {
                method: method.to_string(),
                url: format!("{addr}/{}", path.trim_start_matches('/')),
                status: resp.status,
                body: resp.body.trim().chars().take(500).collect(),
            })
        }
    }

    async fn json<T: DeserializeOwned>(
        &self,
        addr: &str,
        path: &str,
        timeout: Duration,
    ) -> Result<T, BaoError> {
        let resp = self.checked(Method::GET, addr, path, None, timeout).await?;
        serde_json::from_str(&resp.body).map_err(|e| BaoError::Decode {
            url: format!("{addr}/{}", path.trim_start_matches('/')),
            message: e.to_string(),
        })
    }

    /// `GET sys/leader` (unauthenticated; each node answers from its own Raft state).
    pub(crate) async fn sys_leader(
        &self,
        addr: &str,
        timeout: Duration,
    ) -> Result<LeaderStatus, BaoError> {
        self.json(addr, "v1/sys/leader", timeout).await
    }

    /// `GET sys/health` status code: 200 active, 429 standby, 503 sealed, 501 uninitialised.
    pub(crate) async fn health_code(&self, addr: &str, timeout: Duration) -> Result<u16, BaoError> {
        Ok(self.get(addr, "v1/sys/health", timeout).await?.status)
    }

    /// `GET sys/storage/raft/configuration` (token).
    pub async fn raft_configuration(&self, addr: &str) -> Result<RaftConfiguration, BaoError> {
        let env: Envelope<ConfigData> = self
            .json(addr, "v1/sys/storage/raft/configuration", REQUEST_TIMEOUT)
            .await?;
        Ok(env.data.config)
    }

    /// `GET sys/storage/raft/autopilot/state` (token).
    pub async fn autopilot_state(&self, addr: &str) -> Result<AutopilotState, BaoError> {
        let env: Envelope<AutopilotState> = self
            .json(addr, "v1/sys/storage/raft/autopilot/state", REQUEST_TIMEOUT)
            .await?;
        Ok(env.data)
    }

    /// `PUT sys/storage/raft/promote`. Asynchronous: autopilot applies it on its next
    /// reconcile (README pitfall 1). A node that is a voter already answers 500 "already a
    /// voter" or "server is not a non-voter" (seen when a resent promote races autopilot
    /// applying the first): benign.
    pub async fn promote(&self, addr: &str, node_id: &str) -> Result<(), BaoError> {
        let benign = ["already a voter", "is not a non-voter"];
        self.raft_member_op(addr, "promote", node_id, &benign).await
    }

    /// `PUT sys/storage/raft/demote`. HTTP 500 "server is already a non-voter" is benign
    /// (README pitfall 2).
    pub async fn demote(&self, addr: &str, node_id: &str) -> Result<(), BaoError> {
        self.raft_member_op(addr, "demote", node_id, &["already a non-voter"])
            .await
    }

    /// `PUT sys/storage/raft/remove-peer`.
    pub async fn remove_peer(&self, addr: &str, node_id: &str) -> Result<(), BaoError> {
        self.raft_member_op(addr, "remove-peer", node_id, &[]).await
    }

    async fn raft_member_op(
        &self,
        addr: &str,
        op: &str,
        node_id: &str,
        benign: &[&str],
    ) -> Result<(), BaoError> {
        let path = format!("v1/sys/storage/raft/{op}");
        let body = json!({ "server_id": node_id });
        match self
            .checked(Method::PUT, addr, &path, Some(&body), REQUEST_TIMEOUT)
            .await
        {
            Err(BaoError::Status {
                status: 500, body, ..
            }) if benign.iter().any(|b| body.contains(b)) => Ok(()),
            other => other.map(drop),
        }
    }

    /// `PUT sys/seal` on the node at `addr` (a standby seals itself; seal "static"
    /// unseals it again on restart).
    pub async fn seal(&self, addr: &str) -> Result<(), BaoError> {
        self.checked(Method::PUT, addr, "v1/sys/seal", None, REQUEST_TIMEOUT)
            .await
            .map(drop)
    }

    /// `PUT sys/step-down` on the active node.
    pub async fn step_down(&self, addr: &str) -> Result<(), BaoError> {
        self.checked(Method::PUT, addr, "v1/sys/step-down", None, REQUEST_TIMEOUT)
            .await
            .map(drop)
    }

    /// One KV v2 write: `POST secret/data/<key>` (one Raft index).
    pub(crate) async fn kv_put(
        &self,
        addr: &str,
        mount: &str,
        key: &str,
        data: &Value,
    ) -> Result<(), BaoError> {
        let path = format!("v1/{mount}/data/{key}");
        let body = json!({ "data": data });
        self.checked(Method::POST, addr, &path, Some(&body), REQUEST_TIMEOUT)
            .await
            .map(drop)
    }

    /// `PUT sys/init` with one recovery share (seal "static" auto-unseals). Returns the
    /// root token; the recovery key is dropped (nothing here needs it).
    pub(crate) async fn init(&self, addr: &str) -> Result<String, BaoError> {
        #[derive(Deserialize)]
        struct InitAnswer {
            root_token: String,
        }
        let body = json!({ "recovery_shares": 1, "recovery_threshold": 1 });
        let resp = self
            .checked(
                Method::PUT,
                addr,
                "v1/sys/init",
                Some(&body),
                REQUEST_TIMEOUT,
            )
            .await?;
        let answer: InitAnswer =
            serde_json::from_str(&resp.body).map_err(|e| BaoError::Decode {
                url: format!("{addr}/v1/sys/init"),
                // Never echo the body: it holds the root token.
                message: format!(
                    "init answer without a root_token ({:?} error)",
                    e.classify()
                ),
            })?;
        Ok(answer.root_token)
    }

    /// `POST sys/storage/raft/autopilot/configuration`.
    pub(crate) async fn set_autopilot(&self, addr: &str, config: &Value) -> Result<(), BaoError> {
        self.checked(
            Method::POST,
            addr,
            "v1/sys/storage/raft/autopilot/configuration",
            Some(config),
            REQUEST_TIMEOUT,
        )
        .await
        .map(drop)
    }

    /// `POST sys/mounts/<path>` with KV version 2.
    pub(crate) async fn mount_kv2(&self, addr: &str, path: &str) -> Result<(), BaoError> {
        let body = json!({ "type": "kv", "options": { "version": "2" } });
        self.checked(
            Method::POST,
            addr,
            &format!("v1/sys/mounts/{path}"),
            Some(&body),
            REQUEST_TIMEOUT,
        )
        .await
        .map(drop)
    }
}

/// An error with its sources ("client error (Connect): tcp connect error: Connection
/// refused"), since hyper's top-level message alone says little.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
