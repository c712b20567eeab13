//! The log engine's benchmark (not a timed test; CI never runs it).
//!
//! `cargo bench --bench logs` (set `BENCH_LINES` for a smaller corpus while developing,
//! `BENCH_CORPUS=FILE` to keep the corpus for profiling, `BENCH_ONLY=highlight` to skip the
//! render and memory measures, `BENCH_ONLY=render` to skip the highlight comparison, `BENCH_BASELINE=BINARY` to time an older `breakglass` build on
//! the same corpus in the same run, `BENCH_RUNS` for the number of runs per figure).
//! In one run it:
//! 1. generates a realistic executor-format corpus (zap development lines with the
//!    executor's fields, WARN/ERROR entries with stack frames, fatal `upgrade-executor
//!    error:` lines, from the simulator's encoder);
//! 2. runs `breakglass highlight` (the release binary, ANSI out) against
//!    `rg --passthru --color=always -f patterns.txt` with the same rules' regexes, both
//!    writing into a pipe this process drains (neither can skip work for /dev/null): wall
//!    time and user+sys CPU time of the whole process, on two cores, on one core
//!    (`taskset -c 0`) and with a user file of 100 extra rules (ripgrep gets the same 147
//!    regexes), each the median of `BENCH_RUNS` (5) runs taken in turns, with the ratios;
//! 3. times one Logs pane frame at 200x60 with 1k and with 1M lines stored;
//! 4. measures resident memory per stored line against the raw bytes;
//! 5. measures the bytes per second `breakglass demo` writes to a tmux pane left alone
//!    (`BENCH_ONLY=console` for this alone, `BENCH_IDLE_SECS` for its length, 60);
//! 6. measures the console on the simulator in a tmux pane: start → first frame with data,
//!    API change → on the pane, CPU and terminal bytes left alone and while following a log
//!    at 1,000 lines/s (`BENCH_FOLLOW_SECS`, 20).
//!
//! It prints the figures and the ratios the README's Performance section quotes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark: a failed step should stop it loudly"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use breakglass::app::{Focus, Msg, Options, State, update};
use breakglass::logs::LineStore;
use breakglass::patterns;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "support/console.rs"]
mod console;
#[path = "support/corpus.rs"]
mod corpus_gen;
#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/support/tmux.rs"]
#[expect(dead_code, reason = "the tests' pty helper: the bench uses part of it")]
mod tmux;
use corpus_gen::corpus;

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
        write: breakglass::app::write_mode::WriteStart::new(false),
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

/// One program in the comparison: its label and how to start it (`extra`: with the
/// 100-rule user file).
type Program<'a> = (&'a str, Box<dyn Fn(bool) -> Command + 'a>);

/// `breakglass highlight` vs ripgrep (and `BENCH_BASELINE`) on the corpus file: two cores,
/// one core (`taskset -c 0`), and two cores with 100 extra rules. Each figure is the median of
/// `BENCH_RUNS` runs (5), the programs taking turns so that they share the machine's load.
fn compare_highlight(dir: &Path, corpus_path: &Path, raw_bytes: usize, n: usize) {
    let builtin: Vec<String> = patterns::active()
        .rules()
        .iter()
        .map(|r| r.pattern.clone())
        .collect();
    let (extra_toml, extra_regexes) = measure::extra_rules(100);
    let extra_path = dir.join("extra-rules.toml");
    std::fs::write(&extra_path, extra_toml).unwrap();
    let patterns_path = dir.join("patterns.txt");
    std::fs::write(&patterns_path, builtin.join("\n") + "\n").unwrap();
    let patterns_extra = dir.join("patterns-extra.txt");
    let all: Vec<String> = extra_regexes.into_iter().chain(builtin).collect();
    std::fs::write(&patterns_extra, all.join("\n") + "\n").unwrap();

    let breakglass = |bin: std::ffi::OsString| {
        let extra_path = extra_path.clone();
        move |extra: bool| {
            let mut c = Command::new(&bin);
            c.arg("highlight").env("XDG_CONFIG_HOME", "/nonexistent");
            if extra {
                c.arg("--patterns").arg(&extra_path);
            }
            c
        }
    };
    let mut programs: Vec<Program> = vec![(
        "breakglass highlight",
        Box::new(breakglass(env!("CARGO_BIN_EXE_breakglass").into())),
    )];
    if let Some(base) = std::env::var_os("BENCH_BASELINE") {
        programs.push(("baseline highlight", Box::new(breakglass(base))));
    }
    let rg_ok = Command::new("rg")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if rg_ok {
        programs.push((
            "rg --passthru --color=always -f",
            Box::new(|extra: bool| {
                let mut c = Command::new("rg");
                c.args(["--passthru", "--color=always", "--no-config", "-f"])
                    .arg(if extra {
                        &patterns_extra
                    } else {
                        &patterns_path
                    })
                    .arg("-");
                c
            }),
        ));
    } else {
        println!(
            "RIPGREP MISSING: `rg` is not on PATH (apt-get install -y ripgrep); the comparison was NOT run"
        );
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mib = raw_bytes as f64 / (1 << 20) as f64;
    println!(
        "highlight: median of {runs} runs each; load average {} at start",
        measure::load()
    );
    let configs = [
        ("two cores", false, false),
        ("one core (taskset -c 0)", true, false),
        ("two cores, +100 user rules", false, true),
    ];
    let mut medians: Vec<Vec<measure::Run>> = Vec::new();
    for (name, one_core, extra) in configs {
        let mut samples: Vec<Vec<measure::Run>> = vec![Vec::new(); programs.len()];
        for _ in 0..runs {
            for (p, (_, make)) in programs.iter().enumerate() {
                let mut cmd = make(extra);
                if one_core {
                    let inner = cmd;
                    cmd = Command::new("taskset");
                    cmd.args(["-c", "0"])
                        .arg(inner.get_program())
                        .args(inner.get_args());
                    for (k, v) in inner.get_envs() {
                        match v {
                            Some(v) => cmd.env(k, v),
                            None => cmd.env_remove(k),
                        };
                    }
                }
                samples[p].push(measure::timed(&mut cmd, corpus_path));
            }
        }
        println!("[{name}]");
        let row: Vec<measure::Run> = samples.into_iter().map(measure::median).collect();
        for ((label, _), r) in programs.iter().zip(&row) {
            println!(
                "  {label}: wall {:.3} s, cpu {:.2} s (user+sys), {:.0} MiB/s, {:.2} M lines/s, {} bytes out",
                r.wall.as_secs_f64(),
                r.cpu,
                mib / r.wall.as_secs_f64(),
                n as f64 / r.wall.as_secs_f64() / 1e6,
                r.bytes
            );
        }
        let (ours, last) = (row[0], row[row.len() - 1]);
        if rg_ok {
            println!(
                "  RATIO vs rg [{name}]: cpu {:.2} (target <= 1.0), wall {:.2}",
                ours.cpu / last.cpu,
                ours.wall.as_secs_f64() / last.wall.as_secs_f64()
            );
        }
        if programs.len() == 3 || (!rg_ok && programs.len() == 2) {
            let base = row[1];
            println!(
                "  RATIO vs baseline [{name}]: cpu {:.2}, wall {:.2} (below 1: faster than the baseline)",
                ours.cpu / base.cpu,
                ours.wall.as_secs_f64() / base.wall.as_secs_f64()
            );
        }
        medians.push(row);
    }
    // Growth with the number of rules: 147 rules against 47, each program against itself.
    for (p, (label, _)) in programs.iter().enumerate() {
        println!(
            "RATIO +100 rules / builtin rules, cpu, {label}: {:.2}",
            medians[2][p].cpu / medians[0][p].cpu
        );
    }
    println!("load average {} at the end", measure::load());
}

/// The console's own figures: its idle terminal traffic in `demo` at 160x48 and 80x24
/// (`BENCH_IDLE_SECS`, 60), then on the simulator at 160x48: start → first frame with data,
/// API change → on the pane, CPU and bytes left alone (`BENCH_IDLE_SECS`) and while following
/// a log at 1,000 lines/s (`BENCH_FOLLOW_SECS`, 20).
fn console_figures(dir: &Path) {
    let secs: u64 = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let follow_secs: u64 = std::env::var("BENCH_FOLLOW_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for (w, h, target) in [(160, 48, 300), (80, 24, 200)] {
        let settle = Duration::from_secs(12);
        match console::idle_bytes_per_second(dir, w, h, settle, secs) {
            Some(rate) => println!(
                "console idle {w}x{h}: {rate:.0} bytes/s written to the terminal over {secs} s (target <= {target}); load average {}",
                measure::load()
            ),
            None => println!(
                "console idle {w}x{h}: NOT MEASURED (tmux missing or the demo did not start)"
            ),
        }
    }
    let f = console::sim_figures(dir, secs, follow_secs);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "console on the simulator, 160x48 (release binary, tmux; load average {}):",
        measure::load()
    );
    println!(
        "  start -> first frame with data: {:.0} ms (tmux's start included)",
        ms(f.first_frame)
    );
    println!(
        "  API change -> on the pane: median {:.0} ms, slowest {:.0} ms of {} (pane read every 5 ms)",
        ms(f.change_median),
        ms(f.change_max),
        f.changes
    );
    println!(
        "  idle {} s: {:.1} % of one core (user+sys), {:.0} bytes/s to the terminal",
        f.idle_secs, f.idle_cpu, f.idle_bytes
    );
    println!(
        "  following a log at {:.0} lines/s for {} s: {:.1} % of one core, {:.0} bytes/s to the terminal",
        f.follow_rate, f.follow_secs, f.follow_cpu, f.follow_bytes
    );
}

fn main() {
    let only = std::env::var("BENCH_ONLY").ok();
    if only.as_deref() == Some("console") {
        console_figures(tempfile::tempdir().unwrap().path());
        return;
    }
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

    // 4. The console's idle terminal traffic.
    console_figures(dir.path());
}
