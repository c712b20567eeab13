//! The console's own figures for the bench. Its idle terminal traffic: `breakglass demo` in a
//! tmux pane of a given size, left alone; tmux's `pipe-pane` copies what the console writes to
//! the pseudo-terminal into a file, whose size over the measured seconds is the figure. And,
//! on the simulator in this process with the console in a pane of the tests' own [`Tmux`]:
//! start → first frame with data, API change → on the pane, CPU and bytes left alone and
//! while following a log at 1,000 lines/s ([`sim_figures`]).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use breakglass::sim::run::start;
use breakglass::sim::store::{Resource, Store};
use breakglass::sources::connect::{Target, connect};
use breakglass::sources::{ActionOutcome, actions};

use crate::corpus_gen::corpus;
use crate::tmux::{Tmux, WAIT};

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

/// The console's own figures on the simulator (`breakglass --kubeconfig … CLUSTER`, the
/// release binary in a tmux pane at 160x48, the simulator in this process).
pub struct SimFigures {
    /// From starting the pane (tmux included) to the first frame showing the incident's nonce.
    pub first_frame: Duration,
    /// An API change (the break-glass message) until it is on the pane: median and slowest.
    pub change_median: Duration,
    pub change_max: Duration,
    pub changes: usize,
    /// Left alone: the console's CPU (user+sys, % of one core) and terminal bytes per second.
    pub idle_cpu: f64,
    pub idle_bytes: f64,
    pub idle_secs: u64,
    /// Following the attempt's log while lines are appended at `follow_rate` per second.
    pub follow_cpu: f64,
    pub follow_bytes: f64,
    pub follow_rate: f64,
    pub follow_secs: u64,
}

/// The simulator's speed: slow, so that the retry's executor runs (and its log stays open)
/// for the whole follow measure.
const SPEED: f64 = 0.2;
/// How often the pane is read while waiting for a change (a `tmux capture-pane` each).
const POLL: Duration = Duration::from_millis(5);

/// User+sys CPU seconds of process `pid` so far (`/proc/PID/stat`, clock ticks of 10 ms).
fn cpu_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let field = |n: usize| -> f64 {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (field(14) + field(15)) / 100.0
}

/// Wait until the pane shows `text`, reading it every [`POLL`]; how long that took.
fn until_shown(t: &Tmux, text: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if t.screen().contains(text) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{text:?} not shown; screen:\n{}",
            t.screen()
        );
        std::thread::sleep(POLL);
    }
}

/// Terminal bytes per second and the console's CPU (% of one core) over `secs` while `during`
/// runs (it returns when the measure may end).
fn traffic(t: &Tmux, dir: &Path, name: &str, during: impl FnOnce()) -> (f64, f64, Duration) {
    let pid = t.console_pid();
    let out = dir.join(format!("{name}.out"));
    t.run(&["pipe-pane", "-o", &format!("cat > {}", out.display())]);
    let cpu0 = cpu_of(&pid);
    let start = Instant::now();
    during();
    let took = start.elapsed();
    let cpu = cpu_of(&pid) - cpu0;
    t.run(&["pipe-pane"]);
    let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
    let secs = took.as_secs_f64();
    (bytes as f64 / secs, 100.0 * cpu / secs, took)
}

/// The pod of the newest Job's attempt that is running (the retry's executor), if any.
fn running_pod(store: &Store, ns: &str, not: &[String]) -> Option<String> {
    let (pods, _) = store.list(Resource::Pods, Some(ns));
    pods.iter().find_map(|p| {
        let name = p.pointer("/metadata/name")?.as_str()?;
        let running = p.pointer("/status/phase")?.as_str()? == "Running";
        let job = p.pointer("/metadata/labels/job-name").is_some();
        (running && job && !not.iter().any(|n| n == name)).then(|| name.to_string())
    })
}

/// Measure [`SimFigures`]: `idle_secs` left alone, `follow_secs` following 1,000 lines/s.
pub fn sim_figures(dir: &Path, idle_secs: u64, follow_secs: u64) -> SimFigures {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let kubeconfig = dir.join("sim-kubeconfig");
    let sim = rt.block_on(start("transient", SPEED, &kubeconfig)).unwrap();
    let (ns, name) = (sim.namespace.clone(), sim.cluster.clone());
    let store = sim.store.clone();
    let nonce = |store: &Store| {
        store
            .get(Resource::OpenBaoClusters, &ns, &name)
            .and_then(|c| {
                c.pointer("/status/breakGlass/nonce")?
                    .as_str()
                    .map(str::to_string)
            })
            .expect("the scenario starts in break glass")
    };
    let kc = kubeconfig.display().to_string();
    let args = ["--color", "always", "--kubeconfig", &kc, "-n", &ns, &name];

    // 1. Start → the first frame with the incident's data.
    let first = nonce(&store);
    let start_at = Instant::now();
    let t = Tmux::start(160, 48, &args);
    until_shown(&t, &format!("nonce {first}"), WAIT);
    let first_frame = start_at.elapsed();
    t.wait_for("Retry (acknowledge the nonce) [available]");

    // 2. An API change → on the pane.
    let mut took: Vec<Duration> = Vec::new();
    for i in 0..10 {
        let marker = format!("bench-change-{i}");
        store
            .modify(Resource::OpenBaoClusters, &ns, &name, |v| {
                let m = &mut v["status"]["breakGlass"]["message"];
                let old = m.as_str().unwrap_or_default();
                let kept = old.split(" bench-change-").next().unwrap_or_default();
                *m = format!("{kept} {marker}").into();
            })
            .unwrap();
        took.push(until_shown(&t, &marker, Duration::from_secs(20)));
        std::thread::sleep(Duration::from_millis(300));
    }
    took.sort_unstable();

    // 3. Left alone.
    std::thread::sleep(Duration::from_secs(2));
    let (idle_bytes, idle_cpu, _) = traffic(&t, dir, "sim-idle", || {
        std::thread::sleep(Duration::from_secs(idle_secs));
    });

    // 4. The retry's executor followed while lines are appended at 1,000 per second.
    let before: Vec<String> = store
        .list(Resource::Pods, Some(&ns))
        .0
        .iter()
        .filter_map(|p| p.pointer("/metadata/name")?.as_str().map(str::to_string))
        .collect();
    let acked = rt.block_on(async {
        let conn = connect(&Target {
            kubeconfig: Some(kubeconfig.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
        actions::acknowledge(&conn.client, &ns, &name, &nonce(&store)).await
    });
    assert!(
        matches!(acked, ActionOutcome::Acknowledged { .. }),
        "{acked:?}"
    );
    let waited = Instant::now();
    let pod = loop {
        if let Some(p) = running_pod(&store, &ns, &before) {
            break p;
        }
        assert!(waited.elapsed() < WAIT, "no retry pod is running");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(3));
    let lines = corpus(1_000 * follow_secs as usize);
    let controls = sim.controls();
    let mut sent = 0usize;
    let (follow_bytes, follow_cpu, follow_took) = traffic(&t, dir, "sim-follow", || {
        let start = Instant::now();
        for batch in lines.chunks(100) {
            for l in batch {
                controls.append_log(&ns, &pod, "upgrade-executor", l);
            }
            sent += batch.len();
            // 100 lines every 100 ms, on schedule.
            let due = start + Duration::from_millis(100 * (sent / 100) as u64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    });
    let marker = "bench-follow-end";
    controls.append_log(&ns, &pod, "upgrade-executor", marker);
    until_shown(&t, marker, Duration::from_secs(20));
    drop(t);
    rt.block_on(sim.shutdown());
    SimFigures {
        first_frame,
        change_median: took[took.len() / 2],
        change_max: took[took.len() - 1],
        changes: took.len(),
        idle_cpu,
        idle_bytes,
        idle_secs,
        follow_cpu,
        follow_bytes,
        follow_rate: sent as f64 / follow_took.as_secs_f64(),
        follow_secs,
    }
}
