//! Kubernetes Events of the cluster and its objects, as the console keeps them: which
//! objects belong to the cluster (kind and name), one view per Event, and a bounded list,
//! newest first. The 0.6 operator records its own (`BreakGlassEntered`, `RollbackStarted`,
//! …, internal/service/upgrade/bluegreen/events.go) through the events.k8s.io recorder; the
//! core/v1 view shows them with `series` instead of `count` and `eventTime` instead of
//! `lastTimestamp`, so both shapes are read. Pure; `sources::events` watches, `ui::events`
//! shows, `event_evidence` turns them into findings.

use std::collections::VecDeque;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;

/// How many Events the console keeps (newest last seen first).
pub(crate) const KEEP_EVENTS: usize = 50;

/// One Event, as shown and journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    /// `metadata.uid` (an updated Event keeps it; its count and time move).
    pub uid: String,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    /// `involvedObject.kind` and `.name`.
    pub kind: String,
    pub name: String,
    pub message: String,
    /// How many times it happened (`count`, else `series.count`, else 1).
    pub count: i32,
    /// When it last happened (`lastTimestamp`, `series.lastObservedTime`, `eventTime`, creation).
    pub last: Option<Timestamp>,
}

impl EventView {
    pub(crate) fn from_event(e: &Event) -> EventView {
        let series = e.series.as_ref();
        EventView {
            uid: e.metadata.uid.clone().unwrap_or_default(),
            type_: e.type_.clone().unwrap_or_else(|| "Normal".into()),
            reason: e.reason.clone().unwrap_or_default(),
            kind: e.involved_object.kind.clone().unwrap_or_default(),
            name: e.involved_object.name.clone().unwrap_or_default(),
            message: e.message.clone().unwrap_or_default(),
            count: e
                .count
                .or_else(|| series.and_then(|s| s.count))
                .unwrap_or(1)
                .max(1),
            last: e
                .last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| {
                    series
                        .and_then(|s| s.last_observed_time.as_ref())
                        .map(|t| t.0)
                })
                .or_else(|| e.event_time.as_ref().map(|t| t.0))
                .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0)),
        }
    }

    pub(crate) fn warning(&self) -> bool {
        self.type_ == "Warning"
    }

    /// `Warning BreakGlassEntered OpenBaoCluster/prod-cluster ×2: <message>`, for the journal.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}/{}{}: {}",
            self.type_,
            self.reason,
            self.kind,
            self.name,
            if self.count > 1 {
                format!(" ×{}", self.count)
            } else {
                String::new()
            },
            self.message
        )
    }
}

/// Whether an Event's object is the cluster's: the OpenBaoCluster itself, its pods and
/// StatefulSets (`<cluster>`, `<cluster>-…`), its executor and restore Jobs and their pods
/// (`upgrade-<cluster>-…`, `restore-<cluster>-…`), its data PVCs (`data-<cluster>-…`) and
/// OpenBaoRestores named after it. Names only: a neighbour cluster named `<cluster>-x`
/// would match too.
pub(crate) fn belongs(kind: &str, name: &str, cluster: &str) -> bool {
    let own = |n: &str| n == cluster || n.starts_with(&format!("{cluster}-"));
    let executor = |n: &str| {
        n.starts_with(&format!("upgrade-{cluster}-"))
            || n.starts_with(&format!("restore-{cluster}-"))
    };
    match kind {
        "OpenBaoCluster" => name == cluster,
        "OpenBaoRestore" | "StatefulSet" => own(name),
        "Pod" | "Job" => own(name) || executor(name),
        "PersistentVolumeClaim" => name.starts_with(&format!("data-{cluster}-")),
        _ => false,
    }
}

/// The cluster's Events from a full list: filtered, newest first, at most [`KEEP_EVENTS`].
pub(crate) fn of_cluster(events: &[Event], cluster: &str) -> Vec<EventView> {
    let mut views: Vec<EventView> = events
        .iter()
        .map(EventView::from_event)
        .filter(|v| belongs(&v.kind, &v.name, cluster))
        .collect();
    views.sort_by(|a, b| b.last.cmp(&a.last).then_with(|| a.uid.cmp(&b.uid)));
    views.truncate(KEEP_EVENTS);
    views
}

/// The Events the console holds, newest first, and what is new since the last list
/// (for the journal): an unseen uid, or a seen one whose count grew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLog {
    pub items: Vec<EventView>,
    /// (uid, count) already journaled, bounded like the list.
    seen: VecDeque<(String, i32)>,
}

impl EventLog {
    /// Replace the list; returns the Events new or grown since the last one, oldest first.
    pub fn replace(&mut self, items: Vec<EventView>) -> Vec<EventView> {
        let mut fresh: Vec<EventView> = items
            .iter()
            .filter(|v| !self.seen.iter().any(|(u, c)| *u == v.uid && *c >= v.count))
            .cloned()
            .collect();
        for v in &fresh {
            self.seen.retain(|(u, _)| *u != v.uid);
            self.seen.push_back((v.uid.clone(), v.count));
            if self.seen.len() > 4 * KEEP_EVENTS {
                self.seen.pop_front();
            }
        }
        fresh.reverse();
        self.items = items;
        fresh
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
