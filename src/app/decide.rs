//! The app's side of the decision: the diagnosis of what `State` holds, the log evidence it
//! is built from, and the journal entries `update` hands to the runtime as effects.
//!
//! Pure: `update` calls these; the runtime appends the entries (never in `update`).

use std::path::PathBuf;

use super::Effect;
use super::msg::SourceName;
use super::state::State;
use crate::domain::Incident;
use crate::domain::diagnosis::{self, Diagnosis, Evidence, Freshness, Inputs, Level};
use crate::domain::event_evidence;
use crate::domain::events::EventView;
use crate::domain::generation::Line;
use crate::domain::path_truth;
use crate::domain::paths::PathKind;
use crate::domain::write::{ClusterPatch, Refusal, guard};
use crate::journal::{self, Entry, Event, observe};
use crate::logs::LineStore;
use crate::patterns::{Resolution, Severity};

/// The log engine's evidence as diagnosis input: one record per rule, attempt and severity
/// (the newest line, and how many lines matched), kept grouped by the store as lines
/// arrive, so the diagnosis costs the same with 10 or 1M lines stored.
pub fn evidence(store: &LineStore) -> Vec<Evidence> {
    store
        .evidence_groups()
        .map(|(e, count)| Evidence {
            rule_id: e.rule.id.clone(),
            level: match e.severity {
                Severity::Error => Level::Error,
                Severity::Warn => Level::Warn,
                Severity::Info => Level::Info,
            },
            path_hint: match e.rule.path {
                Resolution::Retry => Some(PathKind::Retry),
                Resolution::FixForward => Some(PathKind::FixForward),
                Resolution::Restore => Some(PathKind::Restore),
                Resolution::None => None,
            },
            line: e.line.clone(),
            attempt: e.attempt,
            count,
        })
        .collect()
}

impl State {
    pub(crate) fn freshness(&self) -> Freshness {
        Freshness {
            cluster_stale: self.is_stale(SourceName::Cluster),
            pods_stale: self.is_stale(SourceName::Pods),
            raft_stale: self.is_stale(SourceName::Raft),
            unparseable: self.unparseable.is_some(),
        }
    }

    /// The diagnosis of what the console holds now (the Decision pane and the journal).
    pub fn diagnosis(&self) -> Diagnosis {
        let evidence = evidence(&self.logs.store);
        let denied = self.rbac.as_ref().map_or(&[][..], |r| &r.denied[..]);
        let mut d = diagnosis::diagnose(&Inputs {
            incident: &self.incident,
            evidence: &evidence,
            freshness: self.freshness(),
            denied,
        });
        path_truth::apply_line(&mut d, &self.incident, self.line());
        d.findings.extend(event_evidence::findings(
            &self.events.items,
            &self.opts.cluster,
        ));
        d
    }

    /// The operator line the paths are judged by: the detected generation (CRD schema,
    /// live operation ID, operator image; `Incident::generation`).
    pub fn line(&self) -> Line {
        self.incident.generation().line
    }

    /// A journal effect for `events`, once the incident's journal file is known.
    pub(crate) fn journal(&self, events: Vec<Event>) -> Vec<Effect> {
        match (&self.journal, events.is_empty()) {
            (Some(path), false) => vec![Effect::Journal {
                path: path.clone(),
                entries: events
                    .into_iter()
                    .map(|e| Entry::new(self.now, e))
                    .collect(),
            }],
            _ => Vec::new(),
        }
    }

    /// The decision being carried out, with its evidence, for the journal.
    /// The first evidence line names the operator line the paths were judged for.
    pub(crate) fn decision_event(&self, path: &str) -> Event {
        let d = self.diagnosis();
        let line = format!("paths judged for {}", self.line().header());
        Event::Decision {
            path: path.into(),
            recommended: d.recommended.map(|p| p.title().to_string()),
            summary: d.summary,
            evidence: std::iter::once(line)
                .chain(
                    d.findings
                        .iter()
                        .map(|f| format!("{} [{}]", f.text, f.source.label())),
                )
                .collect(),
        }
    }
}

/// After a source changed the incident: open the journal once the cluster (and so the
/// incident's file name) is known, and record the transitions.
pub(crate) fn observed(state: &mut State, before: &Incident) -> Vec<Effect> {
    let mut events = Vec::new();
    if state.journal.is_none()
        && let (Some(dir), Some(c)) = (&state.opts.journal_dir, &state.incident.cluster)
    {
        let green = c
            .blue_green
            .as_ref()
            .and_then(|g| g.green_revision.as_deref());
        state.journal = Some(dir.join(journal::file_name(
            &state.opts.namespace,
            &state.opts.cluster,
            green,
        )));
        events.push(Event::Session {
            tool: "console".into(),
            os_user: state.opts.os_user.clone(),
            k8s_user: state
                .rbac
                .as_ref()
                .map_or_else(|| state.opts.k8s_user.clone(), |r| r.identity.clone()),
            context: state.opts.context_label.clone(),
            namespace: state.opts.namespace.clone(),
            cluster: state.opts.cluster.clone(),
        });
    }
    let after = &state.incident;
    let mut what = observe::cluster(before.cluster.as_ref(), after.cluster.as_ref());
    what.extend(observe::jobs(&before.jobs, &after.jobs));
    what.extend(observe::pods(before, after));
    what.extend(observe::cleanup_alert(before, after, state.line()));
    events.extend(what.into_iter().map(|what| Event::Observed { what }));
    state.journal(events)
}

/// A new list of the cluster's Events: kept for Health and the diagnosis; the new and
/// grown ones are journaled.
pub(crate) fn on_events(state: &mut State, list: Vec<EventView>) -> Vec<Effect> {
    let source = state.sources.entry(SourceName::Events).or_default();
    source.last_update = Some(state.now);
    source.problem = None;
    let fresh = state.events.replace(list);
    state.journal(
        fresh
            .into_iter()
            .map(|e| Event::Observed {
                what: format!("event {}", e.describe()),
            })
            .collect(),
    )
}

/// The journal file of an incident, as the console shows it.
pub(crate) fn journal_label(path: Option<&PathBuf>) -> String {
    path.map_or(
        "journal: not yet open (waiting for the cluster)".into(),
        |p| format!("journal: {}", p.display()),
    )
}

/// The revert follow-up as confirmed: the patch previewed (and sent) and what it assumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertTarget {
    /// `spec.version` when the dialog opened (the send is refused if it changed).
    pub from_version: String,
    pub to_version: String,
    /// The exact JSON merge patch (with the resourceVersion seen when it opened).
    pub patch: ClusterPatch,
    /// `status.blueGreen.phase` when the dialog opened.
    pub phase: Option<String>,
    /// The operator line the consequences are told for.
    pub line: Line,
}

impl RevertTarget {
    /// The revert `patch` (built by the guard) with what the dialog tells about it.
    pub fn new(state: &State, patch: ClusterPatch) -> RevertTarget {
        let c = state.incident.cluster.as_ref();
        RevertTarget {
            from_version: c.map(|c| c.spec_version.clone()).unwrap_or_default(),
            to_version: c
                .and_then(|c| c.current_version.clone())
                .unwrap_or_default(),
            patch,
            phase: c.and_then(|c| c.blue_green.as_ref()?.phase.clone()),
            line: state.line(),
        }
    }

    /// Whether the operator deletes Green without Raft repair on this revert (0.1 outside
    /// Idle: `ensureIdleAndCleanupGreen`; unknown line: it may).
    pub(crate) fn deletes_green(&self) -> bool {
        !matches!(self.phase.as_deref(), Some("Idle") | None)
            && matches!(self.line, Line::V01 | Line::Unknown)
    }

    /// What the operator does with it, by line and phase (0.1: internal/upgrade/bluegreen/
    /// manager.go `handleNoUpgradeNeeded`; 0.6: it runs only at Idle).
    pub(crate) fn consequences(&self) -> Vec<String> {
        let idle = "At Idle spec.version == status.currentVersion: no upgrade starts again.";
        match (self.phase.as_deref(), self.line) {
            (Some("Idle") | None, _) => vec![idle.into()],
            (Some(p), Line::V06 | Line::V02To050) => vec![
                format!("Phase {p} is not Idle: on this line nothing happens now (the no-upgrade handler runs only at Idle); the rollback goes on."),
                idle.into(),
            ],
            (Some(p), Line::V01) => vec![
                format!("Phase {p} is not Idle: the operator runs ensureIdleAndCleanupGreen."),
                "It deletes the Green StatefulSet at once WITHOUT removing Green Raft peers (quorum risk if they are voters: check the Raft pane), then Idle.".into(),
                "It also skips RollbackCleanup's suspicious Blue-peer removal.".into(),
            ],
            (Some(p), Line::Unknown) => vec![
                format!("Phase {p} is not Idle and the operator line is unknown: on 0.1 Green is deleted at once WITHOUT Raft repair; on 0.6 nothing happens until Idle."),
                idle.into(),
            ],
        }
    }
}

impl State {
    /// Whether the revert follow-up may be offered now (its data), and the exact patch, or
    /// why not (`domain::write::guard::revert_data`).
    pub(crate) fn revert_target(&self) -> Result<RevertTarget, Refusal> {
        guard::revert_data(&self.seen()).map(|p| RevertTarget::new(self, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn events_are_journaled_once_and_become_findings() {
        use crate::domain::events::EventView;
        let mut s = fixtures::incident_state(false);
        s.journal = Some("/tmp/never-written.jsonl".into());
        let ev = EventView {
            uid: "u1".into(),
            type_: "Warning".into(),
            reason: "FailedScheduling".into(),
            kind: "Pod".into(),
            name: "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609-x".into(),
            message: "0/3 nodes are available".into(),
            count: 2,
            last: None,
        };
        let effects = super::super::update(
            &mut s,
            super::super::Msg::Source(crate::app::msg::SourceEvent::Events(vec![ev.clone()])),
        );
        assert!(matches!(
            &effects[..],
            [Effect::Journal { entries, .. }]
                if matches!(&entries[0].event, Event::Observed { what } if what.contains("FailedScheduling"))
        ));
        let again = super::super::update(
            &mut s,
            super::super::Msg::Source(crate::app::msg::SourceEvent::Events(vec![ev])),
        );
        assert!(again.is_empty(), "{again:?}");
        assert!(
            s.diagnosis()
                .findings
                .iter()
                .any(|f| f.text.contains("never reaches break glass"))
        );
    }

    #[test]
    fn evidence_carries_rule_and_attempt_from_the_marker() {
        let mut s = LineStore::new(100);
        s.begin_attempt(Some(1), "── attempt 1: rollback-retry-1 (job j) ──");
        for l in fixtures::log_lines() {
            s.push_line(&l);
        }
        let ev = evidence(&s);
        let denied = ev
            .iter()
            .find(|e| e.rule_id == "raft-config-forbidden")
            .unwrap();
        assert_eq!(denied.attempt, Some(1));
        assert_eq!(denied.level, Level::Error);
    }

    #[test]
    fn evidence_is_one_record_per_rule_and_attempt_with_the_newest_line() {
        let mut s = LineStore::new(100_000);
        s.begin_attempt(Some(0), "── attempt 0: rollback (job j) ──");
        let lines = fixtures::log_lines();
        for _ in 0..500 {
            for l in &lines {
                s.push_line(l);
            }
        }
        s.begin_attempt(Some(1), "── attempt 1: rollback-retry-1 (job j) ──");
        for l in &lines {
            s.push_line(l);
        }
        let ev = evidence(&s);
        let denied: Vec<_> = ev
            .iter()
            .filter(|e| e.rule_id == "raft-config-forbidden")
            .collect();
        assert_eq!(denied.len(), 2, "{denied:#?}");
        assert_eq!((denied[0].attempt, denied[1].attempt), (Some(0), Some(1)));
        assert!(denied[0].count >= 500, "{}", denied[0].count);
        assert!(denied[0].count > denied[1].count);
        // Bounded by rules × attempts × severities, not by the lines matched.
        assert!(ev.len() <= 2 * 3 * crate::patterns::RuleSet::builtin().rules().len());
    }
}
