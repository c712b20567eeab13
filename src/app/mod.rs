//! The app core: `State`, `Msg`, the pure `update`, and the `Effect`s it asks for.
//!
//! `update` never awaits and never does I/O; `runtime` runs the effects.
//! `keymap` is the one key table (help is generated from it), `dialog` the confirmation
//! state machine, `state` the data and the derived rules (ages, staleness, Retry allowed).
//!
//! The runtime's side of the contract:
//! - build `State::new(Options { .. })`, then send `Msg::Resize` with the terminal size
//!   (paging and pausing the log use it; 80x24 is assumed until then);
//! - send `Msg::Tick(now)` about once a second (ages are computed against it, never against
//!   the wall clock inside `update`), every `SourceEvent` as `Msg::Source`, every key
//!   press as `Msg::Key`; redraw with `ui::render` after each message that changed state;
//! - run the returned effects: `Effect::Quit` ends the loop; `Effect::Patch` sends the
//!   confirmed body exactly (`sources::actions::send`) and answers with
//!   `SourceEvent::Action(..)` (until then the action shows "in flight").

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use msg::SourceEvent;

pub mod copy;
pub mod decide;
pub mod dialog;
pub mod keymap;
mod keys;
pub mod lognav;
pub mod msg;
pub mod pause_repair;
pub mod picker;
pub mod restore_ack;
pub mod scope;
pub mod state;
mod update;
pub mod wizard;
mod wizard_flow;
pub mod write_mode;
pub mod writes;

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
    /// Send this confirmed JSON merge patch of the OpenBaoCluster (the acknowledgement, the
    /// revert, a Pause and repair step) with its exact body: the executor re-reads the
    /// cluster and refuses if the shared guard no longer holds, runs a dry run, then sends
    /// the body, whose resourceVersion makes a changed object a 409. Only produced from a
    /// confirmed dialog in write mode; answered by `SourceEvent::Action`.
    Patch(crate::domain::write::ClusterPatch),
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
    /// Put this text on the user's clipboard: the loop writes `terminal::osc52(text)` to the
    /// terminal (it travels through SSH and tmux). Only ever from `y` (`app::copy`).
    Copy(String),
}
