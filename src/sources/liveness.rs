//! Liveness of the API server: freshness is *confirmed*, not assumed from the absence of
//! errors. An overloaded API server accepts connections and answers nothing; its open
//! watches simply go quiet, and without this the panes would look current forever.
//!
//! A cheap read (a `limit=1` list of the cluster object by name: it goes through
//! authentication and storage like the watches do) is sent every [`PROBE_INTERVAL`] with a
//! [`PROBE_TIMEOUT`]. A 2xx or a 4xx (a 403 is RBAC, the watchers say so) confirms the
//! server; no answer, or a 429/5xx (an overloaded server throttling or failing), does not.
//! Then every watched source ([`WATCHED`]) is reported as a problem naming the API server
//! and for how long it has not answered (or answered only errors), so the panes say `[STALE]` and the write guards refuse
//! (`State::is_stale`); the message is re-sent with the new duration on every failed probe.
//! When it answers again the watchers are told to start over ([`Restart`]): their fresh
//! list is what clears the staleness, never the probe itself. A 401 stops the probing: the
//! credentials are not retried blindly (see [`Verdict::Unauthenticated`]).
//!
//! Sits beside the watchers in the data flow: `liveness` → `SourceEvent::Problem` to the
//! app, and a restart generation to `watch`.

use std::time::Duration;

use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::connect::explain;
use super::{SourceEvent, SourceName};

/// How often the API server is asked.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(2);
/// How long a probe may take before the server counts as not answering. Longer than a slow
/// server's answer (2 s of latency is slow, not hung), short enough to show a hang within
/// 10 s: at most one interval plus one timeout after the last answer.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(4);
/// The sources whose data comes from the API server's watches.
pub(crate) const WATCHED: [SourceName; 3] =
    [SourceName::Cluster, SourceName::Pods, SourceName::Jobs];

/// What the probe tells the watchers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Live {
    /// Bumped when the API server answers again after not answering: watchers drop their
    /// (possibly silent) streams and list afresh.
    pub generation: u64,
    /// The server is not answering (or only with errors) now: the probe has marked the
    /// watched sources stale with a message naming the server, and the watchers keep their
    /// own (less telling) errors to themselves meanwhile.
    pub down: bool,
}

pub type Restart = watch::Receiver<Live>;

pub(crate) use crate::app::msg::READS_STOPPED;

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The server answered (2xx, or a 4xx but 401 and 429).
    Answered,
    /// 401: the credentials are no longer accepted.
    Unauthenticated(String),
    /// No answer: timed out, refused, reset.
    Silent(String),
    /// An answer that does not confirm anything: 429 or 5xx.
    Failing(String),
}

/// What the task must do after a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing to say.
    Quiet,
    /// Report every watched source stale with this message.
    NotAnswering(String),
    /// The server answers again after not answering: restart the watchers.
    AnsweringAgain,
    /// Report every watched source stale with this message, and stop probing.
    Unauthenticated(String),
}

/// The liveness state machine (pure: the clock is passed in).
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    server: String,
    last_answer: Instant,
    down: bool,
}

impl Tracker {
    pub fn new(server: &str, now: Instant) -> Tracker {
        Tracker {
            server: server.to_string(),
            last_answer: now,
            down: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn is_down(&self) -> bool {
        self.down
    }

    pub(crate) fn observe(&mut self, probe: Probe, now: Instant) -> Verdict {
        match probe {
            Probe::Answered => {
                self.last_answer = now;
                if std::mem::take(&mut self.down) {
                    Verdict::AnsweringAgain
                } else {
                    Verdict::Quiet
                }
            }
            Probe::Silent(detail) => {
                self.down = true;
                let secs = now.duration_since(self.last_answer).as_secs();
                Verdict::NotAnswering(format!(
                    "API server {} has not answered for {secs} s ({detail}); writes disabled",
                    self.server
                ))
            }
            Probe::Failing(detail) => {
                self.down = true;
                let secs = now.duration_since(self.last_answer).as_secs();
                Verdict::NotAnswering(format!(
                    "API server {} has answered only errors for {secs} s ({detail}); writes disabled",
                    self.server
                ))
            }
            Probe::Unauthenticated(detail) if detail.contains(READS_STOPPED) => {
                self.down = true;
                Verdict::Unauthenticated(detail)
            }
            Probe::Unauthenticated(detail) => {
                self.down = true;
                Verdict::Unauthenticated(format!(
                    "{detail}; {READS_STOPPED}, nothing is sent: renew the credentials and restart breakglass"
                ))
            }
        }
    }
}

/// Classify a probe's outcome: any API status but 401 is an answer.
pub fn classify(result: Result<Result<(), kube::Error>, tokio::time::error::Elapsed>) -> Probe {
    match result {
        Ok(Ok(())) => Probe::Answered,
        Ok(Err(e)) if super::liveness_auth::is_unauthenticated(&e) => {
            Probe::Unauthenticated(explain(&e))
        }
        Ok(Err(kube::Error::Api(s))) if s.code == 429 || s.code >= 500 => {
            Probe::Failing(explain(&kube::Error::Api(s)))
        }
        Ok(Err(kube::Error::Api(_))) => Probe::Answered,
        Ok(Err(e)) => Probe::Silent(explain(&e)),
        Err(_) => Probe::Silent(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
    }
}

/// Probe the API server forever (until `tx` closes). `server` is the URL shown to the user;
/// the returned receiver is the watchers' [`Restart`].
pub fn spawn(
    client: Client,
    namespace: &str,
    cluster: &str,
    server: String,
    tx: mpsc::Sender<SourceEvent>,
) -> (JoinHandle<()>, Restart) {
    let (restart, restart_rx) = watch::channel(Live::default());
    let api: Api<DynamicObject> =
        Api::namespaced_with(client, namespace, &super::watch::cluster_resource());
    let params = ListParams::default()
        .fields(&format!("metadata.name={cluster}"))
        .limit(1);
    let task = tokio::spawn(async move {
        let mut tracker = Tracker::new(&server, Instant::now());
        let mut tick = tokio::time::interval(PROBE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let result = tokio::time::timeout(PROBE_TIMEOUT, api.list(&params))
                .await
                .map(|r| r.map(|_| ()));
            let (message, stop) = match tracker.observe(classify(result), Instant::now()) {
                Verdict::Quiet => continue,
                Verdict::AnsweringAgain => {
                    restart.send_modify(|l| {
                        l.generation = l.generation.wrapping_add(1);
                        l.down = false;
                    });
                    continue;
                }
                Verdict::NotAnswering(m) => (m, false),
                Verdict::Unauthenticated(m) => (m, true),
            };
            restart.send_if_modified(|l| !std::mem::replace(&mut l.down, true));
            for source in WATCHED {
                let message = message.clone();
                if tx
                    .send(SourceEvent::Problem { source, message })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if stop {
                // Keep the restart sender alive (watchers wait on it), probe no more.
                tx.closed().await;
                return;
            }
        }
    });
    (task, restart_rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_reported_with_its_duration_and_an_answer_restarts_the_watchers() {
        let t0 = Instant::now();
        let mut t = Tracker::new("https://127.0.0.1:6443", t0);
        assert_eq!(t.observe(Probe::Answered, t0), Verdict::Quiet);
        let later = t0 + Duration::from_secs(6);
        match t.observe(Probe::Silent("no answer within 4 s".into()), later) {
            Verdict::NotAnswering(m) => {
                assert!(m.contains("https://127.0.0.1:6443"), "{m}");
                assert!(m.contains("not answered for 6 s"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        assert!(t.is_down());
        let m = t.observe(Probe::Silent("x".into()), later + Duration::from_secs(2));
        assert!(
            matches!(m, Verdict::NotAnswering(ref m) if m.contains("for 8 s")),
            "{m:?}"
        );
        assert_eq!(
            t.observe(Probe::Answered, later + Duration::from_secs(3)),
            Verdict::AnsweringAgain
        );
        assert_eq!(
            t.observe(Probe::Answered, later + Duration::from_secs(5)),
            Verdict::Quiet
        );
    }

    #[test]
    fn a_4xx_is_an_answer_and_429_or_5xx_is_not() {
        let status = |code| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                message: "m".into(),
                ..Default::default()
            }))
        };
        assert!(matches!(classify(Ok(Err(status(503)))), Probe::Failing(_)));
        assert!(matches!(classify(Ok(Err(status(429)))), Probe::Failing(_)));
        assert_eq!(classify(Ok(Err(status(403)))), Probe::Answered);
        assert_eq!(classify(Ok(Err(status(404)))), Probe::Answered);
        assert!(matches!(
            classify(Ok(Err(status(401)))),
            Probe::Unauthenticated(m) if m.contains("401")
        ));
        let mut t = Tracker::new("s", Instant::now());
        assert!(matches!(
            t.observe(Probe::Unauthenticated("not authenticated (401)".into()), Instant::now()),
            Verdict::Unauthenticated(m) if m.contains("reads stopped")
        ));
    }
}
