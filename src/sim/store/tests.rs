//! Unit tests of the store contract.

use super::*;
use serde_json::json;

fn cluster(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "namespace": "security"},
        "spec": {"version": "2.4.0", "replicas": 3}
    })
}

fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn create_fills_metadata_and_rejects_duplicates() {
    let s = Store::new();
    let o = s.create(Resource::OpenBaoClusters, cluster("a")).unwrap();
    assert_eq!(o["apiVersion"], "openbao.org/v1alpha1");
    assert_eq!(o["kind"], "OpenBaoCluster");
    assert_eq!(o["metadata"]["generation"], 1);
    assert_eq!(o["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert!(
        o["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(!rv(&o).is_empty());
    let e = s
        .create(Resource::OpenBaoClusters, cluster("a"))
        .unwrap_err();
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(
        e.message,
        "openbaoclusters.openbao.org \"a\" already exists"
    );
    let g = s
        .create(
            Resource::Jobs,
            json!({"metadata": {"generateName": "job-", "namespace": "x"}}),
        )
        .unwrap();
    let name = g["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("job-") && name.len() == 9, "{name}");
}

#[test]
fn modify_noop_and_generation() {
    let s = Store::new();
    let o = s.create(Resource::OpenBaoClusters, cluster("a")).unwrap();
    let mut rx = s.subscribe();
    let same = s
        .modify(Resource::OpenBaoClusters, "security", "a", |_| {})
        .unwrap();
    assert_eq!(rv(&same), rv(&o));
    assert!(rx.try_recv().is_err(), "no-op must send no event");
    let st = s
        .modify(Resource::OpenBaoClusters, "security", "a", |v| {
            v["status"] = json!({"phase": "Running"})
        })
        .unwrap();
    assert_ne!(rv(&st), rv(&o));
    assert_eq!(st["metadata"]["generation"], 1);
    let sp = s
        .modify(Resource::OpenBaoClusters, "security", "a", |v| {
            v["spec"]["replicas"] = json!(5)
        })
        .unwrap();
    assert_eq!(sp["metadata"]["generation"], 2);
    assert_eq!(rx.try_recv().unwrap().change, ChangeType::Modified);
    let e = s
        .modify(Resource::OpenBaoClusters, "security", "zz", |_| {})
        .unwrap_err();
    assert_eq!(e.code, 404);
    assert_eq!(e.message, "openbaoclusters.openbao.org \"zz\" not found");
}

#[test]
fn update_precondition_conflict() {
    let s = Store::new();
    let o = s.create(Resource::OpenBaoClusters, cluster("a")).unwrap();
    let mut n = o.clone();
    n["spec"]["replicas"] = json!(1);
    let opts = UpdateOptions {
        precondition: Some("999".into()),
        dry_run: false,
    };
    let e = s
        .update(Resource::OpenBaoClusters, "security", "a", n.clone(), &opts)
        .unwrap_err();
    assert_eq!(e.reason, "Conflict");
    assert!(e.message.starts_with(
        "Operation cannot be fulfilled on openbaoclusters.openbao.org \"a\": the object has been modified"
    ));
    let dry = UpdateOptions {
        precondition: Some(rv(&o)),
        dry_run: true,
    };
    let d = s
        .update(Resource::OpenBaoClusters, "security", "a", n, &dry)
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 1);
    let cur = s.get(Resource::OpenBaoClusters, "security", "a").unwrap();
    assert_eq!(cur["spec"]["replicas"], 3);
}

#[test]
fn delete_with_finalizers_then_removal() {
    let s = Store::new();
    let mut c = cluster("a");
    c["metadata"]["finalizers"] = json!(["openbao.org/openbaocluster-finalizer"]);
    s.create(Resource::OpenBaoClusters, c).unwrap();
    let mut rx = s.subscribe();
    let d = s
        .delete(Resource::OpenBaoClusters, "security", "a")
        .unwrap();
    assert!(d["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(rx.try_recv().unwrap().change, ChangeType::Modified);
    assert!(s.get(Resource::OpenBaoClusters, "security", "a").is_some());
    s.modify(Resource::OpenBaoClusters, "security", "a", |v| {
        v["metadata"]["finalizers"] = json!([])
    })
    .unwrap();
    assert_eq!(rx.try_recv().unwrap().change, ChangeType::Deleted);
    assert!(s.get(Resource::OpenBaoClusters, "security", "a").is_none());
}

#[test]
fn watch_from_rv_and_expiry() {
    let s = Store::new();
    let a = s.create(Resource::OpenBaoClusters, cluster("a")).unwrap();
    s.create(Resource::OpenBaoClusters, cluster("b")).unwrap();
    s.create(
        Resource::Pods,
        json!({"metadata": {"name": "p", "namespace": "security"}}),
    )
    .unwrap();
    s.delete(Resource::OpenBaoClusters, "security", "a")
        .unwrap();
    let feed = s
        .watch(Resource::OpenBaoClusters, Some("security"), Some(&rv(&a)))
        .unwrap();
    let kinds: Vec<ChangeType> = feed.backlog.iter().map(|t| t.change.change).collect();
    assert_eq!(kinds, vec![ChangeType::Added, ChangeType::Deleted]);
    let fresh = s.watch(Resource::OpenBaoClusters, None, None).unwrap();
    assert_eq!(fresh.backlog.len(), 1);
    s.compact();
    let e = s
        .watch(Resource::OpenBaoClusters, None, Some(&rv(&a)))
        .err()
        .unwrap();
    assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
    assert!(
        s.watch(Resource::OpenBaoClusters, None, Some(&s.current_rv()))
            .is_ok()
    );
}

#[test]
fn bounded_history_expires_old_rvs() {
    let s = Store::new();
    let a = s
        .create(
            Resource::Pods,
            json!({"metadata": {"name": "p", "namespace": "n"}}),
        )
        .unwrap();
    for i in 0..(HISTORY_LIMIT + 5) {
        s.modify(Resource::Pods, "n", "p", |v| v["status"] = json!({"i": i}))
            .unwrap();
    }
    assert!(s.watch(Resource::Pods, None, Some(&rv(&a))).is_err());
    assert!(!s.rv_available(&rv(&a)));
}

#[tokio::test]
async fn log_followers_wake_up() {
    let s = Store::new();
    let mut rx = s.log_changes();
    rx.borrow_and_update();
    let s2 = s.clone();
    let h = tokio::spawn(async move {
        s2.append_log("n", "p", "c", "hello");
        s2.terminate_log("n", "p", "c");
    });
    rx.changed().await.unwrap();
    h.await.unwrap();
    let r = s.read_log("n", "p", "c", 0, false);
    assert_eq!(r.lines[0].text, "hello");
    assert!(r.terminated);
}
