//! Raft readings per node and the comparisons the Raft pane and the decision panel use.
//!
//! Blue and Green are one Raft cluster (dc-tec/openbao-operator@002fbdd `runBlueGreenWaitGreenSynced` and `internal/raft/autopilot.go`): "divergence" is replication
//! lag, measured against the highest committed index any node reports.

use jiff::Timestamp;

use super::incident::Side;
use super::raft_members::Membership;

/// The executor's sync threshold (entries), dc-tec/openbao-operator@002fbdd `runBlueGreenWaitGreenSynced` and `internal/raft/autopilot.go`: a forward-path number (the
/// Syncing phase waits for Green to be this close before promotion). The rollback makes no
/// index check; every display labels it so.
pub const SYNC_THRESHOLD: u64 = 100;

/// One node's answer to `GET /v1/sys/leader` (through the pod proxy), or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftReading {
    pub pod: String,
    pub side: Side,
    pub committed: Option<u64>,
    pub applied: Option<u64>,
    /// `is_self` from sys/leader: this node is the active node.
    pub is_leader: bool,
    pub leader_address: Option<String>,
    pub reachable: bool,
    /// The node answered 503 "Vault is sealed".
    pub sealed: bool,
    /// What answers behind the pod proxy, from the simulator's pod annotation
    /// (`real` / `simulated`); None on a live cluster.
    pub endpoints: Option<String>,
    /// Why the node could not be read (timeout, 503 sealed, proxy error).
    pub error: Option<String>,
    /// When this reading was taken.
    pub at: Timestamp,
}

/// The highest committed index over the readings of one side (None if no reading).
pub fn max_committed(readings: &[RaftReading], side: Option<Side>) -> Option<u64> {
    readings
        .iter()
        .filter(|r| side.is_none_or(|s| r.side == s))
        .filter_map(|r| r.committed)
        .max()
}

/// How far a node's committed index is behind the highest committed index of all nodes.
pub fn lag(reading: &RaftReading, readings: &[RaftReading]) -> Option<u64> {
    Some(max_committed(readings, None)?.saturating_sub(reading.committed?))
}

/// The role shown for a node. Voter vs non-voter needs the Raft configuration (a token):
/// without it a reachable non-leader is a `follower`; a node the configuration does not
/// list is `not member`.
pub fn role(r: &RaftReading, members: &Membership) -> &'static str {
    if r.sealed {
        "sealed"
    } else if !r.reachable {
        "unreachable"
    } else if r.is_leader {
        "leader"
    } else if members.known().is_none() {
        "follower"
    } else {
        match members.member(&r.pod) {
            Some(m) if m.voter => "voter",
            Some(_) => "non-voter",
            None => "not member",
        }
    }
}

/// Pods that answer `is_self: true` (more than one: a split view worth showing).
pub fn leaders(readings: &[RaftReading]) -> Vec<&str> {
    readings
        .iter()
        .filter(|r| r.reachable && r.is_leader)
        .map(|r| r.pod.as_str())
        .collect()
}

/// Blue's highest committed index behind Green's highest (0 when Blue is ahead).
pub(crate) fn blue_behind_green(readings: &[RaftReading]) -> Option<u64> {
    let blue = max_committed(readings, Some(Side::Blue))?;
    let green = max_committed(readings, Some(Side::Green))?;
    Some(green.saturating_sub(blue))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pod: &str, side: Side, committed: Option<u64>) -> RaftReading {
        RaftReading {
            pod: pod.into(),
            side,
            committed,
            applied: committed,
            is_leader: false,
            leader_address: None,
            reachable: committed.is_some(),
            sealed: false,
            endpoints: None,
            error: None,
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn lag_is_measured_against_the_highest_committed_index() {
        let rs = vec![
            r("b0", Side::Blue, Some(2066)),
            r("g0", Side::Green, Some(5066)),
            r("b1", Side::Blue, None),
        ];
        assert_eq!(lag(&rs[0], &rs), Some(3000));
        assert_eq!(lag(&rs[1], &rs), Some(0));
        assert_eq!(lag(&rs[2], &rs), None);
        assert_eq!(blue_behind_green(&rs), Some(3000));
    }
}
