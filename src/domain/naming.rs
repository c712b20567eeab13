//! The operator's naming algorithms (operator-facts §3.3), so the console finds the real
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

/// Run ID of the rollback Jobs: `rollback`, then `rollback-retry-<attempt>`.
pub fn rollback_run_id(attempt: i32) -> String {
    if attempt == 0 {
        "rollback".into()
    } else {
        format!("rollback-retry-{attempt}")
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

    // Vectors from operator-facts §3.3, computed there with the operator's algorithm.
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
            name(&rollback_run_id(1)),
            "upgrade-prod-cluster-bluegreen-repair-consensus-5ac3d8f609"
        );
        assert_eq!(
            name(&rollback_run_id(2)),
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
