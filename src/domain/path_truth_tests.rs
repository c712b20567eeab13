//! The per-line truth as a table: operator line × phase × reason (× crash-looping Green) →
//! which warnings each path gets, which it must not get, and what is unavailable.

use super::*;
use crate::app::fixtures;
use crate::domain::diagnosis::{self, Freshness, Inputs};

const OP: &str = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";

fn incident(phase: &str, reason: &str, crashloop: bool) -> Incident {
    let mut c = fixtures::cluster();
    if let Some(g) = c.blue_green.as_mut() {
        g.phase = Some(phase.into());
        g.operation_id = Some(OP.into());
        g.rollback_attempt = 1;
    }
    if let Some(b) = c.break_glass.as_mut() {
        b.reason = Some(reason.into());
    }
    let mut i = Incident {
        namespace: "security".into(),
        cluster_name: "prod-cluster".into(),
        cluster: Some(c),
        pods: if crashloop {
            fixtures::crashlooping_green()
        } else {
            fixtures::pods()
        },
        ..Incident::default()
    };
    i.set_jobs(fixtures::jobs());
    i
}

fn diagnose(i: &Incident, line: Line) -> Diagnosis {
    let mut d = diagnosis::diagnose(&Inputs {
        incident: i,
        evidence: &[],
        freshness: Freshness::default(),
        denied: &[],
    });
    apply_line(&mut d, i, line);
    d
}

const REPAIR: &str = REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED;
const CLEANUP: &str = REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED;

#[test]
fn line_phase_reason_table() {
    let green_sts = format!("prod-cluster-{}", fixtures::GREEN);
    type Case<'a> = (
        Line,
        &'a str,
        &'a str,
        bool,
        PathKind,
        &'a [&'a str],
        &'a [&'a str],
    );
    // line, phase, reason, crash-looping Green, path, warnings that must be there (one
    // substring each), substrings no warning may contain.
    let cases: Vec<Case> = vec![
        (
            Line::V01,
            "RollingBack",
            REPAIR,
            false,
            PathKind::Retry,
            &[
                "reruns the consensus repair",
                "rollback-retry-2",
                "BLUE peers",
            ],
            &["PVCs", "does not abort"],
        ),
        (
            Line::V01,
            "RollingBack",
            REPAIR,
            true,
            PathKind::Retry,
            &["ABORTS", "failure tolerance"],
            &["does not abort"],
        ),
        (
            Line::V06,
            "RollingBack",
            REPAIR,
            false,
            PathKind::Retry,
            &[
                "bluegreen-repair-consensus Job, run ID bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60/rollback-retry-2",
                "deletes Green's StatefulSet",
                "data-prod-cluster-",
            ],
            &["BLUE peers", "ABORT"],
        ),
        (
            Line::V06,
            "RollbackCleanup",
            CLEANUP,
            true,
            PathKind::Retry,
            &[
                "bluegreen-remove-green-peers Job",
                "consensus repair is not rerun",
                "does not abort",
            ],
            &["BLUE peers", "ABORTS"],
        ),
        (
            Line::V06,
            "RollingBack",
            CLEANUP,
            false,
            PathKind::Retry,
            &["does not match phase RollingBack", "NEW nonce"],
            &[],
        ),
        (
            Line::Unknown,
            "RollingBack",
            REPAIR,
            true,
            PathKind::Retry,
            &["operator line unknown"],
            &["ABORTS instead", "deletes Green's StatefulSet"],
        ),
        (
            Line::V01,
            "RollingBack",
            REPAIR,
            false,
            PathKind::FixForward,
            &["WITHOUT Raft repair"],
            &["DowngradeBlocked"],
        ),
        (
            Line::V06,
            "RollingBack",
            REPAIR,
            false,
            PathKind::FixForward,
            &["DowngradeBlocked", "do not lower spec.version"],
            &["WITHOUT Raft repair"],
        ),
        (
            Line::V01,
            "RollingBack",
            REPAIR,
            false,
            PathKind::Restore,
            &["failed to find leader"],
            &["openbao-operator-restore"],
        ),
        (
            Line::V06,
            "RollingBack",
            REPAIR,
            false,
            PathKind::Restore,
            &[
                "Blue's StatefulSet prod-cluster-e8983038c519c718",
                "openbao-operator-restore",
                "do not acknowledge",
            ],
            &["failed to find leader"],
        ),
        (
            Line::V06,
            "RollingBack",
            REPAIR,
            false,
            PathKind::PauseRepair,
            &[
                "its backups included",
                "resume patch carries the acknowledgement",
            ],
            &[],
        ),
    ];
    for (line, phase, reason, crash, path, want, never) in cases {
        let i = incident(phase, reason, crash);
        let d = diagnose(&i, line);
        let v = d.verdict(path).unwrap();
        let name = format!("{line:?} {phase} {reason} crash={crash} {path:?}");
        for w in want {
            assert!(
                v.warnings.iter().any(|x| x.contains(w)),
                "{name}: missing {w:?} in {:#?}",
                v.warnings
            );
        }
        for n in never {
            assert!(
                !v.warnings.iter().any(|x| x.contains(n)),
                "{name}: must not say {n:?}: {:#?}",
                v.warnings
            );
        }
        if line == Line::V06 && path == PathKind::Retry && phase == "RollingBack" {
            assert!(v.warnings.iter().any(|x| x.contains(&green_sts)), "{name}");
        }
    }
}

#[test]
fn pause_and_repair_is_offered_only_on_the_06_line() {
    let i = incident("RollingBack", REPAIR, false);
    for (line, available) in [
        (Line::V06, true),
        (Line::V01, false),
        (Line::V02To050, false),
        (Line::Unknown, false),
    ] {
        let d = diagnose(&i, line);
        let v = d.verdict(PathKind::PauseRepair).unwrap();
        assert_eq!(v.available(), available, "{line:?}: {:?}", v.why_not);
    }
}

#[test]
fn a_crashlooping_green_gets_advice_the_console_can_carry_out() {
    let i = incident("RollingBack", REPAIR, true);
    let d = diagnose(&i, Line::V01);
    assert!(d.summary.contains("abort"), "{}", d.summary);
    // The revert is refused while break glass is active: it may only come after the ack.
    let revert = d.before.iter().find(|b| b.contains("2.4.3")).unwrap();
    assert!(revert.starts_with("after the acknowledgement"), "{revert}");
    let d = diagnose(&i, Line::V06);
    assert!(!d.summary.contains("abort"), "{}", d.summary);
    assert!(d.findings.iter().any(|f| f.text.contains("does not abort")));
}

#[test]
fn force_rollback_leftovers_and_the_cleanup_alert_by_line() {
    let mut i = incident("RollbackCleanup", REPAIR, false);
    if let Some(c) = i.cluster.as_mut() {
        c.controls.force_rollback = Some("true".into());
    }
    let v01 = notes(&i, Line::V01);
    assert!(
        v01.iter()
            .any(|(loud, t)| *loud && t.contains("NEXT upgrade")),
        "{v01:?}"
    );
    assert!(
        v01.iter()
            .any(|(loud, t)| *loud && t.contains("ROLLBACK CLEANUP RUNNING")),
        "{v01:?}"
    );
    let v06 = notes(&i, Line::V06);
    assert!(v06.iter().all(|(loud, _)| !loud), "{v06:?}");
    assert!(
        v06.iter()
            .any(|(_, t)| t.contains("does nothing on this line"))
    );
    assert!(
        v06.iter()
            .any(|(_, t)| t.contains("spec.upgrade.requests.rollback")),
        "{v06:?}"
    );
    assert!(!v06.iter().any(|(_, t)| t.contains("CLEANUP RUNNING")));
}

#[test]
fn the_rollback_request_note_follows_the_phase() {
    let mut i = incident("Cleanup", REPAIR, false);
    if let Some(b) = i.cluster.as_mut().and_then(|c| c.break_glass.as_mut()) {
        b.active = false;
    }
    let phase_note = |i: &Incident| {
        notes(i, Line::V06)
            .into_iter()
            .find(|(_, t)| t.contains("requests.rollback"))
            .map(|(_, t)| t)
            .unwrap()
    };
    assert!(phase_note(&i).contains("refused"), "{}", phase_note(&i));
    if let Some(g) = i.cluster.as_mut().and_then(|c| c.blue_green.as_mut()) {
        g.phase = Some("RollbackCleanup".into());
    }
    assert!(phase_note(&i).contains("ignored"));
    if let Some(g) = i.cluster.as_mut().and_then(|c| c.blue_green.as_mut()) {
        g.phase = Some("Promoting".into());
    }
    assert!(phase_note(&i).contains("a rollback from this phase"));
    let active = incident("RollingBack", REPAIR, false);
    assert!(phase_note(&active).contains("not processed while break glass"));
}

#[test]
fn a_restore_hold_disables_every_acknowledgement() {
    let mut i = incident("RollingBack", REPAIR, false);
    if let Some(c) = i.cluster.as_mut() {
        c.controls.restore_hold = Some("uid-1".into());
    }
    let d = diagnose(&i, Line::V06);
    for p in [PathKind::Retry, PathKind::FixForward, PathKind::PauseRepair] {
        let v = d.verdict(p).unwrap();
        assert!(
            v.why_not.iter().any(|w| w.contains("restore-hold")),
            "{p:?}: {:?}",
            v.why_not
        );
    }
    assert!(d.verdict(PathKind::Restore).unwrap().available());
}
