//! The log follower: streams the repair Job's executor log across attempts.
//!
//! It follows the workload, not one pod (stern's lesson): each repair attempt
//! (`rollback`, `rollback-retry-1`, …) is streamed in order, announced with
//! [`SourceEvent::LogAttempt`], and kept. A dropped stream is resumed by timestamp and the
//! overlap de-duplicated, so no line is lost or repeated.
//!
//! **Gaps.** `sinceTime` has one-second precision, so a resumed stream must start at or before
//! the last line already seen (it repeats that second, and the repeat is dropped). If the
//! first timestamped line of a resumed stream is *newer* than the last line seen, the server
//! no longer has that line (rotated or truncated container log): lines may have been lost
//! in between, and a [`SourceEvent::LogGap`] says from when to when. A resumed stream that
//! returns nothing at all cannot be told apart from a quiet container and is not flagged.
//!
//! **Silence.** A followed stream that sends nothing for [`QUIET`] is not trusted: a hung API
//! server or a stalled stream looks exactly like a quiet container. The follower then
//! re-reads the pod's state and re-opens the stream from where it got to (the overlap is
//! de-duplicated as above), each request with a [`REQUEST_TIMEOUT`]. A container that still
//! runs and a server that answers: nothing is shown. A server that does not answer: the
//! Logs source is reported stale (`[STALE]`), never as a finished stream; the stream ends
//! (`LogEnded`) only when the container has terminated and its log was read to the end.
//! A 401 stops the follower (the credentials are not retried blindly).
//!
//! **Evidence on disk.** With [`FollowOptions::evidence_dir`], each attempt's log is appended
//! to `<dir>/<job>.log` as it streams (redacted, with the API server's timestamps, lines as
//! de-duplicated), because failed Jobs and their logs are deleted one hour after they finish.
//! Lines are read as bytes and decoded lossily: invalid UTF-8 never drops a stream.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::AsyncBufReadExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams, LogParams};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::SourceEvent;
use crate::domain::JobView;
use crate::domain::incident::{EXECUTOR_CONTAINER, LABEL_JOB_NAME, LABEL_JOB_NAME_LEGACY};
use crate::domain::rollback_jobs::RollbackStep;

/// Lines are sent in batches: at most this many, or whatever arrived within `FLUSH`.
const BATCH: usize = 500;
const FLUSH: Duration = Duration::from_millis(40);
/// A followed stream silent this long is re-checked (pod state) and re-opened.
pub(crate) const QUIET: Duration = Duration::from_secs(3);
/// Deadline of the follower's pod list and of opening a log stream.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(4);
/// The longest wait between two attempts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Remembers where the stream got to, so a resumed stream skips what was already sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ResumePoint {
    last: Option<Timestamp>,
    /// Lines already sent that carry exactly `last` (several lines can share a timestamp).
    at_last: HashSet<String>,
    /// A new stream started after an earlier one: its first timestamped line is checked.
    resumed: bool,
    gap: Option<(Timestamp, Timestamp)>,
}

impl ResumePoint {
    /// `sinceTime` for the next request: the last second seen (the API rounds to seconds).
    pub fn since(&self) -> Option<Timestamp> {
        self.last
            .and_then(|t| Timestamp::from_second(t.as_second()).ok())
    }

    /// A new stream (from `since()`) starts now.
    pub fn restart(&mut self) {
        self.resumed = self.last.is_some();
    }

    /// The gap detected by the last `accept`, if any: (last line seen, first line after).
    pub(crate) fn take_gap(&mut self) -> Option<(Timestamp, Timestamp)> {
        self.gap.take()
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
        if std::mem::take(&mut self.resumed)
            && let Some(last) = self.last
            && ts > last
        {
            self.gap = Some((last, ts));
        }
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

/// The incident directory: `$XDG_STATE_HOME/breakglass/<ns>-<cluster>-<date>/` (default
/// `~/.local/state/...`), created with mode 0700 (it holds logs of a secrets system).
pub(crate) fn incident_dir(
    namespace: &str,
    cluster: &str,
    now: Timestamp,
) -> std::io::Result<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .ok_or_else(|| std::io::Error::other("neither XDG_STATE_HOME nor HOME is set"))?;
    incident_dir_in(&base, namespace, cluster, now)
}

fn incident_dir_in(
    base: &Path,
    namespace: &str,
    cluster: &str,
    now: Timestamp,
) -> std::io::Result<PathBuf> {
    let date = now.strftime("%Y-%m-%d").to_string();
    let dir = base
        .join("breakglass")
        .join(format!("{namespace}-{cluster}-{date}"));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    Ok(dir)
}

/// How the follower keeps what it streams.
#[derive(Debug, Clone, Default)]
pub struct FollowOptions {
    /// Write each attempt's log to `<dir>/<job>.log` (the incident directory).
    pub evidence_dir: Option<PathBuf>,
}

/// Appends one attempt's lines to its evidence file; a failure is reported once.
struct EvidenceFile {
    path: Option<PathBuf>,
    failed: bool,
}

impl EvidenceFile {
    fn new(dir: Option<&Path>, job: &str) -> EvidenceFile {
        EvidenceFile {
            path: dir.map(|d| d.join(format!("{job}.log"))),
            failed: false,
        }
    }

    /// Append `lines` (already redacted). Returns a problem to report the first time it fails.
    fn append(&mut self, lines: &[String]) -> Option<String> {
        let path = self.path.as_ref()?;
        if self.failed || lines.is_empty() {
            return None;
        }
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            let mut buf = String::new();
            for l in lines {
                buf.push_str(l);
                buf.push('\n');
            }
            f.write_all(buf.as_bytes())
        };
        match write() {
            Ok(()) => None,
            Err(e) => {
                self.failed = true;
                Some(format!("log evidence NOT saved to {}: {e}", path.display()))
            }
        }
    }
}

/// Start following. `jobs` carries the latest Job list (the runtime forwards the Jobs
/// watcher's snapshots); the task stops when `tx` closes.
pub fn spawn(
    client: Client,
    namespace: String,
    jobs: watch::Receiver<Vec<JobView>>,
    tx: mpsc::Sender<SourceEvent>,
) -> JoinHandle<()> {
    spawn_with(client, namespace, jobs, tx, FollowOptions::default())
}

/// [`spawn`] with options (evidence directory).
pub fn spawn_with(
    client: Client,
    namespace: String,
    mut jobs: watch::Receiver<Vec<JobView>>,
    tx: mpsc::Sender<SourceEvent>,
    opts: FollowOptions,
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
            let mut sink = EvidenceFile::new(opts.evidence_dir.as_deref(), &job.name);
            let target = (job.name.as_str(), EXECUTOR_CONTAINER);
            if !follow_job(&pods, target, &mut jobs, &tx, &mut sink).await {
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

/// Follow one named Job's `container` once, like a repair attempt (resumed, de-duplicated,
/// saved to `<dir>/<job>.log`): waits for the Job to appear in `jobs`, then sends
/// `LogLines`, `LogGap` and finally `LogEnded` for it. Used for the restore Job.
pub fn spawn_one(
    client: Client,
    namespace: String,
    (job, container): (String, &'static str),
    mut jobs: watch::Receiver<Vec<JobView>>,
    tx: mpsc::Sender<SourceEvent>,
    opts: FollowOptions,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client, &namespace);
        while !jobs.borrow().iter().any(|j| j.name == job) {
            if jobs.changed().await.is_err() {
                return;
            }
        }
        let mut sink = EvidenceFile::new(opts.evidence_dir.as_deref(), &job);
        if follow_job(&pods, (&job, container), &mut jobs, &tx, &mut sink).await {
            let _ = tx.send(SourceEvent::LogEnded { job }).await;
        }
    })
}

/// The oldest rollback attempt not streamed yet: repair and cleanup Jobs (the console feeds
/// the current operation's, `Incident::followed_jobs`), the repair before the cleanup of the
/// same attempt. A rollback action on a forward run ID (Cleanup's `retry-N`) is not one.
pub(crate) fn next_attempt(jobs: &[JobView], done: &HashSet<String>) -> Option<JobView> {
    let mut rollback: Vec<(&JobView, RollbackStep)> = jobs
        .iter()
        .filter(|j| !done.contains(&j.name))
        .filter(|j| j.run_id.is_none() || j.attempt().is_some())
        .filter_map(|j| Some((j, RollbackStep::of_action(j.action.as_deref()?)?)))
        .collect();
    rollback.sort_by_key(|(j, step)| (j.attempt().is_none(), j.attempt(), *step, j.created));
    rollback.first().map(|(j, _)| (*j).clone())
}

/// How a pumped stream stopped.
enum Pumped {
    /// The stream ended (container terminated, or the stream was dropped).
    Ended,
    /// Nothing arrived for [`QUIET`]: re-check and re-open.
    Quiet,
    /// The app has gone.
    Gone,
}

enum PodState {
    Missing,
    Waiting,
    Running(String),
    Terminated(String),
}

async fn pod_state(pods: &Api<Pod>, job: &str, container: &str) -> Result<PodState, kube::Error> {
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
            .and_then(|cs| cs.into_iter().find(|c| c.name == container))
            .and_then(|c| c.state);
        return Ok(match state {
            Some(s) if s.terminated.is_some() => PodState::Terminated(name),
            Some(s) if s.running.is_some() => PodState::Running(name),
            _ => PodState::Waiting,
        });
    }
    Ok(PodState::Missing)
}

/// Stream one Job's `container` log to its end. Returns false when the app has gone.
async fn follow_job(
    pods: &Api<Pod>,
    (job, container): (&str, &str),
    jobs: &mut watch::Receiver<Vec<JobView>>,
    tx: &mpsc::Sender<SourceEvent>,
    sink: &mut EvidenceFile,
) -> bool {
    let mut resume = ResumePoint::default();
    let mut retry = Retry::default();
    let mut after_quiet = false;
    loop {
        let state = deadline(pod_state(pods, job, container), after_quiet).await;
        let (pod, terminated) = match state {
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
                if !retry.failed(tx, job, &e).await {
                    return false;
                }
                continue;
            }
        };
        let params = LogParams {
            container: Some(container.into()),
            follow: !terminated,
            timestamps: true,
            since_time: resume.since(),
            ..Default::default()
        };
        match deadline(pods.log_stream(&pod, &params), after_quiet).await {
            Ok(reader) => {
                if !retry.succeeded(tx).await {
                    return false;
                }
                resume.restart();
                let quiet = if terminated { None } else { Some(QUIET) };
                match pump(reader, job, &mut resume, tx, sink, quiet).await {
                    Pumped::Gone => return false,
                    Pumped::Ended if terminated => return true,
                    // The follow stream ended (the container terminated, or the stream
                    // dropped) or went silent: the next round reads the pod state and
                    // resumes from `resume`.
                    Pumped::Ended => after_quiet = false,
                    Pumped::Quiet => after_quiet = true,
                }
            }
            Err(e) => {
                if !retry.failed(tx, job, &e).await {
                    return false;
                }
            }
        }
    }
}

/// Read a log stream to its end (or, with `quiet`, until it is silent that long), sending
/// de-duplicated lines in batches (and appending them to the evidence file). Lines are
/// split on bytes and decoded lossily. A partial line is kept across the batch timer; at the
/// end of a stream it is shown only when the stream was not following (`quiet` None: the
/// container has terminated); a cut follow stream's partial line comes again, whole, when
/// the stream is resumed.
async fn pump(
    reader: impl futures::AsyncBufRead + Unpin,
    job: &str,
    resume: &mut ResumePoint,
    tx: &mpsc::Sender<SourceEvent>,
    sink: &mut EvidenceFile,
    quiet: Option<Duration>,
) -> Pumped {
    let mut reader = reader;
    let mut batch = Vec::new();
    let mut raw_batch = Vec::new();
    let mut buf = Vec::new();
    loop {
        let wait = if batch.is_empty() { quiet } else { Some(FLUSH) };
        let read = reader.read_until(b'\n', &mut buf);
        let next = match wait {
            None => Ok(read.await),
            Some(w) => tokio::time::timeout(w, read).await,
        };
        let mut gap = None;
        let mut silent = false;
        let (ended, quiet) = match next {
            // A whole line, or the unterminated last line of a stream that does not follow.
            Ok(Ok(_)) if buf.last() == Some(&b'\n') || (quiet.is_none() && !buf.is_empty()) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf);
                if let Some(text) = resume.accept(&line) {
                    raw_batch.push(crate::logs::redact(&line).into_owned());
                    batch.push(text);
                }
                gap = resume.take_gap();
                buf.clear();
                (false, false)
            }
            // The end, or a read error mid-stream (a dropped stream): the caller resumes. A
            // followed stream's unterminated last line was cut: it comes again, whole.
            Ok(Ok(_)) | Ok(Err(_)) => (true, false),
            Err(_elapsed) => {
                silent = batch.is_empty();
                (silent, true)
            }
        };
        // A gap goes before the line that revealed it.
        let first_after_gap = if gap.is_some() { batch.pop() } else { None };
        if !batch.is_empty() && (ended || quiet || gap.is_some() || batch.len() >= BATCH) {
            if let Some(problem) =
                sink.append(&raw_batch[..raw_batch.len() - usize::from(first_after_gap.is_some())])
            {
                let _ = tx.send(SourceEvent::EvidenceNotSaved(problem)).await;
            }
            let keep = if first_after_gap.is_some() {
                raw_batch.pop()
            } else {
                None
            };
            raw_batch.clear();
            raw_batch.extend(keep);
            let event = SourceEvent::LogLines {
                job: job.to_string(),
                lines: std::mem::take(&mut batch),
            };
            if tx.send(event).await.is_err() {
                return Pumped::Gone;
            }
        }
        if let Some((last_seen, first_after)) = gap {
            let event = SourceEvent::LogGap {
                job: job.to_string(),
                last_seen,
                first_after,
            };
            if tx.send(event).await.is_err() {
                return Pumped::Gone;
            }
            batch.extend(first_after_gap);
        }
        if silent {
            return Pumped::Quiet;
        }
        if ended {
            return Pumped::Ended;
        }
    }
}

#[path = "logfollow_retry.rs"]
mod retry;
use retry::{Retry, deadline};

#[cfg(test)]
#[path = "logfollow_tests.rs"]
mod tests;
