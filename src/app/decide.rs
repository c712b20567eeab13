//! The app's side of the decision: the diagnosis of what `State` holds, the log evidence it
//! is built from, and the journal entries `update` hands to the runtime as effects.
//!
//! Pure: `update` calls these; the runtime appends the entries (never in `update`).

use std::path::PathBuf;

use super::Effect;
use super::state::State;
use crate::domain::Incident;
use crate::domain::diagnosis::{self, Diagnosis, Evidence, Freshness, Inputs, Level};
use crate::journal::{self, Entry, Event, observe};
use crate::logs::LineStore;
use crate::patterns::Severity;
use crate::sources::SourceName;

/// Matched lines of the log store as diagnosis evidence, each with the attempt whose
/// marker precedes it (`── attempt N: ...`).
pub fn evidence(store: &LineStore) -> Vec<Evidence> {
    let mut attempt = None;
    let mut out = Vec::new();
    for (_, line) in store.range(store.first_seq(), usize::MAX) {
        let Some((rule, severity)) = line.matched() else {
            if let Some(rest) = line.text.strip_prefix("── attempt ") {
                attempt = rest.split(':').next().and_then(|n| n.trim().parse().ok());
            }
            continue;
        };
        out.push(Evidence {
            rule_id: rule.id.to_string(),
            level: match severity {
                Severity::Error => Level::Error,
                Severity::Warn => Level::Warn,
                Severity::Info => Level::Info,
            },
            path_hint: None,
            line: line.text.clone(),
            attempt,
        });
    }
    out
}

impl State {
    pub fn freshness(&self) -> Freshness {
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
        diagnosis::diagnose(&Inputs {
            incident: &self.incident,
            evidence: &evidence,
            freshness: self.freshness(),
            denied,
        })
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
    pub(crate) fn decision_event(&self, path: &str) -> Event {
        let d = self.diagnosis();
        Event::Decision {
            path: path.into(),
            recommended: d.recommended.map(|p| p.info().title.to_string()),
            summary: d.summary,
            evidence: d
                .findings
                .iter()
                .map(|f| format!("{} [{}]", f.text, f.source.label()))
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
    events.extend(what.into_iter().map(|what| Event::Observed { what }));
    state.journal(events)
}

/// The journal file of an incident, as the console shows it.
pub fn journal_label(path: Option<&PathBuf>) -> String {
    path.map_or(
        "journal: not yet open (waiting for the cluster)".into(),
        |p| format!("journal: {}", p.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn evidence_carries_rule_and_attempt_from_the_marker() {
        let mut s = LineStore::new(100);
        s.push_marker("── attempt 1: rollback-retry-1 (job j) ──");
        for l in fixtures::log_lines() {
            s.push_line(&l);
        }
        let ev = evidence(&s);
        let denied = ev
            .iter()
            .find(|e| e.rule_id == "permission-denied")
            .unwrap();
        assert_eq!(denied.attempt, Some(1));
        assert_eq!(denied.level, Level::Error);
    }
}
