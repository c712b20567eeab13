//! Unit tests of the Raft poller (parsing, routes, intervals).

use super::*;

fn ok(body: &str) -> Answer {
    Answer {
        status: 200,
        body: body.to_string(),
    }
}

#[test]
fn parses_the_real_sys_leader_shape() {
    // OpenBao 2.7's recorded `sys/leader` answers
    let body = r#"{"ha_enabled":true,"is_self":true,"active_time":"2026-01-01T00:00:00Z","leader_address":"http://127.0.0.1:18200","leader_cluster_address":"https://127.0.0.1:18201","performance_standby":false,"performance_standby_last_remote_wal":0,"raft_committed_index":2040,"raft_applied_index":2040}"#;
    let r = reading(
        "prod-cluster-e8983038c519c718-0",
        Side::Blue,
        Ok(ok(body)),
        Timestamp::UNIX_EPOCH,
    );
    assert!(r.reachable && r.is_leader);
    assert_eq!((r.committed, r.applied), (Some(2040), Some(2040)));
}

#[test]
fn polling_slows_down_only_after_quiet_rounds() {
    let at = Timestamp::UNIX_EPOCH;
    let a = vec![reading(
        "p",
        Side::Blue,
        Ok(ok(r#"{"raft_committed_index":5,"raft_applied_index":5}"#)),
        at,
    )];
    let b = vec![reading(
        "p",
        Side::Blue,
        Ok(ok(r#"{"raft_committed_index":6,"raft_applied_index":6}"#)),
        at,
    )];
    assert!(moved(&a, &b) && !moved(&a, &a) && moved(&[], &a));
    assert_eq!(next_interval(0), FAST_INTERVAL);
    assert_eq!(next_interval(QUIET_ROUNDS), QUIET_INTERVAL);
}

#[test]
fn a_failed_read_is_unreachable_with_the_reason() {
    let r = reading(
        "p",
        Side::Green,
        Err("no answer within 2s".into()),
        Timestamp::UNIX_EPOCH,
    );
    assert!(!r.reachable);
    assert_eq!(r.error.as_deref(), Some("no answer within 2s"));
    let r = reading("p", Side::Green, Ok(ok("<html>")), Timestamp::UNIX_EPOCH);
    assert!(!r.reachable);
}

#[test]
fn a_sealed_node_is_sealed_not_just_unreachable() {
    // OpenBao 2.7's recorded `sys/leader` answers
    let sealed = Answer {
        status: 503,
        body: "{\n  \"errors\": [\n    \"Vault is sealed\"\n  ]\n}\n".into(),
    };
    let r = reading("p", Side::Blue, Ok(sealed), Timestamp::UNIX_EPOCH);
    assert!(r.sealed && !r.reachable, "{r:?}");
    assert_eq!(
        crate::domain::raft::role(&r, &Membership::NeedsToken),
        "sealed"
    );
    // The API server's own 503 (nothing listens) is unreachable, not sealed.
    let refused = Answer {
        status: 503,
        body: r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"error trying to reach service: dial tcp p:8200: connect: connection refused","code":503}"#.into(),
    };
    let r = reading("p", Side::Blue, Ok(refused), Timestamp::UNIX_EPOCH);
    assert!(!r.sealed && !r.reachable);
    assert!(r.error.is_some_and(|e| e.contains("connection refused")));
}

fn sample(name: &str) -> String {
    crate::app::fixtures::openbao_sample(name)
}

#[test]
fn membership_from_the_real_answers() {
    let m = membership(
        "blue-0",
        Ok(ok(&sample("raft-configuration.200.json"))),
        Ok(ok(&sample("raft-autopilot-state.200.json"))),
    );
    let known = m.known().expect("known");
    assert_eq!(known.failure_tolerance, Some(1));
    assert_eq!(known.healthy, Some(true));
    assert_eq!(
        crate::domain::raft_members::voters(&m),
        Some(vec!["blue-0", "blue-2", "blue-1"])
    );
    let b1 = m
        .member("blue-1")
        .and_then(|s| s.health.clone())
        .expect("health");
    assert_eq!(
        (b1.status.as_str(), b1.last_index, b1.last_term),
        ("voter", 33, 3)
    );
    assert_eq!(b1.last_contact_ms, Some(1814));
    assert!(m.member("blue-0").is_some_and(|s| s.leader));
    // Autopilot not available (404): the configuration still counts.
    let no_autopilot = Answer {
        status: 404,
        body: r#"{"errors":[]}"#.into(),
    };
    let m = membership(
        "blue-0",
        Ok(ok(&sample("raft-configuration.200.json"))),
        Ok(no_autopilot),
    );
    assert_eq!(crate::domain::raft_members::failure_tolerance(&m), None);
    assert!(m.known().is_some());
}

#[test]
fn the_membership_is_asked_of_the_leader_first() {
    let at = Timestamp::UNIX_EPOCH;
    let leader = r#"{"is_self":true,"raft_committed_index":5,"raft_applied_index":5}"#;
    let standby = r#"{"is_self":false,"raft_committed_index":5,"raft_applied_index":5}"#;
    let rs = vec![
        reading("b0", Side::Blue, Err("refused".into()), at),
        reading("b1", Side::Blue, Ok(ok(standby)), at),
        reading("g0", Side::Green, Ok(ok(leader)), at),
        reading("g1", Side::Green, Ok(ok(standby)), at),
        reading("g2", Side::Green, Ok(ok(standby)), at),
    ];
    assert_eq!(membership_candidates(&rs), vec!["g0", "b1", "g1"]);
}

#[test]
fn a_refused_token_is_rejected_and_rbac_is_not() {
    let denied = || Answer {
        status: 403,
        body: r#"{"errors":["permission denied"]}"#.into(),
    };
    assert_eq!(
        membership("p", Ok(denied()), Ok(denied())),
        Membership::Rejected
    );
    let rbac = Answer {
        status: 403,
        body: r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"p\" is forbidden: User \"viewer\" cannot get resource \"pods/proxy\"","reason":"Forbidden","code":403}"#.into(),
    };
    let m = membership("p", Ok(rbac), Ok(denied()));
    assert!(
        matches!(&m, Membership::Unavailable(e) if e.contains("pods/proxy")),
        "{m:?}"
    );
    assert!(matches!(
        membership("p", Err("no answer within 2s".into()), Err("x".into())),
        Membership::Unavailable(_)
    ));
}
