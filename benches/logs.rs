//! The log engine's benchmark (not a timed test; CI never runs it).
//!
//! `cargo bench --bench logs` (set `BENCH_LINES` for a smaller corpus while developing,
//! `BENCH_CORPUS=FILE` to keep the corpus for profiling, `BENCH_ONLY=highlight` to skip the
//! render and memory measures, `BENCH_ONLY=render` to skip the highlight comparison, `BENCH_BASELINE=BINARY` to time an older `breakglass` build on
//! the same corpus in the same run).
//! In one run it:
//! 1. generates a realistic executor-format corpus (zap development lines with the
//!    executor's fields, WARN/ERROR entries with stack frames, fatal `upgrade-executor
//!    error:` lines, from the simulator's encoder);
//! 2. times `breakglass highlight` (the release binary, ANSI out) against
//!    `rg --passthru --color=always -f patterns.txt` with the same rules' regexes, both
//!    writing into a pipe this process drains (neither can skip work for /dev/null);
//! 3. times one Logs pane frame at 200x60 with 1k and with 1M lines stored;
//! 4. measures resident memory per stored line against the raw bytes.
//!
//! It prints the figures and the ratios the README's Performance section quotes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark: a failed step should stop it loudly"
)]

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use breakglass::app::{Focus, Msg, Options, State, update};
use breakglass::logs::LineStore;
use breakglass::patterns;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "support/corpus.rs"]
mod corpus_gen;
use corpus_gen::corpus;

/// Run `cmd` with `input` on stdin, draining its stdout; the wall time and bytes out.
fn timed(mut cmd: Command, input: &std::path::Path) -> (Duration, usize) {
    let file = std::fs::File::open(input).unwrap();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::from(file))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0;
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    child.wait().unwrap();
    (start.elapsed(), total)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn state_with(lines: &[String]) -> State {
    let mut s = State::new(Options {
        namespace: "security".into(),
        cluster: "prod-cluster".into(),
        context_label: "bench".into(),
        color: true,
        now: "2026-11-23T19:40:00Z".parse().unwrap(),
        write: false,
        os_user: "bench".into(),
        k8s_user: "bench".into(),
        journal_dir: None,
    });
    s.focus = Focus::Logs;
    update(
        &mut s,
        Msg::Resize {
            width: 200,
            height: 60,
        },
    );
    s.logs.store = LineStore::new(lines.len().max(1));
    for l in lines {
        s.logs.store.push_line(l);
    }
    s
}

/// Median time of one full frame (all four panes; the Logs pane focused) over `n` frames:
/// the median, because the machine is shared and a mean would carry other people's work.
fn frame_time(state: &State, n: u32) -> Duration {
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    term.draw(|f| breakglass::ui::render(state, f)).unwrap();
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            term.draw(|f| breakglass::ui::render(state, f)).unwrap();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// 1. `breakglass highlight` vs ripgrep (and `BENCH_BASELINE`) on the corpus file.
fn compare_highlight(
    dir: &std::path::Path,
    corpus_path: &std::path::Path,
    raw_bytes: usize,
    n: usize,
) {
    // 1. highlight vs ripgrep.
    let patterns_path = dir.join("patterns.txt");
    let regexes: Vec<&str> = patterns::active()
        .rules()
        .iter()
        .map(|r| r.pattern.as_str())
        .collect();
    std::fs::write(&patterns_path, regexes.join("\n") + "\n").unwrap();
    let mut ours = Command::new(env!("CARGO_BIN_EXE_breakglass"));
    ours.arg("highlight").env("XDG_CONFIG_HOME", "/nonexistent");
    let (t_ours, out_ours) = timed(ours, corpus_path);
    let mib = raw_bytes as f64 / (1 << 20) as f64;
    println!(
        "breakglass highlight: {:.3} s, {:.0} MiB/s, {:.2} M lines/s ({out_ours} bytes out)",
        t_ours.as_secs_f64(),
        mib / t_ours.as_secs_f64(),
        n as f64 / t_ours.as_secs_f64() / 1e6
    );
    if let Some(base) = std::env::var_os("BENCH_BASELINE") {
        let mut cmd = Command::new(base);
        cmd.arg("highlight").env("XDG_CONFIG_HOME", "/nonexistent");
        let (t_base, out_base) = timed(cmd, corpus_path);
        println!(
            "baseline highlight: {:.3} s ({out_base} bytes out); RATIO baseline time / highlight time = {:.2}",
            t_base.as_secs_f64(),
            t_base.as_secs_f64() / t_ours.as_secs_f64()
        );
    }
    let rg_ok = Command::new("rg")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if rg_ok {
        let mut rg = Command::new("rg");
        rg.args(["--passthru", "--color=always", "--no-config", "-f"])
            .arg(&patterns_path)
            .arg("-");
        let (t_rg, out_rg) = timed(rg, corpus_path);
        println!(
            "rg --passthru --color=always -f: {:.3} s, {:.0} MiB/s ({out_rg} bytes out)",
            t_rg.as_secs_f64(),
            mib / t_rg.as_secs_f64()
        );
        println!(
            "RATIO highlight time / rg time = {:.2} (target <= 1.0)",
            t_ours.as_secs_f64() / t_rg.as_secs_f64()
        );
    } else {
        println!(
            "RIPGREP MISSING: `rg` is not on PATH (apt-get install -y ripgrep); the comparison was NOT run"
        );
    }
}

fn main() {
    let n: usize = std::env::var("BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus(n);
    let raw_bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let corpus_path = std::env::var_os("BENCH_CORPUS")
        .map_or_else(|| dir.path().join("corpus.log"), std::path::PathBuf::from);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&corpus_path).unwrap());
    for l in &lines {
        writeln!(f, "{l}").unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let matched = lines
        .iter()
        .filter(|l| patterns::active().first_match(l).is_some())
        .count();
    println!(
        "corpus: {n} lines, {:.1} MiB, {:.1}% match a rule",
        raw_bytes as f64 / (1 << 20) as f64,
        100.0 * matched as f64 / n as f64
    );

    let only = std::env::var("BENCH_ONLY").ok();
    if only.as_deref() != Some("render") {
        compare_highlight(dir.path(), &corpus_path, raw_bytes, n);
    }
    if only.as_deref() == Some("highlight") {
        return;
    }

    // 2. Render time with 1k and with all lines stored (memory measured while filling).
    let small = state_with(&lines[..n.min(1_000)]);
    let before = rss_kib();
    let big = state_with(&lines);
    let after = rss_kib();
    let t_small = frame_time(&small, 500);
    let t_big = frame_time(&big, 500);
    println!(
        "frame 200x60: {:.3} ms with {} lines, {:.3} ms with {} lines; RATIO big/small = {:.2} (target <= 1.2, <= 1 ms)",
        t_small.as_secs_f64() * 1e3,
        small.logs.store.len(),
        t_big.as_secs_f64() * 1e3,
        big.logs.store.len(),
        t_big.as_secs_f64() / t_small.as_secs_f64()
    );

    // 3. Memory per stored line (resident growth while filling the big store).
    let grown = (after.saturating_sub(before)) as f64 * 1024.0;
    println!(
        "memory: {:.0} bytes per stored line, raw {:.0} bytes per line; RATIO stored/raw = {:.2} (target <= 1.3)",
        grown / n as f64,
        raw_bytes as f64 / n as f64,
        grown / raw_bytes as f64
    );
    drop(big);
}
