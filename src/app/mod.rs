//! The app core: `State`, `Msg`, the pure `update`, and the `Effect`s it asks for.
//!
//! `update` never awaits and never does I/O; the loop in `tui` runs the effects.
//! `keymap` is the one key table (help is generated from it), `dialog` the confirmation
//! state machine, `state` the data and the derived rules (ages, staleness, Retry allowed).

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use crate::sources::SourceEvent;

pub mod dialog;
pub mod keymap;
pub mod state;
mod update;

#[cfg(test)]
pub(crate) mod fixtures;
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
}
