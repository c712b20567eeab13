//! The console's side of `domain::write`: what it has seen and who it is, as the shared
//! guards take them; the guards per action; and the way from a confirmed dialog to the
//! one patch effect (or, when the object changed under the dialog, back to the dialog on
//! the fresh object, saying why).

use super::Effect;
use super::decide::RevertTarget;
use super::dialog::Dialog;
use super::pause_repair::PauseTarget;
use super::state::{Presence, RetryTarget, Sent, State};
use crate::app::msg::SourceName;
use crate::domain::paths::PathKind;
use crate::domain::write::{ClusterPatch, ClusterWrite, Refusal, Seen, Session, guard};

impl State {
    /// What the console has seen, as the guards judge it.
    pub fn seen(&self) -> Seen<'_> {
        // Pods count too: whether the operator retries or aborts depends on Green's health.
        let stale = [SourceName::Cluster, SourceName::Pods]
            .into_iter()
            .filter(|s| self.is_stale(*s))
            .map(|s| (s.label(), self.age_secs(s)))
            .collect();
        let restore_running = self.restore.as_ref().and_then(|f| {
            let status = f.current()?;
            (!status.finished()).then(|| {
                (
                    f.name.as_str(),
                    status.phase.as_deref().unwrap_or("no phase yet"),
                )
            })
        });
        Seen {
            namespace: &self.opts.namespace,
            name: &self.opts.cluster,
            cluster: self.incident.cluster.as_ref(),
            missing: self.presence == Presence::Missing,
            stale,
            unparseable: self.unparseable.is_some(),
            in_flight: self.decision.in_flight.is_some(),
            line: self.line(),
            restore_running,
        }
    }

    /// Who writes: write mode, the identity and the missing permissions of the preflight.
    pub fn session(&self) -> Session<'_> {
        Session {
            write: self.write.is_on(self.now),
            write_key: self.write.key,
            who: self
                .rbac
                .as_ref()
                .map_or(self.opts.k8s_user.as_str(), |r| r.identity.as_str()),
            denied: self.rbac.as_ref().map_or(&[][..], |r| &r.denied[..]),
        }
    }
}

/// The session's guards on every write: write mode, fresh cluster data, RBAC for `path`.
pub(crate) fn session_guard(state: &State, path: PathKind) -> Result<(), Refusal> {
    guard::session(&state.seen(), &state.session(), path)
}

pub(crate) fn restore_blocks_ack(state: &State) -> Result<(), Refusal> {
    guard::restore_blocks_ack(&state.seen())
}

pub(crate) fn ack_blocks_restore(state: &State) -> Result<(), Refusal> {
    guard::ack_blocks_restore(&state.seen())
}

/// Retry's guard (data, no restore alongside, session).
pub(crate) fn retry_allowed(state: &State) -> Result<RetryTarget, Refusal> {
    guard::retry(&state.seen(), &state.session()).map(RetryTarget::from)
}

/// The revert's guard (data and session).
pub(crate) fn revert_allowed(state: &State) -> Result<RevertTarget, Refusal> {
    let patch = guard::revert(&state.seen(), &state.session())?;
    Ok(RevertTarget::new(state, patch))
}

/// Pause and repair's guard (data, no restore alongside, session).
pub(crate) fn pause_allowed(state: &State) -> Result<PauseTarget, Refusal> {
    guard::pause(&state.seen(), &state.session()).map(PauseTarget::from)
}

/// The guard of the action `write` is, and its dialog on what is seen now.
fn dialog_for(state: &State, write: &ClusterWrite) -> Result<(Dialog, ClusterPatch), Refusal> {
    Ok(match write {
        ClusterWrite::Acknowledge { .. } => {
            let t = retry_allowed(state)?;
            (Dialog::confirm_retry(t.clone()), t.patch)
        }
        ClusterWrite::Revert { .. } => {
            let t = revert_allowed(state)?;
            (Dialog::confirm_revert(t.clone()), t.patch)
        }
        ClusterWrite::PauseRepair { .. } => {
            let t = pause_allowed(state)?;
            (Dialog::confirm_pause(t.clone()), t.patch)
        }
    })
}

/// The dialog's live check: whether confirming now sends `captured` (Ok) or nothing.
pub(crate) fn still_valid(state: &State, captured: &ClusterPatch) -> Result<(), Refusal> {
    let seen = state.seen();
    let now = match &captured.write {
        ClusterWrite::Acknowledge { .. } => guard::acknowledge(&seen),
        ClusterWrite::Revert { .. } => guard::revert_data(&seen),
        ClusterWrite::PauseRepair { .. } => guard::pause_data(&seen),
    }?;
    guard::confirmed(&captured.write, Some(&captured.resource_version), &now)
}

/// Start a confirmed write: in flight, the decision journaled. Refused: the notice says why.
pub(crate) fn start_write(
    state: &mut State,
    now: Result<(), Refusal>,
    (in_flight, action, decision): (String, &str, &str),
) -> Option<Vec<Effect>> {
    if let Err(reason) = now {
        state.decision.notice = Some(reason.to_string());
        return None;
    }
    state.decision.notice = None;
    state.decision.outcome = None;
    state.decision.reopened = None;
    state.decision.in_flight = Some(in_flight);
    state.dialog_action = Some(action.to_string());
    Some(state.journal(vec![state.decision_event(decision)]))
}

/// Enter on a cluster patch dialog's confirm button: the guard again, then the dialog's
/// exact body as the effect. If the object changed under the dialog, nothing is sent: the
/// dialog re-opens on the fresh object and says why.
pub(crate) fn press(state: &mut State, captured: ClusterPatch, decision: &str) -> Vec<Effect> {
    let now = match dialog_for(state, &captured.write) {
        Err(r) => Err(r),
        Ok((dialog, now)) => {
            match guard::confirmed(&captured.write, Some(&captured.resource_version), &now) {
                Err(r @ Refusal::Changed { .. }) => {
                    state.dialog = Some(dialog);
                    state.decision.reopened = Some(format!("re-opened: {r}; nothing was sent"));
                    return Vec::new();
                }
                other => other,
            }
        }
    };
    let label = format!("{} (console)", captured.write.label());
    let in_flight = captured
        .write
        .nonce()
        .map_or_else(|| captured.write.label().to_string(), str::to_string);
    let Some(mut effects) = start_write(state, now, (in_flight, &label, decision)) else {
        return Vec::new();
    };
    state.decision.sent = Some(Sent::Cluster(captured.clone()));
    effects.push(Effect::Patch(captured));
    effects
}

/// The API server refused the sent patch with 409 (the object changed after the dialog
/// opened): re-open the dialog on the fresh object once the console has seen it.
pub(crate) fn on_conflict(state: &mut State) {
    state.decision.conflict = state.decision.sent.take();
    reopen_after_conflict(state);
}

/// Called after new data: a pending conflict re-opens its dialog when the object seen is
/// newer than the one the refused body was built on (the cluster, or the followed restore).
pub(crate) fn reopen_after_conflict(state: &mut State) {
    let Some(refused) = state.decision.conflict.clone() else {
        return;
    };
    let seen_rv = match &refused {
        Sent::Cluster(_) => state
            .incident
            .cluster
            .as_ref()
            .map(|c| c.resource_version.clone()),
        Sent::RestoreAck(_) => state
            .restore
            .as_ref()
            .and_then(|f| f.current()?.resource_version.clone()),
    };
    if seen_rv.as_deref() == Some(refused.resource_version()) {
        return; // not seen the change yet
    }
    state.decision.conflict = None;
    let now = match &refused {
        Sent::Cluster(p) => dialog_for(state, &p.write).map(|(d, now)| (d, now.resource_version)),
        // Opened as usual: Cancel focused, the choice made again.
        Sent::RestoreAck(_) => super::restore_ack::allowed(state).map(|now| {
            let rv = now.resource_version.clone();
            (Dialog::confirm_restore_ack(now), rv)
        }),
    };
    match now {
        Ok((dialog, rv)) => {
            state.dialog = Some(dialog);
            state.decision.reopened = Some(format!(
                "re-opened: the API server refused the previous body with 409 Conflict (it carried resourceVersion {}, the object is now at {rv}); nothing was applied. This is the fresh body",
                refused.resource_version()
            ));
        }
        Err(reason) => {
            state.decision.notice = Some(format!(
                "409 Conflict: the object changed; nothing was applied, and now: {reason}"
            ));
        }
    }
}

#[cfg(test)]
#[path = "writes_tests.rs"]
mod tests;
