//! The fault campaign (README "Fault campaign"): each fault an incident brings, provoked
//! through the simulator's controls, driven through the console's live sources and
//! `app::update` headless (`support::faults`), or through the real binary on a pty where
//! the fault is at the process level. Every row measures what the user saw, the time to
//! detect and to recover, log lines lost/duplicated and the mutating requests sent (the
//! simulator's request log), prints it as `FAULT-ROW | …` (`-- --nocapture`), and asserts
//! the bounds the README promises.

mod ack_race;
mod logs;
mod malformed;
mod panic;
mod process;
mod quit_in_flight;

use std::time::{Duration, Instant};

use crate::support::faults::{Console, Row, fresh, secs, stale};
use breakglass::app::Focus;
use breakglass::sim::store::Resource;
use breakglass::sources::SourceName;

/// What the issue promises for a hung API server: shown within 10 s, fresh within 10 s.
const BOUND: Duration = Duration::from_secs(10);
const SPEED: f64 = 4.0;

/// A fault on the whole API server for `hold`, released: the console must show it stale
/// (titles, banner, Retry refused) within 10 s and be fresh within 10 s of the release.
async fn outage_row(
    fault: &'static str,
    hold: Duration,
    on: impl Fn(&breakglass::sim::server::Controls),
    off: impl Fn(&breakglass::sim::server::Controls),
    banner_says: &str,
) -> Row {
    let mut c = Console::start("transient", SPEED, None).await;
    let controls = c.sim.controls();
    c.until("Retry offered", BOUND, fresh).await;
    controls.clear_requests();
    on(&controls);
    let start = Instant::now();
    let detect = c.until("stale shown", BOUND, stale).await;
    // The first error may come from a watcher; the probe's banner (naming the server and
    // for how long) follows within one probe interval.
    while !c.banner().contains(banner_says) {
        assert!(start.elapsed() < BOUND, "banner: {}", c.banner());
        c.run_for(Duration::from_millis(100)).await;
    }
    let named = start.elapsed();
    let banner = c.banner();
    assert!(banner.contains("[STALE]"), "{banner}");
    let screen = c.screen();
    assert!(
        screen.contains("Health ·") && screen.contains("[STALE]"),
        "{screen}"
    );
    assert!(screen.contains("[DISABLED] Retry"), "{screen}");
    // Stays stale (writes refused) for the whole outage.
    let mut fresh_during = false;
    c.watch_for(hold.saturating_sub(start.elapsed()), |s| {
        fresh_during |= !stale(s);
    })
    .await;
    assert!(!fresh_during, "shown fresh while the fault lasted");
    let late_banner = c.banner();
    off(&controls);
    let recover = c.until("fresh again", BOUND, fresh).await;
    Row {
        fault,
        saw: format!("`{}`", late_banner.replace('|', "/")),
        detect: format!(
            "{} (banner naming the server: {})",
            secs(detect),
            secs(named)
        ),
        recover: secs(recover),
        lines: "n/a".into(),
        mutations: controls.mutations().len(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_refusing_connections() {
    let row = outage_row(
        "API refused (20 s; detection does not depend on the length)",
        Duration::from_secs(20),
        |c| c.set_refusing(true),
        |c| c.set_refusing(false),
        "has not answered for",
    )
    .await;
    row.print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_hung() {
    // 30 s: longer than every client-side deadline (read 20 s, watch idle 15 s), so what
    // happens after those fire is measured too.
    let row = outage_row(
        "API hung: accepts, answers nothing (30 s)",
        Duration::from_secs(30),
        |c| c.set_hung(true),
        |c| c.set_hung(false),
        "has not answered for",
    )
    .await;
    row.print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_handshakes_stalling_after_connections_dropped() {
    let row = outage_row(
        "TLS handshake stalls (connections cut, new handshakes hang 20 s)",
        Duration::from_secs(20),
        |c| {
            c.set_handshake_stalled(true);
            // Every request needs a new connection, and so a handshake.
            c.cut_connections();
        },
        |c| c.set_handshake_stalled(false),
        "has not answered for",
    )
    .await;
    row.print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_answering_503_then_500() {
    let row = outage_row(
        "500/503 bursts (every request 503 for 12 s, then 500 for 12 s)",
        Duration::from_secs(24),
        |c| {
            c.outage_for(503, Duration::from_secs(12), None);
            // The 500 half starts when the 503 half ends.
            let c = c.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(12)).await;
                c.outage_for(500, Duration::from_secs(12), None);
            });
        },
        |_| {},
        "has answered only errors",
    )
    .await;
    row.print();
}

/// Count of requests per second the console sent while `d` passed.
fn rate(controls: &breakglass::sim::server::Controls, d: Duration) -> f64 {
    controls.requests().len() as f64 / d.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_429_with_retry_after() {
    let mut c = Console::start("transient", SPEED, None).await;
    let controls = c.sim.controls();
    c.until("Retry offered", BOUND, fresh).await;
    controls.clear_requests();
    controls.outage_for(429, Duration::from_secs(20), Some(5));
    let detect = c.until("stale shown", Duration::from_secs(20), stale).await;
    assert!(c.banner().contains("429"), "{}", c.banner());
    c.run_for(Duration::from_secs(19).saturating_sub(detect))
        .await;
    let banner = c.banner();
    assert!(banner.contains("has answered only errors"), "{banner}");
    c.run_for(Duration::from_secs(1)).await;
    let sent = rate(&controls, Duration::from_secs(20));
    let recover = c.until("fresh again", BOUND, fresh).await;
    Row {
        fault: "429 with Retry-After: 5 (20 s)",
        saw: format!("`{}`", banner.replace('|', "/")),
        detect: secs(detect),
        recover: secs(recover),
        lines: format!("n/a ({sent:.1} requests/s while throttled)"),
        mutations: controls.mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_of_two_seconds_is_slow_not_stale() {
    let mut c = Console::start("transient", SPEED, None).await;
    let controls = c.sim.controls();
    c.until("Retry offered", BOUND, fresh).await;
    controls.set_latency(Duration::from_secs(2));
    let (ns, name) = (c.sim.namespace.clone(), c.sim.cluster.clone());
    let store = c.sim.store.clone();
    let mut stale_seen = false;
    c.watch_for(Duration::from_secs(12), |s| {
        stale_seen |= s.pane_stale(Focus::Health)
    })
    .await;
    // A change made now reaches the screen through the slow server.
    let changed = store
        .modify(Resource::OpenBaoClusters, &ns, &name, |v| {
            v["metadata"]["annotations"]["faults/touch"] = "1".into();
        })
        .unwrap();
    let rv = changed["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = c
        .until("the change seen", Duration::from_secs(20), |s| {
            s.incident
                .cluster
                .as_ref()
                .is_some_and(|cl| cl.resource_version == rv)
        })
        .await;
    controls.set_latency(Duration::ZERO);
    assert!(!stale_seen, "2 s of latency is slow, not hung");
    Row {
        fault: "latency 2 s on every request (12 s)",
        saw: "no `[STALE]`; Retry stays offered".into(),
        detect: format!("not a fault; a change shown after {}", secs(seen)),
        recover: "n/a".into(),
        lines: "n/a".into(),
        mutations: controls.mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_cut_every_second() {
    let mut c = Console::start("transient", SPEED, None).await;
    let controls = c.sim.controls();
    c.until("Retry offered", BOUND, fresh).await;
    let (ns, name) = (c.sim.namespace.clone(), c.sim.cluster.clone());
    let store = c.sim.store.clone();
    let mut stale_seen = false;
    let mut worst = Duration::ZERO;
    for i in 0..20 {
        controls.close_watches();
        let changed = store
            .modify(Resource::OpenBaoClusters, &ns, &name, |v| {
                v["metadata"]["annotations"]["faults/touch"] = i.to_string().into();
            })
            .unwrap();
        let rv = changed["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        let t = Instant::now();
        let seen = c
            .until("the change seen", Duration::from_secs(5), |s| {
                s.incident
                    .cluster
                    .as_ref()
                    .is_some_and(|cl| cl.resource_version == rv)
            })
            .await;
        worst = worst.max(seen);
        c.watch_for(Duration::from_secs(1).saturating_sub(t.elapsed()), |s| {
            stale_seen |= s.pane_stale(Focus::Health)
        })
        .await;
    }
    assert!(!stale_seen, "a cut watch is resumed, not an outage");
    // The watches ask for bookmarks and end on the server's side after 10 s.
    let watches: Vec<String> = controls
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=true"))
        .map(|r| r.query)
        .collect();
    assert!(!watches.is_empty());
    for q in &watches {
        assert!(
            q.contains("allowWatchBookmarks=true") && q.contains("timeoutSeconds=10"),
            "{q}"
        );
    }
    Row {
        fault: "watches cut every second (20 s)",
        saw: "no `[STALE]`; every change shown".into(),
        detect: format!("not a fault; slowest change shown after {}", secs(worst)),
        recover: "n/a".into(),
        lines: "n/a".into(),
        mutations: controls.mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_storm_on_every_watch() {
    let mut c = Console::start("transient", SPEED, None).await;
    let controls = c.sim.controls();
    c.until("Retry offered", BOUND, fresh).await;
    controls.clear_requests();
    controls.watch_gone_for(Duration::from_secs(20));
    controls.close_watches();
    let mut stale_for = Duration::ZERO;
    let mut last = Instant::now();
    c.watch_for(Duration::from_secs(20), |s| {
        if stale(s) {
            stale_for += last.elapsed();
        }
        last = Instant::now();
    })
    .await;
    let lists = controls
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && !r.query.contains("watch=true"))
        .count();
    let recover = c.until("fresh again", BOUND, fresh).await;
    Row {
        fault: "410 Gone on every watch (20 s)",
        saw: format!(
            "re-listed ({lists} lists in 20 s, backoff); `[STALE]` {:.0} % of the time",
            100.0 * stale_for.as_secs_f64() / 20.0
        ),
        detect: "at the first 410".into(),
        recover: secs(recover),
        lines: "n/a".into(),
        mutations: controls.mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cluster_with_the_same_pod_labels_is_never_mixed_in() {
    let mut c = Console::start("transient", SPEED, None).await;
    let store = c.sim.store.clone();
    let ns = c.sim.namespace.clone();
    let cluster = c.sim.cluster.clone();
    // A copy of every pod and Job of this cluster under another cluster's name: same
    // labels (revision, component, job-name…) but the cluster label.
    let mut copied = Vec::new();
    for r in [Resource::Pods, Resource::Jobs] {
        let (objs, _) = store.list(r, Some(&ns));
        for mut o in objs {
            let Some(labels) = o
                .pointer_mut("/metadata/labels")
                .and_then(|l| l.as_object_mut())
            else {
                continue;
            };
            if labels.get("openbao.org/cluster").and_then(|v| v.as_str()) != Some(&cluster) {
                continue;
            }
            labels.insert("openbao.org/cluster".into(), "other-cluster".into());
            let name = format!("other-{}", o["metadata"]["name"].as_str().unwrap());
            o["metadata"] = serde_json::json!({
                "name": name, "namespace": ns, "labels": o["metadata"]["labels"].clone()
            });
            store.create(r, o).unwrap();
            copied.push(name);
        }
    }
    assert!(copied.len() > 3, "{copied:?}");
    // The other cluster itself, and an Event about it (with the same reason and message).
    let mut other = store.get(Resource::OpenBaoClusters, &ns, &cluster).unwrap();
    other["metadata"] = serde_json::json!({"name": "other-cluster", "namespace": ns});
    store.create(Resource::OpenBaoClusters, other).unwrap();
    let other = store
        .get(Resource::OpenBaoClusters, &ns, "other-cluster")
        .unwrap();
    let event = breakglass::sim::twin_events::event(
        &other,
        "Warning",
        "BreakGlassRequired",
        "other-cluster needs you",
        jiff::Timestamp::now(),
    );
    store.create(Resource::Events, event).unwrap();
    copied.push("other-cluster".into());
    c.run_for(Duration::from_secs(4)).await;
    let shown = c.state.incident.cluster.as_ref().map(|v| v.name.clone());
    assert_eq!(shown.as_deref(), Some(cluster.as_str()));
    assert!(
        c.state
            .events
            .items
            .iter()
            .all(|e| e.name != "other-cluster"),
        "{:?}",
        c.state.events.items
    );
    assert!(!c.screen().contains("other-cluster needs you"));
    let seen: Vec<String> = c
        .state
        .incident
        .pods
        .iter()
        .map(|p| p.name.clone())
        .chain(c.state.incident.all_jobs.iter().map(|j| j.name.clone()))
        .collect();
    let mixed: Vec<&String> = seen.iter().filter(|n| n.starts_with("other-")).collect();
    assert!(mixed.is_empty(), "{mixed:?}");
    Row {
        fault: "a second cluster in the namespace: its OpenBaoCluster, an Event about it, and its pods and Jobs (same labels but the cluster's)",
        saw: format!("none of its {} objects in any pane", copied.len()),
        detect: "n/a".into(),
        recover: "n/a".into(),
        lines: "n/a".into(),
        mutations: c.sim.controls().mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_session_is_said_and_not_retried() {
    let mut c = Console::start("transient", SPEED, None).await;
    let controls = c.sim.controls();
    c.until("Retry offered", BOUND, fresh).await;
    controls.expire_token("admin");
    let start = Instant::now();
    let detect = c.until("401 shown", BOUND, stale).await;
    c.until("401 in the banner", BOUND, |s| {
        s.sources
            .get(&SourceName::Cluster)
            .and_then(|st| st.problem.as_deref())
            .is_some_and(|p| p.contains("401"))
    })
    .await;
    let banner = c.banner();
    assert!(
        banner.contains("401") && banner.contains("reads stopped"),
        "{banner}"
    );
    // Let every source meet the 401, then count what is still sent.
    c.run_for(Duration::from_secs(12).saturating_sub(start.elapsed()))
        .await;
    controls.clear_requests();
    c.run_for(Duration::from_secs(15)).await;
    let after = controls.requests().len();
    assert_eq!(after, 0, "{:?}", controls.requests());
    Row {
        fault: "token expires mid-session (401)",
        saw: format!("`{}`", banner.replace('|', "/")),
        detect: secs(detect),
        recover: "restart with fresh credentials".into(),
        lines: format!("n/a ({after} requests in the 15 s after)"),
        mutations: controls.mutations().len(),
    }
    .print();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_log_stream_is_marked_not_finished_and_loses_nothing() {
    const CONTAINER: &str = "upgrade-executor";
    // Slow: the retry's executor runs ~24 s, and the hang falls in the middle of it.
    let mut c = Console::start("transient", 0.25, None).await;
    let controls = c.sim.controls();
    c.until("the first attempt read", Duration::from_secs(30), |s| {
        s.logs.ended
    })
    .await;
    let nonce = c.state.retry_target().unwrap().nonce;
    let (ns, name) = (c.sim.namespace.clone(), c.sim.cluster.clone());
    let ok = breakglass::sources::actions::acknowledge(&c.conn.client, &ns, &name, &nonce).await;
    assert!(
        matches!(ok, breakglass::sources::ActionOutcome::Acknowledged { .. }),
        "{ok:?}"
    );
    controls.clear_requests();
    c.until("the retry streaming", Duration::from_secs(40), |s| {
        s.logs.run_id.as_deref() == Some("rollback-retry-1") && !s.logs.ended
    })
    .await;
    let job = c.state.logs.job.clone().unwrap();
    c.until("its first line", Duration::from_secs(30), |_| true)
        .await;
    while c.delivered.get(&job).is_none_or(Vec::is_empty) {
        c.run_for(Duration::from_millis(200)).await;
    }
    let (pods, _) = c.sim.store.list(Resource::Pods, Some(&ns));
    let pod = pods
        .iter()
        .find(|p| {
            p.pointer("/metadata/labels/job-name")
                .and_then(|v| v.as_str())
                == Some(&job)
        })
        .and_then(|p| p.pointer("/metadata/name")?.as_str().map(str::to_string))
        .expect("the retry's pod");
    controls.set_hung(true);
    let hung_at = Instant::now();
    let mut n = 0;
    let mut detect = None;
    while hung_at.elapsed() < Duration::from_secs(12) {
        controls.append_log(&ns, &pod, CONTAINER, &format!("during the hang {n}"));
        n += 1;
        c.run_for(Duration::from_millis(100)).await;
        if detect.is_none() && c.state.is_stale(SourceName::Logs) {
            detect = Some(hung_at.elapsed());
        }
        assert!(
            !c.ended.contains(&job),
            "a hung stream was taken for a finished one"
        );
    }
    let detect = detect.expect("the hung log stream was not marked");
    let screen = c.screen();
    assert!(
        screen.contains("Logs ·") && screen.contains("[STALE]"),
        "{screen}"
    );
    controls.set_hung(false);
    let recover = c
        .until("Logs fresh", BOUND, |s| !s.is_stale(SourceName::Logs))
        .await;
    c.until("the retry ended", Duration::from_secs(60), |s| s.logs.ended)
        .await;
    let stored: Vec<String> = c
        .sim
        .store
        .read_log(&ns, &pod, CONTAINER, 0, false)
        .lines
        .into_iter()
        .map(|l| l.text)
        .collect();
    let got = c.delivered.get(&job).cloned().unwrap_or_default();
    let lost = stored.iter().filter(|l| !got.contains(l)).count();
    let dup = got.len() - got.iter().collect::<std::collections::HashSet<_>>().len();
    assert_eq!(
        (lost, dup, c.gaps),
        (0, 0, 0),
        "stored {stored:?}\ngot {got:?}"
    );
    assert_eq!(got, stored);
    Row {
        fault: "hung log stream (API hung 12 s while the Job runs)",
        saw: "Logs `[STALE]` (`logs of <job>: the stream went silent …`), no `stream ended`".into(),
        detect: secs(detect),
        recover: secs(recover),
        lines: format!(
            "0 lost, 0 duplicated of {} ({n} written during the hang)",
            stored.len()
        ),
        mutations: controls.mutations().len(),
    }
    .print();
}
