//! Authorization: SelfSubjectAccessReviews, 403 with the API server's exact message, denials
//! changed at run time, 401 without a token.

use breakglass::sim::store::Resource;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::support::sim::*;

async fn can_i(client: Client, verb: &str) -> bool {
    let ssar = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(NS.into()),
                verb: Some(verb.into()),
                group: Some("openbao.org".into()),
                resource: Some("openbaoclusters".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client);
    api.create(&PostParams::default(), &ssar)
        .await
        .unwrap()
        .status
        .unwrap()
        .allowed
}

#[tokio::test]
async fn access_reviews_forbidden_and_unauthorized() {
    let sim = start().await;
    assert!(can_i(sim.admin().await, "patch").await);
    assert!(!can_i(sim.viewer().await, "patch").await);
    assert!(can_i(sim.viewer().await, "get").await);
    let viewer = clusters(sim.viewer().await);
    viewer.get(CLUSTER).await.unwrap();
    let s = status_of(
        viewer
            .patch(
                CLUSTER,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": 1}})),
            )
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "openbaoclusters.openbao.org \"prod-cluster\" is forbidden: User \"viewer\" cannot patch resource \"openbaoclusters\" in API group \"openbao.org\" in the namespace \"security\""
    );
    // Denials change at run time.
    let c = sim.server.controls();
    c.deny("admin", "get", Resource::OpenBaoClusters);
    assert_eq!(
        status_of(clusters(sim.admin().await).get(CLUSTER).await).code,
        403
    );
    c.allow("admin", "get", Resource::OpenBaoClusters);
    clusters(sim.admin().await).get(CLUSTER).await.unwrap();
    // No token: 401.
    let mut cfg = sim.config("sim").await;
    cfg.auth_info.token = None;
    let anon = clusters(Client::try_from(cfg).unwrap());
    assert_eq!(status_of(anon.get(CLUSTER).await).code, 401);
    let viewer_mutations = c
        .requests()
        .iter()
        .filter(|r| r.user == "viewer" && r.is_mutating() && r.status < 400)
        .count();
    assert_eq!(viewer_mutations, 0);
}
