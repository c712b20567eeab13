//! [`BaoProxy`]: the simulator's pod proxy answered by real `bao` nodes.
//!
//! The simulated API server calls [`PodProxy::get`] for
//! `/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}`; for a known pod and port 8200
//! this forwards `GET <node api addr>/<path>` (with the request's `X-Vault-Token`, if any)
//! and returns status, content type and body unchanged. Anything else, and any node that does not answer within the timeout (stopped:
//! connection refused at once; paused: the timeout), is `None`, which the server turns into
//! a 503 like the real API server's proxy error. The console can therefore never hang on a
//! node, and one slow node never delays another (each call is independent).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::api::BaoApi;
use crate::domain::token::OpenBaoToken;
use crate::sim::openbao::{PodProxy, ProxyResponse};

/// OpenBao's API port in the pods.
pub(crate) const POD_API_PORT: u16 = 8200;
/// How long a proxied request may take.
pub(crate) const PROXY_TIMEOUT: Duration = Duration::from_secs(2);

/// Pod name → node API address (`http://127.0.0.1:<port>`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct BaoProxy {
    nodes: Arc<BTreeMap<String, String>>,
    namespace: Option<String>,
    timeout: Duration,
    api: BaoApi,
}

impl BaoProxy {
    /// A proxy for these `(pod, api address)` pairs, in any namespace, with a 2 s timeout.
    pub fn new(nodes: impl IntoIterator<Item = (String, String)>) -> Self {
        BaoProxy {
            nodes: Arc::new(nodes.into_iter().collect()),
            namespace: None,
            timeout: PROXY_TIMEOUT,
            api: BaoApi::unpooled(),
        }
    }

    /// Answer only for pods in `namespace` (others are unknown, as on a real cluster).
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The node address behind `pod`, if it is one of ours.
    pub fn addr(&self, pod: &str) -> Option<&str> {
        self.nodes.get(pod).map(String::as_str)
    }

    async fn forward(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
        path: &str,
        token: Option<&str>,
    ) -> Option<ProxyResponse> {
        if port != POD_API_PORT || self.namespace.as_deref().is_some_and(|ns| ns != namespace) {
            return None;
        }
        let addr = self.nodes.get(pod)?;
        let api = match token.and_then(OpenBaoToken::new) {
            Some(t) => self.api.with_token(t),
            None => self.api.clone(),
        };
        let resp = api.get(addr, path, self.timeout).await.ok()?;
        Some(ProxyResponse {
            status: resp.status,
            content_type: resp.content_type,
            body: resp.body,
        })
    }
}

impl PodProxy for BaoProxy {
    fn get<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
        port: u16,
        path: &'a str,
        token: Option<&'a str>,
    ) -> crate::sim::openbao::ProxyFuture<'a> {
        Box::pin(self.forward(namespace, pod, port, path, token))
    }

    /// The node's `127.0.0.1:<port>` from its API address.
    fn forward_addr(&self, namespace: &str, pod: &str, port: u16) -> Option<SocketAddr> {
        if port != POD_API_PORT || self.namespace.as_deref().is_some_and(|ns| ns != namespace) {
            return None;
        }
        let addr = self.nodes.get(pod)?;
        let authority = addr.split_once("://").map_or(addr.as_str(), |(_, a)| a);
        authority.trim_end_matches('/').parse().ok()
    }
}
