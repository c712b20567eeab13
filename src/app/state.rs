//! `State`: everything the console knows and shows, owned by the app loop.
//!
//! Only `update` mutates it; `ui::render` and `status` read it. Derived facts that several
//! places need (data ages, staleness, whether Retry is allowed) are methods here so the pane,
//! the dialog and `update` can never disagree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;

use super::dialog::Dialog;
use super::msg::{ActionOutcome, Preflight, SourceName};
use super::write_mode::WriteMode;
use crate::domain::paths::{self, PathKind};
use crate::domain::write::{ClusterPatch, Refusal, guard};
use crate::domain::{Incident, Side};
use crate::logs::LineStore;

/// What the runtime knows before the first event.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub namespace: String,
    pub cluster: String,
    /// e.g. `demo:transient` or the kube context.
    pub context_label: String,
    /// False when `NO_COLOR` is set: meaning is then carried by text and modifiers only.
    pub color: bool,
    pub now: Timestamp,
    /// Start in write mode (`--write`), and the key that toggles it (config `write_key`).
    pub write: super::write_mode::WriteStart,
    /// Who runs the console, for the journal (the OS user and the kubeconfig user).
    pub os_user: String,
    pub k8s_user: String,
    /// Where incident journals go (`$XDG_STATE_HOME/breakglass`); None: no journal.
    pub journal_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Focus {
    Health,
    Raft,
    Logs,
    Decision,
}

impl Focus {
    pub(crate) const ALL: [Focus; 4] = [Focus::Health, Focus::Raft, Focus::Logs, Focus::Decision];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Focus::Health => "Health",
            Focus::Raft => "Raft",
            Focus::Logs => "Logs",
            Focus::Decision => "Decision",
        }
    }

    /// The sources whose data the pane shows (its age is the oldest of them).
    pub fn sources(self) -> &'static [SourceName] {
        match self {
            Focus::Health => &[SourceName::Cluster, SourceName::Pods],
            Focus::Raft => &[SourceName::Raft],
            Focus::Logs => &[SourceName::Logs],
            Focus::Decision => &[SourceName::Cluster],
        }
    }

    pub fn cycle(self, forward: bool) -> Focus {
        let i = Focus::ALL.iter().position(|f| *f == self).unwrap_or(0);
        let n = Focus::ALL.len();
        Focus::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// Freshness of one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStatus {
    pub last_update: Option<Timestamp>,
    /// Set by `SourceEvent::Problem`, cleared by `Recovered` or new data.
    pub problem: Option<String>,
}

/// Whether the OpenBaoCluster has been seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Waiting,
    Missing,
    Present,
}

/// The Logs pane: the store plus the view over it.
#[derive(Debug, Clone, Default)]
pub struct LogPane {
    pub store: LineStore,
    /// Following shows the tail; paused shows from `top` (an absolute sequence number).
    pub follow: bool,
    pub top: u64,
    pub hscroll: u16,
    pub job: Option<String>,
    pub run_id: Option<String>,
    pub ended: bool,
    /// Where each attempt's log is saved, or why it is not (set by the runtime; shown).
    pub saved_to: Option<Result<String, String>>,
    /// Search, filter and display toggles (`app::lognav`).
    pub nav: super::lognav::LogNav,
}

impl LogPane {
    /// The top line of the tail view when `rows` lines are visible.
    pub(crate) fn tail_top(&self, rows: u16) -> u64 {
        if !self.nav.unfold_stacks {
            // Folded stack traces take one row: the tail starts where the drawn rows do.
            let end = self.store.end_seq();
            let tail = self.rows_ending_at(end, usize::from(rows), |_| 1);
            return tail.first().map_or(end, |r| r.first().0);
        }
        if let Some(top) = self.nav.filtered_tail_top(rows, self.store.end_seq()) {
            return top;
        }
        self.store
            .end_seq()
            .saturating_sub(u64::from(rows))
            .max(self.store.first_seq())
    }

    /// The first visible line: the tail when following, else `top` clamped to what is
    /// still stored (dropping the oldest lines moves a paused view only when it must).
    pub(crate) fn first_visible(&self, rows: u16) -> u64 {
        if self.follow {
            self.tail_top(rows)
        } else {
            self.top.clamp(self.store.first_seq(), self.tail_top(rows))
        }
    }
}

/// The Decision pane: the selected path, and what happened to the last action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionPane {
    pub selected: usize,
    /// Scroll of the path details (PgUp/PgDn); j/k select.
    pub scroll: u16,
    /// The nonce of an acknowledgement handed to the runtime and not answered yet.
    pub in_flight: Option<String>,
    /// The runtime's answer to the last action.
    pub outcome: Option<ActionOutcome>,
    /// A local note: why Enter did nothing (Retry unavailable, state changed under the dialog).
    pub notice: Option<String>,
    /// The write in flight or last sent (its body, exactly as sent).
    pub sent: Option<Sent>,
    /// A write the API server refused with 409, until its dialog re-opens on a fresh object.
    pub conflict: Option<Sent>,
    /// Why the open dialog was re-opened (the object changed under the previous one).
    pub reopened: Option<String>,
}

impl DecisionPane {
    /// One line about the last action, for the Decision pane.
    pub(crate) fn status_line(&self) -> Option<String> {
        if self.in_flight.is_some() {
            return Some("request sent; waiting for the API server…".into());
        }
        if let Some(n) = &self.notice {
            return Some(format!("nothing sent: {n}"));
        }
        Some(match self.outcome.as_ref()? {
            ActionOutcome::Acknowledged { .. } => {
                "acknowledged; waiting for the operator's new Job…".into()
            }
            ActionOutcome::WizardStepDone => "restore wizard step done".into(),
            ActionOutcome::Reverted { .. } => {
                "spec.version reverted to Blue's: at Idle the upgrade does not start again".into()
            }
            ActionOutcome::Paused { .. } => {
                "paused: the operator does nothing for this cluster (backups included) until the resume + acknowledgement".into()
            }
            ActionOutcome::Refused { reason } => format!("refused, nothing sent: {reason}"),
            ActionOutcome::Failed {
                status: Some(code),
                message,
            } => format!("failed ({code}): {message}"),
            ActionOutcome::Failed {
                status: None,
                message,
            } => format!("failed: {message}"),
        })
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub opts: Options,
    pub now: Timestamp,
    pub incident: Incident,
    pub presence: Presence,
    /// The latest object did not parse (the previous view is kept and shown as such).
    pub unparseable: Option<String>,
    pub sources: BTreeMap<SourceName, SourceStatus>,
    pub focus: Focus,
    /// Scroll offsets of the text panes (Health, Raft); the Logs pane has its own view.
    pub health_scroll: u16,
    pub raft_scroll: u16,
    /// Raft poll rounds over the session (bounded): chart and apply-stall signal.
    pub raft_history: crate::domain::raft_history::RaftHistory,
    pub logs: LogPane,
    pub decision: DecisionPane,
    pub dialog: Option<Dialog>,
    /// Rows the open dialog or wizard is scrolled by (taller than the terminal).
    pub overlay_scroll: u16,
    pub help: bool,
    pub help_scroll: u16,
    /// Terminal size as last reported (80x24 until the first resize).
    pub size: (u16, u16),
    /// Read-only unless entered (W, `--write`); drops back by itself.
    pub write: WriteMode,
    /// The RBAC preflight's answer (None until it arrives).
    pub rbac: Option<Preflight>,
    /// The incident's journal file, once the cluster (and its Green revision) is known.
    pub journal: Option<PathBuf>,
    /// What the action in flight is, for the journal's outcome entry.
    pub dialog_action: Option<String>,
    /// The Restore wizard, when open.
    pub wizard: Option<super::wizard::Wizard>,
    /// Where the wizard's snapshot key came from.
    pub wizard_key_source: Option<String>,
    /// The OpenBaoRestore the wizard created, as followed (kept if the wizard is closed).
    pub restore: Option<crate::domain::restore_status::RestoreFollow>,
    /// The cluster's Kubernetes Events, newest first (bounded).
    pub events: crate::domain::events::EventLog,
    /// Where warnings are logged (set by the runtime; the help overlay shows it).
    pub log_file: String,
    /// What `y` last copied (or why nothing), shown in the footer for a few seconds.
    pub footer_note: Option<super::copy::FooterNote>,
    /// Other clusters of the watched scope in break glass (the header announces them).
    pub scope_watch: super::scope::ScopeWatch,
}

impl State {
    pub fn new(opts: Options) -> State {
        let mut state = State {
            now: opts.now,
            incident: Incident {
                namespace: opts.namespace.clone(),
                cluster_name: opts.cluster.clone(),
                ..Incident::default()
            },
            opts,
            presence: Presence::Waiting,
            unparseable: None,
            sources: BTreeMap::new(),
            focus: Focus::Health,
            health_scroll: 0,
            raft_scroll: 0,
            raft_history: Default::default(),
            logs: LogPane {
                follow: true,
                ..LogPane::default()
            },
            decision: DecisionPane::default(),
            dialog: None,
            overlay_scroll: 0,
            help: false,
            help_scroll: 0,
            size: (80, 24),
            write: WriteMode::default(),
            rbac: None,
            journal: None,
            dialog_action: None,
            wizard: None,
            wizard_key_source: None,
            restore: None,
            events: Default::default(),
            log_file: "log: not kept".into(),
            footer_note: None,
            scope_watch: Default::default(),
        };
        state.write.key = state.opts.write.key;
        if state.opts.write.on {
            state.write.enter(state.opts.now);
        }
        state
    }

    pub fn incident(&self) -> &Incident {
        &self.incident
    }

    /// The keys in effect (the configured write-mode key included).
    pub fn keys(&self) -> super::keymap::Keys {
        super::keymap::Keys {
            write: self.write.key,
        }
    }

    pub fn source(&self, name: SourceName) -> SourceStatus {
        self.sources.get(&name).cloned().unwrap_or_default()
    }

    /// Whole seconds since `name` last delivered data (None: never).
    pub(crate) fn age_secs(&self, name: SourceName) -> Option<i64> {
        let last = self.sources.get(&name)?.last_update?;
        Some(self.now.duration_since(last).as_secs().max(0))
    }

    pub fn is_stale(&self, name: SourceName) -> bool {
        self.sources.get(&name).is_some_and(|s| s.problem.is_some())
    }

    /// The oldest age over the pane's sources that have delivered (None: none has yet).
    /// A source that never delivers because it fails shows up as `[STALE]` instead.
    pub(crate) fn pane_age(&self, pane: Focus) -> Option<i64> {
        pane.sources()
            .iter()
            .filter_map(|s| self.age_secs(*s))
            .max()
    }

    pub fn pane_stale(&self, pane: Focus) -> bool {
        pane.sources().iter().any(|s| self.is_stale(*s))
    }

    /// Sources with a current problem, in a stable order.
    /// Events are optional evidence: their problem (404 on a server without them, 403
    /// without the RBAC) is shown in Health's events section, not as the stale banner; the
    /// watch of other clusters is optional too (its state is in the help).
    pub fn problems(&self) -> impl Iterator<Item = (SourceName, &str)> {
        self.sources
            .iter()
            .filter(|(n, _)| !matches!(**n, SourceName::Events | SourceName::Scope))
            .filter_map(|(n, s)| Some((*n, s.problem.as_deref()?)))
    }

    pub(crate) fn selected_path(&self) -> PathKind {
        paths::ALL
            .get(self.decision.selected)
            .copied()
            .unwrap_or(PathKind::Retry)
    }

    /// Whether Retry may be offered now (its data: the console's session is judged apart):
    /// the acknowledgement built on the object seen, or why not. The Decision pane, the
    /// dialog and `update` all ask this one function (`domain::write::guard::acknowledge`).
    pub fn retry_target(&self) -> Result<RetryTarget, Refusal> {
        guard::acknowledge(&self.seen()).map(RetryTarget::from)
    }

    /// Green pods the operator treats as failing: an acknowledgement then aborts instead
    /// of retrying (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go`).
    pub(crate) fn failing_green(&self) -> Vec<String> {
        self.incident
            .pods_on(Side::Green)
            .filter(|p| p.is_failing())
            .map(|p| {
                format!(
                    "{} ({})",
                    p.name,
                    p.waiting_reason.as_deref().unwrap_or("failing")
                )
            })
            .collect()
    }

    /// The run ID the operator will give the Job after an acknowledgement.
    pub(crate) fn next_attempt(&self) -> i32 {
        self.incident
            .cluster
            .as_ref()
            .and_then(|c| c.blue_green.as_ref())
            .map_or(0, |g| g.rollback_attempt)
            + 1
    }
}

/// The attempt number of a rollback run ID: `rollback` is 0, `rollback-retry-N` is N (also
/// when scoped by a `bg-v2-` operation ID).
pub(crate) fn attempt_of(run_id: Option<&str>) -> Option<i32> {
    crate::domain::naming::rollback_attempt_of(run_id?)
}

/// A confirmed write whose dialog re-opens after a 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Cluster(ClusterPatch),
    RestoreAck(super::restore_ack::RestoreAckTarget),
}

impl Sent {
    /// The resourceVersion the body carried.
    pub fn resource_version(&self) -> &str {
        match self {
            Sent::Cluster(p) => &p.resource_version,
            Sent::RestoreAck(t) => &t.resource_version,
        }
    }
}

/// The acknowledgement a Retry dialog confirms: built once when it opens (the body it
/// shows is the body sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryTarget {
    pub nonce: String,
    pub resource_version: String,
    pub patch: ClusterPatch,
}

impl From<ClusterPatch> for RetryTarget {
    fn from(patch: ClusterPatch) -> RetryTarget {
        RetryTarget {
            nonce: patch.write.nonce().unwrap_or_default().to_string(),
            resource_version: patch.resource_version.clone(),
            patch,
        }
    }
}

impl RetryTarget {
    /// The exact JSON merge patch body the runtime sends.
    pub fn patch_body(&self) -> String {
        self.patch.body.clone()
    }
}
