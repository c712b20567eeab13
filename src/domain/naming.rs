//! The operator's naming algorithms (dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go` `upgradeExecutorJobName`), so the console finds the real
//! objects and the simulator's twin creates them exactly as the operator would.

use sha2::{Digest, Sha256};

fn sha_hex(payload: &str) -> String {
    hex::encode(Sha256::digest(payload.as_bytes()))
}

/// `upgrade-<cluster>-<action>-<10 hex>`; the base is cut to 52 characters.
pub fn executor_job_name(
    cluster: &str,
    action: &str,
    run_id: &str,
    blue: &str,
    green: &str,
) -> String {
    let suffix = &sha_hex(&format!("{cluster}|{action}|{run_id}|{blue}|{green}"))[..10];
    let mut base = format!("upgrade-{cluster}-{action}")
        .to_lowercase()
        .replace('_', "-");
    if base.len() > 52 {
        base.truncate(52);
        while base.ends_with('-') {
            base.pop();
        }
    }
    format!("{base}-{suffix}")
}

/// The prefix of operation IDs whose executor run IDs are operation-scoped
/// (`executorOperationIDPrefix`, internal/service/upgrade/bluegreen/job_helpers.go, from
/// dc-tec 0.5.1 / PR #747 on; older operation IDs are plain UUIDs or empty).
pub const SCOPED_OPERATION_PREFIX: &str = "bg-v2-";

/// `operationScopedRunID`: `<operationID>/<runID>` when the operation ID starts with
/// `bg-v2-`, the run ID unchanged otherwise (job_helpers.go).
pub(crate) fn operation_scoped_run_id(operation_id: &str, run_id: &str) -> String {
    if operation_id.starts_with(SCOPED_OPERATION_PREFIX) {
        format!("{operation_id}/{run_id}")
    } else {
        run_id.to_string()
    }
}

/// Run ID of the rollback Jobs (`rollbackRunID`, bluegreen/break_glass.go): `rollback`, then
/// `rollback-retry-<attempt>`, scoped by the operation ID when it is a `bg-v2-` one. The
/// repair Job (RollingBack) and the cleanup Job (RollbackCleanup) share it.
pub fn rollback_run_id(operation_id: &str, attempt: i32) -> String {
    let run = if attempt == 0 {
        "rollback".to_string()
    } else {
        format!("rollback-retry-{attempt}")
    };
    operation_scoped_run_id(operation_id, &run)
}

/// The attempt a rollback run ID stands for: 0 for `rollback`, N for `rollback-retry-N`,
/// with or without an operation scope (`bg-v2-…/rollback-retry-N`).
pub(crate) fn rollback_attempt_of(run_id: &str) -> Option<i32> {
    let tail = match run_id.rsplit_once('/') {
        Some((scope, tail)) if scope.starts_with(SCOPED_OPERATION_PREFIX) => tail,
        Some(_) => return None,
        None => run_id,
    };
    match tail {
        "rollback" => Some(0),
        other => other.strip_prefix("rollback-retry-")?.parse().ok(),
    }
}

/// Revision = first 16 hex of sha256("version=<v>\nimage=<image>\nreplicas=<n>\n").
pub fn revision(version: &str, image: &str, replicas: i32) -> String {
    sha_hex(&format!(
        "version={version}\nimage={image}\nreplicas={replicas}\n"
    ))[..16]
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from dc-tec/openbao-operator@002fbdd `internal/upgrade/job.go` `upgradeExecutorJobName`, computed with the operator's algorithm.
    const BLUE: &str = "e8983038c519c718";
    const GREEN: &str = "269c4f7ba494030d";

    #[test]
    fn revisions_match_the_operator() {
        assert_eq!(revision("2.4.3", "openbao/openbao:2.4.3", 3), BLUE);
        assert_eq!(revision("2.4.4", "openbao/openbao:2.4.4", 3), GREEN);
    }

    #[test]
    fn repair_job_names_match_the_operator() {
        let name = |run: &str| {
            executor_job_name(
                "prod-cluster",
                "bluegreen-repair-consensus",
                run,
                BLUE,
                GREEN,
            )
        };
        assert_eq!(
            name("rollback"),
            "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7"
        );
        assert_eq!(
            name(&rollback_run_id("", 1)),
            "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609"
        );
        assert_eq!(
            name(&rollback_run_id("", 2)),
            "upgrade-prod-cluster-bluegreen-repair-consensus-3c2ed27482"
        );
        assert_eq!(
            executor_job_name(
                "prod-cluster",
                "bluegreen-remove-blue-peers",
                "rollback",
                BLUE,
                GREEN
            ),
            "upgrade-prod-cluster-bluegreen-remove-blue-peers-8f0a2ffa1d"
        );
    }

    /// `TestOperationScopedRunID` (job_identity_test.go) and the rollback run IDs built on it.
    #[test]
    fn run_ids_are_scoped_only_for_bg_v2_operations() {
        assert_eq!(operation_scoped_run_id("", ""), "");
        assert_eq!(operation_scoped_run_id("legacy-uuid", "retry-2"), "retry-2");
        assert_eq!(
            operation_scoped_run_id("legacy-uuid", "rollback"),
            "rollback"
        );
        assert_eq!(operation_scoped_run_id("bg-v2-uuid", ""), "bg-v2-uuid/");
        assert_eq!(
            operation_scoped_run_id("bg-v2-uuid", "rollback-retry-2"),
            "bg-v2-uuid/rollback-retry-2"
        );
        assert_eq!(rollback_run_id("bg-v2-uuid", 0), "bg-v2-uuid/rollback");
        assert_eq!(rollback_run_id("3f1c2a9e-plain", 1), "rollback-retry-1");
        for id in ["rollback", "bg-v2-uuid/rollback"] {
            assert_eq!(rollback_attempt_of(id), Some(0), "{id}");
        }
        assert_eq!(rollback_attempt_of("bg-v2-u/rollback-retry-3"), Some(3));
        assert_eq!(rollback_attempt_of("bg-v2-u/retry-1"), None);
        assert_eq!(rollback_attempt_of("other/rollback"), None);
        assert_eq!(rollback_attempt_of("retry-1"), None);
    }

    /// Names for operation-scoped run IDs, from the operator's algorithm (the worked
    /// examples of the job-naming tests: cluster prod-cluster, the revisions above).
    #[test]
    fn scoped_job_names_match_the_operator() {
        let op = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";
        let name = |action: &str, attempt: i32| {
            executor_job_name(
                "prod-cluster",
                action,
                &rollback_run_id(op, attempt),
                BLUE,
                GREEN,
            )
        };
        let repair = "bluegreen-repair-consensus";
        let cleanup = "bluegreen-remove-green-peers";
        assert_eq!(
            name(repair, 0),
            "upgrade-prod-cluster-bluegreen-repair-consensus-e70d96ae6c"
        );
        assert_eq!(
            name(repair, 1),
            "upgrade-prod-cluster-bluegreen-repair-consensus-b15ac8d8e7"
        );
        assert_eq!(
            name(cleanup, 0),
            "upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368"
        );
        let legacy = |action: &str, attempt: i32| {
            executor_job_name(
                "prod-cluster",
                action,
                &rollback_run_id("", attempt),
                BLUE,
                GREEN,
            )
        };
        assert_eq!(
            legacy(cleanup, 0),
            "upgrade-prod-cluster-bluegreen-remove-green-peers-eaec258c17"
        );
        assert_eq!(
            legacy(cleanup, 1),
            "upgrade-prod-cluster-bluegreen-remove-green-peers-4641a9fe04"
        );
    }

    #[test]
    fn long_names_are_cut_like_the_operator() {
        let n = executor_job_name(
            "my-very-long-openbao-cluster-name",
            "bluegreen-repair-consensus",
            "rollback",
            BLUE,
            GREEN,
        );
        assert!(
            n.starts_with("upgrade-my-very-long-openbao-cluster-name-bluegreen-"),
            "{n}"
        );
        assert!(n.len() <= 63);
    }
}
