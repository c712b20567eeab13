//! Integration harness: the real `breakglass` binary in a real pseudo-terminal (tmux) on
//! the demo, and the fault campaign (`faults`). One test binary (`cargo test --test e2e`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

#[path = "../support/mod.rs"]
mod support;

mod e2e_console;
mod faults;
