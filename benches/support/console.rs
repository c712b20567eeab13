//! The console's idle terminal traffic for the bench: `breakglass demo` in a tmux pane of a
//! given size, left alone; tmux's `pipe-pane` copies what the console writes to the
//! pseudo-terminal into a file, whose size over the measured seconds is the figure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Bytes per second `breakglass demo` writes at `width`x`height` over `secs` seconds, after
/// `settle` seconds for the incident to come up (its first frames are the whole screen).
/// None when tmux is missing or the session did not start.
pub fn idle_bytes_per_second(
    dir: &Path,
    width: u16,
    height: u16,
    settle: Duration,
    secs: u64,
) -> Option<f64> {
    let socket = format!("bench-{}-{width}x{height}", std::process::id());
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let home = dir.join(format!("home-{width}x{height}"));
    std::fs::create_dir_all(&home).ok()?;
    let console = format!(
        "env -u NO_COLOR TERM=xterm-256color HOME={} XDG_CONFIG_HOME=/nonexistent {} demo",
        home.display(),
        env!("CARGO_BIN_EXE_breakglass")
    );
    let (w, h) = (width.to_string(), height.to_string());
    if !tmux(&["new-session", "-d", "-x", &w, "-y", &h, &console]) {
        return None;
    }
    std::thread::sleep(settle);
    let out = dir.join(format!("idle-{width}x{height}.out"));
    let started = tmux(&["pipe-pane", "-o", &format!("cat > {}", out.display())]);
    std::thread::sleep(Duration::from_secs(secs));
    tmux(&["pipe-pane"]);
    tmux(&["kill-server"]);
    let bytes = std::fs::metadata(&out).ok()?.len();
    started.then_some(bytes as f64 / secs as f64)
}
