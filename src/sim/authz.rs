//! Authorization in the simulator's API server: the verb of a request, the 403 Forbidden
//! message the real API server words, and `SelfSubjectAccessReview` answers from the
//! caller's denials (message as apiserver's `pkg/endpoints/handlers/responsewriters/errors.go`).

use hyper::Method;
use serde_json::{Value, json};

use super::controls::User;
use super::error::ApiError;
use super::select::Query;
use super::server::{Resp, Target, error_resp, json_resp};
use super::store::Resource;

/// The RBAC verb of a request on a resource path.
///
/// Port-forward is `create` whatever the method: kube-rs upgrades a GET to a WebSocket,
/// which the API server authorizes as `create` on `pods/portforward` (as for SPDY's POST).
pub(crate) fn verb(method: &Method, t: &Target, q: &Query) -> &'static str {
    if t.sub.as_deref() == Some("portforward") {
        return "create";
    }
    match *method {
        Method::GET if t.name.is_none() => {
            if q.flag("watch") {
                "watch"
            } else {
                "list"
            }
        }
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if t.name.is_none() => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

/// `openbaoclusters.openbao.org "prod" is forbidden: User "viewer" cannot patch resource
/// "openbaoclusters" in API group "openbao.org" in the namespace "security"`.
pub(crate) fn forbidden(user: &User, verb: &str, t: &Target) -> ApiError {
    let r = t.r;
    let resource = match t.sub.as_deref() {
        Some(sub) => format!("{}/{sub}", r.plural()),
        None => r.plural().to_string(),
    };
    let subject = match t.name.as_deref() {
        Some(n) => format!("{} \"{n}\"", r.qualified()),
        None => r.qualified(),
    };
    let scope = match t.ns.as_deref() {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    ApiError::new(
        403,
        "Forbidden",
        format!(
            "{subject} is forbidden: User \"{}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
            user.name,
            r.group()
        ),
    )
    .with_target(r, t.name.as_deref().unwrap_or(""))
}

/// POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews.
pub(crate) fn access_review(user: &User, body: &[u8]) -> Resp {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .or_else(|| super::proto::access_review(body));
    let Some(mut review) = parsed else {
        return error_resp(&ApiError::bad_request(
            "the object provided is unrecognized (must be of type SelfSubjectAccessReview)",
        ));
    };
    let attrs = review.pointer("/spec/resourceAttributes").cloned();
    let (allowed, reason) = match attrs {
        None => (
            true,
            "no resource attributes: non-resource requests are allowed".to_string(),
        ),
        Some(a) => {
            let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (verb, group, resource) = (s("verb"), s("group"), s("resource"));
            match Resource::from_plural(&group, &resource) {
                Some(r)
                    if user.is_denied_sub(
                        &verb,
                        r,
                        Some(s("subresource")).filter(|s| !s.is_empty()).as_deref(),
                    ) =>
                {
                    (false, String::new())
                }
                Some(_) => (true, format!("allowed for user \"{}\"", user.name)),
                // Resources the simulator does not serve: allowed for unrestricted users.
                None if user.denied.is_empty() => {
                    (true, format!("allowed for user \"{}\"", user.name))
                }
                None => (false, String::new()),
            }
        }
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    if !review.get("metadata").is_some_and(Value::is_object) {
        review["metadata"] = json!({});
    }
    review["metadata"]["creationTimestamp"] = Value::Null;
    let mut status = json!({"allowed": allowed});
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    review["status"] = status;
    json_resp(201, &review)
}

/// POST /apis/authentication.k8s.io/v1/selfsubjectreviews: the authenticated user, as the
/// real API server answers it (GA since 1.28; the console names the user from it).
pub(crate) fn self_review(user: &User) -> Resp {
    let mut groups = user.groups.clone();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    json_resp(
        201,
        &json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user.name, "groups": groups}}
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: Option<&str>) -> Target {
        Target {
            r: Resource::OpenBaoClusters,
            ns: Some("security".into()),
            name: name.map(str::to_string),
            sub: None,
            rest: String::new(),
        }
    }

    #[test]
    fn forbidden_message_is_the_api_servers() {
        let u = User::read_only("viewer", "t");
        let e = forbidden(&u, "patch", &target(Some("prod-cluster")));
        assert_eq!(
            e.message,
            "openbaoclusters.openbao.org \"prod-cluster\" is forbidden: User \"viewer\" cannot patch resource \"openbaoclusters\" in API group \"openbao.org\" in the namespace \"security\""
        );
        assert_eq!(e.code, 403);
        let l = forbidden(&u, "list", &target(None));
        assert!(
            l.message
                .starts_with("openbaoclusters.openbao.org is forbidden")
        );
    }

    #[test]
    fn verbs() {
        let q = Query::parse(Some("watch=true"));
        assert_eq!(verb(&Method::GET, &target(None), &q), "watch");
        assert_eq!(verb(&Method::GET, &target(None), &Query::default()), "list");
        assert_eq!(verb(&Method::PATCH, &target(Some("x")), &q), "patch");
        let forward = Target {
            r: Resource::Pods,
            sub: Some("portforward".into()),
            ..target(Some("p"))
        };
        assert_eq!(verb(&Method::GET, &forward, &q), "create");
    }

    #[test]
    fn a_subresource_denial_leaves_the_resource_and_its_other_subresources() {
        let mut u = User::new("responder", "t");
        u.denied_subresources
            .push(("get".into(), Resource::Pods, "proxy".into()));
        assert!(u.is_denied_sub("get", Resource::Pods, Some("proxy")));
        assert!(!u.is_denied_sub("get", Resource::Pods, None));
        assert!(!u.is_denied_sub("get", Resource::Pods, Some("log")));
        assert!(!u.is_denied_sub("create", Resource::Pods, Some("portforward")));
        let review = |sub: &str| {
            let body = json!({"spec": {"resourceAttributes":
                {"verb": "get", "resource": "pods", "subresource": sub}}});
            access_review(&u, body.to_string().as_bytes())
        };
        let allowed = |resp: Resp| async move {
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .unwrap()
                .to_bytes();
            serde_json::from_slice::<Value>(&body).unwrap()["status"]["allowed"].clone()
        };
        assert_eq!(
            futures::executor::block_on(allowed(review("proxy"))),
            json!(false)
        );
        assert_eq!(
            futures::executor::block_on(allowed(review(""))),
            json!(true)
        );
    }
}
