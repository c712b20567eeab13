//! What each resolution path really does on the detected operator line, applied on top of
//! the line-neutral diagnosis (README "Resolution paths by operator line").
//!
//! The diagnosis (`diagnosis.rs`) says what every line shares: stale data, the cause in the
//! logs, the Idle restart. This module adds what differs: on the 0.1 line
//! (dc-tec/openbao-operator @ 002fbdd) a crash-looping Green turns an acknowledgement into an
//! abort and RollbackCleanup runs remove-blue-peers with the revisions not swapped
//! (internal/upgrade/bluegreen/manager.go); on the 0.6 line an acknowledgement retries the
//! step that failed (internal/service/upgrade/bluegreen/break_glass.go), abort is limited to
//! the early phases, and a successful RollbackCleanup deletes Green's StatefulSet and data
//! PVCs (rollback_cleanup.go). `Unknown` says so and adds nothing a line does not share.

use super::cluster::{
    ClusterView, REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED,
    REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED,
};
use super::diagnosis::{Diagnosis, Finding, Source};
use super::generation::Line;
use super::incident::{ACTION_REMOVE_GREEN_PEERS, ACTION_REPAIR_CONSENSUS, Incident, Side};
use super::naming::rollback_run_id;
use super::paths::PathKind;
use super::quorum::{self, Change};

/// Phases past the point of no return on the newer lines (`isPastPointOfNoReturn`).
pub(crate) const PAST_NO_RETURN: [&str; 2] = ["Cleanup", "RestoringReadReplicas"];

fn phase(c: &ClusterView) -> Option<&str> {
    c.blue_green.as_ref()?.phase.as_deref()
}

/// Green pods the operator treats as failing (Waiting CrashLoopBackOff/ImagePull…).
pub(crate) fn failing_green(incident: &Incident) -> Vec<String> {
    incident
        .pods_on(Side::Green)
        .filter(|p| p.is_failing())
        .map(|p| p.name.clone())
        .collect()
}

/// Green's StatefulSet and data PVCs a successful 0.6 RollbackCleanup deletes
/// (`retireRollbackGreenData`): `<cluster>-<green>` and `data-<cluster>-<green>-<n>`.
pub(crate) fn green_retirement(c: &ClusterView) -> Option<(String, Vec<String>)> {
    let green = c.blue_green.as_ref()?.green_revision.as_deref()?;
    let sts = format!("{}-{green}", c.name);
    let pvcs = (0..c.replicas.max(1))
        .map(|n| format!("data-{sts}-{n}"))
        .collect();
    Some((sts, pvcs))
}

/// What an acknowledgement reruns, by reason and phase (0.6: break_glass.go
/// `shouldResumeBlueGreenRollbackAfterBreakGlassAck`; 0.1 has only the repair).
pub(crate) fn retry_reruns(c: &ClusterView, line: Line) -> Option<String> {
    let bg = c.break_glass.as_ref().filter(|b| b.active)?;
    let reason = bg.reason.as_deref().unwrap_or("");
    let g = c.blue_green.as_ref();
    let op = g.and_then(|g| g.operation_id.as_deref()).unwrap_or("");
    let next = g.map_or(0, |g| g.rollback_attempt) + 1;
    let run = rollback_run_id(op, next);
    let phase = phase(c).unwrap_or("?");
    Some(match (reason, phase) {
        (REASON_ROLLBACK_CONSENSUS_REPAIR_FAILED, "RollingBack") => format!(
            "the acknowledgement reruns the consensus repair: a new {ACTION_REPAIR_CONSENSUS} Job, run ID {run}"
        ),
        (REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED, "RollbackCleanup") if line != Line::V01 => {
            format!(
                "the acknowledgement reruns the Green-peer removal: a new {ACTION_REMOVE_GREEN_PEERS} Job, run ID {run} (the consensus repair is not rerun)"
            )
        }
        (REASON_ROLLBACK_CLEANUP_PEER_REMOVAL_FAILED, _) if line == Line::V01 => format!(
            "reason {reason} is not one the 0.1 operator sets: check the header's operator line"
        ),
        (r, p) => format!(
            "reason {r} does not match phase {p}: the acknowledgement clears break glass without a new attempt; the failed Job (TTL 1 h) is seen again and break glass re-enters with a NEW nonce [inferred]"
        ),
    })
}

/// The warnings `path` gets on `line` beyond the line-neutral diagnosis.
pub fn warnings(path: PathKind, incident: &Incident, line: Line) -> Vec<String> {
    let Some(c) = incident.cluster.as_ref() else {
        return Vec::new();
    };
    let failing = failing_green(incident);
    let mut out = Vec::new();
    match (path, line) {
        (PathKind::Retry, _) => {
            out.extend(retry_reruns(c, line));
            out.extend(retry_line_warnings(incident, c, line, &failing));
        }
        (PathKind::FixForward, Line::V01) => {
            if let Some(b) = &c.current_version {
                out.push(format!(
                    "setting spec.version to Blue's {b} and acknowledging deletes the Green StatefulSet WITHOUT Raft repair: quorum is lost if Green peers are voters"
                ));
                out.push(quorum::impact(incident, Change::StopSide(Side::Green)));
            }
        }
        (PathKind::FixForward, Line::V06 | Line::V02To050) => {
            out.push(downgrade_guard(c));
            out.push("a rollback is refused once the upgrade reached Cleanup or RestoringReadReplicas: there the operator rolls forward by itself".into());
        }
        (PathKind::PauseRepair, Line::V06) => {
            out.push("while paused the operator does nothing for this cluster, its backups included: keep the pause short".into());
            out.extend(retry_reruns(c, line).map(|r| format!("the resume patch carries the acknowledgement: {r}")));
            if c.paused {
                out.push("the cluster is already paused: only the resume patch is left".into());
            }
        }
        (PathKind::Restore, Line::V01) => {
            out.push("needs force: true and overrideOperationLock: true; the executor probes <cluster>-<n> pods (absent for Blue/Green): likely 'failed to find leader'".into());
        }
        (PathKind::Restore, Line::V06 | Line::V02To050) => {
            let g = c.blue_green.as_ref();
            if let Some(blue) = g.and_then(|g| g.blue_revision.as_deref()) {
                out.push(format!(
                    "the restore targets Blue's StatefulSet {}-{blue} (not Green)",
                    c.name
                ));
            }
            out.push(format!(
                "the restore authenticates with its own role {} (spec.restore.jwtAuthRole), not the backup role",
                c.controls.restore_role()
            ));
            out.push("do not acknowledge break glass while a forced restore runs".into());
        }
        (_, Line::Unknown) => out.push(
            "operator line unknown: only what every line shares is shown (see the header's evidence)".into(),
        ),
        _ => {}
    }
    out
}

fn retry_line_warnings(
    incident: &Incident,
    c: &ClusterView,
    line: Line,
    failing: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    match line {
        Line::V01 => {
            if !failing.is_empty() {
                out.push(format!(
                    "Green failing ({}): the 0.1 operator ABORTS instead of retrying — Green StatefulSet deleted, no Raft repair",
                    failing.join(", ")
                ));
                out.push(quorum::impact(incident, Change::StopSide(Side::Green)));
            }
            out.push("on success RollbackCleanup runs remove-blue-peers with revisions not swapped (0.1 defect): it may remove the BLUE peers — watch the Raft pane".into());
            out.push(quorum::cleanup_impact(incident));
        }
        Line::V06 | Line::V02To050 => {
            if !failing.is_empty() {
                out.push(format!(
                    "Green failing ({}): on this line that does not abort a rollback (abort only in DeployingGreen/JoiningMesh/Syncing)",
                    failing.join(", ")
                ));
            }
            match (line, green_retirement(c)) {
                (Line::V06, Some((sts, pvcs))) => out.push(format!(
                    "a successful retry deletes Green's StatefulSet {sts} and PVCs {} (its data is gone)",
                    pvcs.join(", ")
                )),
                (_, Some((sts, _))) => out.push(format!(
                    "on success RollbackCleanup removes the Green peers and deletes Green's StatefulSet {sts} (data PVCs too from 0.5.1 on)"
                )),
                (_, None) => {}
            }
        }
        Line::Unknown => out.push(
            "operator line unknown: on 0.1 a crash-looping Green makes the ack an abort and RollbackCleanup may remove the Blue peers; on 0.6 neither — check the header's evidence".into(),
        ),
    }
    out
}

/// The downgrade guard (newer lines, `ValidateUpgradeTargetVersion`).
fn downgrade_guard(c: &ClusterView) -> String {
    match &c.current_version {
        Some(v) => format!(
            "never lower spec.version below status.currentVersion {v}: it is refused (DowngradeBlocked) — do not lower spec.version to escape"
        ),
        None => {
            "never lower spec.version below status.currentVersion: it is refused (DowngradeBlocked)"
                .into()
        }
    }
}

/// Why `path` is not available on `line` (beyond the common blockers).
pub(crate) fn unavailable(path: PathKind, incident: &Incident, line: Line) -> Vec<String> {
    let held = incident
        .cluster
        .as_ref()
        .is_some_and(|c| c.controls.restore_hold.is_some());
    let hold = || {
        vec!["a restore holds the cluster (openbao.org/restore-hold): never acknowledge while it runs".to_string()]
    };
    match (path, line) {
        (PathKind::Retry | PathKind::FixForward, _) if held => hold(),
        (PathKind::PauseRepair, Line::V06) if held => hold(),
        (PathKind::PauseRepair, Line::V06) => Vec::new(),
        (PathKind::PauseRepair, l) => vec![format!(
            "not offered for {}: upstream's Pause and repair runbook is for the 0.6 line",
            l.header()
        )],
        _ => Vec::new(),
    }
}

/// Notes that are not about one path: leftovers of manual controls, the rollback request,
/// the RollbackCleanup alert. (level, text): `true` is an alarm.
pub(crate) fn notes(incident: &Incident, line: Line) -> Vec<(bool, String)> {
    let Some(c) = incident.cluster.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(v) = &c.controls.force_rollback {
        out.push(match line {
            Line::V01 => (true, format!(
                "openbao.org/force-rollback={v} is still set: the 0.1 operator never clears it, and left in place it rolls back the NEXT upgrade too — remove it once this incident is over"
            )),
            Line::Unknown => (false, format!(
                "openbao.org/force-rollback={v} is set: on 0.1 it rolls back the next upgrade too; newer lines ignore it"
            )),
            _ => (false, format!(
                "openbao.org/force-rollback={v} is set but does nothing on this line (use spec.upgrade.requests.rollback); safe to remove"
            )),
        });
    }
    if matches!(line, Line::V06 | Line::V02To050) {
        out.push((false, rollback_request_note(c)));
    }
    if line == Line::V01 && phase(c) == Some("RollbackCleanup") {
        out.push((true, "ROLLBACK CLEANUP RUNNING: the 0.1 operator runs remove-blue-peers with revisions not swapped — it may be removing the BLUE peers now; its result is ignored and Green is deleted next. Check the Raft configuration below.".into()));
        out.push((true, quorum::cleanup_impact(incident)));
    }
    out
}

/// `spec.upgrade.requests.rollback` on the newer lines: what the operator would do with a
/// new value now (rollback_control.go, requests.go). It is never sent from here.
fn rollback_request_note(c: &ClusterView) -> String {
    let handled = c
        .controls
        .last_handled_rollback
        .as_deref()
        .map_or(String::new(), |h| format!(" (last handled: {h})"));
    let pending = c
        .controls
        .pending_rollback_request()
        .map_or(String::new(), |r| format!(" A request {r} is pending."));
    let what = match phase(c) {
        _ if c.break_glass_active() => "not processed while break glass is active",
        Some(p) if PAST_NO_RETURN.contains(&p) => "refused here: Blue peer removal has started",
        Some("Idle" | "RollingBack" | "RollbackCleanup") | None => {
            "ignored (acknowledged) in this phase"
        }
        Some(_)
            if c.blue_green
                .as_ref()
                .and_then(|g| g.green_revision.as_ref())
                .is_none() =>
        {
            "an abort here: there is no Green revision"
        }
        Some(_) => "a rollback from this phase",
    };
    format!(
        "manual rollback is spec.upgrade.requests.rollback=<new RFC3339> (the force-rollback annotation is gone): {what}{handled}.{pending}"
    )
}

/// Apply the line's truth to a line-neutral diagnosis.
pub(crate) fn apply_line(d: &mut Diagnosis, incident: &Incident, line: Line) {
    for v in &mut d.paths {
        v.warnings.extend(warnings(v.path, incident, line));
        v.why_not.extend(unavailable(v.path, incident, line));
    }
    if line == Line::Unknown {
        d.findings.push(Finding {
            text: "operator line unknown: only what every line shares is shown".into(),
            source: Source::Field("operator generation".into()),
        });
    }
    let failing = failing_green(incident);
    if d.recommended.is_none() || failing.is_empty() {
        return;
    }
    let revert = incident
        .cluster
        .as_ref()
        .and_then(|c| c.current_version.clone());
    match line {
        // The advice must be one the console can carry out: the revert is refused while
        // break glass is active (with an ack it deletes Green without repair on 0.1), so it
        // comes after the acknowledgement, as the offered follow-up.
        Line::V01 => {
            d.summary = "Green is crash-looping: on operator 0.1 an acknowledgement makes the operator abort (delete Green, no Raft repair), not retry.".into();
            d.before = vec![
                "check in the Raft pane that no Green peer is a voter (the abort deletes Green without removing its peers)".into(),
                "or make Green stop failing first (image, config): then the acknowledgement retries the repair".into(),
            ];
            if let Some(v) = revert {
                d.before.push(format!(
                    "after the acknowledgement, when break glass is over, take the offered follow-up (v): revert spec.version to Blue's {v} so the upgrade does not restart at Idle"
                ));
            }
        }
        Line::V06 | Line::V02To050 => d.findings.push(Finding {
            text: "Green is failing: on this line that does not abort a rollback".into(),
            source: Source::Field("status.blueGreen.phase".into()),
        }),
        Line::Unknown => d.before.push(
            "Green is failing: on 0.1 an acknowledgement then aborts (Green deleted, no Raft repair); on 0.6 it does not — the operator line is unknown".into(),
        ),
    }
}

#[cfg(test)]
#[path = "path_truth_tests.rs"]
mod tests;
