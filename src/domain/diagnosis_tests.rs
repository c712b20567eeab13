//! Diagnosis tables: the three demo scenarios (transient, persistent, green crash-looping)
//! and the edge cases (stale data, break glass over, RBAC denied, Blue far behind).

use super::*;
use crate::app::fixtures;
use crate::domain::Incident;

fn incident() -> Incident {
    let mut i = Incident {
        namespace: "security".into(),
        cluster_name: "prod-cluster".into(),
        cluster: Some(fixtures::cluster()),
        pods: fixtures::pods(),
        ..Incident::default()
    };
    i.set_jobs(fixtures::jobs());
    i
}

fn ev(rule: &str, attempt: i32) -> Evidence {
    Evidence {
        rule_id: rule.into(),
        level: Level::Error,
        path_hint: None,
        line: format!("upgrade-executor error: {rule}"),
        attempt: Some(attempt),
        count: 1,
    }
}

/// The fixture is an incident of the 0.1 line: its truth is applied as the console does.
fn run(i: &Incident, evidence: &[Evidence], freshness: Freshness, denied: &[Denied]) -> Diagnosis {
    let mut d = diagnose(&Inputs {
        incident: i,
        evidence,
        freshness,
        denied,
    });
    crate::domain::path_truth::apply_line(&mut d, i, crate::domain::generation::Line::V01);
    d
}

#[test]
fn scenario_table() {
    let transient = incident();
    let mut crashloop = incident();
    crashloop.pods = fixtures::crashlooping_green();
    // name, incident, evidence, recommended, summary contains, retry warns "fails again"
    type Case<'a> = (
        &'a str,
        &'a Incident,
        Vec<Evidence>,
        Option<PathKind>,
        &'a str,
        bool,
    );
    let cases: Vec<Case> = vec![
        // name, incident, evidence, recommended, summary contains, retry warns "fails again"
        (
            "transient",
            &transient,
            vec![ev("context-deadline", 0)],
            Some(PathKind::Retry),
            "transient",
            false,
        ),
        (
            "persistent",
            &transient,
            vec![ev("permission-denied", 0), ev("permission-denied", 1)],
            Some(PathKind::Retry),
            "in 2 attempt(s): not transient",
            true,
        ),
        (
            "green-crashloop",
            &crashloop,
            vec![],
            Some(PathKind::Retry),
            "abort",
            false,
        ),
        (
            "no evidence",
            &transient,
            vec![],
            Some(PathKind::Retry),
            "no known cause",
            false,
        ),
    ];
    for (name, i, evidence, rec, summary, fails_again) in cases {
        let d = run(i, &evidence, Freshness::default(), &[]);
        assert_eq!(d.recommended, rec, "{name}");
        assert!(d.summary.contains(summary), "{name}: {}", d.summary);
        let retry = d.verdict(PathKind::Retry).unwrap();
        assert!(retry.available(), "{name}: {:?}", retry.why_not);
        assert_eq!(
            retry.warnings.iter().any(|w| w.contains("fails again")),
            fails_again,
            "{name}: {:?}",
            retry.warnings
        );
    }
}

#[test]
fn crashlooping_green_warns_of_abort_and_asks_to_revert_first() {
    let mut i = incident();
    i.pods = fixtures::crashlooping_green();
    let d = run(&i, &[], Freshness::default(), &[]);
    let retry = d.verdict(PathKind::Retry).unwrap();
    assert!(retry.warnings.iter().any(|w| w.contains("ABORTS")));
    assert!(
        d.before.iter().any(|b| b.contains("2.4.3")),
        "{:?}",
        d.before
    );
    assert!(
        d.findings
            .iter()
            .any(|f| matches!(f.source, Source::Pod(_)) && f.text.contains("CrashLoopBackOff"))
    );
}

#[test]
fn one_non_transient_attempt_is_already_not_transient_and_points_at_the_line() {
    let d = run(
        &incident(),
        &[ev("no-leader", 0)],
        Freshness::default(),
        &[],
    );
    assert!(d.summary.contains("`no-leader` in 1 attempt(s)"));
    let f = d
        .findings
        .iter()
        .find(|f| f.text.contains("no-leader"))
        .unwrap();
    assert_eq!(
        f.source,
        Source::LogLine {
            attempt: Some(0),
            line: "upgrade-executor error: no-leader".into()
        }
    );
}

#[test]
fn stale_or_missing_data_disables_every_path() {
    let i = incident();
    let stale = [
        Freshness {
            cluster_stale: true,
            ..Freshness::default()
        },
        Freshness {
            pods_stale: true,
            ..Freshness::default()
        },
        Freshness {
            unparseable: true,
            ..Freshness::default()
        },
    ];
    for f in stale {
        let d = run(&i, &[], f, &[]);
        assert_eq!(d.recommended, None, "{f:?}");
        assert!(d.paths.iter().all(|p| !p.available()), "{f:?}");
    }
    let empty = Incident::default();
    let d = run(&empty, &[], Freshness::default(), &[]);
    assert_eq!(d.recommended, None);
    assert!(d.summary.contains("no cluster data"));
}

#[test]
fn break_glass_over_means_nothing_to_decide() {
    let mut i = incident();
    if let Some(bg) = i.cluster.as_mut().and_then(|c| c.break_glass.as_mut()) {
        bg.active = false;
    }
    let d = run(&i, &[], Freshness::default(), &[]);
    assert_eq!(d.recommended, None);
    assert!(
        d.verdict(PathKind::Retry)
            .unwrap()
            .why_not
            .iter()
            .any(|w| w.contains("not active"))
    );
}

#[test]
fn a_denied_permission_disables_only_its_path() {
    let denied = [Denied {
        path: PathKind::Restore,
        permission: "create openbaorestores.openbao.org".into(),
    }];
    let d = run(&incident(), &[], Freshness::default(), &denied);
    assert!(d.verdict(PathKind::Retry).unwrap().available());
    let restore = d.verdict(PathKind::Restore).unwrap();
    assert_eq!(
        restore.why_not,
        ["missing permission: create openbaorestores.openbao.org"]
    );
}

#[test]
fn blue_far_behind_is_said_with_the_index() {
    let mut i = incident();
    i.raft = fixtures::raft();
    let behind = raft::blue_behind_green(&i.raft).unwrap();
    let d = run(&i, &[], Freshness::default(), &[]);
    let f = d.findings.iter().find(|f| f.text.contains("behind"));
    if behind > SYNC_THRESHOLD {
        let f = f.unwrap();
        assert!(matches!(f.source, Source::RaftIndex { .. }), "{f:?}");
        // One Raft cluster: lag, never lost writes; the threshold is the forward path's.
        assert!(!f.text.contains("loses"), "{f:?}");
        assert!(
            f.text.contains("no index check") && f.text.contains("Syncing"),
            "{f:?}"
        );
    } else {
        assert!(f.is_none());
    }
    // Stale Raft readings are not evidence.
    let d = run(
        &i,
        &[],
        Freshness {
            raft_stale: true,
            ..Freshness::default()
        },
        &[],
    );
    assert!(!d.findings.iter().any(|f| f.text.contains("behind")));
}

#[test]
fn fix_forward_tells_it_is_a_retry_and_names_greens_version_source() {
    let d = run(&incident(), &[], Freshness::default(), &[]);
    let ff = d.verdict(PathKind::FixForward).unwrap();
    assert!(ff.available());
    assert!(
        ff.warnings
            .iter()
            .any(|w| w.contains("already is Green's 2.4.4") && w.contains("pod prod-cluster-"))
    );
    assert!(
        ff.warnings
            .iter()
            .any(|w| w.contains("WITHOUT Raft repair"))
    );
    // Without Green pods the version still comes from spec.version during a rollback.
    let mut i = incident();
    i.pods.clear();
    assert_eq!(
        green_version(&i),
        Some(("2.4.4".into(), Source::Field("spec.version".into())))
    );
}

#[test]
fn quorum_impact_is_named_for_fix_forward_and_an_abort() {
    use crate::domain::raft_members::{Member, RaftMembers};
    use crate::domain::{Membership, Side};
    let mut i = incident();
    i.pods = fixtures::crashlooping_green();
    i.raft = fixtures::raft();
    // Mid-rollback: Green still holds the voters.
    let servers = i
        .raft
        .iter()
        .map(|r| Member {
            node_id: r.pod.clone(),
            voter: r.side == Side::Green,
            leader: false,
            health: None,
        })
        .collect();
    i.raft_members = Membership::Known(RaftMembers {
        servers,
        failure_tolerance: Some(1),
        healthy: Some(true),
        read_from: "x".into(),
    });
    let d = run(&i, &[], Freshness::default(), &[]);
    let fix = d.verdict(PathKind::FixForward).unwrap();
    assert!(
        fix.warnings.iter().any(|w| w.contains("green pods gone")
            && w.contains("NO QUORUM")
            && w.contains("tolerates 1 failure")),
        "{:#?}",
        fix.warnings
    );
    let retry = d.verdict(PathKind::Retry).unwrap();
    assert!(
        retry.warnings.iter().any(|w| w.contains("green pods gone")),
        "crash-looping Green: the abort deletes Green: {:#?}",
        retry.warnings
    );
    assert!(
        retry
            .warnings
            .iter()
            .any(|w| w.contains("Blue peers (0.1 line)") && w.contains("0 voters"))
    );
}

/// The 0.6 line's fatal causes are as persistent as their 0.1 counterparts, and every id
/// the diagnosis counts on is a built-in rule.
#[test]
fn the_06_causes_are_not_transient() {
    for rule in [
        "client-authenticate-failed",
        "repair-refused-no-blue-quorum",
        "leader-search-both-failed",
        "leader-fallback-after-both-failed",
    ] {
        let d = run(
            &incident(),
            &[ev(rule, 0), ev(rule, 1)],
            Freshness::default(),
            &[],
        );
        assert!(
            d.summary.contains("in 2 attempt(s): not transient"),
            "{rule}: {}",
            d.summary
        );
    }
    let builtin = crate::patterns::RuleSet::builtin();
    for rule in NOT_TRANSIENT_RULES.iter().chain(TRANSIENT_RULES.iter()) {
        assert!(builtin.rules().iter().any(|r| r.id == *rule), "{rule}");
    }
}

/// Failed attempts are this operation's rollback Jobs, both steps, the Job break glass
/// names as the source; a previous operation's failed Job is not counted.
#[test]
fn failed_attempts_count_this_operations_repair_and_cleanup_jobs() {
    use crate::domain::{JobState, JobView};
    let op = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";
    let named = "upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368";
    let mut i = incident();
    if let Some(c) = i.cluster.as_mut() {
        if let Some(b) = c.break_glass.as_mut() {
            b.reason = Some("RollbackCleanupPeerRemovalFailed".into());
            b.message = Some(format!(
                "Rollback cleanup peer-removal Job {named} failed; manual intervention required"
            ));
        }
        if let Some(bg) = c.blue_green.as_mut() {
            bg.phase = Some("RollbackCleanup".into());
            bg.operation_id = Some(op.into());
            bg.rollback_attempt = 0;
        }
    }
    let job = |name: &str, action: &str, run: String, state| JobView {
        name: name.into(),
        action: Some(action.into()),
        run_id: Some(run),
        state,
        created: None,
    };
    i.set_jobs(vec![
        job(
            "old",
            "bluegreen-repair-consensus",
            "bg-v2-old/rollback".into(),
            JobState::Failed,
        ),
        job(
            "r0",
            "bluegreen-repair-consensus",
            format!("{op}/rollback"),
            JobState::Succeeded,
        ),
        job(
            named,
            "bluegreen-remove-green-peers",
            format!("{op}/rollback"),
            JobState::Failed,
        ),
    ]);
    let d = run(&i, &[], Freshness::default(), &[]);
    let f = d
        .findings
        .iter()
        .find(|f| f.text.contains("attempt(s) failed"))
        .unwrap();
    assert_eq!(f.text, "0 repair and 1 cleanup attempt(s) failed");
    assert_eq!(f.source, Source::Job(named.into()));
}
