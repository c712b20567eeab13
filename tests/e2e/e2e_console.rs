//! Layer 4: the real binary in a real pseudo-terminal (tmux): demo → acknowledge → the new
//! attempt is visible → quit, and the terminal is restored on quit and on SIGTERM.
//!
//! Each test runs its own tmux server on a private socket and kills it on drop.

use std::process::Command;
use std::time::Duration;

use crate::support::tmux::{Tmux, acknowledge};

#[test]
fn demo_acknowledge_new_attempt_quit() {
    // The demo starts real `bao` nodes when it finds the binary.
    let _gate = crate::support::real_bao_gate_blocking();
    let t = Tmux::start(160, 48, &["demo", "--operator", "0.1", "--speed", "4"]);
    t.wait_for("BREAK GLASS");
    t.wait_for("upgrade-executor error");
    t.wait_for("operator 0.1");
    acknowledge(&t);
    t.wait_for("rollback-retry-1");
    // The action is over: back to read-only by itself.
    t.wait_for("[READ-ONLY]");
    // The demo gave its console the root token: the Raft pane shows what needs it
    // (voters and failure tolerance, not "needs token"), and the token appears nowhere.
    let first = t.demo_token().expect("the demo writes its token file");
    let screen = t.wait_for("failure tolerance: ");
    assert!(!screen.contains("needs token"), "{screen}");
    let last = t.demo_token().expect("token file");
    let journal = t.journal_text();
    assert!(!journal.is_empty(), "the acknowledgement is journaled");
    for token in [first.trim(), last.trim()] {
        assert!(!screen.contains(token), "token on screen:\n{screen}");
        assert!(!journal.contains(token), "token in the journal");
    }
    quit_restored(&t);
}

#[test]
fn cancelling_sends_nothing_and_sigterm_restores_the_terminal() {
    // Simulated endpoints: one real cluster (the other test's) is enough on a small machine.
    let t = Tmux::start(
        80,
        24,
        &[
            "demo",
            "--operator",
            "0.1",
            "--speed",
            "4",
            "--openbao-nodes",
            "simulated",
        ],
    );
    t.wait_for("BREAK GLASS");
    // At 80 columns the header keeps the mode and the break-glass badge whole.
    let header = |s: &str| s.lines().next().unwrap_or_default().trim_end().to_string();
    let h = header(&t.wait_for("[BREAK GLASS ACTIVE]"));
    assert!(
        h.contains("[READ-ONLY] ") && h.ends_with(" [BREAK GLASS ACTIVE]"),
        "{h}"
    );
    t.keys(&["BTab", "W"]);
    let h = header(&t.wait_for("[WRITE "));
    assert!(
        h.contains("[WRITE ") && h.ends_with(" [BREAK GLASS ACTIVE]"),
        "{h}"
    );
    t.keys(&["Enter"]);
    t.wait_for("breakGlassAck");
    // Enter on the default button is Cancel.
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_secs(3));
    let s = t.screen();
    assert!(
        !s.contains("rollback-retry-1"),
        "a cancelled dialog must not acknowledge:\n{s}"
    );
    let pid = t.console_pid();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    // The console exits by itself on SIGTERM, with the terminal restored (status 0).
    assert_eq!(t.wait_dead(), "0");
    t.assert_restored();
}

/// `q` quits with status 0 and the terminal restored.
fn quit_restored(t: &Tmux) {
    t.keys(&["q"]);
    assert_eq!(t.wait_dead(), "0");
    t.assert_restored();
}

/// `demo --operator LINE [--scenario S] --speed 4 --openbao-nodes simulated` at 160x48.
fn simulated_demo(line: &str, scenario: Option<&str>) -> Tmux {
    let mut args = vec!["demo", "--operator", line, "--speed", "4"];
    args.extend(["--openbao-nodes", "simulated"]);
    if let Some(s) = scenario {
        args.extend(["--scenario", s]);
    }
    Tmux::start(160, 48, &args)
}

/// The 0.6 line end to end: the header names it, the Retry acknowledges, and the new
/// attempt's operation-scoped run ID (`bg-v2-…/rollback-retry-1`) is followed.
#[test]
fn demo_06_retry_follows_the_scoped_attempt() {
    let t = simulated_demo("0.6", None);
    t.wait_for("BREAK GLASS");
    t.wait_for("operator 0.6");
    acknowledge(&t);
    let screen = t.wait_for("/rollback-retry-1");
    assert!(screen.contains("bg-v2-"), "{screen}");
    t.wait_for("[READ-ONLY]");
    quit_restored(&t);
}

/// 0.6's second reason: the cleanup Job failed; the acknowledgement reruns the Green-peer
/// removal, which the Logs pane follows as a cleanup attempt.
#[test]
fn demo_06_cleanup_failed_retry_walk() {
    let t = simulated_demo("0.6", Some("cleanup-failed"));
    t.wait_for("RollbackCleanupPeerRemovalFailed");
    t.wait_for("operator 0.6");
    acknowledge(&t);
    t.wait_for("cleanup attempt 1");
    t.wait_for("[READ-ONLY]");
    quit_restored(&t);
}

/// `y` reaches the clipboard through a real terminal: tmux with `set-clipboard on` takes the
/// console's OSC 52 into its paste buffer, exactly as it forwards it over SSH. Health: the
/// nonce; in the Retry dialog: its kubectl command with the exact body.
#[test]
fn y_puts_the_nonce_and_the_kubectl_command_on_the_clipboard() {
    let t = simulated_demo("0.1", None);
    t.run(&["set-option", "-g", "set-clipboard", "on"]);
    t.wait_for("[BREAK GLASS ACTIVE]");
    t.keys(&["y"]);
    let screen = t.wait_for("copied nonce ");
    let nonce = t.run(&["show-buffer"]);
    assert!(
        nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()),
        "{nonce:?}"
    );
    assert!(
        screen.contains(&format!("copied nonce {}…", &nonce[..16])),
        "{screen}"
    );
    let dialog = crate::support::tmux::open_retry(&t);
    assert!(dialog.contains(&nonce), "{dialog}");
    t.keys(&["y"]);
    t.wait_for("copied kubectl command");
    let cmd = t.run(&["show-buffer"]);
    assert!(
        cmd.starts_with("kubectl --namespace=")
            && cmd.contains("patch openbaoclusters.openbao.org ")
            && cmd.contains(&format!(r#""breakGlassAck":"{nonce}""#)),
        "{cmd}"
    );
    // y is not a yes: the dialog is still open and nothing was sent.
    assert!(t.screen().contains("[ Acknowledge ]"));
    t.keys(&["Escape"]);
    quit_restored(&t);
}
