//! Kubernetes Events as evidence for the diagnosis: the operator's own Events (0.6 line,
//! internal/service/upgrade/bluegreen: `BreakGlassEntered`, `BreakGlassAcknowledged`,
//! `RollbackStarted`, `RollbackRefused`, `UpgradeFailed`, …) and generic warnings that
//! explain a stuck step, above all `FailedScheduling` for an executor pod: the Job never
//! runs, so the rollback waits and never reaches break glass (the runbook's "Timeout" case).

use super::diagnosis::{Finding, Source};
use super::events::EventView;

/// The operator's Events that tell the rollback's story (none exists for its completion:
/// the phase going to Idle is the signal).
pub(crate) const OPERATOR_REASONS: [&str; 8] = [
    "BreakGlassEntered",
    "BreakGlassAcknowledged",
    "RollbackStarted",
    "RollbackRefused",
    "UpgradeFailed",
    "OperationLockBlocked",
    "PreUpgradeSnapshotFailed",
    "OperationLockOverride",
];

/// Generic warnings that keep a pod or Job from running.
const BLOCKING_REASONS: [&str; 4] = [
    "FailedScheduling",
    "FailedCreate",
    "FailedMount",
    "FailedAttachVolume",
];

/// At most this many Event findings (newest first), so they never drown the rest.
const MAX_FINDINGS: usize = 8;

/// What the Events say, newest first.
pub fn findings(events: &[EventView], cluster: &str) -> Vec<Finding> {
    let executor = format!("upgrade-{cluster}-");
    events
        .iter()
        .filter_map(|e| {
            let times = if e.count > 1 {
                format!(" ×{}", e.count)
            } else {
                String::new()
            };
            let text = if OPERATOR_REASONS.contains(&e.reason.as_str()) {
                format!("operator: {}{times}: {}", e.reason, e.message)
            } else if e.warning() && BLOCKING_REASONS.contains(&e.reason.as_str()) {
                if e.name.starts_with(&executor) {
                    format!(
                        "executor {} {} {}{times}: the Job cannot run, so the step waits and never reaches break glass (the runbook's \"Timeout\"): {}",
                        e.kind, e.name, e.reason, e.message
                    )
                } else {
                    format!("{} {} {}{times}: {}", e.kind, e.name, e.reason, e.message)
                }
            } else {
                return None;
            };
            Some(Finding {
                text,
                source: Source::Event(format!("{} {}/{}", e.reason, e.kind, e.name)),
            })
        })
        .take(MAX_FINDINGS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(reason: &str, type_: &str, kind: &str, name: &str, count: i32) -> EventView {
        EventView {
            uid: format!("{reason}-{name}"),
            type_: type_.into(),
            reason: reason.into(),
            kind: kind.into(),
            name: name.into(),
            message: format!("{reason} message"),
            count,
            last: None,
        }
    }

    #[test]
    fn operator_events_and_blocking_warnings_are_evidence_the_rest_is_not() {
        let events = vec![
            ev(
                "BreakGlassEntered",
                "Warning",
                "OpenBaoCluster",
                "prod-cluster",
                1,
            ),
            ev(
                "FailedScheduling",
                "Warning",
                "Pod",
                "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7-abcde",
                6,
            ),
            ev(
                "FailedScheduling",
                "Warning",
                "Pod",
                "prod-cluster-269c4f7ba494030d-1",
                1,
            ),
            ev(
                "Pulled",
                "Normal",
                "Pod",
                "prod-cluster-269c4f7ba494030d-1",
                1,
            ),
            ev(
                "BackOff",
                "Warning",
                "Pod",
                "prod-cluster-269c4f7ba494030d-1",
                9,
            ),
        ];
        let f = findings(&events, "prod-cluster");
        assert_eq!(f.len(), 3, "{f:#?}");
        assert!(f[0].text.starts_with("operator: BreakGlassEntered"));
        assert!(f[1].text.contains("never reaches break glass") && f[1].text.contains("×6"));
        assert!(!f[2].text.contains("never reaches"));
        assert_eq!(
            f[0].source,
            Source::Event("BreakGlassEntered OpenBaoCluster/prod-cluster".into())
        );
    }
}
