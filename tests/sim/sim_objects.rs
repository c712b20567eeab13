//! Object lifecycle details of the simulator's API server through kube-rs: name
//! validation, generateName, update preconditions, delete preconditions and cascading.

use crate::support::sim::*;
use breakglass::sim::store::Resource;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions};
use serde_json::json;

#[tokio::test]
async fn names_generate_name_and_put_rules() {
    let sim = start().await;
    let api = clusters(sim.admin().await);
    let mut bad = cluster("Bad_Name");
    bad["metadata"]["namespace"] = json!(NS);
    let obj: DynamicObject = serde_json::from_value(bad).unwrap();
    let s = status_of(api.create(&PostParams::default(), &obj).await);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(
        s.message
            .contains("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"),
        "{}",
        s.message
    );

    let mut generated = cluster("");
    generated["metadata"] = json!({"generateName": "restore-", "namespace": NS});
    let obj: DynamicObject = serde_json::from_value(generated).unwrap();
    let made = api.create(&PostParams::default(), &obj).await.unwrap();
    let name = made.metadata.name.unwrap();
    assert!(
        name.starts_with("restore-") && name.len() == "restore-".len() + 5,
        "{name}"
    );

    // A PUT of a custom resource must carry a resourceVersion.
    let mut cur = api.get(CLUSTER).await.unwrap();
    cur.metadata.resource_version = None;
    let s = status_of(api.replace(CLUSTER, &PostParams::default(), &cur).await);
    assert_eq!(s.code, 422);
    assert!(
        s.message.contains(
            "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
        )
    );
    // Missing required fields are 422 with one cause each.
    let mut partial = cluster("partial");
    partial["spec"] = json!({"version": "2.4.0"});
    let obj: DynamicObject = serde_json::from_value(partial).unwrap();
    let s = status_of(api.create(&PostParams::default(), &obj).await);
    assert_eq!(s.code, 422);
    let fields: Vec<String> = s
        .details
        .unwrap()
        .causes
        .into_iter()
        .map(|c| c.field)
        .collect();
    for f in ["spec.storage", "spec.tls"] {
        assert!(fields.iter().any(|x| x == f), "{fields:?}");
    }
}

#[tokio::test]
async fn delete_preconditions_and_cascade() {
    let sim = start().await;
    let admin = sim.admin().await;
    let api = clusters(admin.clone());
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some("999".into()),
            uid: None,
        }),
        ..Default::default()
    };
    let s = status_of(api.delete(CLUSTER, &dp).await.map(|_| ()));
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert!(
        s.message
            .contains("the ResourceVersion in the precondition (999) does not match"),
        "{}",
        s.message
    );

    // A Job and its pod: deleting the Job through the API orphans the pod by default
    // (batch/v1's REST default), background propagation removes it.
    let job = sim
        .store
        .create(Resource::Jobs, json!({"metadata": {"name": "upgrade-prod-cluster-bluegreen-repair-consensus-0123456789", "namespace": NS}, "spec": {"template": {"spec": {"containers": [{"name": "executor", "image": "x"}], "restartPolicy": "Never"}}}}))
        .unwrap();
    let uid = job["metadata"]["uid"].as_str().unwrap().to_string();
    let owned = |name: &str| {
        let mut p = pod(
            name,
            &["executor"],
            json!({"batch.kubernetes.io/job-name": "upgrade"}),
            false,
        );
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": uid, "controller": true}]);
        p
    };
    sim.store
        .create(Resource::Pods, owned("job-pod-a"))
        .unwrap();
    let jobs: Api<Job> = Api::namespaced(admin.clone(), NS);
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NS);
    let job_name = "upgrade-prod-cluster-bluegreen-repair-consensus-0123456789";
    jobs.delete(job_name, &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        pods.get_opt("job-pod-a").await.unwrap().is_some(),
        "orphaned by default"
    );

    let job = sim
        .store
        .create(
            Resource::Jobs,
            json!({"metadata": {"name": job_name, "namespace": NS}, "spec": {}}),
        )
        .unwrap();
    let uid2 = job["metadata"]["uid"].as_str().unwrap().to_string();
    let mut p = owned("job-pod-b");
    p["metadata"]["ownerReferences"][0]["uid"] = json!(uid2);
    sim.store.create(Resource::Pods, p).unwrap();
    jobs.delete(job_name, &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        pods.get_opt("job-pod-b").await.unwrap().is_none(),
        "background cascade"
    );

    // Strategic merge on a built-in is accepted and merges maps.
    let p = pods
        .patch(
            "job-pod-a",
            &PatchParams::default(),
            &Patch::Strategic(json!({"metadata": {"labels": {"extra": "1"}}})),
        )
        .await
        .unwrap();
    let labels = p.metadata.labels.unwrap();
    assert_eq!(
        (
            labels["extra"].as_str(),
            labels["batch.kubernetes.io/job-name"].as_str()
        ),
        ("1", "upgrade")
    );
}

#[tokio::test]
async fn every_error_is_a_status() {
    let sim = start().await;
    let admin = sim.admin().await;
    let base = format!("/apis/openbao.org/v1alpha1/namespaces/{NS}/openbaoclusters");
    let cases = [
        (
            "GET",
            "/apis/example.com/v1/things".to_string(),
            "",
            "",
            404,
        ),
        ("GET", format!("{base}/nope"), "", "", 404),
        (
            "POST",
            format!("{base}/{CLUSTER}"),
            "application/json",
            "{}",
            405,
        ),
        ("POST", base.clone(), "application/json", "not json", 400),
        (
            "PATCH",
            format!("{base}/{CLUSTER}"),
            "text/plain",
            "{}",
            415,
        ),
        (
            "PATCH",
            format!("{base}/{CLUSTER}"),
            "application/json-patch+json",
            r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
            422,
        ),
        (
            "GET",
            format!("{base}?labelSelector=a%20in%20b"),
            "",
            "",
            400,
        ),
        ("GET", format!("{base}?continue=garbage"), "", "", 400),
        (
            "GET",
            format!("/api/v1/namespaces/{NS}/pods/two-containers/log?container=nope"),
            "",
            "",
            400,
        ),
    ];
    for (method, path, ct, body, code) in cases {
        let (got, text) = raw(&admin, method, &path, ct, body).await;
        assert_eq!(got, code, "{method} {path}: {text}");
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        assert_eq!(v["kind"], "Status", "{path}");
        assert_eq!(v["status"], "Failure");
        assert_eq!(v["code"], code);
        assert!(
            v["reason"].is_string() && v["message"].is_string(),
            "{text}"
        );
    }
}
