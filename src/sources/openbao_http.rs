//! How the console reaches one OpenBao node's HTTP API: through the API server's pod proxy
//! (`pods/https:<pod>:8200/proxy/...`, RBAC `pods/proxy` get; the default), by port-forward
//! when the proxy is forbidden (`pods/portforward` create, `openbao_portforward`) or directly
//! (`--openbao-addr-template`, from inside the cluster), with TLS verified against the
//! cluster CA. With a token, requests that need one carry `X-Vault-Token` (marked
//! sensitive, so it never shows in any Debug output of the request).
//!
//! Every request has its own timeout: one dead node never holds up another. The answer is
//! returned whatever its status; the caller tells OpenBao's answers (`{"errors":[...]}`)
//! from the API server's own errors (a Kubernetes `Status`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HOST, HeaderValue};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::Api;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;

use super::connect::explain;
use super::openbao_portforward::PortForward;
use crate::domain::token::OpenBaoToken;

/// OpenBao's API port.
pub(crate) const API_PORT: u16 = 8200;
/// Per-node, per-request timeout.
pub(crate) const NODE_TIMEOUT: Duration = Duration::from_secs(2);
/// The endpoints used answer a few KiB; anything larger is refused.
const MAX_BODY: usize = 4 << 20;
/// The header OpenBao reads the token from.
pub(crate) const TOKEN_HEADER: &str = "X-Vault-Token";

/// An HTTP answer as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

#[derive(Deserialize)]
struct Errors {
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct KubeStatus {
    kind: String,
    #[serde(default)]
    message: String,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// OpenBao's `{"errors":[...]}`, joined; None for any other body.
    pub(crate) fn openbao_errors(&self) -> Option<String> {
        serde_json::from_str::<Errors>(&self.body)
            .ok()
            .map(|e| e.errors.join("; "))
    }

    /// The API server's own error (`kind: Status`), e.g. RBAC or "error trying to reach
    /// service"; None when OpenBao answered.
    pub(crate) fn kube_status(&self) -> Option<String> {
        serde_json::from_str::<KubeStatus>(&self.body)
            .ok()
            .filter(|s| s.kind == "Status")
            .map(|s| s.message)
    }

    /// OpenBao says the node is sealed (503 `Vault is sealed`).
    pub(crate) fn is_sealed(&self) -> bool {
        self.status == 503
            && self
                .openbao_errors()
                .is_some_and(|e| e.contains("Vault is sealed"))
    }

    /// The API server's own 403 (RBAC), not OpenBao's `permission denied`.
    pub(crate) fn is_forbidden(&self) -> bool {
        self.status == 403 && self.kube_status().is_some()
    }

    /// A short reason for a failed answer.
    pub fn reason(&self) -> String {
        let detail = self
            .kube_status()
            .or_else(|| self.openbao_errors())
            .unwrap_or_else(|| self.body.trim().chars().take(200).collect());
        format!("{}: {detail}", self.status)
    }
}

/// Reading nodes directly: `--openbao-addr-template` with `{pod}`, `{cluster}`,
/// `{namespace}`, and the CA for `https://`.
#[derive(Clone)]
pub struct Direct {
    template: String,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("template", &self.template)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Direct {
    /// `ca_pem`: the CA certificates (PEM) that `https://` addresses are verified against.
    pub fn new(template: &str, ca_pem: Option<&[u8]>) -> Result<Direct, String> {
        let https = template.starts_with("https://");
        if !https && !template.starts_with("http://") {
            return Err(format!(
                "--openbao-addr-template must start with https:// or http://, not {template:?}"
            ));
        }
        let tls = match ca_pem {
            Some(pem) => Some(Arc::new(client_tls(pem)?)),
            None if https => {
                return Err(
                    "an https:// address template needs the cluster CA: Secret <cluster>-tls-ca \
                     (key ca.crt) readable, or --openbao-ca FILE"
                        .into(),
                );
            }
            None => None,
        };
        Ok(Direct {
            template: template.trim_end_matches('/').to_string(),
            tls,
        })
    }

    #[cfg(test)]
    pub(crate) fn is_https(&self) -> bool {
        self.template.starts_with("https://")
    }

    /// The URL of `path` on `pod`.
    pub(crate) fn url(&self, namespace: &str, cluster: &str, pod: &str, path: &str) -> String {
        let base = self
            .template
            .replace("{pod}", pod)
            .replace("{cluster}", cluster)
            .replace("{namespace}", namespace);
        format!("{base}/{}", path.trim_start_matches('/'))
    }
}

/// A rustls client configuration trusting exactly the certificates in `pem`.
pub(crate) fn client_tls(pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("CA certificate: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("CA certificate: {e}"))?;
        n += 1;
    }
    if n == 0 {
        return Err("no CA certificate in the PEM data".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The cluster CA from Secret `<cluster>-tls-ca` (key `ca.crt`), None when it is not there
/// or not readable (the caller then needs `--openbao-ca`).
pub(crate) async fn cluster_ca(client: &Client, namespace: &str, cluster: &str) -> Option<Vec<u8>> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = secrets
        .get_opt(&format!("{cluster}-tls-ca"))
        .await
        .ok()
        .flatten()?;
    secret.data?.get("ca.crt").map(|b| b.0.clone())
}

/// Which way nodes are reached.
#[derive(Debug, Clone, Default)]
pub enum Route {
    /// The API server's pod proxy (default).
    #[default]
    PodProxy,
    /// Port-forward to port 8200 (the pod proxy was forbidden).
    PortForward(PortForward),
    Direct(Direct),
}

/// How the Raft poller reads nodes: the route and the optional token.
#[derive(Debug, Clone, Default)]
pub struct NodeAccess {
    pub route: Route,
    pub token: Option<OpenBaoToken>,
    /// Where the token came from, re-read every round (`openbao_access`).
    pub token_file: Option<std::path::PathBuf>,
    /// `--openbao-ca`, read when the port-forward fallback needs the CA.
    pub ca_file: Option<std::path::PathBuf>,
}

/// The pod proxy path of `path` on `pod` (`https:` scheme: OpenBao serves TLS).
pub(crate) fn proxy_path(namespace: &str, pod: &str, path: &str) -> String {
    format!(
        "/api/v1/namespaces/{namespace}/pods/https:{pod}:{API_PORT}/proxy/{}",
        path.trim_start_matches('/')
    )
}

impl NodeAccess {
    /// `GET path` on `pod`, with the token when `authenticated` (and there is one).
    pub async fn get(
        &self,
        client: &Client,
        namespace: &str,
        cluster: &str,
        pod: &str,
        path: &str,
        authenticated: bool,
    ) -> Result<Answer, String> {
        let token = self.token.as_ref().filter(|_| authenticated);
        let exchange = async {
            match &self.route {
                Route::PodProxy => {
                    via_proxy(client, &proxy_path(namespace, pod, path), token).await
                }
                Route::PortForward(f) => f.get(client, namespace, pod, path, token).await,
                Route::Direct(d) => {
                    direct_get(d, &d.url(namespace, cluster, pod, path), token).await
                }
            }
        };
        tokio::time::timeout(NODE_TIMEOUT, exchange)
            .await
            .map_err(|_| format!("no answer within {}s", NODE_TIMEOUT.as_secs()))?
    }
}

pub(super) fn token_header(token: &OpenBaoToken) -> Result<HeaderValue, String> {
    let mut value =
        HeaderValue::from_str(token.expose()).map_err(|_| "unusable token".to_string())?;
    value.set_sensitive(true);
    Ok(value)
}

async fn via_proxy(
    client: &Client,
    path: &str,
    token: Option<&OpenBaoToken>,
) -> Result<Answer, String> {
    let mut request = http::Request::get(path);
    if let Some(t) = token {
        request = request.header(TOKEN_HEADER, token_header(t)?);
    }
    let request = request
        .body(kube::client::Body::empty())
        .map_err(|e| e.to_string())?;
    let response = client.send(request).await.map_err(|e| explain(&e))?;
    let status = response.status().as_u16();
    let bytes = Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// One request on its own connection (a few a second at most; no pool to keep).
async fn direct_get(
    direct: &Direct,
    url: &str,
    token: Option<&OpenBaoToken>,
) -> Result<Answer, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?;
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let bare_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tcp = tokio::net::TcpStream::connect((bare_host.as_str(), port))
        .await
        .map_err(|e| format!("{url}: connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let mut request = http::Request::get(
        uri.path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str),
    );
    if let Some(authority) = uri.authority() {
        request = request.header(HOST, authority.as_str());
    }
    if let Some(t) = token {
        request = request.header(TOKEN_HEADER, token_header(t)?);
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    if https {
        let config = direct
            .tls
            .clone()
            .ok_or_else(|| format!("{url}: https needs the cluster CA"))?;
        let name = ServerName::try_from(bare_host).map_err(|e| format!("{url}: {e}"))?;
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("{url}: TLS: {e}"))?;
        send_http1(TokioIo::new(stream), request, url).await
    } else {
        send_http1(TokioIo::new(tcp), request, url).await
    }
}

pub(super) async fn send_http1<I>(
    io: I,
    request: http::Request<Empty<Bytes>>,
    url: &str,
) -> Result<Answer, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    // Ends by itself once the sender is dropped (or the timeout drops this future).
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("{url}: reading the answer: {e}"))?
            .to_bytes();
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_tell_openbao_from_the_api_server() {
        let sealed = Answer {
            status: 503,
            body: r#"{"errors":["Vault is sealed"]}"#.into(),
        };
        assert!(sealed.is_sealed());
        assert_eq!(sealed.kube_status(), None);
        let proxy = Answer {
            status: 503,
            body: r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"error trying to reach service: dial tcp","code":503}"#.into(),
        };
        assert!(!proxy.is_sealed());
        assert_eq!(
            proxy.reason(),
            "503: error trying to reach service: dial tcp"
        );
        let denied = Answer {
            status: 403,
            body: r#"{"errors":["permission denied"]}"#.into(),
        };
        assert_eq!(
            denied.openbao_errors().as_deref(),
            Some("permission denied")
        );
    }

    #[test]
    fn templates_fill_pod_cluster_and_namespace() {
        let d = Direct::new("http://{pod}.{cluster}.{namespace}.svc:8200/", None).unwrap();
        assert_eq!(
            d.url("security", "prod", "prod-abc-0", "/v1/sys/leader"),
            "http://prod-abc-0.prod.security.svc:8200/v1/sys/leader"
        );
        assert!(!d.is_https());
        let err = Direct::new("https://{pod}:8200", None).unwrap_err();
        assert!(err.contains("--openbao-ca"), "{err}");
        assert!(Direct::new("ftp://x", None).is_err());
        assert!(client_tls(b"not a pem").is_err());
        assert!(
            proxy_path("ns", "p", "v1/sys/leader")
                .ends_with("/pods/https:p:8200/proxy/v1/sys/leader")
        );
    }
}
