//! Break glass elsewhere: with the console open on one incident, a second OpenBaoCluster
//! entering break glass in the watched scope reaches the header, through the simulator's
//! API like a real cluster's; a watch answered 401, 403 or 404 turns itself off and the
//! header says so, with the right status.

use std::time::Duration;

use breakglass::app::msg::ScopeEvent;
use breakglass::app::scope::ScopeOff;
use breakglass::app::{Msg, Options, State, update};
use breakglass::sim::store::Resource;
use breakglass::sources::connect::{Connection, Target, connect};
use breakglass::sources::{SourceEvent, scope_watch};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use crate::cli_status::{add_cluster, simulated};

const WAIT: Duration = Duration::from_secs(30);

/// The next scope report, skipping the rest (problems, recoveries).
async fn next_scope(rx: &mut mpsc::Receiver<SourceEvent>) -> ScopeEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            if let SourceEvent::Scope(ev) = rx.recv().await.expect("the watch stopped") {
                return ev;
            }
        }
    })
    .await
    .expect("timed out waiting for the scope watch")
}

/// The console's state as the runtime leaves it after the watch reported `ev`.
fn console_state(conn: &Connection, cluster: &str, ev: ScopeEvent) -> State {
    let now = jiff::Timestamp::now();
    let mut state = State::new(Options {
        namespace: conn.namespace.clone(),
        cluster: cluster.to_string(),
        context_label: "sim".into(),
        color: false,
        now,
        write: breakglass::app::write_mode::WriteStart::new(false),
        os_user: "test".into(),
        k8s_user: conn.user.clone(),
        journal_dir: None,
    });
    update(&mut state, Msg::Tick(now));
    update(&mut state, Msg::Source(SourceEvent::Scope(ev)));
    state
}

fn header(state: &State, width: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(width, 24)).unwrap();
    term.draw(|f| breakglass::ui::render(state, f)).unwrap();
    let buf = term.backend().buffer();
    (0..width).map(|x| buf[(x, 0)].symbol()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cluster_entering_break_glass_is_announced_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let sim = simulated("persistent", &kc).await;
    let mut conn = sim.connect().await.unwrap();
    conn.all_namespaces = true;
    let (tx, mut rx) = mpsc::channel(64);
    let watch = scope_watch::spawn(&conn, &sim.cluster, tx);
    // The open cluster is in break glass itself: it is not "elsewhere".
    let ScopeEvent::Others { scope, rows } = next_scope(&mut rx).await else {
        panic!("the watch is off");
    };
    assert_eq!(scope, "all namespaces");
    assert!(rows.is_empty(), "{rows:?}");

    let entered = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(200);
    add_cluster(&sim, "team-b", "calm", None).await;
    add_cluster(&sim, "team-c", "second", Some(&entered.to_string())).await;
    let ev = loop {
        match next_scope(&mut rx).await {
            ScopeEvent::Others { rows, .. } if rows.is_empty() => continue,
            ev => break ev,
        }
    };
    let ScopeEvent::Others { rows, .. } = &ev else {
        panic!("the watch is off: {ev:?}");
    };
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}", r.namespace, r.name))
        .collect();
    assert_eq!(names, ["team-c/second"]);

    // The console's state and header, as the runtime feeds them.
    let state = console_state(&conn, &sim.cluster, ev);
    let row = header(&state, 160);
    assert!(
        row.contains("also in break glass: team-c/second (3m)"),
        "{row}"
    );
    watch.abort();

    // Without list/watch on OpenBaoClusters the watch turns itself off, with the reason.
    sim.controls()
        .deny("viewer", "list", Resource::OpenBaoClusters);
    // Off for good: `viewer_watch` also waits for the task to end by itself.
    match viewer_watch(&sim, &kc, true, || ()).await.1 {
        ScopeEvent::Off { scope, reason } => {
            assert_eq!(scope, "all namespaces");
            assert_eq!(reason, ScopeOff::Forbidden { cluster_wide: true });
        }
        other => panic!("expected the watch off, got {other:?}"),
    }
    sim.shutdown().await;
}

/// The viewer's connection (`-A` when `all`), the watch spawned on it, and its first report.
async fn viewer_watch(
    sim: &breakglass::sim::run::SimHandle,
    kc: &std::path::Path,
    all: bool,
    before_watch: impl FnOnce(),
) -> (Connection, ScopeEvent) {
    let mut viewer = connect(&Target {
        kubeconfig: Some(kc.to_path_buf()),
        context: Some("sim-viewer".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    viewer.all_namespaces = all;
    before_watch();
    let (tx, mut rx) = mpsc::channel(64);
    let watch = scope_watch::spawn(&viewer, &sim.cluster, tx);
    let ev = next_scope(&mut rx).await;
    // Off for good: the task ends by itself.
    if matches!(ev, ScopeEvent::Off { .. }) {
        tokio::time::timeout(WAIT, watch).await.unwrap().unwrap();
    } else {
        watch.abort();
    }
    (viewer, ev)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_turned_off_says_401_403_or_404_in_the_header_without_help() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let sim = simulated("persistent", &kc).await;
    let controls = sim.controls();

    // 404: the API server does not serve openbaoclusters (answered once, to the first list).
    let (viewer, ev) = viewer_watch(&sim, &kc, true, || {
        controls.inject_error("GET", "/apis/openbao.org/", 404, 1)
    })
    .await;
    let not_served = ScopeEvent::Off {
        scope: "all namespaces".into(),
        reason: ScopeOff::NotServed,
    };
    assert_eq!(ev, not_served);
    let state = console_state(&viewer, &sim.cluster, ev);
    let (narrow, wide) = (header(&state, 80), header(&state, 200));
    assert!(narrow.contains("others✗"), "{narrow}");
    assert!(
        narrow.ends_with("[connecting…]"),
        "the badge stays whole: {narrow}"
    );
    assert!(
        wide.contains("other clusters: not watched (404: openbaoclusters not served)"),
        "{wide}"
    );

    // 403 in the namespace: the viewer may not list OpenBaoClusters at all.
    controls.deny("viewer", "list", Resource::OpenBaoClusters);
    let (viewer, ev) = viewer_watch(&sim, &kc, false, || ()).await;
    let ScopeEvent::Off { ref scope, reason } = ev else {
        panic!("expected the watch off, got {ev:?}");
    };
    assert!(scope.starts_with("namespace"), "{scope}");
    assert_eq!(
        reason,
        ScopeOff::Forbidden {
            cluster_wide: false
        }
    );
    let state = console_state(&viewer, &sim.cluster, ev);
    let wide = header(&state, 200);
    assert!(
        wide.contains(
            "other clusters: not watched (403 RBAC: list, watch openbaoclusters in the namespace)"
        ),
        "{wide}"
    );
    assert!(header(&state, 80).contains("others✗"));
    controls.allow("viewer", "list", Resource::OpenBaoClusters);

    // 401: the viewer's token expired after connecting.
    let (viewer, ev) = viewer_watch(&sim, &kc, true, || controls.expire_token("viewer")).await;
    assert_eq!(
        ev,
        ScopeEvent::Off {
            scope: "all namespaces".into(),
            reason: ScopeOff::Unauthenticated,
        }
    );
    let state = console_state(&viewer, &sim.cluster, ev);
    let wide = header(&state, 200);
    assert!(
        wide.contains("other clusters: not watched (401: credentials refused)"),
        "{wide}"
    );
    sim.shutdown().await;
}
