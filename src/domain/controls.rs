//! The manual controls an administrator may have left on an OpenBaoCluster, read apart from
//! the rest of the view so each operator line can judge them (README "Resolution paths by
//! operator line"): the 0.1 line's `openbao.org/force-rollback` annotation (never cleared by
//! the operator, removed on newer lines), the newer lines' `spec.upgrade.requests.rollback`
//! and its `status.upgradeRequests.lastHandledRollback`, the restore hold, and the restore's
//! own JWT role `spec.restore.jwtAuthRole`.

use serde_json::Value;

/// `openbao.org/force-rollback` (internal/upgrade/bluegreen/constants.go on the 0.1 line).
pub(crate) const ANNOTATION_FORCE_ROLLBACK: &str = "openbao.org/force-rollback";
/// Set by the restore controller while a restore holds the cluster (newer lines).
pub(crate) const ANNOTATION_RESTORE_HOLD: &str = "openbao.org/restore-hold";
/// The restore role's default name (`spec.restore.jwtAuthRole`).
pub(crate) const DEFAULT_RESTORE_ROLE: &str = "openbao-operator-restore";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManualControls {
    /// The `openbao.org/force-rollback` annotation's value, when present.
    pub force_rollback: Option<String>,
    /// `spec.upgrade.requests.rollback` (edge-triggered against the handled value).
    pub rollback_request: Option<String>,
    /// `status.upgradeRequests.lastHandledRollback`.
    pub last_handled_rollback: Option<String>,
    /// `openbao.org/restore-hold`: the UID of the restore holding the cluster.
    pub restore_hold: Option<String>,
    /// `spec.restore.jwtAuthRole`, when set.
    pub restore_jwt_role: Option<String>,
}

impl ManualControls {
    pub fn from_json(obj: &Value) -> ManualControls {
        let s = |p: &str| {
            obj.pointer(p)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let annotation = |key: &str| {
            obj.pointer("/metadata/annotations")
                .and_then(|a| a.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        ManualControls {
            force_rollback: annotation(ANNOTATION_FORCE_ROLLBACK),
            rollback_request: s("/spec/upgrade/requests/rollback"),
            last_handled_rollback: s("/status/upgradeRequests/lastHandledRollback"),
            restore_hold: annotation(ANNOTATION_RESTORE_HOLD).filter(|s| !s.is_empty()),
            restore_jwt_role: s("/spec/restore/jwtAuthRole"),
        }
    }

    /// A rollback request the operator has not handled yet.
    pub(crate) fn pending_rollback_request(&self) -> Option<&str> {
        let r = self.rollback_request.as_deref()?;
        (self.last_handled_rollback.as_deref() != Some(r)).then_some(r)
    }

    /// The role a restore authenticates with on the newer lines.
    pub fn restore_role(&self) -> &str {
        self.restore_jwt_role
            .as_deref()
            .unwrap_or(DEFAULT_RESTORE_ROLE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn controls_are_read_and_a_handled_request_is_not_pending() {
        let c = ManualControls::from_json(&json!({
            "metadata": {"annotations": {"openbao.org/force-rollback": "true"}},
            "spec": {"upgrade": {"requests": {"rollback": "2026-12-04T10:00:00Z"}},
                     "restore": {"jwtAuthRole": "my-restore"}},
            "status": {"upgradeRequests": {"lastHandledRollback": "2026-12-04T10:00:00Z"}}
        }));
        assert_eq!(c.force_rollback.as_deref(), Some("true"));
        assert_eq!(c.pending_rollback_request(), None);
        assert_eq!(c.restore_role(), "my-restore");
        let fresh = ManualControls::from_json(&json!({
            "spec": {"upgrade": {"requests": {"rollback": "2026-12-04T11:00:00Z"}}}
        }));
        assert_eq!(
            fresh.pending_rollback_request(),
            Some("2026-12-04T11:00:00Z")
        );
        assert_eq!(fresh.force_rollback, None);
        assert_eq!(fresh.restore_role(), DEFAULT_RESTORE_ROLE);
    }
}
