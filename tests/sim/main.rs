//! Integration harness: the simulator's API server (through kube-rs, stock `kubectl` and
//! `breakglass sim`) and the operator twin on both operator lines. One test binary; each
//! module was once a binary of its own (`cargo test --test sim sim_api::` runs one of them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

#[path = "../support/mod.rs"]
mod support;

mod sim_api;
mod sim_cli;
mod sim_kubectl;
mod sim_objects;
mod sim_watch;
mod twin_flow;
mod twin_flow_06;
mod twin_kubectl;
mod twin_operator;
mod twin_seed;
mod twin_server;
