//! The real runtime (`breakglass::runtime`) driven headless against the simulator: keys in,
//! the simulator's request log, the journal and the `State` out; no terminal, no tmux.
//! The path from a confirmed dialog to the PATCH, a read-only session that presses every
//! key, quitting (the sources stop, nothing more reaches the API server), and a restore
//! follower replacing the one before it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use breakglass::app::keymap::KEYMAP;
use breakglass::app::msg::ActionOutcome;
use breakglass::app::{Dialog, Effect, Msg, Options, State};
use breakglass::journal::{self, Event};
use breakglass::runtime::{Runtime, Step};
use breakglass::sim::run::{SimHandle, start};
use breakglass::sources::logfollow::FollowOptions;
use breakglass::sources::openbao_http::NodeAccess;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use tokio::time::Instant;

const SPEED: f64 = 4.0;

/// A simulator, a runtime connected to it through its kubeconfig, and the console's state
/// (`write`: `--write`; the journal goes to `<dir>/journal`).
async fn session(dir: &Path, write: bool) -> (SimHandle, Runtime, State) {
    let sim = start("transient", SPEED, &dir.join("kubeconfig"))
        .await
        .unwrap();
    let conn = sim.connect().await.unwrap();
    let state = State::new(Options {
        namespace: conn.namespace.clone(),
        cluster: sim.cluster.clone(),
        context_label: conn.context.clone(),
        color: false,
        now: Timestamp::now(),
        write: breakglass::app::write_mode::WriteStart::new(write),
        os_user: "tester".into(),
        k8s_user: conn.user.clone(),
        journal_dir: Some(dir.join("journal")),
    });
    let rt = Runtime::start(
        conn,
        NodeAccess::default(),
        &sim.cluster,
        FollowOptions::default(),
    );
    (sim, rt, state)
}

/// Feed the runtime's messages (source events, ticks) until `done` holds.
async fn until(rt: &mut Runtime, state: &mut State, what: &str, done: impl Fn(&State) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(state) {
        match tokio::time::timeout_at(deadline, rt.next_msg()).await {
            Ok(msg) => {
                rt.step(state, msg);
            }
            Err(_) => panic!("{what}: not within 20 s"),
        }
    }
}

/// Feed the runtime's messages for `d`.
async fn run_for(rt: &mut Runtime, state: &mut State, d: Duration) {
    let end = Instant::now() + d;
    while let Ok(msg) = tokio::time::timeout_at(end, rt.next_msg()).await {
        rt.step(state, msg);
    }
}

/// The cluster is read, break glass is active, the RBAC preflight answered.
fn ready(s: &State) -> bool {
    s.incident
        .cluster
        .as_ref()
        .is_some_and(|c| c.active_nonce().is_some())
        && !s.incident.pods.is_empty()
        && s.rbac.is_some()
}

fn press(rt: &mut Runtime, state: &mut State, code: KeyCode, ctrl: bool) -> Step {
    let modifiers = if ctrl {
        KeyModifiers::CONTROL
    } else {
        KeyModifiers::NONE
    };
    let step = rt.step(state, Msg::Key(KeyEvent::new(code, modifiers)));
    // What arrived meanwhile, as the terminal loop folds it into the same frame.
    while let Some(msg) = rt.try_msg() {
        rt.step(state, msg);
    }
    step
}

/// The mutating requests the simulator received: (dry run, body).
fn patches(sim: &SimHandle) -> Vec<(bool, String)> {
    sim.controls()
        .requests()
        .into_iter()
        .filter(|r| r.is_mutating())
        .map(|r| {
            assert_eq!(r.method, "PATCH", "{r:?}");
            (r.query.contains("dryRun=All"), r.body.unwrap_or_default())
        })
        .collect()
}

/// The PATCH requests of the journal(s) under `dir`: (dry run, body).
fn journaled_patches(dir: &Path) -> Vec<(bool, String)> {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one incident, one journal: {files:?}");
    journal::read(&files[0])
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::Request {
                method,
                dry_run,
                body: Some(b),
                ..
            } if method == "PATCH" => Some((dry_run, b.to_string())),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_retry_sends_the_dialogs_body_once_and_journals_it() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut rt, mut state) = session(dir.path(), false).await;
    until(&mut rt, &mut state, "the incident is read", ready).await;
    // As a user does: focus the Decision pane, W for write mode, Enter on Retry.
    press(&mut rt, &mut state, KeyCode::BackTab, false);
    press(&mut rt, &mut state, KeyCode::Char('W'), false);
    assert!(state.write.until.is_some(), "W enters write mode");
    press(&mut rt, &mut state, KeyCode::Enter, false);
    let shown = match &state.dialog {
        Some(Dialog::ConfirmRetry { target, .. }) => target.patch_body(),
        other => panic!("the Retry dialog should be open: {other:?}"),
    };
    assert!(shown.contains("breakGlassAck"), "{shown}");
    sim.controls().clear_requests();
    // Cancel is focused first: move to Acknowledge and press it.
    press(&mut rt, &mut state, KeyCode::Right, false);
    let step = press(&mut rt, &mut state, KeyCode::Enter, false);
    assert_eq!(step, Step::default(), "nothing for the terminal");
    until(&mut rt, &mut state, "the outcome", |s| {
        s.decision.outcome.is_some()
    })
    .await;
    assert!(
        matches!(
            state.decision.outcome,
            Some(ActionOutcome::Acknowledged { .. })
        ),
        "{:?}",
        state.decision.outcome
    );
    assert!(press(&mut rt, &mut state, KeyCode::Char('q'), false).quits());
    assert!(
        rt.shutdown().await,
        "the journal was written before the end"
    );
    // Exactly one PATCH (after its server-side dry run), with the dialog's bytes; the
    // journal records the same two requests with the same bytes.
    let both = vec![(true, shown.clone()), (false, shown)];
    assert_eq!(patches(&sim), both, "request log");
    assert_eq!(
        journaled_patches(&dir.path().join("journal")),
        both,
        "journal"
    );
    sim.shutdown().await;
}

/// Every key of the keymap in every context it leads to (Tab moves through the panes,
/// Enter opens dialogs and the wizard, `/` starts typing), over a few rounds while the
/// sources keep talking, in a session opened with `--write` or not. `W` is left out: it is
/// the one way into write mode. Answers the mutating requests the simulator received (all
/// writes in flight finished) and the final state.
async fn every_key(write: bool) -> (Vec<String>, State) {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut rt, mut state) = session(dir.path(), write).await;
    until(&mut rt, &mut state, "the incident is read", ready).await;
    sim.controls().clear_requests();
    let keys: Vec<(KeyCode, bool)> = KEYMAP
        .iter()
        .flat_map(|b| b.keys.iter())
        .filter(|k| k.code != KeyCode::Char('W'))
        .map(|k| (k.code, k.ctrl))
        .collect();
    assert!(keys.len() > 40, "{} keys", keys.len());
    // From the Decision pane, where the writes are.
    press(&mut rt, &mut state, KeyCode::BackTab, false);
    let mut quits = 0;
    for round in 0..6 {
        for &(code, ctrl) in keys.iter().cycle().skip(round * 7).take(keys.len()) {
            quits += usize::from(press(&mut rt, &mut state, code, ctrl).quits());
            // Enter on each Decision path, and its dialog's confirming button.
            for code in [KeyCode::Enter, KeyCode::Right, KeyCode::Enter] {
                press(&mut rt, &mut state, code, false);
            }
        }
        run_for(&mut rt, &mut state, Duration::from_millis(300)).await;
    }
    assert!(quits > 0, "q and Ctrl-C are handed to the terminal");
    // Writes in flight finish before shutdown returns.
    assert!(rt.shutdown().await);
    let mutations = sim.controls().mutations();
    sim.shutdown().await;
    (mutations, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_pressing_every_key_sends_nothing() {
    let (mutations, state) = every_key(false).await;
    assert_eq!(state.write.until, None, "the session stayed read-only");
    assert_eq!(mutations, Vec::<String>::new());
    // The control: the same keys in write mode do reach the cluster, so the silence above
    // is read-only mode's doing, not keys that never get that far.
    let (mutations, _) = every_key(true).await;
    assert!(
        mutations.iter().any(|m| m.starts_with("PATCH ")),
        "{mutations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_stops_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut rt, mut state) = session(dir.path(), false).await;
    until(&mut rt, &mut state, "the incident is read", ready).await;
    assert!(rt.sources_running() >= 8, "{}", rt.sources_running());
    // In the help overlay `q` closes it; then `q` quits (handed to the terminal).
    assert!(!press(&mut rt, &mut state, KeyCode::Char('?'), false).quits());
    assert!(state.help);
    assert!(!press(&mut rt, &mut state, KeyCode::Char('q'), false).quits());
    assert!(!state.help);
    assert!(press(&mut rt, &mut state, KeyCode::Char('c'), true).quits());
    assert!(press(&mut rt, &mut state, KeyCode::Char('q'), false).quits());
    let t0 = Instant::now();
    assert!(rt.shutdown().await);
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    // A request already being answered may still be logged; after that, silence for longer
    // than the liveness probe's and the Raft poller's intervals.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.controls().clear_requests();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let late: Vec<String> = sim
        .controls()
        .requests()
        .iter()
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    assert_eq!(late, Vec::<String>::new(), "requests after quitting");
    sim.shutdown().await;
}

/// Whether the simulator received a request whose query mentions `needle`.
fn asked_for(sim: &SimHandle, needle: &str) -> bool {
    sim.controls()
        .requests()
        .iter()
        .any(|r| r.query.contains(needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_follower_replaces_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, mut rt, mut state) = session(dir.path(), false).await;
    let follow = |name: &str| Effect::FollowRestore {
        namespace: sim.namespace.clone(),
        name: name.into(),
    };
    assert!(!rt.follows_a_restore());
    assert_eq!(rt.run(follow("first-restore")), None);
    until(&mut rt, &mut state, "the first follower watches", |_| {
        asked_for(&sim, "first-restore")
    })
    .await;
    assert_eq!(rt.run(follow("second-restore")), None);
    until(&mut rt, &mut state, "the second follower watches", |_| {
        asked_for(&sim, "second-restore")
    })
    .await;
    assert!(rt.follows_a_restore());
    // The server ends every watch; only a follower still running comes back for its own.
    sim.controls().clear_requests();
    sim.controls().close_watches();
    run_for(&mut rt, &mut state, Duration::from_secs(2)).await;
    assert!(
        asked_for(&sim, "second-restore"),
        "the current follower resumes"
    );
    assert!(
        !asked_for(&sim, "first-restore"),
        "the replaced follower still runs"
    );
    assert!(rt.shutdown().await);
    sim.shutdown().await;
}
