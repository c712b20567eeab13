//! The Decision pane's notes that are not about one path: which operator line the paths are
//! judged for, leftovers of manual controls (force-rollback, `spec.upgrade.requests`), and
//! on the 0.1 line the loud RollbackCleanup alert with the Raft configuration (its
//! remove-blue-peers may be removing the Blue voters while it runs).

use ratatui::text::{Line, Span};

use super::clean;
use super::theme::Theme;
use crate::app::State;
use crate::domain::generation::Line as GenLine;
use crate::domain::path_truth;

pub(crate) fn lines(state: &State, t: Theme) -> Vec<Line<'static>> {
    lines_for(state, state.line(), t)
}

fn lines_for(state: &State, line: GenLine, t: Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled("Paths judged for ", t.label()),
        Span::raw(line.header()),
        Span::styled(
            if line == GenLine::Unknown {
                " — only what every line shares is shown"
            } else {
                ""
            },
            t.warn(),
        ),
    ])];
    if state.incident.cluster.as_ref().is_some_and(|c| c.paused) {
        out.push(Line::from(vec![
            Span::styled("[PAUSED]", t.alarm()),
            Span::raw(if line == GenLine::V06 {
                " spec.paused=true: the operator does nothing for this cluster (backups included). Repair by hand, then Pause and repair → Enter: resume + acknowledge in one patch."
            } else {
                " spec.paused=true: the operator does nothing for this cluster (backups included)."
            }),
        ]));
    }
    let notes = path_truth::notes(&state.incident, line);
    let alarm = notes.iter().any(|(a, _)| *a);
    for (loud, text) in notes {
        out.push(if loud {
            Line::from(vec![
                Span::styled("[!] ", t.alarm()),
                Span::styled(clean(&text), t.error()),
            ])
        } else {
            Line::from(vec![
                Span::styled("[i] ", t.info()),
                Span::raw(clean(&text)),
            ])
        });
    }
    if alarm && cleanup_running(state, line) {
        out.extend(raft_configuration(state, t));
    }
    out
}

fn cleanup_running(state: &State, line: GenLine) -> bool {
    line == GenLine::V01
        && state
            .incident
            .cluster
            .as_ref()
            .and_then(|c| c.blue_green.as_ref())
            .and_then(|g| g.phase.as_deref())
            == Some("RollbackCleanup")
}

/// The Raft configuration as last read: one line per server with its side and vote.
fn raft_configuration(state: &State, t: Theme) -> Vec<Line<'static>> {
    let incident = &state.incident;
    let Some(m) = incident.raft_members.known() else {
        let why = incident
            .raft_members
            .unknown_label()
            .unwrap_or_else(|| "not read".into());
        return vec![Line::styled(
            format!("  Raft configuration: {why} (the Raft pane shows what is known)"),
            t.warn(),
        )];
    };
    let mut out = vec![Line::styled(
        format!("  Raft configuration (from {}):", m.read_from),
        t.label(),
    )];
    for s in &m.servers {
        let side =
            incident
                .pods
                .iter()
                .find(|p| p.name == s.node_id)
                .map_or("?", |p| match incident.side_of(p) {
                    crate::domain::Side::Blue => "Blue",
                    crate::domain::Side::Green => "Green",
                    crate::domain::Side::Other => "other",
                });
        out.push(Line::raw(format!(
            "    {} {} {}{}",
            clean(&s.node_id),
            side,
            if s.voter { "voter" } else { "non-voter" },
            if s.leader { " leader" } else { "" }
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{self, feed, incident_state};
    use crate::app::msg::SourceEvent;
    use crate::domain::raft_members::{Member, RaftMembers};
    use crate::domain::{Membership, Side};

    fn text(lines: &[Line<'static>]) -> String {
        lines
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_01_cleanup_alert_shows_the_raft_configuration_and_06_does_not() {
        let mut s = incident_state(false);
        let mut c = fixtures::cluster();
        if let Some(g) = c.blue_green.as_mut() {
            g.phase = Some("RollbackCleanup".into());
        }
        if let Some(b) = c.break_glass.as_mut() {
            b.active = false;
        }
        feed(&mut s, [SourceEvent::Cluster(Some(c))]);
        let servers = s
            .incident
            .pods
            .iter()
            .map(|p| Member {
                node_id: p.name.clone(),
                voter: s.incident.side_of(p) == Side::Blue,
                leader: p.name.ends_with("-0") && s.incident.side_of(p) == Side::Blue,
                health: None,
            })
            .collect();
        s.incident.raft_members = Membership::Known(RaftMembers {
            servers,
            failure_tolerance: Some(1),
            healthy: Some(true),
            read_from: "prod-cluster-e8983038c519c718-0".into(),
        });
        let t = Theme { color: false };
        let v01 = text(&lines_for(&s, GenLine::V01, t));
        assert!(v01.contains("ROLLBACK CLEANUP RUNNING"), "{v01}");
        assert!(v01.contains("Raft configuration (from prod-cluster-e8983038c519c718-0)"));
        assert!(
            v01.contains("prod-cluster-e8983038c519c718-0 Blue voter leader"),
            "{v01}"
        );
        assert!(v01.contains("prod-cluster-269c4f7ba494030d-2 Green non-voter"));
        let v06 = text(&lines_for(&s, GenLine::V06, t));
        assert!(!v06.contains("ROLLBACK CLEANUP RUNNING"), "{v06}");
        assert!(!v06.contains("Raft configuration ("), "{v06}");
        assert!(v06.contains("spec.upgrade.requests.rollback"), "{v06}");
        let unknown = text(&lines_for(&s, GenLine::Unknown, t));
        assert!(unknown.contains("only what every line shares"), "{unknown}");
    }
}
