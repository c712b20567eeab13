//! The log follower: streams the repair Job's executor log across attempts.
//!
//! It follows the workload, not one pod (stern's lesson): each repair attempt
//! (`rollback`, `rollback-retry-1`, …) is streamed in order, announced with
//! [`SourceEvent::LogAttempt`], and kept. A dropped stream is resumed by timestamp and the
//! overlap de-duplicated, so no line is lost or repeated.

use std::collections::HashSet;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams, LogParams};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::connect::explain;
use super::{SourceEvent, SourceName};
use crate::domain::JobView;
use crate::domain::incident::{EXECUTOR_CONTAINER, LABEL_JOB_NAME, LABEL_JOB_NAME_LEGACY};

/// Lines are sent in batches: at most this many, or whatever arrived within `FLUSH`.
const BATCH: usize = 500;
const FLUSH: Duration = Duration::from_millis(40);

/// Remembers where the stream got to, so a resumed stream skips what was already sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    last: Option<Timestamp>,
    /// Lines already sent that carry exactly `last` (several lines can share a timestamp).
    at_last: HashSet<String>,
}

impl ResumePoint {
    /// `sinceTime` for the next request: the last second seen (the API rounds to seconds).
    pub fn since(&self) -> Option<Timestamp> {
        self.last
            .and_then(|t| Timestamp::from_second(t.as_second()).ok())
    }

    /// Accept a `timestamps=true` line; returns the text to show, or None for a duplicate.
    pub fn accept(&mut self, raw: &str) -> Option<String> {
        let Some((ts, text)) = raw
            .split_once(' ')
            .and_then(|(ts, text)| Some((ts.parse::<Timestamp>().ok()?, text)))
        else {
            // A line without a timestamp cannot be de-duplicated; show it.
            return Some(raw.to_string());
        };
        match self.last {
            Some(last) if ts < last => None,
            Some(last) if ts == last => self
                .at_last
                .insert(text.to_string())
                .then(|| text.to_string()),
            _ => {
                self.last = Some(ts);
                self.at_last.clear();
                self.at_last.insert(text.to_string());
                Some(text.to_string())
            }
        }
    }
}

/// Start following. `jobs` carries the latest Job list (the runtime forwards the Jobs
/// watcher's snapshots); the task stops when `tx` closes.
pub fn spawn(
    client: Client,
    namespace: String,
    mut jobs: watch::Receiver<Vec<JobView>>,
    tx: mpsc::Sender<SourceEvent>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client, &namespace);
        let mut done: HashSet<String> = HashSet::new();
        loop {
            let next = next_attempt(&jobs.borrow(), &done);
            let Some(job) = next else {
                if jobs.changed().await.is_err() {
                    return;
                }
                continue;
            };
            let marker = SourceEvent::LogAttempt {
                job: job.name.clone(),
                run_id: job.run_id.clone(),
            };
            if tx.send(marker).await.is_err() {
                return;
            }
            if !follow_job(&pods, &job.name, &mut jobs, &tx).await {
                return;
            }
            done.insert(job.name.clone());
            if tx
                .send(SourceEvent::LogEnded { job: job.name })
                .await
                .is_err()
            {
                return;
            }
        }
    })
}

/// The oldest repair attempt not streamed yet.
pub fn next_attempt(jobs: &[JobView], done: &HashSet<String>) -> Option<JobView> {
    let mut repair: Vec<&JobView> = jobs
        .iter()
        .filter(|j| j.is_repair() && !done.contains(&j.name))
        .collect();
    repair.sort_by_key(|j| (j.attempt(), j.created));
    repair.first().map(|j| (*j).clone())
}

enum PodState {
    Missing,
    Waiting,
    Running(String),
    Terminated(String),
}

async fn pod_state(pods: &Api<Pod>, job: &str) -> Result<PodState, kube::Error> {
    for label in [LABEL_JOB_NAME, LABEL_JOB_NAME_LEGACY] {
        let list = pods
            .list(&ListParams::default().labels(&format!("{label}={job}")))
            .await?;
        let Some(pod) = list.items.into_iter().next() else {
            continue;
        };
        let name = pod.metadata.name.clone().unwrap_or_default();
        let state = pod
            .status
            .and_then(|s| s.container_statuses)
            .and_then(|cs| cs.into_iter().find(|c| c.name == EXECUTOR_CONTAINER))
            .and_then(|c| c.state);
        return Ok(match state {
            Some(s) if s.terminated.is_some() => PodState::Terminated(name),
            Some(s) if s.running.is_some() => PodState::Running(name),
            _ => PodState::Waiting,
        });
    }
    Ok(PodState::Missing)
}

/// Stream one Job's executor log to its end. Returns false when the app has gone.
async fn follow_job(
    pods: &Api<Pod>,
    job: &str,
    jobs: &mut watch::Receiver<Vec<JobView>>,
    tx: &mpsc::Sender<SourceEvent>,
) -> bool {
    let mut resume = ResumePoint::default();
    let mut backoff = Duration::from_millis(250);
    let mut failing = false;
    loop {
        let (pod, terminated) = match pod_state(pods, job).await {
            Ok(PodState::Running(p)) => (p, false),
            Ok(PodState::Terminated(p)) => (p, true),
            Ok(PodState::Waiting) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Ok(PodState::Missing) => {
                // Deleted by TTL, or not created yet: move on if the Job itself is gone.
                if !jobs.borrow().iter().any(|j| j.name == job) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(e) => {
                failing = true;
                let message = format!("logs of {job}: {}", explain(&e));
                if tx
                    .send(SourceEvent::Problem {
                        source: SourceName::Logs,
                        message,
                    })
                    .await
                    .is_err()
                {
                    return false;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        let params = LogParams {
            container: Some(EXECUTOR_CONTAINER.into()),
            follow: !terminated,
            timestamps: true,
            since_time: resume.since(),
            ..Default::default()
        };
        match pods.log_stream(&pod, &params).await {
            Ok(reader) => {
                if failing {
                    failing = false;
                    backoff = Duration::from_millis(250);
                    if tx
                        .send(SourceEvent::Recovered {
                            source: SourceName::Logs,
                        })
                        .await
                        .is_err()
                    {
                        return false;
                    }
                }
                if !pump(reader, job, &mut resume, tx).await {
                    return false;
                }
                if terminated {
                    return true;
                }
                // The follow stream ended: the container terminated, or the stream dropped.
                // The next round reads the pod state and resumes from `resume`.
            }
            Err(e) => {
                failing = true;
                let message = format!("logs of {job}: {}", explain(&e));
                if tx
                    .send(SourceEvent::Problem {
                        source: SourceName::Logs,
                        message,
                    })
                    .await
                    .is_err()
                {
                    return false;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Read a log stream to its end, sending de-duplicated lines in batches.
async fn pump(
    reader: impl futures::AsyncBufRead + Unpin,
    job: &str,
    resume: &mut ResumePoint,
    tx: &mpsc::Sender<SourceEvent>,
) -> bool {
    let mut lines = reader.lines();
    let mut batch = Vec::new();
    loop {
        let next = if batch.is_empty() {
            Ok(lines.next().await)
        } else {
            tokio::time::timeout(FLUSH, lines.next()).await
        };
        let (ended, quiet) = match next {
            Ok(Some(Ok(line))) => {
                if let Some(text) = resume.accept(&line) {
                    batch.push(text);
                }
                (false, false)
            }
            // A read error mid-stream is a dropped stream: the caller resumes.
            Ok(Some(Err(_))) | Ok(None) => (true, false),
            Err(_elapsed) => (false, true),
        };
        if !batch.is_empty() && (ended || quiet || batch.len() >= BATCH) {
            let event = SourceEvent::LogLines {
                job: job.to_string(),
                lines: std::mem::take(&mut batch),
            };
            if tx.send(event).await.is_err() {
                return false;
            }
        }
        if ended {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::JobState;

    #[test]
    fn resuming_neither_loses_nor_duplicates() {
        let mut r = ResumePoint::default();
        let first = [
            "2026-11-23T10:00:01.100000000Z a",
            "2026-11-23T10:00:01.200000000Z b",
            "2026-11-23T10:00:01.200000000Z c",
        ];
        let got: Vec<_> = first.iter().filter_map(|l| r.accept(l)).collect();
        assert_eq!(got, ["a", "b", "c"]);
        assert_eq!(r.since().unwrap().to_string(), "2026-11-23T10:00:01Z");
        // The resumed stream starts at the second: everything again, then new lines.
        let again = [
            "2026-11-23T10:00:01.100000000Z a",
            "2026-11-23T10:00:01.200000000Z b",
            "2026-11-23T10:00:01.200000000Z c",
            "2026-11-23T10:00:01.200000000Z d",
            "2026-11-23T10:00:02.000000000Z e",
        ];
        let got: Vec<_> = again.iter().filter_map(|l| r.accept(l)).collect();
        assert_eq!(got, ["d", "e"]);
    }

    #[test]
    fn attempts_are_followed_oldest_first() {
        let job = |name: &str, run: &str| JobView {
            name: name.into(),
            action: Some("bluegreen-repair-consensus".into()),
            run_id: Some(run.into()),
            state: JobState::Failed,
            created: None,
        };
        let jobs = vec![job("j1", "rollback-retry-1"), job("j0", "rollback")];
        let mut done = HashSet::new();
        assert_eq!(next_attempt(&jobs, &done).unwrap().name, "j0");
        done.insert("j0".to_string());
        assert_eq!(next_attempt(&jobs, &done).unwrap().name, "j1");
        done.insert("j1".to_string());
        assert!(next_attempt(&jobs, &done).is_none());
    }
}
