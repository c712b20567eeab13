//! The confirmation dialog as a small pure state machine.
//!
//! The only way to an `Effect::Patch` is: the path selected and available → Enter opens its
//! confirmation (the patch built now, shown exactly, Cancel focused) → the user moves to the
//! confirm button → Enter. Everything else (Esc, `n`, `q`, Enter on Cancel) closes it with no
//! effect. `Explain` is the read-only note for the paths guided in a later version.

use crate::domain::paths::PathKind;

use super::decide::RevertTarget;
use super::pause_repair::PauseTarget;
use super::restore_ack::RestoreAckTarget;
use super::state::RetryTarget;
use crate::domain::restore::Disposition;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Acknowledge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    ConfirmRetry {
        /// What the effect will carry: captured when the dialog opened, never refreshed.
        target: RetryTarget,
        focus: Button,
    },
    Explain {
        path: PathKind,
    },
    /// The follow-up after a retry: revert `spec.version`/`spec.image` to Blue's.
    ConfirmRevert {
        target: RevertTarget,
        focus: Button,
    },
    /// Pause and repair: one of its two patches (the preview shows both).
    ConfirmPause {
        target: PauseTarget,
        focus: Button,
    },
    /// A restore in phase `Unknown`: Cancel → Resume → Abandon (the target's `choice`).
    ConfirmRestoreAck {
        target: RestoreAckTarget,
        focus: Button,
    },
}

/// What pressing Enter in the dialog decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    Close,
    Acknowledge(RetryTarget),
    Revert(RevertTarget),
    Pause(PauseTarget),
    RestoreAck(RestoreAckTarget),
}

impl Dialog {
    pub(crate) fn confirm_retry(target: RetryTarget) -> Dialog {
        Dialog::ConfirmRetry {
            target,
            focus: Button::Cancel,
        }
    }

    pub(crate) fn confirm_pause(target: PauseTarget) -> Dialog {
        Dialog::ConfirmPause {
            target,
            focus: Button::Cancel,
        }
    }

    pub(crate) fn confirm_restore_ack(target: RestoreAckTarget) -> Dialog {
        Dialog::ConfirmRestoreAck {
            target,
            focus: Button::Cancel,
        }
    }

    pub(crate) fn confirm_revert(target: RevertTarget) -> Dialog {
        Dialog::ConfirmRevert {
            target,
            focus: Button::Cancel,
        }
    }

    /// Tab/←/→: with two buttons, next and previous are the same toggle.
    pub(crate) fn move_focus(&mut self) {
        if let Dialog::ConfirmRestoreAck { target, focus } = self {
            (*focus, target.choice) = match (*focus, target.choice) {
                (Button::Cancel, _) => (Button::Acknowledge, Disposition::Resume),
                (Button::Acknowledge, Disposition::Resume) => {
                    (Button::Acknowledge, Disposition::Abandon)
                }
                (Button::Acknowledge, Disposition::Abandon) => {
                    (Button::Cancel, Disposition::Resume)
                }
            };
            return;
        }
        if let Dialog::ConfirmRetry { focus, .. }
        | Dialog::ConfirmRevert { focus, .. }
        | Dialog::ConfirmPause { focus, .. } = self
        {
            *focus = match focus {
                Button::Cancel => Button::Acknowledge,
                Button::Acknowledge => Button::Cancel,
            };
        }
    }

    /// The request this confirmation sends, as a kubectl command line (None: the read-only
    /// explanation). The dialog shows it and `y` copies it, from this one derivation.
    pub fn kubectl(&self) -> Option<crate::domain::kubectl_cmd::Command> {
        match self {
            Dialog::ConfirmRetry { target, .. } => target.patch.kubectl(),
            Dialog::ConfirmRevert { target, .. } => target.patch.kubectl(),
            Dialog::ConfirmPause { target, .. } => target.patch.kubectl(),
            Dialog::ConfirmRestoreAck { target, .. } => target.request().kubectl(),
            Dialog::Explain { .. } => None,
        }
    }

    pub fn press(&self) -> Press {
        match self {
            Dialog::ConfirmRetry {
                target,
                focus: Button::Acknowledge,
            } => Press::Acknowledge(target.clone()),
            Dialog::ConfirmRevert {
                target,
                focus: Button::Acknowledge,
            } => Press::Revert(target.clone()),
            Dialog::ConfirmPause {
                target,
                focus: Button::Acknowledge,
            } => Press::Pause(target.clone()),
            Dialog::ConfirmRestoreAck {
                target,
                focus: Button::Acknowledge,
            } => Press::RestoreAck(target.clone()),
            _ => Press::Close,
        }
    }
}
