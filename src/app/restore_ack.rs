//! The administrator acknowledgement of a restore in phase `Unknown` (newer operator lines,
//! internal/service/restore/acknowledgement.go): the annotation
//! `openbao.org/restore-acknowledge=<restore uid>/Resume|Abandon` on the OpenBaoRestore the
//! console created and follows. Guarded like every write (write mode, fresh data, RBAC, a
//! dialog with Cancel first, dry run, journaled), never while a break-glass acknowledgement
//! is in flight; the dialog says that Abandon sets `spec.paused=true` on the cluster.

use super::Effect;
use super::state::State;
use super::writes::{session_guard, start_write};
use crate::domain::paths::PathKind;
use crate::domain::restore::{Disposition, Request};
use crate::domain::write::{Refusal, guard};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreAckTarget {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub choice: Disposition,
}

impl RestoreAckTarget {
    /// The exact merge patch (the request's builder: preview, journal and send).
    pub fn body(&self) -> serde_json::Value {
        self.request().body().unwrap_or_default()
    }

    pub fn request(&self) -> Request {
        Request::AcknowledgeRestore {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            disposition: self.choice,
            resource_version: self.resource_version.clone(),
        }
    }
}

impl State {
    /// The followed restore waiting in phase `Unknown`, or why there is none to release.
    pub(crate) fn restore_ack_target(&self) -> Result<RestoreAckTarget, Refusal> {
        if self.decision.in_flight.is_some() {
            return Err(Refusal::InFlight);
        }
        let follow = self.restore.as_ref().ok_or(Refusal::NoRestoreFollowed)?;
        let status = follow.current().ok_or(Refusal::RestoreStatusUnread)?;
        guard::restore_ack_on(status, &follow.name, None)?;
        let uid = status.uid.clone().ok_or(Refusal::RestoreUidUnknown)?;
        let resource_version = status
            .resource_version
            .clone()
            .ok_or(Refusal::RestoreResourceVersionUnknown)?;
        Ok(RestoreAckTarget {
            namespace: self.opts.namespace.clone(),
            name: follow.name.clone(),
            uid,
            resource_version,
            choice: Disposition::Resume,
        })
    }
}

/// The data guards plus the session's.
pub(crate) fn allowed(state: &State) -> Result<RestoreAckTarget, Refusal> {
    let target = state.restore_ack_target()?;
    session_guard(state, PathKind::Restore)?;
    Ok(target)
}

/// Enter on the dialog's Resume or Abandon: re-check, journal the decision, send.
pub(crate) fn press(state: &mut State, captured: RestoreAckTarget) -> Vec<Effect> {
    let now = allowed(state);
    let label = format!("restore acknowledge {}", captured.choice.label());
    let decision = format!("Restore Unknown: {}", captured.choice.label());
    let now = now.and_then(|now| {
        if now.uid != captured.uid {
            Err(Refusal::RestoreReplaced)
        } else {
            Ok(())
        }
    });
    let Some(mut effects) = start_write(state, now, (label.clone(), &label, &decision)) else {
        return Vec::new();
    };
    effects.push(Effect::WizardSend(captured.request()));
    state.decision.sent = Some(super::state::Sent::RestoreAck(captured));
    effects
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::incident_state;
    use super::super::{Button, Dialog, Focus, Msg, update};
    use super::*;
    use crate::domain::restore_status::{RestoreFollow, RestoreStatus};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use serde_json::json;

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn following(phase: &str) -> State {
        let mut s = incident_state(true);
        s.focus = Focus::Decision;
        let mut f = RestoreFollow::new("prod-cluster-restore-1");
        f.on_status(Some(RestoreStatus::from_json(&json!({
            "metadata": {"uid": "u-1", "resourceVersion": "77"},
            "status": {"phase": phase}
        }))));
        s.restore = Some(f);
        s
    }

    #[test]
    fn unknown_opens_a_cancel_first_dialog_and_abandon_sends_its_annotation() {
        let mut s = following("Unknown");
        update(&mut s, key(KeyCode::Char('u')));
        let Some(Dialog::ConfirmRestoreAck { target, focus }) = s.dialog.clone() else {
            panic!("{:?} {:?}", s.dialog, s.decision.notice);
        };
        assert_eq!(focus, Button::Cancel);
        assert_eq!(target.choice, Disposition::Resume);
        // Tab: Resume, Tab: Abandon, Enter.
        update(&mut s, key(KeyCode::Tab));
        update(&mut s, key(KeyCode::Tab));
        let effects = update(&mut s, key(KeyCode::Enter));
        let Some(Effect::WizardSend(Request::AcknowledgeRestore {
            name, disposition, ..
        })) = effects.last()
        else {
            panic!("{effects:?}");
        };
        assert_eq!(name, "prod-cluster-restore-1");
        assert_eq!(*disposition, Disposition::Abandon);
        let mut t = target.clone();
        t.choice = Disposition::Abandon;
        assert_eq!(
            t.body().to_string(),
            r#"{"metadata":{"annotations":{"openbao.org/restore-acknowledge":"u-1/Abandon"},"resourceVersion":"77"}}"#
        );
    }

    #[test]
    fn not_offered_unless_unknown_nor_while_a_request_is_in_flight() {
        let mut s = following("Running");
        update(&mut s, key(KeyCode::Char('u')));
        assert!(s.dialog.is_none());
        assert!(
            s.decision
                .notice
                .as_deref()
                .unwrap()
                .contains("not in phase Unknown")
        );
        let mut s = following("Unknown");
        s.decision.in_flight = Some("nonce".into());
        assert_eq!(s.restore_ack_target().unwrap_err(), Refusal::InFlight);
        let mut s = following("Unknown");
        s.write.leave();
        update(&mut s, key(KeyCode::Char('u')));
        assert!(s.dialog.is_none());
    }

    #[test]
    fn a_409_reopens_the_dialog_once_the_fresh_restore_is_seen() {
        use crate::app::msg::{ActionOutcome, RestoreEvent, SourceEvent};
        let mut s = following("Unknown");
        update(&mut s, key(KeyCode::Char('u')));
        // Tab: Resume, Tab: Abandon, Enter.
        for k in [KeyCode::Tab, KeyCode::Tab, KeyCode::Enter] {
            update(&mut s, key(k));
        }
        assert!(s.decision.in_flight.is_some());
        update(
            &mut s,
            Msg::Source(SourceEvent::Action(ActionOutcome::Failed {
                status: Some(409),
                message: "conflict".into(),
            })),
        );
        // Not on the status the refused body was built on.
        assert!(s.dialog.is_none());
        update(
            &mut s,
            Msg::Source(SourceEvent::Restore(RestoreEvent::Status(Some(
                RestoreStatus::from_json(&json!({
                    "metadata": {"uid": "u-1", "resourceVersion": "78"},
                    "status": {"phase": "Unknown"}
                })),
            )))),
        );
        let Some(Dialog::ConfirmRestoreAck { target, focus }) = s.dialog.clone() else {
            panic!("{:?} {:?}", s.dialog, s.decision.notice);
        };
        assert_eq!(focus, Button::Cancel);
        assert_eq!(
            (target.choice, target.resource_version.as_str()),
            (Disposition::Resume, "78")
        );
        let why = s.decision.reopened.clone().unwrap();
        assert!(why.contains("409") && why.contains("77"), "{why}");
    }
}
