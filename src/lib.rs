//! breakglass: a terminal console for a failed OpenBao Blue/Green rollback (break glass).
//!
//! Data flow (see the house style in README "How it is built"):
//! `sources` (kube-rs watchers, log follower, Raft poller, action executor) send
//! [`sources::SourceEvent`]s; the [`runtime`] turns them and a clock into [`app::Msg`]s for
//! the pure [`app::update`] and runs the returned [`app::Effect`]s, with no terminal; the
//! terminal loop ([`tui`]) adds keyboard input and draws with the read-only [`ui::render`].
//! The `sim` module is a strict Kubernetes API server plus an operator twin, used by the
//! demo and the tests through an ordinary kubeconfig.

pub mod ack;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod exit;
pub mod highlight;
pub mod journal;
pub mod logs;
pub mod patterns;
pub mod pick;
pub mod runtime;
pub mod shell;
pub mod sim;
pub mod sources;
pub mod status;
pub mod status_list;
pub mod terminal;
pub mod trace_log;
pub mod tui;
pub mod ui;

#[cfg(test)]
mod layers_tests;
