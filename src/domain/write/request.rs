//! The Restore wizard's and the restore acknowledgement's requests: one builder for the
//! method, the path and the body each sends (the wizard's preview, the journal and the
//! executor all use it).

use serde_json::{Value, json};

use crate::domain::restore::{Request, restore_ack_patch};

/// The API path of the OpenBaoRestores of `namespace`.
pub(crate) fn restores_path(namespace: &str) -> String {
    format!("/apis/openbao.org/v1alpha1/namespaces/{namespace}/openbaorestores")
}

impl Request {
    /// The HTTP method and API path the request goes to.
    pub fn method_path(&self) -> (&'static str, String) {
        match self {
            Request::Scale {
                namespace, name, ..
            } => (
                "PATCH",
                format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"),
            ),
            Request::DeletePvc { namespace, name } => (
                "DELETE",
                format!("/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"),
            ),
            Request::CreateRestore { namespace, .. } => ("POST", restores_path(namespace)),
            Request::AcknowledgeRestore {
                namespace, name, ..
            } => ("PATCH", format!("{}/{name}", restores_path(namespace))),
        }
    }

    /// The exact body (None: the request has none).
    pub fn body(&self) -> Option<Value> {
        match self {
            Request::Scale { replicas, .. } => Some(json!({"spec": {"replicas": replicas}})),
            Request::DeletePvc { .. } => None,
            Request::CreateRestore { body, .. } => Some(body.clone()),
            Request::AcknowledgeRestore {
                uid,
                disposition,
                resource_version,
                ..
            } => Some(restore_ack_patch(uid, *disposition, resource_version)),
        }
    }

    /// This request as a kubectl command line (what kubectl cannot carry is its caveat).
    pub fn kubectl(&self) -> Option<crate::domain::kubectl_cmd::Command> {
        let (method, path) = self.method_path();
        crate::domain::kubectl_cmd::for_api(method, &path, self.body().as_ref())
    }

    /// One line for the preview: `METHOD path body`, the body exactly as sent.
    pub fn preview(&self) -> String {
        let (method, path) = self.method_path();
        match self.body() {
            Some(b) => format!("{method} {path} {b}"),
            None => format!("{method} {path}"),
        }
    }
}
