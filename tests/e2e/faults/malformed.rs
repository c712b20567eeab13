//! Malformed objects of every kind the console reads (OpenBaoCluster, Job, Pod, Event):
//! wrong types, missing and extra fields, huge strings, written into the simulator's store
//! behind the API server's back (as a lenient or newer API server, or a schema drift, could
//! serve them). Nothing panics (the screen is drawn after each), a wrong type is named in
//! the pane with the object, the other objects stay shown, and the pane is clean again once
//! the object is readable.

use std::time::{Duration, Instant};

use breakglass::app::State;
use breakglass::sim::store::Resource;
use breakglass::sources::SourceName;
use serde_json::{Value, json};

use crate::support::faults::{Console, Row, secs};

const BOUND: Duration = Duration::from_secs(10);

/// One malformation: what it is, and how it changes the stored object.
type Change = (&'static str, fn(&mut Value));

fn huge() -> Value {
    json!("x".repeat(1 << 20))
}

/// The first stored object of kind `r` whose name starts with `prefix`.
fn first_of(c: &Console, r: Resource, prefix: &str) -> String {
    let (objs, _) = c.sim.store.list(r, Some(&c.sim.namespace));
    objs.iter()
        .filter_map(|o| o.pointer("/metadata/name")?.as_str())
        .find(|n| n.starts_with(prefix))
        .unwrap()
        .to_string()
}

/// What the pane says about object `name` of a kind read by `source` (None: nothing).
fn said(s: &State, source: SourceName, name: &str) -> Option<String> {
    if source == SourceName::Cluster {
        return s.unparseable.clone().filter(|m| m.contains(name));
    }
    s.source(source)
        .problem
        .filter(|m| m.contains(name) && m.contains("cannot be read"))
}

/// Apply each change to `name` (the original restored in between): wrong types must be
/// said within 10 s and cleared within 10 s of the repair; the others read without a word.
/// Returns the row's figures: what was said, the slowest detection and recovery.
async fn campaign(
    c: &mut Console,
    r: Resource,
    source: SourceName,
    name: &str,
    wrong: &[Change],
    readable: &[Change],
) -> (String, Duration, Duration) {
    let ns = c.sim.namespace.clone();
    let original = c.sim.store.get(r, &ns, name).unwrap();
    let restore = |c: &Console| {
        c.sim
            .store
            .modify(r, &ns, name, |o| {
                for k in [
                    "spec",
                    "status",
                    "count",
                    "message",
                    "involvedObject",
                    "lastTimestamp",
                ] {
                    match original.get(k) {
                        Some(v) => o[k] = v.clone(),
                        None => {
                            o.as_object_mut().map(|m| m.remove(k));
                        }
                    }
                }
                o.as_object_mut().map(|m| m.remove("extraTopLevel"));
            })
            .unwrap();
    };
    let (mut first, mut detect, mut recover) = (None, Duration::ZERO, Duration::ZERO);
    for (what, change) in wrong {
        c.sim.store.modify(r, &ns, name, change).unwrap();
        let took = c
            .until(what, BOUND, |s| said(s, source, name).is_some())
            .await;
        let message = said(&c.state, source, name).unwrap();
        assert!(message.chars().count() < 400, "{what}: {message}");
        let screen = c.screen();
        assert!(
            screen.contains("cannot be read")
                || screen.contains("[UNPARSEABLE]")
                || source == SourceName::Events,
            "{what}:\n{screen}"
        );
        // Unreadable cluster or pods: Green's health cannot be judged, so no Retry.
        if matches!(source, SourceName::Cluster | SourceName::Pods) {
            assert!(c.state.retry_target().is_err(), "{what}: Retry offered");
        }
        first.get_or_insert(message);
        detect = detect.max(took);
        restore(c);
        let back = c
            .until(&format!("{what} repaired"), BOUND, |s| {
                said(s, source, name).is_none()
            })
            .await;
        recover = recover.max(back);
    }
    for (what, change) in readable {
        c.sim.store.modify(r, &ns, name, change).unwrap();
        let at = Instant::now();
        while at.elapsed() < Duration::from_secs(2) {
            c.run_for(Duration::from_millis(200)).await;
            assert!(
                said(&c.state, source, name).is_none(),
                "{what}: {:?}",
                said(&c.state, source, name)
            );
            let _ = c.screen();
        }
        restore(c);
    }
    let message = first.unwrap_or_default();
    (message.replace('|', "/"), detect, recover)
}

fn row(
    fault: &'static str,
    (said, detect, recover): (String, Duration, Duration),
    kept: &str,
    c: &Console,
) {
    Row {
        fault,
        saw: format!("`{said}`; no panic; {kept}"),
        detect: secs(detect),
        recover: format!("{} after the object is readable again", secs(recover)),
        lines: "n/a".into(),
        mutations: c.sim.controls().mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_pods() {
    let mut c = Console::start("transient", 4.0, None).await;
    let cluster = c.sim.cluster.clone();
    let name = first_of(&c, Resource::Pods, &cluster);
    let wrong: [Change; 2] = [
        ("restartCount a string", |o| {
            o["status"]["containerStatuses"][0]["restartCount"] = json!("many");
        }),
        ("phase an object holding 1 MB", |o| {
            o["status"]["phase"] = json!({"x": huge()});
        }),
    ];
    let readable: [Change; 3] = [
        ("status missing", |o| {
            o.as_object_mut().map(|m| m.remove("status"));
        }),
        ("extra fields", |o| {
            o["extraTopLevel"] = json!({"a": [1, 2]});
            o["status"]["newField"] = json!(true);
        }),
        ("a 1 MB status message", |o| o["status"]["message"] = huge()),
    ];
    let pods = c.state.incident.pods.len();
    let figures = campaign(
        &mut c,
        Resource::Pods,
        SourceName::Pods,
        &name,
        &wrong,
        &readable,
    )
    .await;
    assert_eq!(c.state.incident.pods.len(), pods);
    row(
        "malformed Pod: restartCount a string, phase an object (1 MB); status missing, extra fields, 1 MB message",
        figures,
        "the other pods stay shown",
        &c,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_jobs() {
    let mut c = Console::start("transient", 4.0, None).await;
    let name = c.sim.seeded.failed_job.clone();
    let wrong: [Change; 2] = [
        ("status.failed a string", |o| {
            o["status"]["failed"] = json!("x")
        }),
        ("conditions a 1 MB string", |o| {
            o["status"]["conditions"] = huge()
        }),
    ];
    let readable: [Change; 2] = [
        ("status missing", |o| {
            o.as_object_mut().map(|m| m.remove("status"));
        }),
        ("extra fields and a 1 MB condition message", |o| {
            o["extraTopLevel"] = json!(1);
            o["status"]["conditions"] =
                json!([{"type": "Failed", "status": "True", "message": huge()}]);
        }),
    ];
    let figures = campaign(
        &mut c,
        Resource::Jobs,
        SourceName::Jobs,
        &name,
        &wrong,
        &readable,
    )
    .await;
    assert!(c.state.incident.all_jobs.iter().any(|j| j.name == name));
    row(
        "malformed Job: status.failed a string, conditions a 1 MB string; status missing, extra fields, 1 MB condition message",
        figures,
        "the other Jobs stay shown",
        &c,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events() {
    let mut c = Console::start("transient", 4.0, None).await;
    let ns = c.sim.namespace.clone();
    let cluster = c.sim.cluster.clone();
    let obj = c
        .sim
        .store
        .get(Resource::OpenBaoClusters, &ns, &cluster)
        .unwrap();
    let event = breakglass::sim::twin_events::event(
        &obj,
        "Warning",
        "Test",
        "an event",
        jiff::Timestamp::now(),
    );
    let name = event["metadata"]["name"].as_str().unwrap().to_string();
    c.sim.store.create(Resource::Events, event).unwrap();
    c.until("the Event shown", BOUND, |s| !s.events.items.is_empty())
        .await;
    let wrong: [Change; 2] = [
        ("count a string", |o| o["count"] = json!("x")),
        ("lastTimestamp not a time", |o| {
            o["lastTimestamp"] = json!("yesterday")
        }),
    ];
    let readable: [Change; 3] = [
        // Read (k8s-openapi defaults it), then not this cluster's, so not shown.
        ("involvedObject missing", |o| {
            o.as_object_mut().map(|m| m.remove("involvedObject"));
        }),
        ("a 1 MB message", |o| o["message"] = huge()),
        ("extra fields", |o| o["extraTopLevel"] = json!({"x": null})),
    ];
    let figures = campaign(
        &mut c,
        Resource::Events,
        SourceName::Events,
        &name,
        &wrong,
        &readable,
    )
    .await;
    assert!(!c.state.events.items.is_empty());
    row(
        "malformed Event: count a string, lastTimestamp not a time; involvedObject missing, 1 MB message, extra fields (said in Health's events section)",
        figures,
        "the other Events stay shown",
        &c,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_openbao_cluster() {
    let mut c = Console::start("transient", 4.0, None).await;
    let name = c.sim.cluster.clone();
    let wrong: [Change; 2] = [
        ("spec.replicas a string", |o| {
            o["spec"]["replicas"] = json!("three")
        }),
        ("spec missing", |o| {
            o.as_object_mut().map(|m| m.remove("spec"));
        }),
    ];
    let readable: [Change; 2] = [
        ("extra fields", |o| {
            o["extraTopLevel"] = json!([1]);
            o["spec"]["newField"] = json!({"a": 1});
        }),
        ("a 1 MB spec.image", |o| o["spec"]["image"] = huge()),
    ];
    let figures = campaign(
        &mut c,
        Resource::OpenBaoClusters,
        SourceName::Cluster,
        &name,
        &wrong,
        &readable,
    )
    .await;
    row(
        "malformed OpenBaoCluster: spec.replicas a string, spec missing; extra fields, 1 MB spec.image",
        figures,
        "the last readable view kept, Retry refused while it lasts",
        &c,
    );
}
