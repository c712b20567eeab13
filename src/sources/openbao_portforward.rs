//! Reaching one OpenBao node by port-forward (`pods/portforward`, RBAC `create`): the
//! fallback when the API server's pod proxy is forbidden (`get pods/proxy`).
//!
//! One request per forward: kube-rs opens the WebSocket (`v4.channel.k8s.io`) to
//! `pods/<pod>/portforward?ports=8200`, and HTTP/1.1 is spoken over the forwarded stream.
//! With the cluster CA (`--openbao-ca`, else Secret `<cluster>-tls-ca`) that is TLS, verified
//! against the CA for the name `localhost` (OperatorManaged certificates carry
//! `localhost`/`127.0.0.1`, which is what `kubectl port-forward` users connect to); without
//! a CA it is plain HTTP (a listener with `tls_disable`; a TLS listener answers 400).
//!
//! The API server's refusal of the forward comes back as an [`Answer`] holding its
//! `Status` (as the pod proxy's 403 does), so callers tell RBAC from OpenBao the same way
//! for both routes.

use std::sync::Arc;

use bytes::Bytes;
use http::header::HOST;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use rustls::pki_types::ServerName;

use super::connect::explain;
use super::openbao_http::{API_PORT, Answer, TOKEN_HEADER, client_tls, send_http1, token_header};
use crate::domain::token::OpenBaoToken;

/// The name the node's certificate is verified for over a forwarded stream.
pub(crate) const TLS_NAME: &str = "localhost";
/// How long a failed exchange waits for the pod side's reason (it comes on another channel
/// and can trail the closed stream under load; 200 ms lost it about one time in five on a
/// loaded 2-core CI machine). Well within a node's 2 s budget, and paid only on failure.
const ERROR_GRACE: std::time::Duration = std::time::Duration::from_millis(1000);

/// How forwarded streams are spoken: TLS against the CA, or plain HTTP.
#[derive(Clone, Default)]
pub struct PortForward {
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for PortForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortForward")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl PortForward {
    /// `ca_pem`: TLS verified against these certificates; None: plain HTTP.
    pub fn new(ca_pem: Option<&[u8]>) -> Result<PortForward, String> {
        let tls = ca_pem.map(client_tls).transpose()?.map(Arc::new);
        Ok(PortForward { tls })
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `GET path` on `pod`'s port 8200 through a fresh forward.
    pub async fn get(
        &self,
        client: &Client,
        namespace: &str,
        pod: &str,
        path: &str,
        token: Option<&OpenBaoToken>,
    ) -> Result<Answer, String> {
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let mut forward = match pods.portforward(pod, &[API_PORT]).await {
            Ok(f) => f,
            Err(kube::Error::Api(s)) if s.code == 403 => return Ok(refused(&s.message)),
            Err(e) => return Err(format!("port-forward: {}", explain(&e))),
        };
        let stream = forward
            .take_stream(API_PORT)
            .ok_or_else(|| "port-forward: no stream for port 8200".to_string())?;
        // The pod side reports a failed connect (nothing listens) on the error channel; the
        // stream then ends too, so a failed exchange waits briefly for that reason.
        let reason = forward.take_error(API_PORT);
        let mut failed = std::pin::pin!(async move {
            match reason {
                Some(r) => match r.await {
                    Some(m) => m,
                    None => futures::future::pending().await,
                },
                None => futures::future::pending().await,
            }
        });
        let result = tokio::select! {
            m = &mut failed => Err(format!("port-forward: {m}")),
            r = self.exchange(stream, path, token) => match r {
                Err(e) => match tokio::time::timeout(ERROR_GRACE, &mut failed).await {
                    Ok(m) => Err(format!("port-forward: {m}")),
                    Err(_) => Err(e),
                },
                ok => ok,
            },
        };
        forward.abort();
        result
    }

    async fn exchange(
        &self,
        stream: tokio::io::DuplexStream,
        path: &str,
        token: Option<&OpenBaoToken>,
    ) -> Result<Answer, String> {
        let url = format!(
            "{}://{TLS_NAME}:{API_PORT}/{}",
            if self.is_tls() { "https" } else { "http" },
            path.trim_start_matches('/')
        );
        let mut request = http::Request::get(format!("/{}", path.trim_start_matches('/')))
            .header(HOST, format!("{TLS_NAME}:{API_PORT}"));
        if let Some(t) = token {
            request = request.header(TOKEN_HEADER, token_header(t)?);
        }
        let request = request
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        match &self.tls {
            Some(config) => {
                let name = ServerName::try_from(TLS_NAME).map_err(|e| e.to_string())?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("{url}: TLS: {e}"))?;
                send_http1(TokioIo::new(tls), request, &url).await
            }
            None => send_http1(TokioIo::new(stream), request, &url).await,
        }
    }
}

/// The API server's 403 for the forward, as an answer carrying its `Status`.
fn refused(message: &str) -> Answer {
    Answer {
        status: 403,
        body: serde_json::json!({"kind": "Status", "message": message, "code": 403}).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_forward_reads_as_the_api_servers_403() {
        let a = refused("pods \"p\" is forbidden: cannot create resource \"pods/portforward\"");
        assert_eq!(a.status, 403);
        assert!(
            a.kube_status()
                .is_some_and(|m| m.contains("pods/portforward"))
        );
        assert!(!PortForward::default().is_tls());
        assert!(PortForward::new(Some(b"not a pem")).is_err());
    }
}
