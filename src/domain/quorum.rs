//! Quorum impact: the failure tolerance a Raft cluster has now, and what it would have
//! after an action that removes peers from the configuration or stops them without removal.
//!
//! Raft needs `voters / 2 + 1` healthy voters. The failure tolerance is how many more
//! voters may fail: `healthy voters − quorum` (negative: quorum is already lost).
//! Non-voters never count. Pure: the inputs come from the Raft configuration and
//! autopilot state (which need an OpenBao token).

use super::incident::{Incident, Side};
use super::raft_members::Membership;

/// One server of the Raft configuration, as the quorum arithmetic needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Raft node id (the pod name with the operator).
    pub id: String,
    pub side: Side,
    pub voter: bool,
    /// Autopilot's `healthy` (or reachable when autopilot is unknown).
    pub healthy: bool,
}

/// What an action does to Raft peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `remove-peer` of every server on this side: they leave the configuration, so the
    /// quorum shrinks with them (RollbackCleanup's peer removal, dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go` `handlePhaseRollbackCleanup`).
    RemoveSide(Side),
    /// The pods of this side go away but stay in the configuration (a StatefulSet deleted
    /// without Raft repair, PVCs wiped): they still count towards the quorum, unhealthy.
    StopSide(Side),
}

impl Change {
    /// One line naming the change, for the confirmation text.
    pub fn describe(self) -> String {
        match self {
            Change::RemoveSide(s) => {
                format!("{} peers removed from the Raft configuration", s.label())
            }
            Change::StopSide(s) => format!(
                "{} pods gone but still in the Raft configuration",
                s.label()
            ),
        }
    }
}

/// Voters, healthy voters and the failure tolerance of one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tolerance {
    pub voters: usize,
    pub healthy_voters: usize,
    /// `healthy_voters − (voters / 2 + 1)`; negative: no quorum.
    pub tolerance: i64,
}

impl Tolerance {
    pub fn of(peers: &[Peer]) -> Tolerance {
        let voters = peers.iter().filter(|p| p.voter).count();
        let healthy_voters = peers.iter().filter(|p| p.voter && p.healthy).count();
        let quorum = if voters == 0 { 1 } else { voters / 2 + 1 };
        Tolerance {
            voters,
            healthy_voters,
            tolerance: count(healthy_voters) - count(quorum),
        }
    }

    pub(crate) fn has_quorum(&self) -> bool {
        self.voters > 0 && self.tolerance >= 0
    }

    /// `3 voters (3 healthy), tolerates 1 failure` / `… NO QUORUM`.
    pub fn label(&self) -> String {
        let head = format!(
            "{} voter{} ({} healthy)",
            self.voters,
            plural(self.voters),
            self.healthy_voters
        );
        if self.has_quorum() {
            let n = self.tolerance.unsigned_abs();
            format!("{head}, tolerates {n} failure{}", plural(n))
        } else {
            format!("{head}, NO QUORUM")
        }
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn plural(n: impl TryInto<u64>) -> &'static str {
    if n.try_into().ok() == Some(1) {
        ""
    } else {
        "s"
    }
}

/// The configuration as it would be after `change`.
pub fn after(peers: &[Peer], change: Change) -> Vec<Peer> {
    match change {
        Change::RemoveSide(side) => peers.iter().filter(|p| p.side != side).cloned().collect(),
        Change::StopSide(side) => peers
            .iter()
            .map(|p| Peer {
                healthy: p.healthy && p.side != side,
                ..p.clone()
            })
            .collect(),
    }
}

/// The tolerance now and after `change`, as one line for a confirmation:
/// `failure tolerance now: 5 voters (5 healthy), tolerates 2 failures → after green pods
/// gone but still in the Raft configuration: 5 voters (3 healthy), tolerates 0 failures`.
pub(crate) fn impact_line(peers: &[Peer], change: Change) -> (Tolerance, Tolerance, String) {
    let now = Tolerance::of(peers);
    let then = Tolerance::of(&after(peers, change));
    let line = format!(
        "failure tolerance now: {} → after {}: {}",
        now.label(),
        change.describe(),
        then.label()
    );
    (now, then, line)
}

/// The Raft configuration as peers, each on its side (by the reading of the same pod, else
/// the pod's revision label); healthy from autopilot, else "answered sys/leader, unsealed".
/// Err: why it is not known (no token, token rejected, not read).
pub fn peers(incident: &Incident) -> Result<Vec<Peer>, String> {
    let members = match &incident.raft_members {
        Membership::Known(m) => m,
        other => return Err(other.unknown_label().unwrap_or_default()),
    };
    Ok(members
        .servers
        .iter()
        .map(|m| {
            let reading = incident.raft.iter().find(|r| r.pod == m.node_id);
            let side = reading.map(|r| r.side).unwrap_or_else(|| {
                incident
                    .pods
                    .iter()
                    .find(|p| p.name == m.node_id)
                    .map_or(Side::Other, |p| incident.side_of(p))
            });
            let answered = reading.is_some_and(|r| r.reachable && !r.sealed);
            Peer {
                id: m.node_id.clone(),
                side,
                voter: m.voter,
                healthy: m.health.as_ref().map_or(answered, |h| h.healthy),
            }
        })
        .collect())
}

/// The impact line of `change` on the cluster's configuration now, or why it is unknown.
pub(crate) fn impact(incident: &Incident, change: Change) -> String {
    match peers(incident) {
        Ok(p) => impact_line(&p, change).2,
        Err(why) => format!(
            "failure tolerance after {}: unknown ({why}) — check the Raft configuration first",
            change.describe()
        ),
    }
}

/// RollbackCleanup after a successful repair (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go` `handlePhaseRollbackCleanup`, inferred from code): the
/// repair leaves Blue as the voters and Green as non-voters, then remove-blue-peers runs.
pub(crate) fn cleanup_impact(incident: &Incident) -> String {
    match peers(incident) {
        Ok(p) => {
            let repaired: Vec<Peer> = p
                .into_iter()
                .map(|p| Peer {
                    voter: p.side == Side::Blue,
                    ..p
                })
                .collect();
            let (now, then, _) = impact_line(&repaired, Change::RemoveSide(Side::Blue));
            format!(
                "if RollbackCleanup removes the Blue peers (0.1 line): after the repair {} → {}",
                now.label(),
                then.label()
            )
        }
        Err(why) => {
            format!(
                "RollbackCleanup's Blue-peer removal (0.1 line): failure tolerance unknown ({why})"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str, side: Side, voter: bool, healthy: bool) -> Peer {
        Peer {
            id: id.into(),
            side,
            voter,
            healthy,
        }
    }

    #[test]
    fn tolerance_table() {
        let cases: &[(usize, usize, i64, bool)] = &[
            // voters, healthy, tolerance, quorum
            (1, 1, 0, true),
            (3, 3, 1, true),
            (3, 2, 0, true),
            (3, 1, -1, false),
            (5, 5, 2, true),
            (6, 6, 2, true),
            (6, 3, -1, false),
        ];
        for &(voters, healthy, tol, quorum) in cases {
            let peers: Vec<Peer> = (0..voters)
                .map(|i| peer(&format!("p{i}"), Side::Blue, true, i < healthy))
                .collect();
            let t = Tolerance::of(&peers);
            assert_eq!(
                (t.tolerance, t.has_quorum()),
                (tol, quorum),
                "{voters}/{healthy}"
            );
        }
        assert!(!Tolerance::of(&[]).has_quorum());
    }

    #[test]
    fn non_voters_do_not_count() {
        let peers = vec![
            peer("b0", Side::Blue, true, true),
            peer("b1", Side::Blue, true, true),
            peer("b2", Side::Blue, true, true),
            peer("g0", Side::Green, false, false),
            peer("g1", Side::Green, false, false),
        ];
        assert_eq!(Tolerance::of(&peers).tolerance, 1);
        // Stopping non-voting Green changes nothing.
        let (now, then, _) = impact_line(&peers, Change::StopSide(Side::Green));
        assert_eq!(now, then);
    }

    #[test]
    fn stopping_green_voters_without_removal_can_lose_quorum() {
        // Mid-rollback: Green still holds three voters, Blue two.
        let peers = vec![
            peer("b0", Side::Blue, true, true),
            peer("b1", Side::Blue, true, true),
            peer("g0", Side::Green, true, true),
            peer("g1", Side::Green, true, true),
            peer("g2", Side::Green, true, true),
        ];
        let (now, then, line) = impact_line(&peers, Change::StopSide(Side::Green));
        assert_eq!(now.tolerance, 2);
        assert_eq!((then.voters, then.healthy_voters), (5, 2));
        assert!(!then.has_quorum());
        assert!(line.contains("NO QUORUM"), "{line}");
        assert!(line.contains("tolerates 2 failures"), "{line}");
    }

    #[test]
    fn removing_blue_after_repair_leaves_no_voters() {
        // After a successful repair Blue are the voters; RollbackCleanup's literal
        // behaviour (dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go` `handlePhaseRollbackCleanup`) removes them.
        let peers = vec![
            peer("b0", Side::Blue, true, true),
            peer("b1", Side::Blue, true, true),
            peer("b2", Side::Blue, true, true),
            peer("g0", Side::Green, false, true),
        ];
        let (_, then, line) = impact_line(&peers, Change::RemoveSide(Side::Blue));
        assert_eq!(then.voters, 0);
        assert!(!then.has_quorum());
        assert!(line.contains("blue peers removed"), "{line}");
        // Removing the Green non-voter instead is harmless.
        let (now, then, _) = impact_line(&peers, Change::RemoveSide(Side::Green));
        assert_eq!(now, then);
        assert_eq!(then.label(), "3 voters (3 healthy), tolerates 1 failure");
    }

    fn incident(green_voters: bool, members: bool) -> Incident {
        use crate::domain::raft_members::{Member, PeerHealth, RaftMembers};
        use crate::domain::{Membership, RaftReading};
        let pods = [
            ("b-0", Side::Blue),
            ("b-1", Side::Blue),
            ("b-2", Side::Blue),
        ]
        .into_iter()
        .chain([
            ("g-0", Side::Green),
            ("g-1", Side::Green),
            ("g-2", Side::Green),
        ]);
        let raft: Vec<RaftReading> = pods
            .map(|(pod, side)| RaftReading {
                pod: pod.into(),
                side,
                committed: Some(10),
                applied: Some(10),
                is_leader: pod == "g-0",
                leader_address: None,
                reachable: pod != "b-2",
                sealed: false,
                endpoints: None,
                error: None,
                at: jiff::Timestamp::UNIX_EPOCH,
            })
            .collect();
        let servers = raft
            .iter()
            .map(|r| Member {
                node_id: r.pod.clone(),
                voter: (r.side == Side::Green) == green_voters,
                leader: r.is_leader,
                // b-2 has no autopilot health: reachability decides (it is down).
                health: (r.pod != "b-2").then(|| PeerHealth {
                    status: "voter".into(),
                    healthy: true,
                    last_index: 10,
                    last_term: 2,
                    last_contact_ms: Some(0),
                }),
            })
            .collect();
        Incident {
            raft,
            raft_members: if members {
                Membership::Known(RaftMembers {
                    servers,
                    failure_tolerance: Some(1),
                    healthy: Some(true),
                    read_from: "g-0".into(),
                })
            } else {
                Membership::NeedsToken
            },
            ..Incident::default()
        }
    }

    #[test]
    fn peers_come_from_the_configuration_with_sides_from_the_readings() {
        let i = incident(true, true);
        let p = peers(&i).unwrap();
        assert_eq!(p.len(), 6);
        let b2 = p.iter().find(|p| p.id == "b-2").unwrap();
        assert!(!b2.healthy && !b2.voter && b2.side == Side::Blue);
        // Green holds the three voters: deleting Green without repair loses quorum.
        let line = impact(&i, Change::StopSide(Side::Green));
        assert!(
            line.contains("3 voters (3 healthy), tolerates 1 failure"),
            "{line}"
        );
        assert!(line.ends_with("3 voters (0 healthy), NO QUORUM"), "{line}");
        // Green already non-voters: the same deletion leaves Blue's tolerance alone
        // (b-2 is down: 3 voters, 2 healthy).
        let line = impact(&incident(false, true), Change::StopSide(Side::Green));
        assert!(
            line.ends_with("3 voters (2 healthy), tolerates 0 failures"),
            "{line}"
        );
        // The 0.1 RollbackCleanup after a repair leaves no voters at all.
        let line = cleanup_impact(&i);
        assert!(
            line.ends_with("→ 0 voters (0 healthy), NO QUORUM"),
            "{line}"
        );
    }

    #[test]
    fn without_a_token_the_impact_is_unknown_and_says_why() {
        let i = incident(true, false);
        assert_eq!(peers(&i), Err("needs token".to_string()));
        let line = impact(&i, Change::StopSide(Side::Green));
        assert!(line.contains("unknown (needs token)"), "{line}");
        assert!(cleanup_impact(&i).contains("unknown (needs token)"));
    }
}
