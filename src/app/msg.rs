//! The message vocabulary between the sources and the app: what a source reports
//! ([`SourceEvent`], from [`SourceName`]) and how an action ended ([`ActionOutcome`]).
//!
//! It lives here so that `app` and `ui` speak it without importing `sources`; the sources
//! produce it (`sources` re-exports it for them).

use crate::domain::write::Refusal;
use crate::domain::{ClusterView, JobView, PodView, RaftSnapshot};

/// Said in a problem's message when a source has stopped reading on purpose (a 401): the
/// banner then does not claim it is retrying.
pub(crate) const READS_STOPPED: &str = "reads stopped";

/// Which source an event or problem comes from (each pane shows its data age).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceName {
    Cluster,
    Pods,
    Jobs,
    Logs,
    Raft,
    /// The RBAC preflight.
    Rbac,
    /// The incident journal writer.
    Journal,
    /// The follower of the OpenBaoRestore the wizard created (status watch, Job log).
    Restore,
    /// Kubernetes Events of the cluster's objects.
    Events,
    /// The other OpenBaoClusters of the watched scope (break glass elsewhere).
    Scope,
}

impl SourceName {
    pub fn label(self) -> &'static str {
        match self {
            SourceName::Cluster => "cluster",
            SourceName::Pods => "pods",
            SourceName::Jobs => "jobs",
            SourceName::Logs => "logs",
            SourceName::Raft => "raft",
            SourceName::Rbac => "rbac",
            SourceName::Journal => "journal",
            SourceName::Restore => "restore",
            SourceName::Events => "events",
            SourceName::Scope => "scope",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a handful of events per second through a channel; boxing buys nothing"
)]
pub enum SourceEvent {
    /// The OpenBaoCluster as last seen; `None` when it does not exist.
    Cluster(Option<ClusterView>),
    /// The object exists but does not parse (shown, the previous view is kept).
    ClusterUnparseable(String),
    Pods(Vec<PodView>),
    /// The cluster's Events, newest first, bounded (`domain::events::of_cluster`).
    Events(Vec<crate::domain::events::EventView>),
    /// All Jobs of the cluster with the upgrade component (the app keeps the repair ones).
    Jobs(Vec<JobView>),
    /// One Raft poll round: every node's indices and the token-gated membership.
    Raft(RaftSnapshot),
    /// The log follower switched to a repair Job attempt: the pane inserts a marker.
    LogAttempt {
        job: String,
        run_id: Option<String>,
    },
    /// Complete lines (without the newline) from the followed Job's pod.
    LogLines {
        job: String,
        lines: Vec<String>,
    },
    /// A resumed stream started after the last line seen: the server lost lines between
    /// these two times (see `logfollow`). The pane shows a gap marker.
    LogGap {
        job: String,
        last_seen: jiff::Timestamp,
        first_after: jiff::Timestamp,
    },
    /// The log evidence file could not be written (disk full, read-only...): said in the
    /// Logs pane's title and the footer until the console quits, never cleared by the
    /// lines that keep arriving (they are still shown, only not saved).
    EvidenceNotSaved(String),
    /// The followed container terminated; the stream ended.
    LogEnded {
        job: String,
    },
    /// A source cannot do its work right now (API unreachable, 403, 404...). It keeps trying.
    Problem {
        source: SourceName,
        message: String,
    },
    /// The source works again after a problem.
    Recovered {
        source: SourceName,
    },
    /// The outcome of an action the app asked for.
    Action(ActionOutcome),
    /// What the Restore wizard opens with: facts and the snapshot key with its source.
    RestoreFacts {
        facts: crate::domain::restore::Facts,
        key: Option<(String, String)>,
    },
    /// The RBAC preflight: who the user is and which paths' permissions are missing.
    Rbac(Preflight),
    /// The followed OpenBaoRestore and its Job's log.
    Restore(RestoreEvent),
    /// The operator generation's signals (CRD schema, controller image) as last read.
    Operator(crate::domain::generation::Signals),
    /// The other clusters of the watched scope (`sources::scope_watch`).
    Scope(ScopeEvent),
}

/// What the watch over the scope's other OpenBaoClusters reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeEvent {
    /// The clusters of `scope` (described: `namespace "x"`, `all namespaces`) other than the
    /// open one that are in break glass, the longest wait first; sent when that changes.
    Others {
        scope: String,
        rows: Vec<crate::domain::discovery::ClusterRow>,
    },
    /// The watch stopped for good (401, RBAC denied, the CRD not served): why. Optional, so
    /// never a banner: a low-priority header note and the help say it.
    Off {
        scope: String,
        reason: super::scope::ScopeOff,
    },
}

/// What the restore follower sees (`restore_follow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreEvent {
    /// The OpenBaoRestore's status as last seen; None: it does not exist.
    Status(Option<crate::domain::restore_status::RestoreStatus>),
    /// Complete lines of the restore Job's `restore` container.
    Lines(Vec<String>),
    /// The server lost lines of the Job's log (see `logfollow`): a marker to show.
    Gap(String),
    /// The restore container terminated and its log was read to the end.
    LogEnded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOutcome {
    /// The acknowledgement was accepted by the API server.
    Acknowledged {
        nonce: String,
        resource_version: String,
    },
    /// A Restore wizard request (scale, PVC delete, restore create) was accepted.
    WizardStepDone,
    /// `spec.version` (and `spec.image`) were reverted to Blue's.
    Reverted { resource_version: String },
    /// Pause and repair: `spec.paused: true` was accepted (the resume carries the ack).
    Paused { resource_version: String },
    /// Nothing was sent: a precondition no longer holds (nonce changed, break glass over).
    Refused { reason: Refusal },
    /// Sent and rejected (409 conflict, 403 forbidden, 422 invalid...) or not delivered.
    Failed {
        status: Option<u16>,
        message: String,
    },
}

/// The RBAC preflight's answer, sent once at start as `SourceEvent::Rbac`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// Who the API server says the user is.
    pub identity: String,
    pub denied: Vec<crate::domain::diagnosis::Denied>,
}
