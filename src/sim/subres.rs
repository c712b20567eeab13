//! Subresources beyond status: deployments' `scale` (autoscaling/v1 Scale, get and
//! patch/update of `spec.replicas`) and the pod proxy to OpenBao's HTTP API.

use serde_json::{Value, json};

use super::error::ApiError;
use super::rest::{Answer, rv_of};
use super::schema;
use super::select::Query;
use super::server::{Ctx, Resp, Target, error_resp, full};
use super::store::{Resource, UpdateOptions};

pub(crate) fn scale_of(dep: &Value) -> Value {
    let meta = dep.get("metadata").cloned().unwrap_or(json!({}));
    let pick = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
    let selector: Vec<String> = dep
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": pick("name"),
            "namespace": pick("namespace"),
            "uid": pick("uid"),
            "resourceVersion": pick("resourceVersion"),
            "creationTimestamp": pick("creationTimestamp"),
        },
        // autoscaling/v1 ScaleSpec: `replicas,omitempty` — 0 is left out, as the real server does.
        "spec": match dep.pointer("/spec/replicas").cloned().unwrap_or(json!(1)) {
            n if n == json!(0) => json!({}),
            n => json!({"replicas": n}),
        },
        "status": {
            "replicas": dep.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector.join(","),
        }
    })
}

pub(crate) fn write_scale(ctx: &Ctx, t: &Target, cur: &Value, scale: &Value, q: &Query) -> Answer {
    let name = t.name.clone().unwrap_or_default();
    let replicas = scale.pointer("/spec/replicas");
    let Some(n) = replicas.and_then(Value::as_i64).filter(|n| *n >= 0) else {
        return Err(schema::invalid_error(
            Resource::Deployments,
            &name,
            &[schema::Cause {
                reason: "FieldValueInvalid".into(),
                message: format!(
                    "Invalid value: {}: must be greater than or equal to 0",
                    replicas.map_or("null".to_string(), Value::to_string)
                ),
                field: "spec.replicas".into(),
            }],
        ));
    };
    let mut new = cur.clone();
    new["spec"]["replicas"] = json!(n);
    let opts = UpdateOptions {
        precondition: Some(rv_of(cur).to_string()),
        dry_run: q.dry_run(),
    };
    let ns = t.ns.clone().unwrap_or_default();
    let v = ctx.store().update(t.r, &ns, &name, new, &opts)?;
    Ok((200, scale_of(&v), Vec::new()))
}

/// `GET /api/v1/namespaces/{ns}/pods/{name}[:port]/proxy/{path}` → the [`PodProxy`], with
/// the request's `X-Vault-Token` passed on (as the real API server's proxy does).
///
/// [`PodProxy`]: super::openbao::PodProxy
pub(crate) async fn proxy(ctx: &Ctx, t: &Target, query: Option<&str>, token: Option<&str>) -> Resp {
    let raw = t.name.clone().unwrap_or_default();
    let parts: Vec<&str> = raw.split(':').collect();
    let (pod, port) = match parts.as_slice() {
        [pod] => (*pod, "8200"),
        [pod, port] => (*pod, *port),
        [_scheme, pod, port] => (*pod, *port),
        _ => ("", ""),
    };
    let port = if port.is_empty() { "8200" } else { port };
    let Ok(port) = port.parse::<u16>() else {
        return error_resp(&ApiError::bad_request(format!("invalid port {port:?}")));
    };
    let ns = t.ns.clone().unwrap_or_default();
    if t.r != Resource::Pods || ctx.store().get(Resource::Pods, &ns, pod).is_none() {
        return error_resp(&ApiError::not_found(Resource::Pods, pod));
    }
    let mut path = format!("/{}", t.rest);
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        path.push('?');
        path.push_str(q);
    }
    let answer = match &ctx.proxy {
        Some(p) => p.get(&ns, pod, port, &path, token).await,
        None => None,
    };
    match answer {
        Some(r) => full(r.status, &r.content_type, r.body),
        None => error_resp(&ApiError::new(
            503,
            "ServiceUnavailable",
            format!(
                "error trying to reach service: dial tcp {pod}:{port}: connect: connection refused"
            ),
        )),
    }
}
