//! Sources: tokio tasks that read the world and send [`SourceEvent`]s to the app loop.
//!
//! They never exit on errors: they back off, report a [`SourceEvent::Problem`], and resume.
//! They hold no UI state.

pub mod actions;
pub mod connect;
pub mod events;
pub mod logfollow;
pub mod openbao_access;
pub mod openbao_http;
pub mod openbao_portforward;
pub mod operator;
pub mod raft;
pub mod rbac;
pub mod restore;
pub mod restore_follow;
pub mod snapshot;
pub mod watch;

pub use crate::app::msg::{ActionOutcome, RestoreEvent, SourceEvent, SourceName};
