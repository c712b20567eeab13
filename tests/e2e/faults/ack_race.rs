//! Two people act at once: two real consoles (each in its pty, the Retry dialog confirmed
//! up to the last key) and one `breakglass ack` (at its y/N prompt, `y` typed) press Enter
//! at the same instant on the same nonce. Exactly one acknowledgement is applied; the two
//! others are refused with a reason, and the simulator's request log shows one accepted
//! patch, never a second one.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use breakglass::sim::store::Resource;

use crate::support::faults::{Row, sim_and_pty_consoles};
use crate::support::tmux::{Tmux, open_retry};

/// The first screen text (one pane's part of a line) holding one of `words`, trimmed.
fn line_with(screen: &str, words: &[&str]) -> Option<String> {
    screen
        .lines()
        .flat_map(|l| l.split('│'))
        .find(|l| words.iter().any(|w| l.contains(w)))
        .map(|l| l.trim().replace('|', "/"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_and_breakglass_ack_acknowledge_the_same_nonce_at_once() {
    let (sim, consoles, dir) = sim_and_pty_consoles(2, None).await;
    let controls = sim.controls();
    let (ns, cluster) = (sim.namespace.clone(), sim.cluster.clone());
    let nonce = sim.seeded.nonce.clone();
    let kc = dir.path().join("kubeconfig").display().to_string();
    let (kc2, ns2, cluster2, nonce2) = (kc.clone(), ns.clone(), cluster.clone(), nonce.clone());
    let c2 = controls.clone();
    let (consoles, ack, race) = tokio::task::spawn_blocking(move || {
        // Both consoles in write mode with Retry's dialog open, Acknowledge selected.
        for t in &consoles {
            let dialog = open_retry(t);
            assert!(dialog.contains(&nonce2), "{dialog}");
            t.keys(&["Right"]);
        }
        let ack = Tmux::start(
            160,
            48,
            &[
                "ack",
                "--kubeconfig",
                &kc2,
                "-n",
                &ns2,
                &cluster2,
                "--nonce",
                &nonce2,
            ],
        );
        ack.wait_for("[y/N]");
        ack.keys(&["y"]);
        // The last key of all three at once (one thread each).
        let all: Vec<&Tmux> = consoles.iter().chain([&ack]).collect();
        let barrier = Barrier::new(all.len());
        c2.clear_requests();
        let started = Instant::now();
        let sent: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = all
                .iter()
                .map(|t| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        let at = started.elapsed();
                        t.run(&["send-keys", "-t", "e2e", "Enter"]);
                        at
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let spread = sent
            .iter()
            .max()
            .unwrap()
            .saturating_sub(*sent.iter().min().unwrap());
        (consoles, ack, spread)
    })
    .await
    .unwrap();
    // What each party says once it is done (the console's outcome line; ack's exit status).
    let (status, ack_screen, screens) = tokio::task::spawn_blocking(move || {
        let status = ack.wait_dead();
        std::thread::sleep(Duration::from_secs(3));
        let screens: Vec<String> = consoles.iter().map(Tmux::screen).collect();
        (status, ack.screen(), screens)
    })
    .await
    .unwrap();
    // Exactly one party applied it; the others say why not (409, or refused on a re-read).
    let console_won: Vec<bool> = screens
        .iter()
        .map(|s| s.contains("last action acknowledged"))
        .collect();
    let ack_won = status == "0";
    let winners = console_won.iter().filter(|w| **w).count() + usize::from(ack_won);
    assert_eq!(winners, 1, "ack exit {status}:\n{ack_screen}\n{screens:#?}");
    let reasons = ["409 Conflict", "refused", "not active"];
    let mut saw = Vec::new();
    for (s, won) in screens.iter().zip(&console_won) {
        if *won {
            saw.push("console: `last action acknowledged`".to_string());
        } else {
            let line = line_with(s, &reasons[..1]).or_else(|| line_with(s, &reasons));
            let line = line.unwrap_or_else(|| panic!("no reason shown:\n{s}"));
            saw.push(format!("console: `{line}`"));
        }
    }
    if ack_won {
        saw.push("`breakglass ack`: exit 0".into());
    } else {
        assert!(matches!(status.as_str(), "4" | "6"), "ack exit {status}");
        let line = line_with(&ack_screen, &reasons).expect("ack says why");
        let line: String = line.chars().take(60).collect();
        saw.push(format!("`breakglass ack`: exit {status}, `{line}…`"));
    }
    // The request log: one accepted patch of the cluster, every other one refused (409);
    // after the race nothing more is sent (the losing console's dialog waits for the user).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let patches: Vec<_> = controls
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && !r.query.contains("dryRun"))
        .collect();
    let dry_refused = controls
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.query.contains("dryRun") && r.status == 409)
        .count();
    let applied = patches.iter().filter(|r| r.status < 300).count();
    let conflicts = patches.iter().filter(|r| r.status == 409).count();
    assert_eq!(applied, 1, "{patches:#?}");
    assert_eq!(applied + conflicts, patches.len(), "{patches:#?}");
    assert!(
        patches
            .iter()
            .all(|r| r.path.ends_with(&format!("/openbaoclusters/{cluster}"))),
        "{patches:#?}"
    );
    let stored = sim
        .store
        .get(Resource::OpenBaoClusters, &ns, &cluster)
        .unwrap();
    assert_eq!(
        stored
            .pointer("/spec/breakGlassAck")
            .and_then(|v| v.as_str()),
        Some(nonce.as_str())
    );
    Row {
        fault: "two consoles and `breakglass ack` press Enter on the same nonce at once (real binaries)",
        saw: saw.join("; "),
        detect: format!("Enter keys sent {} ms apart", race.as_millis()),
        recover: "n/a".into(),
        lines: "n/a".into(),
        mutations: applied,
    }
    .print();
    eprintln!(
        "FAULT-NOTE ack race: {} patches sent, {applied} applied, {conflicts} refused with 409; {dry_refused} dry runs refused with 409",
        patches.len()
    );
    sim.shutdown().await;
}
