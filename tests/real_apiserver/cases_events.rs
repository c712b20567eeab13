//! The operator twin's Events on the real 0.6 server (the 0.1 line records none): the twin
//! seeds the incident's Events through its API (core/v1, written as the operator's
//! events.k8s.io recorder leaves them), and records `BreakGlassAcknowledged` when it acts on
//! an acknowledgement; the console's Events watcher (`sources::events`) shows both, as the
//! viewer with the shipped Roles.

use std::sync::Arc;

use breakglass::domain::events::EventView;
use breakglass::sim::operator_line::OperatorLine;
use breakglass::sim::scenario::Topology;
use breakglass::sim::twin::spawn_on;
use breakglass::sim::twin_cluster::break_glass_event;
use breakglass::sim::twin_events::{
    BREAK_GLASS_ACKNOWLEDGED, BREAK_GLASS_ENTERED, NORMAL, ROLLBACK_STARTED, SNAPSHOT_COMPLETED,
    SNAPSHOT_JOB_CREATED, UPGRADE_FAILED, UPGRADE_STARTED, WARNING,
};
use breakglass::sources::{SourceEvent, events};
use tokio::sync::mpsc;

use super::cases_console::{run, s};
use super::cases_twin::until;
use super::incident;
use super::rig::Rig;

fn reasons(list: &[EventView]) -> Vec<(&str, &str)> {
    list.iter()
        .map(|e| (e.type_.as_str(), e.reason.as_str()))
        .collect()
}

pub async fn v06_twin_events_on_the_console(rig: Arc<Rig>, ns: String) {
    let admin06 = rig.client06("admin").await.unwrap();
    super::kube::namespace(&admin06, &ns).await.unwrap();
    let incident = incident::incident_on(
        rig.kubeconfig06("admin"),
        rig.log_file(&ns),
        "cleanup-failed",
        &ns,
        OperatorLine::V06,
    )
    .await;
    let cluster = incident.scenario.cluster.clone();
    let topo = Topology::of(&incident.scenario);
    let viewer = rig.client06("viewer").await.unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let watcher = events::spawn(&viewer, &ns, &cluster, tx);

    // The seeded history, newest first, every one about the cluster.
    let seeded = until(
        &mut rx,
        "the seeded Events on the console",
        30,
        |e| match e {
            SourceEvent::Events(list) if list.len() >= 6 => Some(list.clone()),
            _ => None,
        },
    )
    .await;
    assert_eq!(
        reasons(&seeded),
        [
            (WARNING, BREAK_GLASS_ENTERED),
            (WARNING, ROLLBACK_STARTED),
            (WARNING, UPGRADE_FAILED),
            (NORMAL, SNAPSHOT_COMPLETED),
            (NORMAL, SNAPSHOT_JOB_CREATED),
            (NORMAL, UPGRADE_STARTED),
        ],
        "{seeded:#?}"
    );
    for e in &seeded {
        assert_eq!(
            (e.kind.as_str(), e.name.as_str()),
            ("OpenBaoCluster", cluster.as_str())
        );
        assert_eq!(e.count, 1);
        assert!(e.last.is_some(), "{e:?}");
    }
    assert_eq!(
        seeded[0].message,
        break_glass_event(incident.scenario.failed_step, &incident.seeded.failed_job)
    );
    assert!(seeded.windows(2).all(|w| w[0].last >= w[1].last));

    // The twin as the operator of the 0.6 server; the responder acknowledges.
    let twin = spawn_on(
        incident.api.clone(),
        incident.scenario.clone().with_speed(4.0).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let nonce = incident.seeded.nonce.clone();
    let o = run(
        s(&["ack", "-n", &ns, &cluster, "--nonce", &nonce, "--yes"]),
        rig.kubeconfig06_in("responder", &ns).await.unwrap(),
        dir.path().into(),
    )
    .await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let live = until(
        &mut rx,
        "BreakGlassAcknowledged on the console",
        60,
        |e| match e {
            SourceEvent::Events(list) => list
                .iter()
                .find(|e| e.reason == BREAK_GLASS_ACKNOWLEDGED)
                .map(|_| list.clone()),
            _ => None,
        },
    )
    .await;
    let ack = &live[0];
    assert_eq!(
        (
            ack.type_.as_str(),
            ack.reason.as_str(),
            ack.message.as_str()
        ),
        (
            NORMAL,
            BREAK_GLASS_ACKNOWLEDGED,
            "Break glass acknowledged for reason RollbackCleanupPeerRemovalFailed"
        ),
        "{live:#?}"
    );
    assert_eq!(&live[1..=seeded.len()], &seeded[..]);
    println!(
        "  0.6 server: {} seeded Events and {} on the console ({})",
        seeded.len(),
        BREAK_GLASS_ACKNOWLEDGED,
        topo.cluster
    );
    watcher.abort();
    twin.stop().await;
}
