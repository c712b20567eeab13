//! Sources: tokio tasks that read the world and send [`SourceEvent`]s to the app loop.
//!
//! They never exit on errors: they back off, report a [`SourceEvent::Problem`], and resume
//! (a 401 excepted: then nothing more is sent, `liveness_auth`). Freshness is confirmed, not
//! assumed: `liveness` probes the API server and marks the watched sources stale when it
//! does not answer. They hold no UI state.

pub mod actions;
pub mod connect;
pub mod discover;
pub mod events;
pub mod liveness;
pub mod liveness_auth;
pub mod logfollow;
pub mod openbao_access;
pub mod openbao_http;
pub mod openbao_portforward;
pub mod operator;
pub mod raft;
pub mod rbac;
pub mod restore;
pub mod restore_follow;
pub mod scope_watch;
pub mod snapshot;
pub mod watch;

pub use crate::app::msg::{ActionOutcome, RestoreEvent, SourceEvent, SourceName};
