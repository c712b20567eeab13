//! Process-level faults of the simulator's API server, the ones an incident brings: a hung
//! server (accepts, answers nothing), stalled TLS handshakes, refused connections, `410 Gone`
//! on every watch, and 500/503/429 outages for a while. Steered through
//! [`super::controls::Controls`]; the server consults them per connection and per request.
//!
//! Counted one-off errors (`Controls::inject_error`) and latency live in `controls`; these are
//! the time-based and connection-level ones.

use std::sync::Mutex;
use std::time::Duration;

use http_body_util::{BodyExt, StreamBody};
use tokio::sync::watch;
use tokio::time::Instant;

use super::server::Body;

/// Every request answered with one status until a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outage {
    pub status: u16,
    pub until: Instant,
    /// The `Retry-After` header (seconds) sent with it, if any.
    pub retry_after: Option<u32>,
}

pub(crate) struct Chaos {
    /// Requests are accepted and never answered; open streams send nothing.
    pub hung: watch::Sender<bool>,
    /// TLS handshakes of new connections never complete.
    pub handshake_stalled: watch::Sender<bool>,
    /// The listening socket is closed (connections refused) and open connections are cut.
    pub refusing: watch::Sender<bool>,
    /// Bumped to cut every open connection once (a restarted server, a dropped NAT entry).
    pub cut: watch::Sender<u64>,
    pub watch_gone_until: Mutex<Option<Instant>>,
    pub outage: Mutex<Option<Outage>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Chaos {
    pub(crate) fn new() -> Chaos {
        Chaos {
            hung: watch::channel(false).0,
            handshake_stalled: watch::channel(false).0,
            refusing: watch::channel(false).0,
            cut: watch::channel(0).0,
            watch_gone_until: Mutex::new(None),
            outage: Mutex::new(None),
        }
    }

    /// Resolves once the server is not hung (at once when it is not).
    pub(crate) async fn until_answering(&self) {
        let mut rx = self.hung.subscribe();
        let _ = rx.wait_for(|h| !*h).await;
    }

    /// Resolves once TLS handshakes may proceed.
    pub(crate) async fn until_handshakes(&self) {
        let mut rx = self.handshake_stalled.subscribe();
        let _ = rx.wait_for(|h| !*h).await;
    }

    /// Whether every watch is to be answered `410 Gone` now.
    pub(crate) fn watch_gone(&self) -> bool {
        let mut until = lock(&self.watch_gone_until);
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// The outage in force now, if any.
    pub(crate) fn outage(&self) -> Option<Outage> {
        let mut o = lock(&self.outage);
        match *o {
            Some(out) if Instant::now() < out.until => Some(out),
            Some(_) => {
                *o = None;
                None
            }
            None => None,
        }
    }

    pub(crate) fn set_watch_gone_for(&self, d: Duration) {
        *lock(&self.watch_gone_until) = Some(Instant::now() + d);
    }

    pub(crate) fn set_outage(&self, status: u16, d: Duration, retry_after: Option<u32>) {
        *lock(&self.outage) = Some(Outage {
            status,
            until: Instant::now() + d,
            retry_after,
        });
    }

    /// A response body that holds every frame while the server is hung: an open watch or
    /// log stream goes silent (as on an overloaded server) and resumes when it answers again.
    pub(crate) fn stall_while_hung(&self, body: Body) -> Body {
        let hung = self.hung.subscribe();
        let frames = futures::stream::unfold((body, hung), |(mut body, mut hung)| async move {
            let _ = hung.wait_for(|h| !*h).await;
            let frame = body.frame().await?;
            let _ = hung.wait_for(|h| !*h).await;
            Some((frame, (body, hung)))
        });
        StreamBody::new(frames).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[tokio::test]
    async fn windows_close_by_themselves() {
        let c = Chaos::new();
        assert!(!c.watch_gone() && c.outage().is_none());
        c.set_watch_gone_for(Duration::from_millis(50));
        c.set_outage(429, Duration::from_millis(50), Some(2));
        assert!(c.watch_gone());
        assert_eq!(
            c.outage().map(|o| (o.status, o.retry_after)),
            Some((429, Some(2)))
        );
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(!c.watch_gone() && c.outage().is_none());
    }

    #[tokio::test]
    async fn a_hung_body_holds_its_frames_until_released() {
        let c = Chaos::new();
        c.hung.send_replace(true);
        let body: Body = http_body_util::Full::new(Bytes::from_static(b"x")).boxed();
        let collect = tokio::spawn(c.stall_while_hung(body).collect());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!collect.is_finished(), "nothing is sent while hung");
        c.hung.send_replace(false);
        let got = collect.await.unwrap().unwrap().to_bytes();
        assert_eq!(&got[..], b"x");
    }
}
