//! A 401 ends the session's reads: once the API server has answered 401 (a token expired
//! mid-session), no request of this client is sent again. Each source would otherwise retry
//! with its own backoff, blindly, with credentials the server has just refused; a real
//! API server may also count every refused attempt against the user.
//!
//! A kube-rs client layer ([`StopAfter401`]) installed by `connect` on every client: it
//! watches the status of each response and, after a 401, answers every later request
//! itself with [`StoppedAfter401`], so the sources show that message and send nothing.
//! Sources that stop on their own at a 401 ask [`is_unauthenticated`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every request after the session's first 401.
#[derive(Debug, thiserror::Error)]
#[error(
    "not authenticated (401) earlier in this session; {}, nothing is sent: renew the credentials and restart breakglass",
    super::liveness::READS_STOPPED
)]
pub(crate) struct StoppedAfter401;

/// Whether `e` is a 401, or a request refused locally after one.
pub(crate) fn is_unauthenticated(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 401,
        kube::Error::Service(e) => e.downcast_ref::<StoppedAfter401>().is_some(),
        _ => false,
    }
}

/// The layer `connect` adds to the client's stack.
#[derive(Debug, Clone, Default)]
pub(crate) struct StopAfter401 {
    stopped: Arc<AtomicBool>,
}

impl<S> tower_layer::Layer<S> for StopAfter401 {
    type Service = StopAfter401Service<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StopAfter401Service {
            inner,
            stopped: self.stopped.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StopAfter401Service<S> {
    inner: S,
    stopped: Arc<AtomicBool>,
}

impl<S, B, ReqBody> tower_service::Service<Request<ReqBody>> for StopAfter401Service<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.stopped.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(StoppedAfter401.into())));
        }
        let stopped = self.stopped.clone();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let resp = answer.await.map_err(Into::into)?;
            if resp.status() == StatusCode::UNAUTHORIZED {
                stopped.store(true, Ordering::SeqCst);
            }
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_layer::Layer;
    use tower_service::Service;

    /// Answers each request with the next status of its list, counting the calls.
    #[derive(Clone)]
    struct Statuses(Arc<std::sync::Mutex<(Vec<u16>, usize)>>);

    impl Service<Request<()>> for Statuses {
        type Response = Response<()>;
        type Error = BoxError;
        type Future = std::future::Ready<Result<Response<()>, BoxError>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<()>) -> Self::Future {
            let mut g = self.0.lock().unwrap();
            let code = g.0.get(g.1).copied().unwrap_or(200);
            g.1 += 1;
            let mut r = Response::new(());
            *r.status_mut() = StatusCode::from_u16(code).unwrap();
            std::future::ready(Ok(r))
        }
    }

    #[tokio::test]
    async fn after_a_401_nothing_more_is_sent() {
        let inner = Statuses(Arc::new(std::sync::Mutex::new((vec![200, 403, 401], 0))));
        let calls = inner.0.clone();
        let mut svc = StopAfter401::default().layer(inner);
        for want in [200, 403, 401] {
            let r = svc.call(Request::new(())).await.unwrap();
            assert_eq!(r.status().as_u16(), want);
        }
        let e = svc.call(Request::new(())).await.unwrap_err();
        assert!(e.to_string().contains("401"), "{e}");
        assert!(is_unauthenticated(&kube::Error::Service(e)));
        assert_eq!(
            calls.lock().unwrap().1,
            3,
            "the fourth request was not sent"
        );
    }
}
