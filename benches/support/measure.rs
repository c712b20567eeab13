//! Timing a child process for the bench: wall time, and the user+sys CPU time of the whole
//! process (every thread) from this process's own children totals (`cutime` + `cstime` in
//! `/proc/self/stat`, which the kernel adds a child's times to when it is waited for): std
//! only, no `unsafe`, one clock tick (10 ms) of resolution.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of a command over the corpus.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    /// User + system CPU seconds of the child (all its threads).
    pub cpu: f64,
    pub bytes: usize,
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux when it cannot be asked).
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds of this process's waited-for children so far (user + system).
fn children_cpu(tick: f64) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // cutime and cstime are fields 16 and 17.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> f64 {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field(16) + field(17)) / tick
}

/// Run `cmd` with `input` on stdin, draining its stdout into this process (neither side
/// can skip work for /dev/null).
pub fn timed(cmd: &mut Command, input: &Path) -> Run {
    let tick = ticks_per_second();
    let file = std::fs::File::open(input).unwrap();
    let cpu_before = children_cpu(tick);
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::from(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0;
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        bytes += n;
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{cmd:?} failed: {status}");
    let wall = start.elapsed();
    Run {
        wall,
        cpu: children_cpu(tick) - cpu_before,
        bytes,
    }
}

/// The median wall time and the median CPU time (each on its own) of `runs`.
pub fn median(mut runs: Vec<Run>) -> Run {
    assert!(!runs.is_empty());
    let mid = runs.len() / 2;
    runs.sort_by_key(|r| r.wall);
    let wall = runs[mid].wall;
    runs.sort_by(|a, b| a.cpu.total_cmp(&b.cpu));
    Run { wall, ..runs[mid] }
}

/// The 1-minute load average (the machine is shared: say how busy it was).
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// A user rule file of `n` rules a team might add (pager, backup, agent, quota messages;
/// none occurs in the bench corpus), TOML for `--patterns`, and the same regexes one per line
/// for ripgrep's `-f`.
pub fn extra_rules(n: usize) -> (String, Vec<String>) {
    let mut toml = String::new();
    let mut regexes = Vec::new();
    for k in 0..n {
        let regex = match k % 5 {
            0 => format!(r"(?i)team-{k} pager: .*threshold exceeded"),
            1 => format!(r"backup job {k} failed with exit code \d+"),
            2 => format!(r"(?i)vault-agent-{k}: (?:renewal|lease) (?:failed|expired)"),
            3 => format!(r"quota exceeded for namespace tenant-{k}|tenant-{k} rate limited"),
            _ => format!(r"audit device {k} (?:blocked|unreachable)"),
        };
        toml.push_str(&format!(
            "[[rule]]\nid = \"team-{k}\"\nregex = '{regex}'\nseverity = \"{}\"\nmeaning = \"Team rule {k}.\"\n\n",
            ["error", "warn", "info"][k % 3]
        ));
        regexes.push(regex);
    }
    (toml, regexes)
}
