//! The rig itself: addresses stay inside the namespace's range; the shipped Roles, evaluated
//! by the real RBAC authorizer, let `viewer` read everything the console reads.

use std::net::Ipv4Addr;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::rig::Rig;

fn allowed(addr: &str) -> bool {
    match addr.parse::<Ipv4Addr>() {
        Ok(ip) => ip.is_loopback() || ip.octets()[..3] == [198, 51, 100],
        // Hostnames (the node's Hostname address) resolve nowhere: no DNS in the namespace.
        Err(_) => !addr.contains(':') && addr.parse::<std::net::IpAddr>().is_err(),
    }
}

/// Every address a Node, Pod or Service carries: loopback or 198.51.100.0/24 only.
pub async fn no_address_outside_the_namespace_range(rig: Arc<Rig>, _ns: String) {
    let admin = rig.client("admin").await.unwrap();
    let mut seen = Vec::new();
    for n in Api::<Node>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
    {
        for a in n.status.and_then(|s| s.addresses).unwrap_or_default() {
            if a.type_ != "Hostname" {
                seen.push(("node", a.address));
            }
        }
    }
    let pods = Api::<Pod>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    for p in pods {
        let st = p.status.unwrap_or_default();
        seen.extend(st.host_ip.map(|a| ("pod hostIP", a)));
        seen.extend(
            st.pod_ips
                .unwrap_or_default()
                .into_iter()
                .map(|a| ("pod IP", a.ip)),
        );
    }
    for s in Api::<Service>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
    {
        let spec = s.spec.unwrap_or_default();
        seen.extend(
            spec.cluster_ips
                .unwrap_or_default()
                .into_iter()
                .map(|a| ("service", a)),
        );
    }
    let req = http::Request::get("/api/v1/namespaces/default/endpoints/kubernetes")
        .body(Vec::new())
        .unwrap();
    let ep: Value = admin.request(req).await.unwrap();
    for sub in ep["subsets"].as_array().into_iter().flatten() {
        for a in sub["addresses"].as_array().into_iter().flatten() {
            seen.push(("endpoint", a["ip"].as_str().unwrap_or_default().to_string()));
        }
    }
    assert!(
        seen.iter().any(|(k, _)| *k == "service"),
        "no Service seen: {seen:?}"
    );
    assert!(
        seen.iter().any(|(k, _)| *k == "node"),
        "no Node address seen: {seen:?}"
    );
    let outside: Vec<_> = seen.iter().filter(|(_, a)| !allowed(a)).collect();
    assert!(
        outside.is_empty(),
        "addresses outside {}: {outside:?}",
        super::rig::RANGE
    );
}

/// `viewer`, bound to assets/rbac/viewer.yaml: every read the console makes is allowed.
pub async fn viewer_reads_with_zero_forbidden(rig: Arc<Rig>, ns: String) {
    let viewer = rig.client("viewer").await.unwrap();
    let paths = [
        format!("/apis/openbao.org/v1alpha1/namespaces/{ns}/openbaoclusters"),
        format!("/apis/batch/v1/namespaces/{ns}/jobs"),
        format!("/api/v1/namespaces/{ns}/pods"),
    ];
    for p in &paths {
        let req = http::Request::get(p.as_str()).body(Vec::new()).unwrap();
        let v: Value = viewer
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("viewer GET {p}: {e}"));
        assert!(v["items"].is_array(), "{p}: {v}");
    }
    // And nothing beyond: the real authorizer refuses a write.
    let req = http::Request::delete(format!("/api/v1/namespaces/{ns}/pods/x"))
        .body(Vec::new())
        .unwrap();
    match viewer.request::<Value>(req).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403, "{s:?}"),
        other => panic!("viewer delete should be 403: {other:?}"),
    }
}
