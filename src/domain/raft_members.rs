//! Raft membership as the token-gated endpoints tell it: voters from
//! `sys/storage/raft/configuration`, per-server health and failure tolerance from
//! `sys/storage/raft/autopilot/state` (dc-tec/openbao-operator@002fbdd `internal/constants/api.go`).
//!
//! Without a token these are not known, which is a state of its own ("needs token"),
//! never an error; a refused token (403) is shown as such. Node id = pod name (`HOSTNAME` in
//! the operator's rendered config, `internal/config/`).

use super::cluster::ClusterView;
use super::incident::Side;
use super::raft::RaftReading;

/// One server of the Raft configuration, with what autopilot says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Raft node id (the pod name with the operator).
    pub node_id: String,
    pub voter: bool,
    pub leader: bool,
    /// None when autopilot did not list it (or autopilot is unavailable).
    pub health: Option<PeerHealth>,
}

/// Autopilot's view of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHealth {
    /// `leader`, `voter` or `non-voter`.
    pub status: String,
    pub healthy: bool,
    pub last_index: u64,
    pub last_term: u64,
    /// `last_contact` ("1.81s", "0s") in milliseconds; None if it does not parse.
    pub last_contact_ms: Option<u64>,
}

/// What one round read from the token-gated endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaftMembers {
    /// The configuration's servers (with autopilot's health merged in by node id).
    pub servers: Vec<Member>,
    /// Autopilot's `failure_tolerance`; None when autopilot is not available (404).
    pub failure_tolerance: Option<u32>,
    /// Autopilot's overall `healthy`.
    pub healthy: Option<bool>,
    /// The pod the answers came from.
    pub read_from: String,
}

/// The token-gated readings, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Membership {
    /// No token was given: shown as "needs token".
    #[default]
    NeedsToken,
    /// OpenBao answered 403 to the token.
    Rejected,
    /// Not read this round (no node answered, an unexpected answer).
    Unavailable(String),
    Known(RaftMembers),
}

impl Membership {
    pub fn known(&self) -> Option<&RaftMembers> {
        match self {
            Membership::Known(m) => Some(m),
            _ => None,
        }
    }

    /// What the pane and `status` say instead of a value when it is not known.
    pub(crate) fn unknown_label(&self) -> Option<String> {
        match self {
            Membership::NeedsToken => Some("needs token".into()),
            Membership::Rejected => Some("token rejected (403)".into()),
            Membership::Unavailable(why) => Some(format!("unavailable: {why}")),
            Membership::Known(_) => None,
        }
    }

    /// The member whose node id is `pod`.
    pub fn member(&self, pod: &str) -> Option<&Member> {
        self.known()?.servers.iter().find(|m| m.node_id == pod)
    }
}

/// One poll round: every node's `sys/leader` plus the token-gated membership.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaftSnapshot {
    pub readings: Vec<RaftReading>,
    pub members: Membership,
    /// How the nodes were reached when that is not the default pod proxy, e.g.
    /// `via port-forward (pods/proxy forbidden)`, or why neither route is allowed.
    pub route: Option<String>,
}

impl From<Vec<RaftReading>> for RaftSnapshot {
    fn from(readings: Vec<RaftReading>) -> Self {
        RaftSnapshot {
            readings,
            members: Membership::NeedsToken,
            route: None,
        }
    }
}

/// Autopilot's failure tolerance (None: not known — no token, rejected, or no autopilot).
pub fn failure_tolerance(members: &Membership) -> Option<u32> {
    members.known()?.failure_tolerance
}

/// Node ids of the voters in the Raft configuration (None: not known).
pub fn voters(members: &Membership) -> Option<Vec<&str>> {
    Some(
        members
            .known()?
            .servers
            .iter()
            .filter(|m| m.voter)
            .map(|m| m.node_id.as_str())
            .collect(),
    )
}

/// Green pods that are still voters (None: not known). During a rollback this decides
/// what "fix forward" would do: Green voters mean Green still holds (part of) the quorum.
pub fn green_voters(readings: &[RaftReading], members: &Membership) -> Option<Vec<String>> {
    let voters = voters(members)?;
    Some(
        readings
            .iter()
            .filter(|r| r.side == Side::Green && voters.contains(&r.pod.as_str()))
            .map(|r| r.pod.clone())
            .collect(),
    )
}

/// The operator is rolling back (`RollingBack` or `RollbackCleanup`, dc-tec/openbao-operator@002fbdd `internal/upgrade/bluegreen/manager.go`).
pub(crate) fn rolling_back(cluster: Option<&ClusterView>) -> bool {
    cluster
        .and_then(|c| c.blue_green.as_ref())
        .and_then(|g| g.phase.as_deref())
        .is_some_and(|p| p == "RollingBack" || p == "RollbackCleanup")
}

/// `last_contact` as Go prints a duration ("0s", "1.813989483s", "512.3ms", "2m3.5s").
pub(crate) fn parse_go_duration_ms(s: &str) -> Option<u64> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total_ms = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest.get(..num_len)?.parse().ok()?;
        rest = rest.get(num_len..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match rest.get(..unit_len)? {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1000.0,
            "ms" => 1.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return None,
        };
        total_ms += value * factor;
        rest = rest.get(unit_len..)?;
    }
    Some(total_ms.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn member(id: &str, voter: bool) -> Member {
        Member {
            node_id: id.into(),
            voter,
            leader: false,
            health: None,
        }
    }

    fn reading(pod: &str, side: Side) -> RaftReading {
        RaftReading {
            pod: pod.into(),
            side,
            committed: Some(1),
            applied: Some(1),
            is_leader: false,
            leader_address: None,
            reachable: true,
            sealed: false,
            endpoints: None,
            error: None,
            at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn voters_and_tolerance_only_when_known() {
        assert_eq!(voters(&Membership::NeedsToken), None);
        assert_eq!(failure_tolerance(&Membership::Rejected), None);
        let m = Membership::Known(RaftMembers {
            servers: vec![member("b0", false), member("g0", true), member("g1", true)],
            failure_tolerance: Some(1),
            healthy: Some(true),
            read_from: "g0".into(),
        });
        assert_eq!(voters(&m), Some(vec!["g0", "g1"]));
        assert_eq!(failure_tolerance(&m), Some(1));
        let rs = [
            reading("b0", Side::Blue),
            reading("g0", Side::Green),
            reading("g1", Side::Green),
        ];
        assert_eq!(
            green_voters(&rs, &m),
            Some(vec!["g0".to_string(), "g1".to_string()])
        );
        assert_eq!(green_voters(&rs, &Membership::NeedsToken), None);
        assert_eq!(
            Membership::Rejected.unknown_label().as_deref(),
            Some("token rejected (403)")
        );
        assert!(m.member("g1").is_some_and(|m| m.voter));
    }

    #[test]
    fn rolling_back_means_rolling_back_or_its_cleanup() {
        use crate::domain::cluster::BlueGreenView;
        let with = |phase: &str| ClusterView {
            blue_green: Some(BlueGreenView {
                phase: Some(phase.into()),
                ..BlueGreenView::default()
            }),
            ..ClusterView::default()
        };
        assert!(rolling_back(Some(&with("RollingBack"))));
        assert!(rolling_back(Some(&with("RollbackCleanup"))));
        assert!(!rolling_back(Some(&with("Promoting"))));
        assert!(!rolling_back(None));
    }

    #[test]
    fn go_durations_parse_to_milliseconds() {
        assert_eq!(parse_go_duration_ms("0s"), Some(0));
        assert_eq!(parse_go_duration_ms("1.813989483s"), Some(1814));
        assert_eq!(parse_go_duration_ms("512.3ms"), Some(512));
        assert_eq!(parse_go_duration_ms("2m3.5s"), Some(123_500));
        assert_eq!(parse_go_duration_ms("1h"), Some(3_600_000));
        assert_eq!(parse_go_duration_ms(""), None);
        assert_eq!(parse_go_duration_ms("soon"), None);
    }
}
