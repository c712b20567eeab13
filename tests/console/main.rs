//! Integration harness: the console's sources, decisions, actions, logs and CLI against the
//! simulator, and the Raft readings against real OpenBao (`bao`) nodes. One test binary; each
//! module was once a binary of its own (`cargo test --test console raft_token::` runs one).
//!
//! Tests that start real `bao` nodes (`bao_*`, `raft_*`) take
//! [`support::real_bao_gate`] first: one real cluster at a time, the rest stays parallel.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

#[path = "../support/mod.rs"]
mod support;

mod bao_proxy;
mod bao_transfer;
mod cli_highlight;
mod cli_status;
mod decision_sim;
mod events_sim;
mod highlight_corpus;
mod logs_sim;
mod pause_repair_sim;
mod raft_portfwd;
mod raft_real;
mod raft_real_cleanup;
mod raft_token;
mod restore_sim;
mod runtime_headless;
mod scope_watch_sim;
mod sources_sim;
