//! What the simulator answers behind the pod proxy
//! (`/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}`): OpenBao's HTTP API.
//!
//! CONTRACT: the server calls a [`PodProxy`]; the twin provides one with simulated
//! `sys/leader` / `sys/health` answers in the real JSON shapes (OpenBao 2.7's recorded answers).
//! The Raft issue plugs real `bao` nodes in behind the same trait.
//!
//! The request's `X-Vault-Token` header (if any) is passed on, so token-gated endpoints
//! (`sys/storage/raft/configuration`, `.../autopilot/state`) answer as OpenBao would:
//! 200 with the right token, 403 `{"errors":["permission denied"]}` otherwise.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// A proxied HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

pub type ProxyFuture<'a> = Pin<Box<dyn Future<Output = Option<ProxyResponse>> + Send + 'a>>;

/// Answers for proxied requests to a pod's port. `None`: nothing listens there (the server
/// answers 503 like the real API server's proxy error). `token`: the request's
/// `X-Vault-Token` header.
pub trait PodProxy: Send + Sync {
    fn get<'a>(
        &'a self,
        namespace: &'a str,
        pod: &'a str,
        port: u16,
        path: &'a str,
        token: Option<&'a str>,
    ) -> ProxyFuture<'a>;

    /// Where a port-forward to the pod's `port` connects: a real node's TCP address. None:
    /// nothing to forward to (simulated endpoints answer HTTP only, not a stream).
    fn forward_addr(&self, _namespace: &str, _pod: &str, _port: u16) -> Option<SocketAddr> {
        None
    }
}
