//! Quitting with a write in flight (real binary on a pty): `q` restores the terminal at
//! once, then the console waits (up to `runtime::SHUTDOWN_GRACE`, 5 s) for the write and its
//! journal entries; a second stop signal ends that wait at once and says so. The simulator
//! holds the acknowledgement's first PATCH (`Controls::hold_requests`) so that the write is
//! still in flight when `q` is pressed.

use std::process::Command;
use std::time::{Duration, Instant};

use breakglass::runtime::SHUTDOWN_GRACE;
use breakglass::sim::server::Controls;

use crate::support::faults::{Row, secs, sim_and_pty_consoles};
use crate::support::tmux::{Tmux, acknowledge};

/// The Decision pane's line while the write is in flight.
const IN_FLIGHT: &str = "request sent; waiting for the API server…";
/// What the console prints when a second stop signal ends the wait.
const STOPPED_AGAIN: &str =
    "breakglass: stopped again before a write or the journal finished; check the journal";
/// What it prints when the grace period ran out.
const NOT_FINISHED: &str = "did not finish within";
/// The cluster's API group: the acknowledgement patches an openbaoclusters object in it.
const CLUSTERS: &str = "/apis/openbao.org/";
/// Held longer than the test lasts: never answered, so nothing of it is applied and the
/// cluster still waits for an acknowledgement.
const FOREVER: Duration = Duration::from_secs(60);

/// Hold the next PATCH of the cluster for `hold`, confirm the acknowledgement, press `q`
/// while it is held, and wait until the terminal is restored. When `q` was pressed.
fn quit_while_held(t: &Tmux, controls: &Controls, hold: Duration) -> Instant {
    controls.hold_requests("PATCH", CLUSTERS, hold, 1);
    acknowledge(t);
    t.wait_for(IN_FLIGHT);
    let pressed = Instant::now();
    t.keys(&["q"]);
    while t.format("#{alternate_on}") != "0" {
        assert!(
            pressed.elapsed() < Duration::from_secs(3),
            "the terminal was not restored on q; screen:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    t.assert_restored();
    pressed
}

/// The console stopped again by `signal` while it waits for a held write: it must exit at
/// once, say so, and leave the terminal restored. How long the exit took after the signal.
fn stopped_again(t: &Tmux, controls: &Controls, signal: &str) -> Duration {
    let pid = t.console_pid();
    quit_while_held(t, controls, FOREVER);
    // It waits for the write rather than exiting with the terminal.
    std::thread::sleep(Duration::from_millis(700));
    assert!(!t.has_exited(), "quit did not wait for the write in flight");
    let sent = Instant::now();
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = t.wait_dead();
    let took = sent.elapsed();
    let out = t.scrollback();
    assert!(
        took < Duration::from_secs(1),
        "SIG{signal} took {took:?}:\n{out}"
    );
    assert_eq!(status, "0", "SIG{signal}:\n{out}");
    assert!(out.contains(STOPPED_AGAIN), "SIG{signal}:\n{out}");
    assert!(!out.contains(NOT_FINISHED), "SIG{signal}:\n{out}");
    t.assert_restored();
    took
}

/// `q` while a write is held for `hold`, and no second signal: the console must wait for
/// it (not exit with the terminal) and then exit 0 with the terminal restored. How long
/// after `q` it exited, and the pane with what it printed.
fn quit_and_wait(t: &Tmux, controls: &Controls, hold: Duration) -> (Duration, String) {
    let pressed = quit_while_held(t, controls, hold);
    std::thread::sleep(Duration::from_millis(700));
    assert!(!t.has_exited(), "quit did not wait for the write in flight");
    let status = t.wait_dead();
    let waited = pressed.elapsed();
    let out = t.scrollback();
    assert_eq!(status, "0", "{out}");
    assert!(!out.contains(STOPPED_AGAIN), "{out}");
    t.assert_restored();
    (waited, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quit_waits_for_the_write_in_flight_unless_stopped_again() {
    let started = Instant::now();
    let (sim, consoles, _dir) = sim_and_pty_consoles(4, None).await;
    let controls = sim.controls();
    let (term, int, gave_up, waited, journal, applied) = tokio::task::spawn_blocking(move || {
        let [stop_term, stop_int, grace, wait] = <[Tmux; 4]>::try_from(consoles).ok().unwrap();
        let term = stopped_again(&stop_term, &controls, "TERM");
        let int = stopped_again(&stop_int, &controls, "INT");
        // A write that does not finish: the wait ends after the grace period, and says so.
        let (gave_up, out) = quit_and_wait(&grace, &controls, FOREVER);
        assert!(
            gave_up >= SHUTDOWN_GRACE && gave_up < SHUTDOWN_GRACE + Duration::from_millis(1500),
            "gave up after {gave_up:?}:\n{out}"
        );
        let said = format!(
            "breakglass: a write or the journal did not finish within {} s; check the journal",
            SHUTDOWN_GRACE.as_secs()
        );
        assert!(out.contains(&said), "{out}");
        // A write that finishes within the grace period: the dry run answered after 2 s,
        // then the patch, then the journal, then the exit.
        let (waited, out) = quit_and_wait(&wait, &controls, Duration::from_secs(2));
        assert!(waited < SHUTDOWN_GRACE, "waited {waited:?}:\n{out}");
        assert!(!out.contains(NOT_FINISHED), "{out}");
        let applied: Vec<String> = controls
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH" && r.path.starts_with(CLUSTERS))
            .map(|r| {
                let what = if r.query.contains("dryRun=All") {
                    "dry run"
                } else {
                    "patch"
                };
                format!("{what} -> {}", r.status)
            })
            .collect();
        (term, int, gave_up, waited, wait.journal_text(), applied)
    })
    .await
    .unwrap();
    // The last write went out whole before the exit: the dry run and the patch, both
    // answered (the held ones of the other consoles were never answered).
    assert_eq!(applied, ["dry run -> 200", "patch -> 200"], "{applied:?}");
    // And its outcome reached the journal before the exit.
    let entries: Vec<serde_json::Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let patched = entries
        .iter()
        .any(|e| e["kind"] == "response" && e["status"] == 200 && e["message"] == "patched");
    assert!(patched, "no `patched` response in the journal:\n{journal}");
    Row {
        fault: "`q` with the acknowledgement's PATCH held by the API server, then SIGTERM or SIGINT again (real binary)",
        saw: format!(
            "terminal restored at `q`; the console waits for the write; a second signal: `{STOPPED_AGAIN}`, exit 0; a write held past the grace period: `a write or the journal did not finish within 5 s; check the journal`, exit 0; one answered within it: exit 0 once the write and its journal entries are done (the journal holds the `patched` response)"
        ),
        detect: "n/a".into(),
        recover: format!(
            "exited {} after SIGTERM, {} after SIGINT; {} after `q` with the PATCH held 60 s, {} with the dry run held 2 s",
            secs(term),
            secs(int),
            secs(gave_up),
            secs(waited)
        ),
        lines: "n/a".into(),
        mutations: 1,
    }
    .print();
    eprintln!("whole test {}", secs(started.elapsed()));
    sim.shutdown().await;
}
