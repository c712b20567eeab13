//! The simulator's API server seen through kube-rs (real TLS, bearer tokens, a kubeconfig
//! the server wrote): the API-server behaviours the console relies on, one module per API
//! area (`cargo test --test sim sim_api::` runs them all).

mod access;
mod faults;
mod logs;
mod reads;
mod watch;
mod writes;

/// The API server's message for a write on a stale resourceVersion.
const CONFLICT: &str = "Operation cannot be fulfilled on openbaoclusters.openbao.org \"prod-cluster\": the object has been modified; please apply your changes to the latest version and try again";

/// The object's resourceVersion (empty when it has none).
fn rv(o: &kube::api::DynamicObject) -> String {
    o.metadata.resource_version.clone().unwrap_or_default()
}
