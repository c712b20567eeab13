//! Events: which objects belong to the cluster, both Event shapes, newest first and
//! bounded, and what is new for the journal.

use k8s_openapi::api::core::v1::Event;
use serde_json::json;

use super::*;

fn event(uid: &str, kind: &str, name: &str, reason: &str, last: &str, count: Option<i32>) -> Event {
    serde_json::from_value(json!({
        "metadata": {"name": format!("{name}.{uid}"), "namespace": "security", "uid": uid},
        "involvedObject": {"kind": kind, "name": name, "namespace": "security"},
        "reason": reason, "type": "Warning", "message": format!("{reason} happened"),
        "lastTimestamp": last, "count": count
    }))
    .unwrap()
}

#[test]
fn only_the_clusters_objects_belong() {
    let c = "prod-cluster";
    for (kind, name, yes) in [
        ("OpenBaoCluster", "prod-cluster", true),
        ("OpenBaoCluster", "other", false),
        ("Pod", "prod-cluster-e8983038c519c718-0", true),
        (
            "Pod",
            "upgrade-prod-cluster-bluegreen-repair-consensus-5054f3dfa7-x2x9z",
            true,
        ),
        (
            "Job",
            "upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368",
            true,
        ),
        ("Job", "restore-prod-cluster-restore-1204-101500", true),
        ("StatefulSet", "prod-cluster-269c4f7ba494030d", true),
        (
            "PersistentVolumeClaim",
            "data-prod-cluster-269c4f7ba494030d-2",
            true,
        ),
        ("PersistentVolumeClaim", "data-other-0", false),
        ("OpenBaoRestore", "prod-cluster-restore-1", true),
        ("Pod", "other-cluster-0", false),
        ("Pod", "prod-clusterx-0", false),
        ("Node", "prod-cluster", false),
    ] {
        assert_eq!(belongs(kind, name, c), yes, "{kind}/{name}");
    }
}

#[test]
fn newest_first_bounded_and_the_events_k8s_io_shape_is_read() {
    let mut list: Vec<Event> = (0..KEEP_EVENTS + 5)
        .map(|i| {
            event(
                &format!("u{i:03}"),
                "Pod",
                "prod-cluster-a-0",
                "BackOff",
                &format!("2026-12-04T10:{:02}:{:02}Z", i / 60, i % 60),
                Some(2),
            )
        })
        .collect();
    list.push(event(
        "x",
        "Pod",
        "elsewhere-0",
        "BackOff",
        "2026-12-04T11:00:00Z",
        None,
    ));
    // The events.k8s.io recorder: no count, no lastTimestamp; series and eventTime instead.
    list.push(
        serde_json::from_value(json!({
            "metadata": {"name": "prod-cluster.bg", "namespace": "security", "uid": "bg"},
            "involvedObject": {"kind": "OpenBaoCluster", "name": "prod-cluster"},
            "reason": "BreakGlassEntered", "type": "Warning",
            "message": "Break glass entered after rollback consensus repair Job j failed",
            "eventTime": "2026-12-04T10:59:00.000000Z",
            "series": {"count": 3, "lastObservedTime": "2026-12-04T10:59:30.000000Z"}
        }))
        .unwrap(),
    );
    let views = of_cluster(&list, "prod-cluster");
    assert_eq!(views.len(), KEEP_EVENTS);
    assert_eq!(views[0].reason, "BreakGlassEntered");
    assert_eq!(views[0].count, 3);
    assert_eq!(views[0].last, Some("2026-12-04T10:59:30Z".parse().unwrap()));
    assert!(views.windows(2).all(|w| w[0].last >= w[1].last));
    assert!(!views.iter().any(|v| v.name == "elsewhere-0"));
    assert!(
        views[0]
            .describe()
            .contains("OpenBaoCluster/prod-cluster ×3")
    );
}

#[test]
fn the_journal_gets_new_and_grown_events_once() {
    let mut log = EventLog::default();
    let a = EventView::from_event(&event(
        "a",
        "Pod",
        "p",
        "FailedScheduling",
        "2026-12-04T10:00:00Z",
        Some(1),
    ));
    let b = EventView::from_event(&event(
        "b",
        "Pod",
        "p",
        "BackOff",
        "2026-12-04T10:01:00Z",
        Some(1),
    ));
    let first = log.replace(vec![b.clone(), a.clone()]);
    assert_eq!(first, vec![a.clone(), b.clone()], "oldest first");
    assert!(log.replace(vec![b.clone(), a.clone()]).is_empty());
    let mut grown = a.clone();
    grown.count = 4;
    assert_eq!(log.replace(vec![grown.clone(), b]), vec![grown]);
}
