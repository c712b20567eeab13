//! The guards: one per action, used by the console (before a dialog opens and again when it
//! is confirmed), by the executor (on its fresh read, [`recheck`]) and by `breakglass ack`.

use super::Refusal;
use super::patch::{ClusterPatch, ClusterWrite, PauseStep, revert_patch};
use crate::domain::ClusterView;
use crate::domain::diagnosis::Denied;
use crate::domain::generation::Line;
use crate::domain::paths::PathKind;
use crate::domain::restore_status::RestoreStatus;

/// What the judgement rests on: the object as last read and what the reader knows about it.
/// The console fills it from its state; `breakglass ack` from the snapshot it just read.
#[derive(Debug, Clone)]
pub struct Seen<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub cluster: Option<&'a ClusterView>,
    /// The cluster was read and does not exist.
    pub missing: bool,
    /// Stale sources the judgement rests on, cluster first: label and age (None: never read).
    pub stale: Vec<(&'static str, Option<i64>)>,
    pub unparseable: bool,
    /// A request of this session is not answered yet.
    pub in_flight: bool,
    /// The operator line detected.
    pub line: Line,
    /// A forced restore created here that is not finished: its name and phase.
    pub restore_running: Option<(&'a str, &'a str)>,
}

/// Who writes, and whether writing is allowed.
#[derive(Debug, Clone, Copy)]
pub struct Session<'a> {
    /// Write mode is on. The CLI's own confirmation (`--yes` or y at the prompt) stands for it.
    pub write: bool,
    /// The key that enters write mode (config `write_key`), for the refusal's text.
    pub write_key: char,
    pub who: &'a str,
    /// The RBAC preflight's missing permissions.
    pub denied: &'a [Denied],
}

/// The object itself, if it may be judged at all: nothing in flight, read, fresh, parsed.
fn readable<'a>(seen: &Seen<'a>) -> Result<&'a ClusterView, Refusal> {
    if seen.in_flight {
        return Err(Refusal::InFlight);
    }
    if seen.missing {
        return Err(Refusal::ClusterMissing);
    }
    let cluster = seen.cluster.ok_or(Refusal::NoClusterData)?;
    if let Some((source, age)) = seen.stale.first() {
        return Err(Refusal::Stale { source, age: *age });
    }
    if seen.unparseable {
        return Err(Refusal::Unparseable);
    }
    Ok(cluster)
}

/// Break glass active with a nonce: the nonce (judged on any read, the executor's too).
fn ack_on(view: &ClusterView) -> Result<&str, Refusal> {
    if !view.break_glass_active() {
        return Err(Refusal::BreakGlassInactive);
    }
    view.active_nonce().ok_or(Refusal::NoNonce)
}

/// The revert's conditions on an object (`deletes_green`: how to word an active break glass).
fn revert_on(view: &ClusterView, deletes_green: bool) -> Result<(), Refusal> {
    if view.break_glass_active() {
        return Err(Refusal::BreakGlassActive { deletes_green });
    }
    let blue = view
        .current_version
        .as_deref()
        .ok_or(Refusal::BlueVersionUnknown)?;
    if view.spec_version == blue {
        return Err(Refusal::AlreadyBlue {
            version: blue.to_string(),
        });
    }
    revert_patch(view)
        .map(|_| ())
        .ok_or(Refusal::BlueImageUnknown)
}

/// The pause state a step expects.
fn pause_state_on(view: &ClusterView, step: PauseStep) -> Result<(), Refusal> {
    match (step, view.paused) {
        (PauseStep::Pause, true) => Err(Refusal::AlreadyPaused),
        (PauseStep::ResumeAck, false) => Err(Refusal::NotPaused),
        _ => Ok(()),
    }
}

/// Retry's data: the acknowledgement of the current nonce, built on the object seen.
pub fn acknowledge(seen: &Seen) -> Result<ClusterPatch, Refusal> {
    let cluster = readable(seen)?;
    let nonce = ack_on(cluster)?;
    if cluster.resource_version.is_empty() {
        return Err(Refusal::NoResourceVersion);
    }
    let write = ClusterWrite::Acknowledge {
        nonce: nonce.to_string(),
    };
    ClusterPatch::build(write, seen.namespace, seen.name, cluster)
}

/// A forced restore and a break-glass acknowledgement never run together (upstream's
/// recover-failed-rollback runbook): not while a restore created here is unfinished, nor
/// while a restore holds the cluster (`openbao.org/restore-hold`).
pub(crate) fn restore_blocks_ack(seen: &Seen) -> Result<(), Refusal> {
    if let Some((name, phase)) = seen.restore_running {
        return Err(Refusal::RestoreRunning {
            name: name.to_string(),
            phase: phase.to_string(),
        });
    }
    match seen
        .cluster
        .and_then(|c| c.controls.restore_hold.as_deref())
    {
        Some(uid) => Err(Refusal::RestoreHold {
            uid: uid.to_string(),
        }),
        None => Ok(()),
    }
}

/// The other way round: no forced restore while a request is in flight or the retry an
/// acknowledgement started is still running.
pub(crate) fn ack_blocks_restore(seen: &Seen) -> Result<(), Refusal> {
    if seen.in_flight {
        return Err(Refusal::InFlight);
    }
    let Some(c) = seen.cluster else {
        return Ok(());
    };
    let acknowledged = c
        .break_glass
        .as_ref()
        .is_some_and(|b| !b.active && b.acknowledged_at.is_some());
    let phase = c.blue_green.as_ref().and_then(|g| g.phase.as_deref());
    match phase {
        Some(p @ ("RollingBack" | "RollbackCleanup")) if acknowledged => {
            Err(Refusal::RollbackRunning {
                phase: p.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// The session's conditions on every write: write mode, fresh cluster data, and the RBAC
/// preflight for `path`.
pub fn session(seen: &Seen, session: &Session, path: PathKind) -> Result<(), Refusal> {
    if !session.write {
        return Err(Refusal::ReadOnly {
            key: session.write_key,
        });
    }
    if let Some((source, age)) = seen.stale.iter().find(|(s, _)| *s == "cluster") {
        return Err(Refusal::Stale { source, age: *age });
    }
    match session.denied.iter().find(|d| d.path == path) {
        Some(d) => Err(Refusal::forbidden(session.who, &d.permission)),
        None => Ok(()),
    }
}

/// Retry: its data, no restore alongside, and the session.
pub fn retry(seen: &Seen, s: &Session) -> Result<ClusterPatch, Refusal> {
    let patch = acknowledge(seen)?;
    restore_blocks_ack(seen)?;
    session(seen, s, PathKind::Retry)?;
    Ok(patch)
}

/// Pause and repair's data: the 0.6 line, Retry's data, no restore hold; the step follows
/// the pause state.
pub(crate) fn pause_data(seen: &Seen) -> Result<ClusterPatch, Refusal> {
    if seen.line != Line::V06 {
        return Err(Refusal::WrongLine {
            path: "Pause and repair",
            line: seen.line.header().to_string(),
        });
    }
    let ack = acknowledge(seen)?;
    let cluster = readable(seen)?;
    if let Some(uid) = cluster.controls.restore_hold.as_deref() {
        return Err(Refusal::RestoreHold {
            uid: uid.to_string(),
        });
    }
    let write = ClusterWrite::PauseRepair {
        step: PauseStep::of(cluster.paused),
        nonce: ack.write.nonce().unwrap_or_default().to_string(),
    };
    ClusterPatch::build(write, seen.namespace, seen.name, cluster)
}

/// Pause and repair: its data, no restore alongside, and the session.
pub fn pause(seen: &Seen, s: &Session) -> Result<ClusterPatch, Refusal> {
    let patch = pause_data(seen)?;
    restore_blocks_ack(seen)?;
    session(seen, s, PathKind::PauseRepair)?;
    Ok(patch)
}

/// The revert follow-up's data: after the retry (break glass over), Blue's version known
/// and not already set.
pub(crate) fn revert_data(seen: &Seen) -> Result<ClusterPatch, Refusal> {
    let cluster = readable(seen)?;
    let deletes_green = !matches!(seen.line, Line::V06 | Line::V02To050);
    revert_on(cluster, deletes_green)?;
    let write = ClusterWrite::Revert {
        from_version: cluster.spec_version.clone(),
    };
    ClusterPatch::build(write, seen.namespace, seen.name, cluster)
}

/// The revert: its data and the session (it is a patch like Retry's).
pub fn revert(seen: &Seen, s: &Session) -> Result<ClusterPatch, Refusal> {
    let patch = revert_data(seen)?;
    session(seen, s, PathKind::Retry)?;
    Ok(patch)
}

/// Whether `now` (the guard's patch on what is seen now) is still what was confirmed:
/// `write`, built on the object at `resource_version` (None: any; the CLI confirms a nonce).
pub fn confirmed(
    write: &ClusterWrite,
    resource_version: Option<&str>,
    now: &ClusterPatch,
) -> Result<(), Refusal> {
    if let (Some(confirmed), Some(current)) = (write.nonce(), now.write.nonce())
        && confirmed != current
    {
        return Err(Refusal::NonceChanged {
            confirmed: confirmed.to_string(),
            current: current.to_string(),
        });
    }
    match (write, &now.write) {
        (ClusterWrite::Revert { from_version: a }, ClusterWrite::Revert { from_version: b })
            if a != b =>
        {
            return Err(Refusal::VersionChanged {
                from: a.clone(),
                to: b.clone(),
            });
        }
        (ClusterWrite::PauseRepair { step: a, .. }, ClusterWrite::PauseRepair { step: b, .. })
            if a != b =>
        {
            return Err(match a {
                PauseStep::Pause => Refusal::AlreadyPaused,
                PauseStep::ResumeAck => Refusal::NotPaused,
            });
        }
        _ => {}
    }
    match resource_version {
        Some(rv) if rv != now.resource_version => Err(Refusal::Changed {
            from: rv.to_string(),
            to: now.resource_version.clone(),
        }),
        _ => Ok(()),
    }
}

/// The executor's check on its fresh read, right before sending the confirmed body: the
/// same conditions the console judged, on the object as it is now. (A changed object that
/// still passes is left to the API server: the body's resourceVersion makes it a 409.)
pub(crate) fn recheck(write: &ClusterWrite, fresh: &ClusterView) -> Result<(), Refusal> {
    match write {
        ClusterWrite::Acknowledge { nonce } => nonce_on(fresh, nonce),
        ClusterWrite::PauseRepair { step, nonce } => {
            nonce_on(fresh, nonce)?;
            pause_state_on(fresh, *step)
        }
        ClusterWrite::Revert { from_version } => {
            if !fresh.break_glass_active() && fresh.spec_version != *from_version {
                return Err(Refusal::VersionChanged {
                    from: from_version.clone(),
                    to: fresh.spec_version.clone(),
                });
            }
            revert_on(fresh, false)
        }
    }
}

/// The restore acknowledgement's condition on the OpenBaoRestore `name` (the console's
/// followed status, and the executor's fresh read): the same object as confirmed (its uid,
/// when one was confirmed) and in phase `Unknown`.
pub(crate) fn restore_ack_on(
    status: &RestoreStatus,
    name: &str,
    confirmed_uid: Option<&str>,
) -> Result<(), Refusal> {
    if let Some(uid) = confirmed_uid
        && status.uid.as_deref() != Some(uid)
    {
        return Err(Refusal::RestoreReplaced);
    }
    if !status.unknown() {
        return Err(Refusal::RestoreNotUnknown {
            name: name.to_string(),
            phase: status.phase.as_deref().unwrap_or("no phase").to_string(),
        });
    }
    Ok(())
}

/// Break glass active with exactly `nonce`.
fn nonce_on(view: &ClusterView, nonce: &str) -> Result<(), Refusal> {
    let current = ack_on(view)?;
    if current != nonce {
        return Err(Refusal::NonceChanged {
            confirmed: nonce.to_string(),
            current: current.to_string(),
        });
    }
    Ok(())
}
