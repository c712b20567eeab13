//! Tests of `twin_cluster`.

use super::*;
use crate::domain::ClusterView;
use crate::sim::scenario::Scenario;

fn topo() -> Topology {
    Topology::of(&Scenario::named("transient").unwrap())
}

fn seeded() -> Value {
    let t: Timestamp = "2026-11-23T19:00:00Z".parse().unwrap();
    let mut o = cluster_object(
        &topo(),
        &ClusterSeed {
            nonce: "0123456789abcdef0123456789abcdef".into(),
            upgrade_start: t,
            rollback_start: t,
            entered_at: t,
            snapshot_job: "snap".into(),
            last_job_failure: "demote".into(),
            failed_job: topo().repair_job(0),
            failed_step: FailedStep::Repair,
            active_leader: None,
        },
    );
    o["metadata"]["generation"] = json!(1);
    o
}

fn now() -> Timestamp {
    "2026-11-23T19:10:00Z".parse().unwrap()
}

#[test]
fn the_seeded_cluster_parses_as_the_console_reads_it() {
    let c = ClusterView::from_json(&seeded()).unwrap();
    assert!(c.break_glass_active());
    assert_eq!(c.failed_job_from_message().unwrap(), topo().repair_job(0));
    let bg = c.blue_green.clone().unwrap();
    assert_eq!(bg.phase.as_deref(), Some("RollingBack"));
    assert_eq!(bg.job_failure_count, 5);
    let b = c.break_glass.clone().unwrap();
    assert_eq!(b.steps.len(), 5);
    assert!(
        b.steps[4]
            .ends_with(r#"-p '{"spec":{"breakGlassAck":"0123456789abcdef0123456789abcdef"}}'"#)
    );
    assert_eq!(
        c.condition("Degraded").unwrap().reason.as_deref(),
        Some("BreakGlassRequired")
    );
}

#[test]
fn only_the_exact_nonce_acknowledges() {
    let mut o = seeded();
    assert_eq!(decide_ack(&o), AckDecision::Hold);
    o["spec"]["breakGlassAck"] = json!("0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(decide_ack(&o), AckDecision::Hold);
    let before = o.clone();
    apply_ack(&mut o, now());
    assert_eq!(o, before, "a wrong ack changes nothing");
    o["spec"]["breakGlassAck"] = json!("0123456789abcdef0123456789abcdef");
    assert_eq!(
        decide_ack(&o),
        AckDecision::Acknowledge {
            next_attempt: Some(1)
        }
    );
    apply_ack(&mut o, now());
    let bg = &o["status"]["blueGreen"];
    assert_eq!(bg["rollbackAttempt"], 1);
    assert_eq!(bg["jobFailureCount"], 0);
    assert_eq!(bg["lastJobFailure"], "");
    assert_eq!(o["status"]["breakGlass"]["active"], false);
    assert_eq!(
        o["status"]["breakGlass"]["acknowledgedAt"],
        "2026-11-23T19:10:00Z"
    );
    assert_eq!(decide_ack(&o), AckDecision::NotActive);
}

#[test]
fn a_new_break_glass_replaces_the_old_one() {
    let mut o = seeded();
    o["spec"]["breakGlassAck"] = json!("0123456789abcdef0123456789abcdef");
    apply_ack(&mut o, now());
    let job = topo().repair_job(1);
    enter_break_glass(
        &mut o,
        &topo(),
        FailedStep::Repair,
        &job,
        "ffffffffffffffffffffffffffffffff",
        now(),
    );
    let b = &o["status"]["breakGlass"];
    assert_eq!(b["active"], true);
    assert!(b.get("acknowledgedAt").is_none());
    assert_eq!(b["message"], break_glass_message(FailedStep::Repair, &job));
    let c = ClusterView::from_json(&o).unwrap();
    assert_eq!(c.condition("Degraded").unwrap().status, "True");
    assert_eq!(
        decide_ack(&o),
        AckDecision::Hold,
        "the stale ack no longer matches"
    );
}

#[test]
fn idle_clears_green_and_releases_the_lock() {
    let mut o = seeded();
    begin_rollback_cleanup(&mut o, "prod-cluster-e8983038c519c718-0", now());
    assert_eq!(o["status"]["blueGreen"]["phase"], "RollbackCleanup");
    finish_idle(&mut o, Some("prod-cluster-e8983038c519c718-0"), now());
    let c = ClusterView::from_json(&o).unwrap();
    let bg = c.blue_green.as_ref().unwrap();
    assert_eq!(bg.phase.as_deref(), Some("Idle"));
    assert_eq!(bg.green_revision, None);
    assert_eq!(c.condition("Upgrading").unwrap().status, "False");
    assert_eq!(c.current_version.as_deref(), Some("2.4.3"));
    assert!(o["status"].get("operationLock").is_none());
}

#[test]
fn what_keeps_the_operator_from_acting() {
    let mut o = seeded();
    assert!(!adminops_paused(&o));
    o["spec"]["paused"] = json!(true);
    assert!(adminops_paused(&o));
    assert!(!no_upgrade_needed(&o));
    o["spec"]["version"] = json!("2.4.3");
    assert!(no_upgrade_needed(&o));
    assert_eq!(rolling_back_pending(&o), None, "break glass still active");
    o["status"]["breakGlass"]["active"] = json!(false);
    assert_eq!(rolling_back_pending(&o), Some(0));
    let up = json!({"spec": {"replicas": 1}, "status": {"availableReplicas": 1}});
    let down = json!({"spec": {"replicas": 0}, "status": {"availableReplicas": 1}});
    let starting = json!({"spec": {"replicas": 1}, "status": {"availableReplicas": 0}});
    assert!(operator_available(Some(&up)));
    assert!(!operator_available(Some(&down)));
    assert!(!operator_available(Some(&starting)));
    assert!(!operator_available(None));
}

#[test]
fn nonces_are_32_lowercase_hex() {
    let n = new_nonce();
    assert_eq!(n.len(), 32);
    assert!(
        n.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_ne!(n, new_nonce());
}

#[test]
fn green_failure_detection() {
    let green = |waiting: &str| {
        json!({"metadata": {"labels": {"openbao.org/revision": "g"}},
        "status": {"containerStatuses": [{"state": {"waiting": {"reason": waiting}}}]}})
    };
    assert!(green_failing(&[green("CrashLoopBackOff")], "g"));
    assert!(!green_failing(&[green("ContainerCreating")], "g"));
    assert!(!green_failing(&[green("CrashLoopBackOff")], "other"));
}

/// Each line's seeded cluster is exactly what its CRD accepts: nothing pruned, valid.
#[test]
fn the_seeded_cluster_fits_each_lines_crd() {
    use crate::sim::operator_line::OperatorLine;
    use crate::sim::schema::for_resource;
    use crate::sim::store::Resource;
    for (line, name, step) in [
        (OperatorLine::V01, "transient", FailedStep::Repair),
        (OperatorLine::V06, "transient", FailedStep::Repair),
        (OperatorLine::V06, "cleanup-failed", FailedStep::Cleanup),
    ] {
        let s = Scenario::named(name).unwrap().with_operator(line).unwrap();
        let topo = Topology::of(&s);
        let t: Timestamp = "2026-11-23T19:00:00Z".parse().unwrap();
        let mut o = cluster_object(
            &topo,
            &ClusterSeed {
                nonce: "0123456789abcdef0123456789abcdef".into(),
                upgrade_start: t,
                rollback_start: t,
                entered_at: t,
                snapshot_job: "snap".into(),
                last_job_failure: "demote".into(),
                failed_job: "job".into(),
                failed_step: step,
                active_leader: None,
            },
        );
        let schema = for_resource(line, Resource::OpenBaoClusters).unwrap();
        assert_eq!(
            schema.default_and_prune(&mut o),
            Vec::<String>::new(),
            "{line}"
        );
        assert!(
            schema.validate(&o).is_empty(),
            "{line}: {:?}",
            schema.validate(&o)
        );
        let c = ClusterView::from_json(&o).unwrap();
        assert_eq!(
            c.break_glass.unwrap().reason.as_deref(),
            Some(break_glass_reason(step))
        );
        if line.is_06() {
            assert_eq!(
                o["status"]["blueGreen"]["operationID"],
                json!(topo.operation_id)
            );
        }
    }
}
