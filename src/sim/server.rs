//! The simulator's HTTPS Kubernetes API server: binds 127.0.0.1:0, authenticates bearer
//! tokens, authorizes against each [`User`]'s denials, routes discovery, the seven
//! resources of [`Resource`] and their subresources, and records every request for tests.
//!
//! Handlers live in `rest` (CRUD, patch, status/scale), `watch`, `logapi` (pod logs) and
//! `authz` (SelfSubjectAccessReview, 403s). Everything reads and writes the shared
//! [`Store`], so the operator twin's writes reach watchers like a controller's would.
//! The fault controls (`faults`: hung, refusing, stalled handshakes, 410 storms, outages)
//! are applied here, per connection and per request, before any handler runs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use super::controls::Shared;
pub use super::controls::{Controls, MUTATING_VERBS, RequestRecord, User};
use super::error::ApiError;
use super::openbao::PodProxy;
use super::select::Query;
use super::store::{Resource, Store};
use super::tls::{KubeconfigContext, kubeconfig_yaml, server_tls, write_kubeconfig};
use super::{authz, discovery, logapi, openapi, portforward, rest, subres, table, watch};

/// Why the server could not start (or write its kubeconfig).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("I/O error: {0}")]
    Io(String),
}

/// Who may connect, and what answers behind the pod proxy.
pub struct ServeOptions {
    pub users: Vec<User>,
    pub proxy: Option<Arc<dyn PodProxy>>,
}

impl Default for ServeOptions {
    /// `admin` (everything) and `viewer` (read-only), no pod proxy.
    fn default() -> Self {
        ServeOptions {
            users: vec![User::admin(), User::viewer()],
            proxy: None,
        }
    }
}

/// A running server. Dropping it stops it too.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// The per-run CA that signed the server certificate.
    pub ca_pem: String,
    controls: Controls,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

pub type Body = BoxBody<Bytes, Infallible>;
pub(crate) type Resp = Response<Body>;

/// What every handler gets.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub proxy: Option<Arc<dyn PodProxy>>,
    pub addr: String,
}

impl Ctx {
    pub fn store(&self) -> &Store {
        &self.shared.store
    }
}

pub(crate) fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

pub(crate) fn json_resp(status: u16, v: &Value) -> Resp {
    full(status, "application/json", v.to_string())
}

pub(crate) fn error_resp(e: &ApiError) -> Resp {
    error_resp_retry(e, (e.code == 429).then_some(1))
}

/// An error Status with a `Retry-After` of `retry_after` seconds when given.
fn error_resp_retry(e: &ApiError, retry_after: Option<u32>) -> Resp {
    let mut r = json_resp(e.code, &e.to_status());
    if let Some(secs) = retry_after
        && let Ok(v) = hyper::header::HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
    }
    r
}

/// Parsed request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Version,
    CoreVersions,
    Groups,
    Group(String),
    Resources(String, String),
    AccessReview,
    /// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`: who the token is.
    SelfReview,
    /// `/api/v1/namespaces[/{name}]`: synthesized, read-only.
    Namespaces(Option<String>),
    /// `/openapi/v3` (None) or one group-version's document.
    OpenApi(Option<String>),
    Object(Target),
    Unknown,
}

/// A resource path: `/api[s/{g}]/{v}[/namespaces/{ns}]/{plural}[/{name}[/{sub}[/{rest}]]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub r: Resource,
    /// None: all namespaces.
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// Path after `proxy/` for the pod proxy.
    pub rest: String,
}

pub(crate) fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resource = |group: &str, version: &str, rest: &[&str]| -> Route {
        if group == discovery::AUTHZ_GROUP
            && version == "v1"
            && rest == ["selfsubjectaccessreviews"]
        {
            return Route::AccessReview;
        }
        if group == "authentication.k8s.io" && version == "v1" && rest == ["selfsubjectreviews"] {
            return Route::SelfReview;
        }
        let (ns, rest) = match rest {
            ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(ns.to_string()), tail),
            tail => (None, tail),
        };
        let Some((plural, tail)) = rest.split_first() else {
            return Route::Unknown;
        };
        let Some(r) = Resource::from_plural(group, plural).filter(|r| r.version() == version)
        else {
            return Route::Unknown;
        };
        if (ns.is_none() && !tail.is_empty() && r.namespaced()) || (ns.is_some() && !r.namespaced())
        {
            return Route::Unknown;
        }
        let name = tail.first().map(|s| s.to_string());
        let sub = tail.get(1).map(|s| s.to_string());
        if sub.as_deref() != Some("proxy") && tail.len() > 2 {
            return Route::Unknown;
        }
        let rest = tail.get(2..).map(|t| t.join("/")).unwrap_or_default();
        Route::Object(Target {
            r,
            ns,
            name,
            sub,
            rest,
        })
    };
    match segs.as_slice() {
        ["version"] => Route::Version,
        ["openapi", "v3"] => Route::OpenApi(None),
        ["openapi", "v3", rest @ ..] => Route::OpenApi(Some(rest.join("/"))),
        ["api"] => Route::CoreVersions,
        ["api", "v1"] => Route::Resources(String::new(), "v1".into()),
        ["api", "v1", "namespaces"] => Route::Namespaces(None),
        ["api", "v1", "namespaces", ns] => Route::Namespaces(Some(ns.to_string())),
        ["api", "v1", rest @ ..] => resource("", "v1", rest),
        ["apis"] => Route::Groups,
        ["apis", g] => Route::Group(g.to_string()),
        ["apis", g, v] => Route::Resources(g.to_string(), v.to_string()),
        ["apis", g, v, rest @ ..] => resource(g, v, rest),
        _ => Route::Unknown,
    }
}

pub(crate) fn not_found_path() -> ApiError {
    let mut e = ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    );
    e.details = Some(serde_json::json!({
        "causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]
    }));
    e
}

fn bearer(req: &Request<Incoming>) -> Option<&str> {
    let h = req
        .headers()
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The injected error for a forced status code.
fn injected(status: u16, route: &Route) -> ApiError {
    match (status, route) {
        (409, Route::Object(t)) if t.name.is_some() => {
            ApiError::conflict(t.r, t.name.as_deref().unwrap_or(""))
        }
        (409, _) => ApiError::new(409, "Conflict", "injected conflict"),
        (429, _) => ApiError::new(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        (500, _) => ApiError::new(
            500,
            "InternalError",
            "Internal error occurred: injected fault",
        ),
        (503, _) => ApiError::new(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        (code, _) => ApiError::new(code, "Unknown", format!("injected status {code}")),
    }
}

async fn handle(ctx: Ctx, req: Request<Incoming>) -> Resp {
    // A hung server answers nothing: the request waits (the client times out first).
    ctx.shared.chaos.until_answering().await;
    let resp = answer(&ctx, req).await;
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, ctx.shared.chaos.stall_while_hung(body))
}

async fn answer(ctx: &Ctx, req: Request<Incoming>) -> Resp {
    let latency = ctx.shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    if let Some(hold) = ctx.shared.take_hold(&method, &path) {
        tokio::time::sleep(hold).await;
    }
    let query_str = req.uri().query().unwrap_or("").to_string();
    let user = bearer(&req).and_then(|t| ctx.shared.user_by_token(t));
    let mut record = RequestRecord {
        method: method.clone(),
        path: path.clone(),
        query: query_str.clone(),
        user: user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        status: 0,
        body: None,
    };
    let (resp, body) = RECEIVED_BODY
        .scope(std::cell::RefCell::new(None), async {
            let resp = match user {
                None => error_resp(&ApiError::new(401, "Unauthorized", "Unauthorized")),
                Some(user) => {
                    let r = route(&path);
                    let q = Query::parse(Some(&query_str));
                    if let Some(o) = ctx.shared.chaos.outage() {
                        error_resp_retry(&injected(o.status, &r), o.retry_after)
                    } else if q.flag("watch") && ctx.shared.chaos.watch_gone() {
                        let gone =
                            ApiError::expired("too old resource version: injected 410 storm");
                        full(200, "application/json", watch::expired_frame(&gone))
                    } else {
                        match ctx.shared.take_fault(&method, &path) {
                            Some(code) => error_resp(&injected(code, &r)),
                            None => dispatch(ctx, &user, r, req, q).await,
                        }
                    }
                }
            };
            (resp, RECEIVED_BODY.with(|b| b.borrow_mut().take()))
        })
        .await;
    record.body = body;
    record.status = resp.status().as_u16();
    ctx.shared.record(record);
    resp
}

async fn dispatch(ctx: &Ctx, user: &User, r: Route, req: Request<Incoming>, q: Query) -> Resp {
    let get = req.method() == hyper::Method::GET;
    match r {
        Route::Version if get => json_resp(200, &discovery::version()),
        Route::CoreVersions if get => json_resp(200, &discovery::core_versions(&ctx.addr)),
        Route::Groups if get => json_resp(200, &discovery::group_list()),
        Route::Group(g) if get => match discovery::group(&g) {
            Some(v) => json_resp(200, &v),
            None => error_resp(&not_found_path()),
        },
        Route::Resources(g, v) if get => match discovery::resource_list(&g, &v) {
            Some(doc) => json_resp(200, &doc),
            None => error_resp(&not_found_path()),
        },
        Route::AccessReview if req.method() == hyper::Method::POST => match read_body(req).await {
            Ok(b) => authz::access_review(user, &b),
            Err(e) => error_resp(&e),
        },
        Route::SelfReview if req.method() == hyper::Method::POST => authz::self_review(user),
        Route::OpenApi(None) if get => json_resp(200, &openapi::root()),
        Route::OpenApi(Some(p)) if get => {
            match openapi::group_version(ctx.store().operator(), &p) {
                Some(doc) => json_resp(200, &doc),
                None => error_resp(&not_found_path()),
            }
        }
        Route::Namespaces(name) if get => {
            let accept = req
                .headers()
                .get(hyper::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match discovery::namespaces(ctx.store(), name.as_deref(), table::wants_table(accept)) {
                Ok(v) => json_resp(200, &v),
                Err(e) => error_resp(&e),
            }
        }
        Route::Object(t) => {
            let verb = authz::verb(req.method(), &t, &q);
            if user.is_denied_sub(verb, t.r, t.sub.as_deref()) {
                return error_resp(&authz::forbidden(user, verb, &t));
            }
            match (verb, t.sub.as_deref()) {
                ("watch", _) => {
                    let accept = req
                        .headers()
                        .get(hyper::header::ACCEPT)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    watch::watch(ctx, &t, &q, table::wants_table(accept)).await
                }
                ("get", Some("log")) => logapi::pod_log(ctx, &t, &q),
                ("create", Some("portforward")) => portforward::portforward(ctx, &t, &q, req),
                ("get", Some("proxy")) => {
                    let token = req
                        .headers()
                        .get("x-vault-token")
                        .and_then(|v| v.to_str().ok());
                    subres::proxy(ctx, &t, req.uri().query(), token).await
                }
                _ => rest::handle(ctx, verb, &t, req, &q).await,
            }
        }
        Route::Unknown => error_resp(&not_found_path()),
        _ => error_resp(&ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

tokio::task_local! {
    /// The body of the request being handled, for its request log record.
    static RECEIVED_BODY: std::cell::RefCell<Option<String>>;
}

pub(crate) async fn read_body(req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
    // Outside a handled request (no scope) there is no record to keep it for.
    let _ = RECEIVED_BODY.try_with(|b| {
        *b.borrow_mut() = Some(String::from_utf8_lossy(&body).into_owned());
    });
    Ok(body)
}

/// Start the server on 127.0.0.1 (a free port).
pub async fn serve(store: Arc<Store>, opts: ServeOptions) -> Result<RunningServer, SimError> {
    let tls = server_tls()?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| SimError::Io(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| SimError::Io(e.to_string()))?;
    let shared = Arc::new(Shared::new(store, opts.users));
    let ctx = Ctx {
        shared: shared.clone(),
        proxy: opts.proxy,
        addr: addr.to_string(),
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    let (stop, mut stopped) = oneshot::channel::<()>();
    let mut refusing = shared.chaos.refusing.subscribe();
    let mut cut = shared.chaos.cut.subscribe();
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        let mut listener = Some(listener);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                changed = refusing.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    if *refusing.borrow_and_update() {
                        // Closed socket: new connections are refused, open ones cut.
                        listener = None;
                        conns.abort_all();
                    } else if listener.is_none() {
                        listener = rebind(addr).await;
                    }
                }
                changed = cut.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    conns.abort_all();
                }
                accepted = accept(listener.as_ref()) => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let acceptor = acceptor.clone();
                    let ctx = ctx.clone();
                    conns.spawn(async move {
                        ctx.shared.chaos.until_handshakes().await;
                        let Ok(stream) = acceptor.accept(tcp).await else { return };
                        let svc = hyper::service::service_fn(move |req| {
                            let ctx = ctx.clone();
                            async move { Ok::<_, Infallible>(handle(ctx, req).await) }
                        });
                        let _ = auto::Builder::new(TokioExecutor::new())
                            .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            }
        }
        conns.shutdown().await;
    });
    Ok(RunningServer {
        addr,
        ca_pem: tls.ca_pem,
        controls: Controls { shared },
        stop: Some(stop),
        task,
    })
}

/// Accept on the listener, or never while it is closed (refusing).
async fn accept(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Listen on the same address again after refusing (retried briefly: the port was ours).
async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..50 {
        if let Ok(l) = TcpListener::bind(addr).await {
            return Some(l);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

impl RunningServer {
    /// `https://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn controls(&self) -> Controls {
        self.controls.clone()
    }

    /// Contexts: `sim` for the first user, `sim-<name>` for the others (with the default
    /// users: `sim` = admin, `sim-viewer` = viewer); `current-context: sim`.
    pub fn kubeconfig_yaml(&self, namespace: &str) -> String {
        let contexts: Vec<KubeconfigContext> = self
            .controls
            .users()
            .iter()
            .enumerate()
            .map(|(i, u)| KubeconfigContext {
                context: if i == 0 {
                    "sim".to_string()
                } else {
                    format!("sim-{}", u.name)
                },
                user: u.name.clone(),
                token: u.token.clone(),
                namespace: namespace.to_string(),
            })
            .collect();
        kubeconfig_yaml(&self.url(), &self.ca_pem, &contexts)
    }

    /// Write the kubeconfig (see [`RunningServer::kubeconfig_yaml`]) to `path`.
    pub fn write_kubeconfig(&self, path: &Path, namespace: &str) -> Result<(), SimError> {
        write_kubeconfig(path, &self.kubeconfig_yaml(namespace))
    }

    /// Stop accepting, end every connection (open watches and log streams included).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/apis/openbao.org/v1alpha1"),
            Route::Resources("openbao.org".into(), "v1alpha1".into())
        );
        let Route::Object(t) =
            route("/apis/openbao.org/v1alpha1/namespaces/security/openbaoclusters/prod/status")
        else {
            panic!("not an object route");
        };
        assert_eq!(
            (t.r, t.ns.as_deref(), t.name.as_deref(), t.sub.as_deref()),
            (
                Resource::OpenBaoClusters,
                Some("security"),
                Some("prod"),
                Some("status")
            )
        );
        let Route::Object(t) = route("/api/v1/namespaces/n/pods/p-0:8200/proxy/v1/sys/leader")
        else {
            panic!("not a proxy route");
        };
        assert_eq!(t.rest, "v1/sys/leader");
        assert!(matches!(
            route("/api/v1/pods"),
            Route::Object(Target { ns: None, .. })
        ));
        assert_eq!(
            route("/apis/openbao.org/v1/namespaces/n/openbaoclusters"),
            Route::Unknown
        );
        assert_eq!(
            route("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"),
            Route::AccessReview
        );
    }
}
