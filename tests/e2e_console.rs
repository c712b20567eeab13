//! Layer 4: the real binary in a real pseudo-terminal (tmux): demo → acknowledge → the new
//! attempt is visible → quit, and the terminal is restored on quit and on SIGTERM.
//!
//! Each test runs its own tmux server on a private socket and kills it on drop.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(40);

struct Tmux {
    socket: String,
    /// The shell wrapper writes breakglass's exit status here.
    status_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `breakglass ARGS` as the only pane, at the given size, kept after it exits.
    fn start(width: u16, height: u16, args: &[&str]) -> Tmux {
        let socket = format!("bg-e2e-{}-{}", std::process::id(), rand_suffix());
        let dir = tempfile::tempdir().unwrap();
        let status_file = dir.path().join("status");
        let t = Tmux {
            socket,
            status_file,
            _dir: dir,
        };
        let script = format!(
            "\"$0\" \"$@\"; echo $? > {}; exec sleep 120",
            t.status_file.display()
        );
        let mut cmd = vec!["sh", "-c", &script, env!("CARGO_BIN_EXE_breakglass")];
        cmd.extend(args);
        t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        t.run(&["set-option", "-g", "remain-on-exit", "on"]);
        // The incident journal goes to the test's own directory, never the user's; so do
        // the demo's temporary files (its kubeconfig and OpenBao token file).
        let state_home = format!("XDG_STATE_HOME={}", t._dir.path().join("state").display());
        std::fs::create_dir_all(t._dir.path().join("tmp")).unwrap();
        let tmp = format!("TMPDIR={}", t._dir.path().join("tmp").display());
        let mut respawn = vec![
            "respawn-pane",
            "-k",
            "-t",
            "e2e",
            "-e",
            "TERM=xterm-256color",
            "-e",
            &state_home,
            "-e",
            &tmp,
        ];
        respawn.extend(cmd);
        t.run(&respawn);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (bash .ci/test installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The token the demo wrote for its console (`<TMPDIR>/*/openbao-token`), if any yet.
    fn demo_token(&self) -> Option<String> {
        std::fs::read_dir(self._dir.path().join("tmp"))
            .ok()?
            .flatten()
            .find_map(|d| std::fs::read_to_string(d.path().join("openbao-token")).ok())
            .filter(|t| !t.trim().is_empty())
    }

    /// Every file under the journal directory (`XDG_STATE_HOME`), concatenated.
    fn journal_text(&self) -> String {
        fn walk(dir: &std::path::Path, out: &mut String) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        let mut out = String::new();
        walk(&self._dir.path().join("state"), &mut out);
        out
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn format(&self, f: &str) -> String {
        self.run(&["display-message", "-p", "-t", "e2e", f])
            .trim()
            .to_string()
    }

    /// Wait until the screen shows `text`; fail with the last screen.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {text:?}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait until breakglass has exited (the wrapper shell stays, so the pane's terminal
    /// state can still be inspected) and return its exit status.
    fn wait_dead(&self) -> String {
        let start = Instant::now();
        while !self.status_file.exists() {
            assert!(
                start.elapsed() < WAIT,
                "the console did not exit; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::fs::read_to_string(&self.status_file)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// PID of breakglass itself (the child of the pane's shell wrapper).
    fn console_pid(&self) -> String {
        let sh = self.format("#{pane_pid}");
        let children = std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children")).unwrap();
        children
            .split_whitespace()
            .next()
            .expect("breakglass is running")
            .to_string()
    }

    fn assert_restored(&self) {
        assert_eq!(
            self.format("#{alternate_on}"),
            "0",
            "alternate screen left on"
        );
        assert_eq!(self.format("#{cursor_flag}"), "1", "cursor left hidden");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn rand_suffix() -> u32 {
    use std::time::SystemTime;
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Focus the Decision pane, allow writes, open Retry (the first path): the dialog's screen.
fn open_retry(t: &Tmux) -> String {
    t.wait_for("[READ-ONLY]");
    t.keys(&["BTab"]);
    t.keys(&["W"]);
    t.wait_for("[WRITE ");
    t.keys(&["Enter"]);
    t.wait_for("breakGlassAck")
}

/// [`open_retry`], move to Acknowledge, confirm.
fn acknowledge(t: &Tmux) {
    let dialog = open_retry(t);
    assert!(
        dialog.contains("Cancel") && dialog.contains("Acknowledge"),
        "{dialog}"
    );
    t.keys(&["Right", "Enter"]);
}

#[test]
fn demo_acknowledge_new_attempt_quit() {
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
