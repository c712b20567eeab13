//! Retries of the log follower: backoff, Problem/Recovered reporting, and the deadline of
//! each request (`logfollow`'s "Silence" paragraph says why).

use std::time::Duration;

use tokio::sync::mpsc;

use super::{MAX_BACKOFF, QUIET, REQUEST_TIMEOUT};
use crate::sources::connect::explain;
use crate::sources::{SourceEvent, SourceName};

/// Backoff and Problem/Recovered reporting for one followed Job (250 ms doubling to
/// [`MAX_BACKOFF`], short so the pane is fresh within seconds of the server answering).
pub(super) struct Retry {
    delay: Duration,
    failing: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            delay: Duration::from_millis(250),
            failing: false,
        }
    }
}

impl Retry {
    /// Report the failure, wait, back off. False when the app has gone. A 401 is
    /// reported and then nothing more is sent (until the app goes).
    pub(super) async fn failed(
        &mut self,
        tx: &mpsc::Sender<SourceEvent>,
        job: &str,
        e: &Failure,
    ) -> bool {
        self.failing = true;
        let unauthenticated =
            matches!(e, Failure::Api(e) if crate::sources::liveness_auth::is_unauthenticated(e));
        let mut message = format!("logs of {job}: {}", e.explain());
        if unauthenticated && !message.contains(crate::sources::liveness::READS_STOPPED) {
            message.push_str(&format!(
                "; {}, nothing is retried",
                crate::sources::liveness::READS_STOPPED
            ));
        }
        let problem = SourceEvent::Problem {
            source: SourceName::Logs,
            message,
        };
        if tx.send(problem).await.is_err() {
            return false;
        }
        if unauthenticated {
            tx.closed().await;
            return false;
        }
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(MAX_BACKOFF);
        true
    }

    /// A request worked: report recovery once after failures. False when the app has gone.
    pub(super) async fn succeeded(&mut self, tx: &mpsc::Sender<SourceEvent>) -> bool {
        if !self.failing {
            return true;
        }
        *self = Retry::default();
        let recovered = SourceEvent::Recovered {
            source: SourceName::Logs,
        };
        tx.send(recovered).await.is_ok()
    }
}

/// Why a follower request failed: the API said so, or it did not answer in time.
pub(super) enum Failure {
    Api(kube::Error),
    /// No answer within [`REQUEST_TIMEOUT`]; `after_quiet`: the stream had gone silent first.
    NoAnswer {
        after_quiet: bool,
    },
}

impl Failure {
    fn explain(&self) -> String {
        match self {
            Failure::Api(e) => explain(e),
            Failure::NoAnswer { after_quiet: true } => format!(
                "the stream went silent for {} s and the API server did not answer within {} s (not treated as finished)",
                QUIET.as_secs(),
                REQUEST_TIMEOUT.as_secs()
            ),
            Failure::NoAnswer { after_quiet: false } => format!(
                "the API server did not answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            ),
        }
    }
}

/// `fut` with [`REQUEST_TIMEOUT`].
pub(super) async fn deadline<T>(
    fut: impl std::future::Future<Output = Result<T, kube::Error>>,
    after_quiet: bool,
) -> Result<T, Failure> {
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(r) => r.map_err(Failure::Api),
        Err(_) => Err(Failure::NoAnswer { after_quiet }),
    }
}
