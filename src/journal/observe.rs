//! Observed state transitions, for the journal: what changed between two incident snapshots.
//!
//! Pure. Called by `update` when a source delivers; the first snapshot (nothing known before)
//! is described in full so the journal starts from what the console first saw.

use crate::domain::{ClusterView, Incident, JobView, Side};

fn describe_cluster(c: &ClusterView) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(bg) = c.break_glass.as_ref().filter(|b| b.active) {
        out.push(format!(
            "break glass active: reason {}, nonce {}, entered {}",
            bg.reason.as_deref().unwrap_or("?"),
            bg.nonce.as_deref().unwrap_or("?"),
            bg.entered_at.map_or("?".into(), |t| t.to_string())
        ));
    }
    if let Some(g) = &c.blue_green {
        out.push(format!(
            "blue/green phase {}, blue {} green {}, rollback attempt {}",
            g.phase.as_deref().unwrap_or("?"),
            g.blue_revision.as_deref().unwrap_or("-"),
            g.green_revision.as_deref().unwrap_or("-"),
            g.rollback_attempt
        ));
    }
    out.push(format!(
        "spec.version {}, status.currentVersion {}",
        c.spec_version,
        c.current_version.as_deref().unwrap_or("?")
    ));
    out
}

/// Transitions of the OpenBaoCluster.
pub fn cluster(old: Option<&ClusterView>, new: Option<&ClusterView>) -> Vec<String> {
    let (old, new) = match (old, new) {
        (None, None) => return Vec::new(),
        (Some(_), None) => return vec!["the OpenBaoCluster is gone".into()],
        (None, Some(n)) => return describe_cluster(n),
        (Some(o), Some(n)) => (o, n),
    };
    let mut out = Vec::new();
    let nonce = |c: &ClusterView| c.active_nonce().map(str::to_string);
    match (nonce(old), nonce(new)) {
        (None, Some(n)) => out.push(format!("break glass entered: nonce {n}")),
        (Some(o), Some(n)) if o != n => out.push(format!(
            "break glass entered again: new nonce {n} (was {o})"
        )),
        (Some(o), None) => out.push(format!(
            "break glass cleared (nonce {o} acknowledged{})",
            new.break_glass
                .as_ref()
                .and_then(|b| b.acknowledged_at)
                .map_or(String::new(), |t| format!(" at {t}"))
        )),
        _ => {}
    }
    let phase = |c: &ClusterView| c.blue_green.as_ref().and_then(|g| g.phase.clone());
    if phase(old) != phase(new) {
        out.push(format!(
            "blue/green phase {} → {}",
            phase(old).as_deref().unwrap_or("-"),
            phase(new).as_deref().unwrap_or("-")
        ));
    }
    let attempt = |c: &ClusterView| c.blue_green.as_ref().map_or(0, |g| g.rollback_attempt);
    if attempt(old) != attempt(new) {
        out.push(format!(
            "rollback attempt {} → {}",
            attempt(old),
            attempt(new)
        ));
    }
    if old.spec_version != new.spec_version || old.spec_image != new.spec_image {
        out.push(format!(
            "spec.version {} → {}{}",
            old.spec_version,
            new.spec_version,
            new.spec_image
                .as_deref()
                .map_or(String::new(), |i| format!(" (image {i})"))
        ));
    }
    if old.current_version != new.current_version {
        out.push(format!(
            "status.currentVersion → {}",
            new.current_version.as_deref().unwrap_or("-")
        ));
    }
    out
}

/// New repair Jobs and Jobs that finished.
pub fn jobs(old: &[JobView], new: &[JobView]) -> Vec<String> {
    new.iter()
        .filter_map(|j| {
            let run = j.run_id.as_deref().unwrap_or("?");
            match old.iter().find(|o| o.name == j.name) {
                None => Some(format!("repair Job {} ({run}) {}", j.name, j.state.label())),
                Some(o) if o.state != j.state => {
                    Some(format!("repair Job {} ({run}) {}", j.name, j.state.label()))
                }
                Some(_) => None,
            }
        })
        .collect()
}

/// Green pods that started failing (the operator aborts on them) or disappeared.
pub fn pods(before: &Incident, after: &Incident) -> Vec<String> {
    let failing = |i: &Incident| -> Vec<String> {
        i.pods_on(Side::Green)
            .filter(|p| p.is_failing())
            .map(|p| p.name.clone())
            .collect()
    };
    let was = failing(before);
    let mut out: Vec<String> = failing(after)
        .into_iter()
        .filter(|p| !was.contains(p))
        .map(|p| {
            format!("Green pod {p} failing (CrashLoopBackOff/ImagePull): an acknowledgement aborts")
        })
        .collect();
    let green = |i: &Incident| i.pods_on(Side::Green).count();
    if green(before) > 0 && green(after) == 0 {
        out.push("all Green pods are gone".into());
    }
    out
}

/// On the 0.1 line, the phase entering RollbackCleanup is the moment its remove-blue-peers
/// may remove the Blue voters (internal/upgrade/bluegreen/manager.go): the journal keeps the
/// Raft configuration as last read with the alert, so the cleanup never passes unseen.
pub(crate) fn cleanup_alert(
    before: &Incident,
    after: &Incident,
    line: crate::domain::generation::Line,
) -> Option<String> {
    let phase = |i: &Incident| {
        i.cluster
            .as_ref()
            .and_then(|c| c.blue_green.as_ref())
            .and_then(|g| g.phase.clone())
    };
    if line != crate::domain::generation::Line::V01
        || phase(after).as_deref() != Some("RollbackCleanup")
        || phase(before).as_deref() == Some("RollbackCleanup")
    {
        return None;
    }
    let config = match after.raft_members.known() {
        Some(m) => m
            .servers
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s.node_id,
                    if s.voter { "voter" } else { "non-voter" }
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => after
            .raft_members
            .unknown_label()
            .unwrap_or_else(|| "not read".into()),
    };
    Some(format!(
        "ALERT RollbackCleanup started on the 0.1 line: remove-blue-peers runs with revisions not swapped and may remove the BLUE peers; Raft configuration as last read: {config}; {}",
        crate::domain::quorum::cleanup_impact(after)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures;

    #[test]
    fn nonce_phase_and_attempt_transitions_are_named() {
        let old = fixtures::cluster();
        assert!(cluster(None, Some(&old))[0].contains("break glass active"));
        let mut acked = old.clone();
        if let Some(b) = acked.break_glass.as_mut() {
            b.active = false;
        }
        if let Some(g) = acked.blue_green.as_mut() {
            g.rollback_attempt = 1;
        }
        let t = cluster(Some(&old), Some(&acked));
        assert!(t[0].starts_with("break glass cleared"), "{t:?}");
        assert_eq!(t[1], "rollback attempt 0 → 1");
        let mut again = old.clone();
        if let Some(b) = again.break_glass.as_mut() {
            b.nonce = Some("n2".into());
        }
        assert!(cluster(Some(&old), Some(&again))[0].contains("new nonce n2"));
        assert!(cluster(Some(&old), Some(&old)).is_empty());
    }

    #[test]
    fn the_01_cleanup_alert_is_journaled_once_with_the_raft_configuration() {
        use crate::domain::generation::Line;
        let at = |phase: &str| {
            let mut c = crate::app::fixtures::cluster();
            if let Some(g) = c.blue_green.as_mut() {
                g.phase = Some(phase.into());
            }
            Incident {
                cluster: Some(c),
                ..Incident::default()
            }
        };
        let (rolling, cleanup) = (at("RollingBack"), at("RollbackCleanup"));
        let alert = cleanup_alert(&rolling, &cleanup, Line::V01).unwrap();
        assert!(alert.contains("may remove the BLUE peers"), "{alert}");
        assert!(
            alert.contains("Raft configuration as last read: needs token"),
            "{alert}"
        );
        assert_eq!(cleanup_alert(&cleanup, &cleanup, Line::V01), None, "once");
        assert_eq!(cleanup_alert(&rolling, &cleanup, Line::V06), None);
        assert_eq!(cleanup_alert(&rolling, &cleanup, Line::Unknown), None);
    }

    #[test]
    fn jobs_and_failing_green_are_transitions() {
        let j = fixtures::jobs();
        assert_eq!(jobs(&[], &j).len(), 1);
        assert!(jobs(&j, &j).is_empty());
        let mut a = Incident {
            cluster: Some(fixtures::cluster()),
            pods: fixtures::pods(),
            ..Incident::default()
        };
        let before = a.clone();
        a.pods = fixtures::crashlooping_green();
        assert_eq!(pods(&before, &a).len(), 1);
    }
}
