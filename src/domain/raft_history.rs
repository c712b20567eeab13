//! The Raft readings over the session, bounded, and the signals that need more than one
//! reading: the chart's highest Blue and Green committed index, and the apply stall
//! (committed rising while applied stays frozen).
//!
//! `app::update` pushes every poll round here; `ui::raft` and `status` read the signals.
//! Pure data, no I/O.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;

use super::cluster::ClusterView;
use super::incident::Side;
use super::raft::{RaftReading, SYNC_THRESHOLD, blue_behind_green, leaders, max_committed};
use super::raft_members::{Membership, failure_tolerance, green_voters, rolling_back};

/// Chart points kept: at a 1–5 s poll, 30–150 minutes of session.
pub(crate) const HISTORY_POINTS: usize = 1800;
/// Rounds the apply-stall check looks back over.
pub(crate) const STALL_ROUNDS: usize = 4;

/// One poll round reduced to what the chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftPoint {
    pub at: Timestamp,
    pub blue: Option<u64>,
    pub green: Option<u64>,
}

/// One node's indices in one round.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NodeIndex {
    pod: String,
    committed: Option<u64>,
    applied: Option<u64>,
}

/// Bounded history of poll rounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaftHistory {
    points: VecDeque<RaftPoint>,
    recent: VecDeque<Vec<NodeIndex>>,
    /// When each pod of the latest round last answered (pods gone from the round are
    /// forgotten, so this stays as small as the cluster).
    last_ok: BTreeMap<String, Timestamp>,
    /// What answered the last round (the simulator's `real`/`simulated`): the demo swaps
    /// simulated endpoints for real nodes, whose indices are unrelated, so the history
    /// restarts with the new source rather than drawing a cliff.
    source: Option<String>,
}

impl RaftHistory {
    /// Record one round (the readings of every node, taken at about the same time).
    pub fn push(&mut self, readings: &[RaftReading]) {
        let Some(at) = readings.iter().map(|r| r.at).max() else {
            return;
        };
        let source = readings.iter().find_map(|r| r.endpoints.clone());
        if source != self.source {
            *self = RaftHistory {
                source,
                ..RaftHistory::default()
            };
        }
        if self.points.len() == HISTORY_POINTS {
            self.points.pop_front();
        }
        self.points.push_back(RaftPoint {
            at,
            blue: max_committed(readings, Some(Side::Blue)),
            green: max_committed(readings, Some(Side::Green)),
        });
        let mut last_ok = BTreeMap::new();
        for r in readings {
            let seen = if r.reachable {
                Some(r.at)
            } else {
                self.last_ok.get(&r.pod).copied()
            };
            if let Some(t) = seen {
                last_ok.insert(r.pod.clone(), t);
            }
        }
        self.last_ok = last_ok;
        if self.recent.len() == STALL_ROUNDS {
            self.recent.pop_front();
        }
        self.recent.push_back(
            readings
                .iter()
                .map(|r| NodeIndex {
                    pod: r.pod.clone(),
                    committed: r.committed,
                    applied: r.applied,
                })
                .collect(),
        );
    }

    /// When `pod` last answered (None: not since the session started). For an
    /// unreachable node this is how stale its last known state is.
    pub fn last_ok(&self, pod: &str) -> Option<Timestamp> {
        self.last_ok.get(pod).copied()
    }

    pub fn points(&self) -> &VecDeque<RaftPoint> {
        &self.points
    }

    /// Pods whose committed index rose over the last [`STALL_ROUNDS`] rounds while their
    /// applied index did not move and stayed below it.
    pub(crate) fn apply_stalls(&self) -> Vec<String> {
        let Some(last) = self.recent.back() else {
            return Vec::new();
        };
        if self.recent.len() < STALL_ROUNDS {
            return Vec::new();
        }
        last.iter()
            .filter(|n| {
                let seen: Vec<&NodeIndex> = self
                    .recent
                    .iter()
                    .filter_map(|round| round.iter().find(|m| m.pod == n.pod))
                    .collect();
                let (Some(first), Some(latest)) = (seen.first(), seen.last()) else {
                    return false;
                };
                seen.len() == STALL_ROUNDS
                    && matches!((first.committed, latest.committed), (Some(a), Some(b)) if b > a)
                    && latest.applied.is_some()
                    && seen.iter().all(|m| m.applied == latest.applied)
                    && latest.applied < latest.committed
            })
            .map(|n| n.pod.clone())
            .collect()
    }
}

/// The computed Raft signals with their thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RaftSignals {
    /// Blue's highest committed index behind Green's (None: a side has no index).
    pub blue_behind_green: Option<u64>,
    pub sync_threshold: u64,
    /// Pods answering `is_self: true`; 0 or 2+ is a signal in itself.
    pub leaders: Vec<String>,
    /// Pods with committed rising and applied frozen (needs [`STALL_ROUNDS`] rounds).
    pub apply_stalls: Vec<String>,
    /// Green pods still voters (Raft configuration; None: not known, see `members_note`).
    pub green_voters: Option<Vec<String>>,
    /// Autopilot's failure tolerance (None: not known, see `members_note`).
    pub failure_tolerance: Option<u32>,
    /// Why the token-gated values are not known ("needs token", "token rejected (403)",
    /// "unavailable: …"); None when they are.
    pub members_note: Option<String>,
}

impl RaftSignals {
    pub(crate) fn compute(
        readings: &[RaftReading],
        members: &Membership,
        history: &RaftHistory,
    ) -> RaftSignals {
        RaftSignals {
            blue_behind_green: blue_behind_green(readings),
            sync_threshold: SYNC_THRESHOLD,
            leaders: leaders(readings).into_iter().map(String::from).collect(),
            apply_stalls: history.apply_stalls(),
            green_voters: green_voters(readings, members),
            failure_tolerance: failure_tolerance(members),
            members_note: members.unknown_label(),
        }
    }

    /// Blue is further behind than the executor's sync threshold.
    pub(crate) fn blue_too_far_behind(&self) -> bool {
        self.blue_behind_green
            .is_some_and(|l| l > self.sync_threshold)
    }

    /// Green voters still present during a rollback (None: the membership is not known).
    /// The repair makes Blue the voters; Green voters left mean "fix forward" would keep
    /// Green's quorum.
    pub(crate) fn green_voters_in_rollback(&self, cluster: Option<&ClusterView>) -> Option<bool> {
        let voters = self.green_voters.as_ref()?;
        Some(rolling_back(cluster) && !voters.is_empty())
    }

    /// The failure tolerance as shown: the number, "no autopilot" (404) when the
    /// configuration was read but autopilot was not, or why neither is known.
    pub(crate) fn failure_tolerance_label(&self) -> String {
        match (&self.members_note, self.failure_tolerance) {
            (Some(note), _) => note.clone(),
            (None, Some(n)) => n.to_string(),
            (None, None) => "no autopilot".to_string(),
        }
    }

    /// The Green voters as shown: pod names, "none", or why they are not known.
    pub(crate) fn green_voters_label(&self) -> String {
        match (&self.members_note, &self.green_voters) {
            (Some(note), _) => note.clone(),
            (None, Some(v)) if v.is_empty() => "none".to_string(),
            (None, Some(v)) => v.join(" "),
            (None, None) => "unknown".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pod: &str, side: Side, c: u64, a: u64, s: i64) -> RaftReading {
        RaftReading {
            pod: pod.into(),
            side,
            committed: Some(c),
            applied: Some(a),
            is_leader: pod == "g0",
            leader_address: None,
            reachable: true,
            sealed: false,
            endpoints: None,
            error: None,
            at: Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }

    #[test]
    fn apply_stall_needs_committed_rising_and_applied_frozen() {
        let mut h = RaftHistory::default();
        for i in 0..STALL_ROUNDS as u64 {
            h.push(&[
                r("b0", Side::Blue, 100 + i * 10, 90, i as i64),
                r("g0", Side::Green, 100 + i * 10, 100 + i * 10, i as i64),
            ]);
            if i + 1 < STALL_ROUNDS as u64 {
                assert!(h.apply_stalls().is_empty(), "too few rounds");
            }
        }
        assert_eq!(h.apply_stalls(), vec!["b0".to_string()]);
        // Applied moves again: no stall.
        h.push(&[
            r("b0", Side::Blue, 200, 150, 9),
            r("g0", Side::Green, 200, 200, 9),
        ]);
        assert!(h.apply_stalls().is_empty());
        // b0 stops answering: its last answer stays, g0's moves on.
        let mut gone = r("b0", Side::Blue, 0, 0, 12);
        (gone.reachable, gone.committed, gone.applied) = (false, None, None);
        h.push(&[gone, r("g0", Side::Green, 210, 210, 12)]);
        assert_eq!(h.last_ok("b0"), Timestamp::from_second(9).ok());
        assert_eq!(h.last_ok("g0"), Timestamp::from_second(12).ok());
        h.push(&[r("g0", Side::Green, 220, 220, 13)]);
        assert_eq!(
            h.last_ok("b0"),
            None,
            "a pod gone from the round is forgotten"
        );
        // Another source (simulated endpoints → real nodes): the history restarts.
        let mut real = r("g0", Side::Green, 5, 5, 14);
        real.endpoints = Some("real".into());
        h.push(&[real]);
        assert_eq!(h.points().len(), 1);
    }

    #[test]
    fn history_is_bounded_and_keeps_side_maxima() {
        let mut h = RaftHistory::default();
        for i in 0..HISTORY_POINTS as i64 + 10 {
            h.push(&[r("b0", Side::Blue, 5, 5, i), r("g0", Side::Green, 9, 9, i)]);
        }
        assert_eq!(h.points().len(), HISTORY_POINTS);
        let p = h.points().back().copied();
        assert_eq!(p.map(|p| (p.blue, p.green)), Some((Some(5), Some(9))));
        let s = RaftSignals::compute(&[r("b0", Side::Blue, 5, 5, 0)], &Membership::NeedsToken, &h);
        assert_eq!(s.leaders, Vec::<String>::new());
        assert_eq!(s.failure_tolerance, None);
        assert_eq!(s.failure_tolerance_label(), "needs token");
        assert_eq!(s.green_voters_in_rollback(None), None);
        assert_eq!(s.green_voters_label(), "needs token");
    }
}
