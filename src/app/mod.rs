//! The app core: `State`, `Msg`, the pure `update`, and the `Effect`s it asks for.
//!
//! `update` never awaits and never does I/O; the loop in `tui` runs the effects.
//! `keymap` is the one key table (help is generated from it), `dialog` the confirmation
//! state machine, `state` the data and the derived rules (ages, staleness, Retry allowed).
//!
//! The runtime's side of the contract:
//! - build `State::new(Options { .. })`, then send `Msg::Resize` with the terminal size
//!   (paging and pausing the log use it; 80x24 is assumed until then);
//! - send `Msg::Tick(now)` about once a second (ages are computed against it, never against
//!   the wall clock inside `update`), every `SourceEvent` as `Msg::Source`, every key
//!   press as `Msg::Key`; redraw with `ui::render` after each message that changed state;
//! - run the returned effects: `Effect::Quit` ends the loop; `Effect::Acknowledge` re-reads
//!   the cluster, refuses if the nonce changed, patches with the resourceVersion, and
//!   answers with `SourceEvent::Action(..)` (until then Retry shows "in flight").

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use crate::sources::SourceEvent;

pub mod decide;
pub mod dialog;
pub mod keymap;
pub mod lognav;
pub mod pause_repair;
pub mod picker;
pub mod restore_ack;
pub mod state;
mod update;
pub mod wizard;
mod wizard_flow;
pub mod write_mode;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod guard_tests;
#[cfg(test)]
mod tests;

pub use dialog::{Button, Dialog};
pub use state::{DecisionPane, Focus, Options, Presence, RetryTarget, State};
pub use update::{contexts, update};

/// Everything `update` consumes.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one message at a time through update; boxing buys nothing"
)]
pub enum Msg {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved (ages and staleness are computed against this, never read inside update).
    Tick(Timestamp),
    Source(SourceEvent),
}

/// A side effect the loop must perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Send `{"metadata":{"resourceVersion":rv},"spec":{"breakGlassAck":nonce}}` as a JSON merge
    /// patch, after re-reading the cluster and refusing if the nonce is no longer current.
    /// Only produced from a confirmed dialog.
    Acknowledge {
        nonce: String,
        resource_version: String,
    },
    /// Revert `spec.version` (and `spec.image`) to Blue's with a JSON merge patch, after
    /// re-reading and refusing if `from_version` changed or break glass is active again.
    /// Only produced from a confirmed revert dialog in write mode.
    Revert {
        from_version: String,
    },
    /// Pause and repair: send `step`'s merge patch (`spec.paused: true`, or `paused: false`
    /// with the acknowledgement of `nonce`), after re-reading and refusing if the nonce or
    /// the pause state no longer match. Only produced from a confirmed dialog in write mode.
    PauseRepair {
        step: crate::sources::actions::PauseStep,
        nonce: String,
    },
    /// Read what the Restore wizard needs (reads only), answered by `SourceEvent::RestoreFacts`.
    LoadRestoreFacts,
    /// Send one confirmed Restore wizard step (dry run first), answered by `SourceEvent::Action`.
    WizardSend(crate::domain::restore::Request),
    /// Follow the OpenBaoRestore `name` just created: watch its status and stream its Job
    /// `restore-<name>`'s log, answered by `SourceEvent::Restore` (reads only).
    FollowRestore {
        namespace: String,
        name: String,
    },
    /// Append `entries` to the incident journal at `path` (off the UI path, never blocking).
    Journal {
        path: std::path::PathBuf,
        entries: Vec<crate::journal::Entry>,
    },
}
