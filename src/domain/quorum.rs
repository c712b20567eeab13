//! Quorum impact: the failure tolerance a Raft cluster has now, and what it would have
//! after an action that removes peers from the configuration or stops them without removal.
//!
//! Raft needs `voters / 2 + 1` healthy voters. The failure tolerance is how many more
//! voters may fail: `healthy voters − quorum` (negative: quorum is already lost).
//! Non-voters never count. Pure: the inputs come from the Raft configuration and
//! autopilot state (which need an OpenBao token).

use super::incident::Side;

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
    /// quorum shrinks with them (RollbackCleanup's peer removal, operator-facts §3.7).
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
pub struct Tolerance {
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

    pub fn has_quorum(&self) -> bool {
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
            format!("{head}, tolerates {n} failure{}", plural_u64(n))
        } else {
            format!("{head}, NO QUORUM")
        }
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn plural_u64(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
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
pub fn impact_line(peers: &[Peer], change: Change) -> (Tolerance, Tolerance, String) {
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
        // behaviour (operator-facts §3.7) removes them.
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
}
