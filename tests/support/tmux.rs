//! The console binary in a real pseudo-terminal (tmux): start it, read the screen, send
//! keys. Each `Tmux` runs its own tmux server on a private socket and kills it on drop.
//! Shared by the harnesses through `tests/support/mod.rs` (the demo walks in `tests/e2e/`) and
//! by `tests/real_apiserver.rs`, which includes this file alone.

use std::process::Command;
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(40);

pub struct Tmux {
    socket: String,
    /// The shell wrapper writes breakglass's exit status here.
    status_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// Start `breakglass ARGS` as the only pane, at the given size, kept after it exits.
    pub fn start(width: u16, height: u16, args: &[&str]) -> Tmux {
        Tmux::start_with_state(width, height, args, None)
    }

    /// [`Tmux::start`] with `XDG_STATE_HOME` set to `state_home` instead of the test's own
    /// fresh directory (e.g. one that cannot be written).
    pub fn start_with_state(
        width: u16,
        height: u16,
        args: &[&str],
        state_home: Option<&std::path::Path>,
    ) -> Tmux {
        Tmux::start_program(
            (width, height),
            env!("CARGO_BIN_EXE_breakglass"),
            args,
            state_home,
            &[],
        )
    }

    /// `PROGRAM ARGS` as the only pane (with `env`, `NAME=value` each, added), at the
    /// given size, kept after it exits: e.g. this test binary re-run as a child.
    pub fn start_program(
        (width, height): (u16, u16),
        program: &str,
        args: &[&str],
        state_home: Option<&std::path::Path>,
        env: &[&str],
    ) -> Tmux {
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
        let mut cmd = vec!["sh", "-c", &script, program];
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
        let state_home = format!(
            "XDG_STATE_HOME={}",
            state_home
                .map_or_else(|| t._dir.path().join("state"), std::path::Path::to_path_buf)
                .display()
        );
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
        for e in env {
            respawn.extend(["-e", e]);
        }
        respawn.extend(cmd);
        t.run(&respawn);
        t
    }

    pub fn run(&self, args: &[&str]) -> String {
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
    pub fn demo_token(&self) -> Option<String> {
        std::fs::read_dir(self._dir.path().join("tmp"))
            .ok()?
            .flatten()
            .find_map(|d| std::fs::read_to_string(d.path().join("openbao-token")).ok())
            .filter(|t| !t.trim().is_empty())
    }

    /// Every file under the journal directory (`XDG_STATE_HOME`), concatenated.
    pub fn journal_text(&self) -> String {
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

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn format(&self, f: &str) -> String {
        self.run(&["display-message", "-p", "-t", "e2e", f])
            .trim()
            .to_string()
    }

    /// Wait until the screen shows `text`; fail with the last screen.
    pub fn wait_for(&self, text: &str) -> String {
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
    pub fn wait_dead(&self) -> String {
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

    /// Whether the program has exited (the wrapper shell wrote its status).
    pub fn has_exited(&self) -> bool {
        self.status_file.exists()
    }

    /// The whole pane with its scrollback, lines joined: what the user's terminal shows
    /// after the program exited (its last words on stderr included).
    pub fn scrollback(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "e2e"])
    }

    /// PID of breakglass itself (the child of the pane's shell wrapper).
    pub fn console_pid(&self) -> String {
        let sh = self.format("#{pane_pid}");
        let children = std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children")).unwrap();
        children
            .split_whitespace()
            .next()
            .expect("breakglass is running")
            .to_string()
    }

    pub fn assert_restored(&self) {
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
pub fn open_retry(t: &Tmux) -> String {
    t.wait_for("[READ-ONLY]");
    t.keys(&["BTab"]);
    t.keys(&["W"]);
    t.wait_for("[WRITE ");
    t.keys(&["Enter"]);
    t.wait_for("breakGlassAck")
}

/// [`open_retry`], move to Acknowledge, confirm.
pub fn acknowledge(t: &Tmux) {
    let dialog = open_retry(t);
    assert!(
        dialog.contains("Cancel") && dialog.contains("Acknowledge"),
        "{dialog}"
    );
    t.keys(&["Right", "Enter"]);
}
