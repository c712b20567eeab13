//! `breakglass status`: one snapshot of what the console would show, as text or JSON.
//!
//! The JSON shape is documented in the README and kept stable: fields are only added.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::domain::raft::{self, SYNC_THRESHOLD, blue_behind_green, lag};
use crate::domain::raft_history::{RaftHistory, RaftSignals, STALL_ROUNDS};
use crate::domain::raft_members::{failure_tolerance, voters};
use crate::domain::{Incident, Side};
use crate::exit::Exit;

/// What the 100-entry threshold is (and is not): shown wherever the number is.
pub(crate) const SYNC_THRESHOLD_NOTE: &str = "forward path only: Syncing waits for Green to be this close before promotion; Blue and Green are one Raft cluster (lag, not divergence) and the rollback makes no index check";

/// The exit status of `status` (also in `--help`): break glass active or not.
pub fn exit_code(incident: &Incident) -> Exit {
    if incident
        .cluster
        .as_ref()
        .is_some_and(|c| c.break_glass_active())
    {
        Exit::BreakGlassActive
    } else {
        Exit::Ok
    }
}

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(t.to_string()))
}

pub(crate) fn to_json(incident: &Incident, now: Timestamp) -> Value {
    let cluster = incident.cluster.as_ref().map(|c| {
        json!({
            "name": c.name,
            "namespace": c.namespace,
            "resourceVersion": c.resource_version,
            "phase": c.phase,
            "specVersion": c.spec_version,
            "currentVersion": c.current_version,
            "breakGlassAck": c.break_glass_ack,
            "conditions": c.conditions.iter().map(|k| json!({
                "type": k.type_, "status": k.status, "reason": k.reason, "message": k.message,
            })).collect::<Vec<_>>(),
            "breakGlass": c.break_glass.as_ref().map(|b| json!({
                "active": b.active, "reason": b.reason, "message": b.message, "nonce": b.nonce,
                "enteredAt": ts(b.entered_at), "acknowledgedAt": ts(b.acknowledged_at), "steps": b.steps,
            })),
            "blueGreen": c.blue_green.as_ref().map(|g| json!({
                "phase": g.phase, "blueRevision": g.blue_revision, "greenRevision": g.green_revision,
                "rollbackAttempt": g.rollback_attempt, "rollbackReason": g.rollback_reason,
                "jobFailureCount": g.job_failure_count, "lastJobFailure": g.last_job_failure,
                "operationID": g.operation_id,
            })),
        })
    });
    let nodes: Vec<Value> = incident
        .raft
        .iter()
        .map(|r| {
            let members = &incident.raft_members;
            let role = raft::role(r, members);
            // Token-gated: null without a (working) token.
            let member = members.member(&r.pod);
            let health = member.and_then(|m| m.health.as_ref());
            json!({
                "pod": r.pod, "revision": r.side.label(), "role": role,
                "committed": r.committed, "applied": r.applied, "lag": lag(r, &incident.raft),
                "reachable": r.reachable, "error": r.error,
                "age_ms": (now.as_millisecond() - r.at.as_millisecond()).max(0),
                "voter": member.map(|m| m.voter),
                "healthy": health.map(|h| h.healthy),
                "last_contact_ms": health.and_then(|h| h.last_contact_ms),
                "last_index": health.map(|h| h.last_index),
                "last_term": health.map(|h| h.last_term),
            })
        })
        .collect();
    json!({
        "namespace": incident.namespace,
        "clusterName": incident.cluster_name,
        "breakGlassActive": exit_code(incident) == Exit::BreakGlassActive,
        "cluster": cluster,
        "pods": incident.pods.iter().map(|p| json!({
            "name": p.name, "side": incident.side_of(p).label(), "revision": p.revision,
            "phase": p.phase, "ready": p.ready, "sealed": p.sealed, "active": p.active,
            "restarts": p.restarts, "waitingReason": p.waiting_reason,
        })).collect::<Vec<_>>(),
        "repairJobs": incident.jobs.iter().map(|j| json!({
            "name": j.name, "runId": j.run_id, "attempt": j.attempt(), "state": j.state.label(),
            "created": ts(j.created),
        })).collect::<Vec<_>>(),
        // The current operation's rollback Jobs (repair and cleanup), found by meaning.
        "rollbackJobs": incident.rollback_jobs().iter().map(|r| json!({
            "name": r.job.name, "action": r.job.action, "runId": r.job.run_id,
            "attempt": r.attempt, "state": r.job.state.label(), "created": ts(r.job.created),
        })).collect::<Vec<_>>(),
        "raft": raft_json(incident, nodes),
        "operator": operator_json(incident),
        "rollbackCleanup": cleanup_json(incident),
    })
}

/// `rollbackCleanup` (reason or phase RollbackCleanup, else null): the Green peers still in
/// the Raft configuration (null with the reason when unknown) and what a successful retry
/// deletes.
fn cleanup_json(incident: &Incident) -> Value {
    let Some(cl) = incident.cleanup() else {
        return Value::Null;
    };
    let (peers, note) = match &cl.stale_green_peers {
        Ok(p) => (json!(p), "ok".to_string()),
        Err(why) => (Value::Null, why.clone()),
    };
    json!({
        "staleGreenPeers": peers, "membership": note,
        "retryDeletes": {"statefulSet": cl.statefulset, "pvcs": cl.pvcs},
    })
}

/// `operator`: the line detected and every signal behind it (README "Operator generations").
fn operator_json(incident: &Incident) -> Value {
    let g = incident.generation();
    json!({"generation": g.line.label(), "evidence": g.evidence})
}

/// `raft`: the nodes plus the computed signals. `status` takes one reading, so the apply
/// stall (which needs several) is `null` with its reason; what needs a token says so.
fn raft_json(incident: &Incident, nodes: Vec<Value>) -> Value {
    let members = &incident.raft_members;
    let signals = RaftSignals::compute(&incident.raft, members, &RaftHistory::default());
    let lag = signals.blue_behind_green;
    json!({
        "nodes": nodes,
        "endpoints": incident.raft.iter().find_map(|r| r.endpoints.clone()),
        // null: the pod proxy; else e.g. "via port-forward (pods/proxy forbidden)".
        "route": incident.raft_route,
        "blueBehindGreen": blue_behind_green(&incident.raft),
        "syncThreshold": SYNC_THRESHOLD,
        "syncThresholdNote": SYNC_THRESHOLD_NOTE,
        "blueTooFarBehind": lag.map(|_| signals.blue_too_far_behind()),
        "leaders": signals.leaders,
        "noLeader": signals.leaders.is_empty(),
        "multipleLeaders": signals.leaders.len() > 1,
        "applyStall": Value::Null,
        "applyStallNote": format!("needs {STALL_ROUNDS} readings; the console shows it"),
        "applyBehind": incident.raft.iter()
            .filter(|r| matches!((r.committed, r.applied), (Some(c), Some(a)) if a < c))
            .map(|r| json!({"pod": r.pod, "entries": r.committed.unwrap_or(0) - r.applied.unwrap_or(0)}))
            .collect::<Vec<_>>(),
        // The value, or why it is not known ("needs token", "token rejected (403)", …).
        "greenVoters": signals.green_voters.as_ref()
            .filter(|_| signals.members_note.is_none())
            .map_or_else(|| json!(signals.green_voters_label()), |v| json!(v)),
        "failureTolerance": signals.failure_tolerance
            .filter(|_| signals.members_note.is_none())
            .map_or_else(|| json!(signals.failure_tolerance_label()), |n| json!(n)),
        // The same, null when not known; `membership` says why.
        "membership": signals.members_note.clone().unwrap_or_else(|| "ok".into()),
        "failure_tolerance": failure_tolerance(members),
        "voters": voters(members),
        "green_voters": signals.green_voters,
        "autopilot_healthy": members.known().and_then(|m| m.healthy),
        "greenVotersDuringRollback": signals.green_voters_in_rollback(incident.cluster.as_ref()),
    })
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

pub(crate) fn to_text(incident: &Incident) -> String {
    let mut out = Vec::new();
    let Some(c) = &incident.cluster else {
        return format!(
            "OpenBaoCluster {}/{}: not found\n",
            incident.namespace, incident.cluster_name
        );
    };
    out.push(format!(
        "OpenBaoCluster {}/{}  phase {}  version {} (current {})",
        c.namespace,
        c.name,
        opt(c.phase.as_deref()),
        c.spec_version,
        opt(c.current_version.as_deref())
    ));
    match &c.break_glass {
        Some(b) if b.active => {
            out.push(format!(
                "BREAK GLASS ACTIVE  reason {}  nonce {}",
                opt(b.reason.as_deref()),
                opt(b.nonce.as_deref())
            ));
            out.push(format!("  {}", opt(b.message.as_deref())));
            for (i, s) in b.steps.iter().enumerate() {
                out.push(format!("  {}. {s}", i + 1));
            }
        }
        Some(b) => out.push(format!(
            "break glass inactive (acknowledged at {})",
            opt(b.acknowledged_at)
        )),
        None => out.push("no break glass".into()),
    }
    let generation = incident.generation();
    out.push(format!(
        "{}  ({})",
        generation.line.header(),
        generation.evidence.join("; ")
    ));
    if let Some(g) = &c.blue_green {
        out.push(format!(
            "blue/green {}  blue {}  green {}  rollback attempt {}",
            opt(g.phase.as_deref()),
            opt(g.blue_revision.as_deref()),
            opt(g.green_revision.as_deref()),
            g.rollback_attempt
        ));
    }
    for side in [Side::Blue, Side::Green, Side::Other] {
        for p in incident.pods_on(side) {
            out.push(format!(
                "  {:<5} {}  {}  ready={} sealed={} active={}{}",
                side.label(),
                p.name,
                p.phase,
                p.ready,
                opt(p.sealed),
                opt(p.active),
                p.waiting_reason
                    .as_ref()
                    .map(|w| format!("  {w}"))
                    .unwrap_or_default()
            ));
        }
    }
    for r in incident.rollback_jobs() {
        out.push(format!(
            "  {} job {}  run {}  {}{}",
            r.step.label(),
            r.job.name,
            opt(r.job.run_id.as_deref()),
            r.job.state.label(),
            if r.named_failed {
                "  (named by break glass)"
            } else {
                ""
            }
        ));
    }
    for r in &incident.raft {
        out.push(format!(
            "  raft {:<5} {}  committed {} applied {} lag {}{}",
            r.side.label(),
            r.pod,
            opt(r.committed),
            opt(r.applied),
            opt(lag(r, &incident.raft)),
            if r.reachable {
                String::new()
            } else {
                format!("  unreachable: {}", opt(r.error.as_deref()))
            }
        ));
    }
    if let Some(behind) = blue_behind_green(&incident.raft) {
        out.push(format!(
            "  raft Blue is {behind} entries behind Green (threshold {SYNC_THRESHOLD}: {SYNC_THRESHOLD_NOTE})"
        ));
    }
    if let Some(route) = &incident.raft_route {
        out.push(format!("  raft {route}"));
    }
    if !incident.raft.is_empty() {
        let members = &incident.raft_members;
        let signals = RaftSignals::compute(&incident.raft, members, &RaftHistory::default());
        let voters =
            voters(members).map_or_else(|| signals.failure_tolerance_label(), |v| v.join(" "));
        out.push(format!(
            "  raft voters: {voters}  green voters: {}  failure tolerance: {}",
            signals.green_voters_label(),
            signals.failure_tolerance_label()
        ));
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ClusterView;
    use crate::domain::generation::{CrdSignal, ImageSignal, Signals};

    pub(crate) fn incident_with(operation_id: &str) -> Incident {
        let cluster = ClusterView::from_json(&serde_json::json!({
            "apiVersion": "openbao.org/v1alpha1", "kind": "OpenBaoCluster",
            "metadata": {"name": "prod-cluster", "namespace": "security", "resourceVersion": "7"},
            "spec": {"version": "2.4.4"},
            "status": {"blueGreen": {"phase": "RollingBack", "operationID": operation_id,
                "blueRevision": "e8983038c519c718", "greenRevision": "269c4f7ba494030d",
                "rollbackAttempt": 1}}
        }))
        .unwrap();
        Incident {
            namespace: "security".into(),
            cluster_name: "prod-cluster".into(),
            cluster: Some(cluster),
            ..Incident::default()
        }
    }

    #[test]
    fn the_operator_line_and_its_evidence_are_in_json_and_text() {
        let mut i = incident_with("bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60");
        i.operator = Signals {
            crd: std::sync::Arc::new(CrdSignal::Unreadable("RBAC denied (403)".into())),
            image: ImageSignal::Unreadable("all namespaces: RBAC denied (403)".into()),
        };
        let v = to_json(&i, Timestamp::UNIX_EPOCH);
        assert_eq!(v["operator"]["generation"], "0.6");
        assert_eq!(
            v["cluster"]["blueGreen"]["operationID"],
            "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60"
        );
        let evidence = v["operator"]["evidence"].as_array().unwrap();
        assert_eq!(evidence.len(), 3, "{evidence:?}");
        assert!(evidence[0].as_str().unwrap().contains("403"));
        let text = to_text(&i);
        assert!(text.contains("\noperator 0.6  (CRD"), "{text}");
        // Nothing read: unknown, and it says so.
        let v = to_json(&incident_with(""), Timestamp::UNIX_EPOCH);
        assert_eq!(v["operator"]["generation"], "unknown");
        assert_eq!(v["operator"]["evidence"][0], "no signal read yet");
    }

    #[test]
    fn the_sync_threshold_is_labelled_a_forward_path_number() {
        use crate::domain::raft::RaftReading;
        let mut i = incident_with("");
        let reading = |pod: &str, side: Side, committed: u64| RaftReading {
            pod: pod.into(),
            side,
            committed: Some(committed),
            applied: Some(committed),
            is_leader: false,
            leader_address: None,
            reachable: true,
            sealed: false,
            endpoints: None,
            error: None,
            at: Timestamp::UNIX_EPOCH,
        };
        i.raft = vec![
            reading("b-0", Side::Blue, 100),
            reading("g-0", Side::Green, 350),
        ];
        let v = to_json(&i, Timestamp::UNIX_EPOCH);
        assert_eq!(v["raft"]["syncThreshold"], 100);
        let note = v["raft"]["syncThresholdNote"].as_str().unwrap();
        assert!(note.starts_with("forward path only"), "{note}");
        let text = to_text(&i);
        assert!(
            text.contains(
                "raft Blue is 250 entries behind Green (threshold 100: forward path only"
            ),
            "{text}"
        );
        assert!(!text.contains("loses"), "{text}");
    }

    #[test]
    fn rollback_jobs_list_both_steps_of_this_operation_and_repair_jobs_stay() {
        use crate::domain::{JobState, JobView};
        let op = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";
        let mut i = incident_with(op);
        let job = |name: &str, action: &str, run: &str| JobView {
            name: name.into(),
            action: Some(action.into()),
            run_id: Some(run.into()),
            state: JobState::Failed,
            created: None,
        };
        i.set_jobs(vec![
            job(
                "c1",
                "bluegreen-remove-green-peers",
                &format!("{op}/rollback-retry-1"),
            ),
            job(
                "r0",
                "bluegreen-repair-consensus",
                &format!("{op}/rollback"),
            ),
            job("old", "bluegreen-repair-consensus", "bg-v2-old/rollback"),
        ]);
        let v = to_json(&i, Timestamp::UNIX_EPOCH);
        let jobs = v["rollbackJobs"].as_array().unwrap();
        let got: Vec<_> = jobs
            .iter()
            .map(|j| (j["name"].as_str().unwrap(), j["attempt"].as_i64().unwrap()))
            .collect();
        assert_eq!(got, [("r0", 0), ("c1", 1)]);
        assert_eq!(jobs[1]["action"], "bluegreen-remove-green-peers");
        assert_eq!(jobs[1]["runId"], format!("{op}/rollback-retry-1"));
        for key in ["name", "action", "runId", "attempt", "state", "created"] {
            assert!(jobs[0].get(key).is_some(), "rollbackJobs[].{key}");
        }
        // `repairJobs` is unchanged: every repair Job, the previous operation's included.
        assert_eq!(v["repairJobs"].as_array().unwrap().len(), 2);
        let text = to_text(&i);
        assert!(text.contains("  cleanup job c1  run "), "{text}");
        assert!(!text.contains("job old"), "{text}");
    }

    #[test]
    fn rollback_cleanup_is_null_outside_it_and_says_what_a_retry_deletes() {
        let mut i = incident_with("");
        assert_eq!(
            to_json(&i, Timestamp::UNIX_EPOCH)["rollbackCleanup"],
            Value::Null
        );
        if let Some(bg) = i.cluster.as_mut().and_then(|c| c.blue_green.as_mut()) {
            bg.phase = Some("RollbackCleanup".into());
        }
        let v = to_json(&i, Timestamp::UNIX_EPOCH);
        let cl = &v["rollbackCleanup"];
        assert_eq!(cl["staleGreenPeers"], Value::Null);
        assert_eq!(cl["membership"], "needs token");
        assert_eq!(
            cl["retryDeletes"]["statefulSet"],
            "prod-cluster-269c4f7ba494030d"
        );
        assert_eq!(
            cl["retryDeletes"]["pvcs"][0],
            "data-prod-cluster-269c4f7ba494030d-0"
        );
    }
}
