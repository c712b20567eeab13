//! [`ApiError`]: what the simulator's store and API server fail with, and the
//! `kind: Status` body the server sends for it (as apimachinery's `pkg/api/errors/errors.go`).

use serde_json::Value;

use super::store::Resource;

/// An error the API server turns into a `kind: Status` body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, `BadRequest`, ...
    pub reason: String,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }

    /// `details` as the real API server fills them: name, group, kind (the plural).
    pub(crate) fn with_target(mut self, r: Resource, name: &str) -> ApiError {
        let mut d = serde_json::json!({ "group": r.group(), "kind": r.plural() });
        if !name.is_empty() {
            d["name"] = Value::String(name.to_string());
        }
        if let (Some(Value::Object(extra)), Value::Object(base)) = (self.details.take(), &mut d) {
            base.extend(extra);
        }
        self.details = Some(d);
        self
    }

    pub(crate) fn with_details(mut self, details: Value) -> ApiError {
        self.details = Some(details);
        self
    }

    pub(crate) fn not_found(r: Resource, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", r.qualified()),
        )
        .with_target(r, name)
    }

    pub(crate) fn already_exists(r: Resource, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", r.qualified()),
        )
        .with_target(r, name)
    }

    pub fn conflict(r: Resource, name: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                r.qualified()
            ),
        )
        .with_target(r, name)
    }

    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// The `kind: Status` body the API server sends for this error.
    pub(crate) fn to_status(&self) -> Value {
        let mut s = serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}
