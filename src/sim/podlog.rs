//! Container logs held by the simulator's [`Store`](super::store::Store): what the API
//! server's `pods/{pod}/log` endpoint reads and what followers wait on.
//!
//! Each (namespace, pod, container) has the current run's timestamped lines, whether the
//! container has terminated, and optionally the previous run (for `previous=true`). Every
//! change bumps one `tokio::sync::watch` counter so followers can await new lines without
//! polling.

use std::collections::HashMap;

use jiff::Timestamp;
use tokio::sync::watch;

/// One log line as the kubelet would have stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: Timestamp,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
struct ContainerLog {
    lines: Vec<LogLine>,
    terminated: bool,
    previous: Option<Vec<LogLine>>,
}

/// A read of a container's log from some line index on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRead {
    pub lines: Vec<LogLine>,
    /// Index to pass to the next read.
    pub next: usize,
    /// The container has terminated: nothing will follow.
    pub terminated: bool,
}

type Key = (String, String, String);

/// All containers' logs plus the change counter.
#[derive(Debug)]
pub(crate) struct LogBook {
    logs: HashMap<Key, ContainerLog>,
    tick: watch::Sender<u64>,
}

impl LogBook {
    pub(crate) fn new() -> Self {
        let (tick, _) = watch::channel(0);
        LogBook {
            logs: HashMap::new(),
            tick,
        }
    }

    fn key(ns: &str, pod: &str, container: &str) -> Key {
        (ns.to_string(), pod.to_string(), container.to_string())
    }

    fn bump(&self) {
        self.tick.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn append(&mut self, ns: &str, pod: &str, container: &str, text: &str) {
        let log = self.logs.entry(Self::key(ns, pod, container)).or_default();
        log.lines.push(LogLine {
            time: Timestamp::now(),
            text: text.to_string(),
        });
        self.bump();
    }

    pub(crate) fn terminate(&mut self, ns: &str, pod: &str, container: &str) {
        let log = self.logs.entry(Self::key(ns, pod, container)).or_default();
        log.terminated = true;
        self.bump();
    }

    /// The container restarted: the current run becomes `previous`, a fresh run starts.
    pub(crate) fn restart(&mut self, ns: &str, pod: &str, container: &str) {
        let log = self.logs.entry(Self::key(ns, pod, container)).or_default();
        let old = std::mem::take(&mut log.lines);
        log.previous = Some(old);
        log.terminated = false;
        self.bump();
    }

    pub(crate) fn has_previous(&self, ns: &str, pod: &str, container: &str) -> bool {
        self.logs
            .get(&Self::key(ns, pod, container))
            .is_some_and(|l| l.previous.is_some())
    }

    /// Lines from index `from`. An unknown container reads as empty and not terminated
    /// (a running container that has printed nothing yet).
    pub(crate) fn read(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        from: usize,
        previous: bool,
    ) -> LogRead {
        let Some(log) = self.logs.get(&Self::key(ns, pod, container)) else {
            return LogRead {
                lines: Vec::new(),
                next: from,
                terminated: false,
            };
        };
        if previous {
            let lines = log.previous.clone().unwrap_or_default();
            let next = lines.len();
            return LogRead {
                lines: lines.into_iter().skip(from).collect(),
                next,
                terminated: true,
            };
        }
        let lines: Vec<LogLine> = log.lines.iter().skip(from).cloned().collect();
        LogRead {
            next: from + lines.len(),
            lines,
            terminated: log.terminated,
        }
    }

    /// The kubelet rotated the log: only the newest `keep` lines of the current run remain.
    pub(crate) fn rotate(&mut self, ns: &str, pod: &str, container: &str, keep: usize) {
        if let Some(log) = self.logs.get_mut(&Self::key(ns, pod, container)) {
            let drop = log.lines.len().saturating_sub(keep);
            log.lines.drain(..drop);
        }
        self.bump();
    }

    /// Forget a pod's logs (the pod was deleted).
    pub(crate) fn forget_pod(&mut self, ns: &str, pod: &str) {
        self.logs.retain(|(n, p, _), _| !(n == ns && p == pod));
        self.bump();
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.tick.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_terminate_restart() {
        let mut b = LogBook::new();
        let mut rx = b.subscribe();
        b.append("ns", "p", "c", "one");
        b.append("ns", "p", "c", "two");
        assert!(rx.has_changed().unwrap_or(false));
        rx.borrow_and_update();
        let r = b.read("ns", "p", "c", 1, false);
        assert_eq!(r.lines.len(), 1);
        assert_eq!(r.lines[0].text, "two");
        assert_eq!(r.next, 2);
        assert!(!r.terminated);
        b.terminate("ns", "p", "c");
        assert!(b.read("ns", "p", "c", 2, false).terminated);
        assert!(!b.has_previous("ns", "p", "c"));
        b.restart("ns", "p", "c");
        assert!(b.has_previous("ns", "p", "c"));
        assert_eq!(b.read("ns", "p", "c", 0, true).lines.len(), 2);
        assert!(b.read("ns", "p", "c", 0, false).lines.is_empty());
    }
}
