//! The simulator: a strict Kubernetes API server on 127.0.0.1 over HTTPS (`server`,
//! `store`, `schema`, `discovery`, `tls`) plus an operator twin (`twin`) that plays the
//! real operator's break-glass behaviour from a scenario (`scenario`, `assets/scenarios/`).
//!
//! The console reaches it only through a kubeconfig, exactly like a real cluster. Nothing
//! here is used by the live code paths.

pub mod authz;
pub mod bao;
pub mod controls;
pub mod discovery;
pub mod error;
pub mod executor_log;
mod faults;
pub mod logapi;
pub mod openapi;
pub mod openbao;
pub mod openbao_sim;
pub mod operator_line;
pub mod patch;
pub mod podlog;
pub mod portforward;
pub mod proto;
pub mod real_nodes;
pub mod rest;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod select;
pub mod server;
pub mod store;
pub mod subres;
pub mod table;
pub mod tls;
pub mod twin;
pub mod twin_api;
pub mod twin_api_kube;
pub mod twin_cluster;
pub mod twin_events;
mod twin_exec;
pub mod twin_kube;
pub mod twin_objects;
pub mod twin_restore;
mod twin_rollback;
pub mod twin_seed;
pub mod watch;
