//! The store's outputs: watch feeds (history + live transitions), change subscriptions,
//! garbage collection of dependents, history compaction, and pod logs.

use serde_json::Value;
use tokio::sync::{broadcast, watch};

use super::{ApiError, Change, ChangeType, LogRead, Resource, Store, meta_str};

/// A change with the object's previous state, so a watch with a label selector can turn
/// "stopped matching" into DELETED and "started matching" into ADDED, as the API server does.
#[derive(Debug, Clone)]
pub struct Transition {
    pub change: Change,
    /// The object before the change (None for Added).
    pub prev: Option<Value>,
}

/// Where a watch starts: the changes after its resourceVersion, then `rx` for live ones.
/// Both are taken under the store's lock, so nothing is lost or seen twice.
pub struct WatchFeed {
    pub backlog: Vec<Transition>,
    pub rx: broadcast::Receiver<Transition>,
    /// The store's resourceVersion when the feed was taken: everything up to it is in
    /// `backlog` (or was before the watch's start), everything after comes through `rx`.
    pub start_rv: u64,
}

impl Store {
    /// The garbage collector's part of a cascading delete: delete (honouring finalizers)
    /// every object whose ownerReferences name `owner_uid`, and their dependents in turn.
    /// Returns how many objects were deleted or marked for deletion.
    pub(crate) fn delete_dependents(&self, owner_uid: &str) -> usize {
        let dependents: Vec<(Resource, String, String, String)> = {
            let g = self.lock();
            g.objects
                .iter()
                .filter(|(_, v)| {
                    v.pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| {
                            refs.iter()
                                .any(|o| o.get("uid").and_then(Value::as_str) == Some(owner_uid))
                        })
                })
                .map(|((r, ns, name), v)| {
                    let uid = meta_str(v, "uid").unwrap_or("").to_string();
                    (*r, ns.clone(), name.clone(), uid)
                })
                .collect()
        };
        let mut n = 0;
        for (r, ns, name, uid) in dependents {
            if self.delete(r, &ns, &name).is_ok() {
                n += 1;
                n += self.delete_dependents(&uid);
            }
        }
        n
    }
    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.changes.subscribe()
    }

    /// Start a watch of `r` (in `ns`, or all) from `rv`. `None`, `""` or `"0"`: synthetic
    /// ADDED events for the current objects, then live changes. An rv older than the
    /// bounded history is 410 Expired (the server sends it as an in-stream ERROR event).
    pub fn watch(
        &self,
        r: Resource,
        ns: Option<&str>,
        rv: Option<&str>,
    ) -> Result<WatchFeed, ApiError> {
        let g = self.lock();
        let rx = self.tx.transitions.subscribe();
        let in_scope = |t: &Transition| {
            let c = &t.change;
            c.resource == r && ns.is_none_or(|ns| meta_str(&c.object, "namespace") == Some(ns))
        };
        let backlog = match rv.filter(|s| !s.is_empty() && *s != "0") {
            None => g
                .objects
                .iter()
                .filter(|((res, n, _), _)| *res == r && ns.is_none_or(|ns| ns == n))
                .map(|(_, v)| Transition {
                    change: Change {
                        resource: r,
                        change: ChangeType::Added,
                        object: v.clone(),
                    },
                    prev: None,
                })
                .collect(),
            Some(s) => {
                let from: u64 = s
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))?;
                if from < g.compacted {
                    return Err(ApiError::expired(format!(
                        "too old resource version: {from} ({})",
                        g.compacted
                    )));
                }
                g.history
                    .iter()
                    .filter(|(v, c)| *v > from && in_scope(c))
                    .map(|(_, c)| c.clone())
                    .collect()
            }
        };
        Ok(WatchFeed {
            backlog,
            rx,
            start_rv: g.rv,
        })
    }

    /// Test control: forget the whole watch history, so every older resourceVersion (and
    /// continue token) is expired (410), as after an etcd compaction.
    pub(crate) fn compact(&self) {
        let mut g = self.lock();
        g.history.clear();
        g.compacted = g.rv;
    }

    /// Append one line to a container's log (timestamped now). Followers see it at once.
    pub fn append_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        self.lock().logs.append(ns, pod, container, line);
    }

    /// Mark a container terminated: following log streams end after the last line.
    pub fn terminate_log(&self, ns: &str, pod: &str, container: &str) {
        self.lock().logs.terminate(ns, pod, container);
    }

    /// Keep only the newest `keep` lines (kubelet log rotation: older lines are gone).
    pub fn rotate_log(&self, ns: &str, pod: &str, container: &str, keep: usize) {
        self.lock().logs.rotate(ns, pod, container, keep);
    }

    /// The container restarted: its current log becomes the `previous=true` log.
    pub fn restart_log(&self, ns: &str, pod: &str, container: &str) {
        self.lock().logs.restart(ns, pod, container);
    }

    /// Whether `previous=true` has something to show for this container.
    pub(crate) fn has_previous_log(&self, ns: &str, pod: &str, container: &str) -> bool {
        self.lock().logs.has_previous(ns, pod, container)
    }

    /// A container's log lines from index `from` (see [`LogRead`]).
    pub fn read_log(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        from: usize,
        previous: bool,
    ) -> LogRead {
        self.lock().logs.read(ns, pod, container, from, previous)
    }

    /// Ticks on every log change; followers `changed().await` between reads.
    pub fn log_changes(&self) -> watch::Receiver<u64> {
        self.lock().logs.subscribe()
    }
}
