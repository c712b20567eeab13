//! One write truth: every write the console, the executor and `breakglass ack` make is
//! judged by ONE guard per action and built by ONE builder per request, here.
//!
//! - [`Refusal`]: why a write is not made, typed; its `Display` is the text the screen and
//!   the CLI both show.
//! - [`guard`]: what is judged before a dialog opens, again when it is confirmed, and by
//!   the executor on its fresh read (the same functions, so the three can never disagree).
//! - [`patch`]: the builders. A [`ClusterPatch`] is built once from the object the guard
//!   judged; its `body` is what the dialog shows, what the effect carries, the exact bytes
//!   the executor sends and what the journal's `request` entry records.
//! - [`request`]: the same for the Restore wizard's requests and the restore
//!   acknowledgement (`Request::method_path`, `Request::body`, `Request::preview`).
//!
//! The resourceVersion rule (README "What is sent, and when"): the body carries the
//! resourceVersion of the object the user saw judged. It is never re-read and replaced: if
//! the object changed, the API server answers 409 and the console re-opens the dialog on
//! the fresh object, saying why.
//!
//! Pure: no I/O, no clock, no tokio.

pub mod guard;
pub mod patch;
mod refusal;
pub mod request;

pub(crate) use guard::{Seen, Session};
pub use patch::{ClusterPatch, ClusterWrite, PauseStep};
pub(crate) use refusal::Refusal;

#[cfg(test)]
mod tests;
