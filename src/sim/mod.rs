//! The simulator: a strict Kubernetes API server on 127.0.0.1 over HTTPS (`server`,
//! `store`, `schema`, `discovery`, `tls`) plus an operator twin (`twin`) that plays the
//! real operator's break-glass behaviour from a scenario (`scenario`, `assets/scenarios/`).
//!
//! The console reaches it only through a kubeconfig, exactly like a real cluster. Nothing
//! here is used by the live code paths.

pub mod bao;
pub mod openbao;
pub mod scenario;
pub mod store;
pub mod twin;
