//! Break glass elsewhere: with the console open on one incident, a second OpenBaoCluster
//! entering break glass in the watched scope reaches the header, through the simulator's
//! API like a real cluster's; a denied watch turns itself off and says why.

use std::time::Duration;

use breakglass::app::msg::ScopeEvent;
use breakglass::app::{Msg, Options, State, update};
use breakglass::sim::store::Resource;
use breakglass::sources::connect::{Target, connect};
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
    let now = jiff::Timestamp::now();
    let mut state = State::new(Options {
        namespace: conn.namespace.clone(),
        cluster: sim.cluster.clone(),
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
    let row = header(&state, 160);
    assert!(
        row.contains("also in break glass: team-c/second (3m)"),
        "{row}"
    );
    watch.abort();

    // Without list/watch on OpenBaoClusters the watch turns itself off, with the reason.
    sim.controls()
        .deny("viewer", "list", Resource::OpenBaoClusters);
    let mut viewer = connect(&Target {
        kubeconfig: Some(kc.clone()),
        context: Some("sim-viewer".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    viewer.all_namespaces = true;
    let (tx, mut rx) = mpsc::channel(64);
    let denied = scope_watch::spawn(&viewer, &sim.cluster, tx);
    match next_scope(&mut rx).await {
        ScopeEvent::Off { scope, reason } => {
            assert_eq!(scope, "all namespaces");
            assert!(
                reason.contains("403") && reason.contains("cluster-wide"),
                "{reason}"
            );
        }
        other => panic!("expected the watch off, got {other:?}"),
    }
    // Off for good: the task ends by itself.
    tokio::time::timeout(WAIT, denied).await.unwrap().unwrap();
    sim.shutdown().await;
}
