//! The console headless for the fault campaign: its live sources (watchers with the API
//! server's liveness probe, the Events watcher, the log follower) feed `app::update` exactly as the terminal
//! runtime does (a 1 s clock is ticked faster here, 200 ms, for finer timings), and the
//! screen is `ui::render` into a ratatui `TestBackend`. Nothing is faked between the
//! simulator's HTTPS API and the `State` the user's screen is drawn from.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use breakglass::app::{Focus, Msg, Options, State, update};
use breakglass::domain::JobView;
use breakglass::sim::run::{SimHandle, start};
use breakglass::sources::connect::{Connection, Target, connect};
use breakglass::sources::{SourceEvent, events, logfollow, watch};
use jiff::Timestamp;
use tokio::sync::mpsc;

pub struct Console {
    pub sim: SimHandle,
    pub conn: Connection,
    pub state: State,
    rx: mpsc::Receiver<SourceEvent>,
    jobs: tokio::sync::watch::Sender<Vec<JobView>>,
    /// Log lines as delivered, per Job.
    pub delivered: HashMap<String, Vec<String>>,
    pub ended: Vec<String>,
    pub gaps: usize,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Console {
    fn drop(&mut self) {
        for t in &self._tasks {
            t.abort();
        }
    }
}

/// A fault's measured figures: what a README row says.
pub struct Row {
    pub fault: &'static str,
    pub saw: String,
    pub detect: String,
    pub recover: String,
    pub lines: String,
    pub mutations: usize,
}

impl Row {
    /// Printed for the README table (`cargo test --test e2e faults:: -- --nocapture`).
    pub fn print(&self) {
        eprintln!(
            "FAULT-ROW | {} | {} | {} | {} | {} | {} |",
            self.fault, self.saw, self.detect, self.recover, self.lines, self.mutations
        );
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

impl Console {
    /// The simulator (`scenario` at `speed`) and the console on it, as the admin context
    /// (`sim`) or another one, fed until the first cluster data arrived.
    pub async fn start(scenario: &str, speed: f64, context: Option<&str>) -> Console {
        let (sim, conn, dir) = sim_and_connection(scenario, speed, context).await;
        let (tx, rx) = mpsc::channel(4096);
        let mut tasks = watch::spawn_live(&conn, &sim.cluster, tx.clone());
        tasks.push(events::spawn(
            &conn.client,
            &conn.namespace,
            &sim.cluster,
            tx.clone(),
        ));
        let (jobs, jobs_rx) = tokio::sync::watch::channel(Vec::new());
        tasks.push(logfollow::spawn(
            conn.client.clone(),
            conn.namespace.clone(),
            jobs_rx,
            tx,
        ));
        let state = headless_state(&sim);
        let mut c = Console {
            sim,
            conn,
            state,
            rx,
            jobs,
            delivered: HashMap::new(),
            ended: Vec::new(),
            gaps: 0,
            _tasks: tasks,
            _dir: dir,
        };
        update(
            &mut c.state,
            Msg::Resize {
                width: 160,
                height: 48,
            },
        );
        c.until("the first data", Duration::from_secs(30), |s| {
            s.incident.cluster.is_some() && !s.incident.pods.is_empty()
        })
        .await;
        c
    }

    fn apply(&mut self, ev: SourceEvent) {
        match &ev {
            SourceEvent::LogLines { job, lines } => self
                .delivered
                .entry(job.clone())
                .or_default()
                .extend(lines.iter().cloned()),
            SourceEvent::LogEnded { job } => self.ended.push(job.clone()),
            SourceEvent::LogGap { .. } => self.gaps += 1,
            _ => {}
        }
        let _ = update(&mut self.state, Msg::Source(ev));
        let followed = self.state.incident.followed_jobs();
        self.jobs.send_if_modified(|j| {
            let changed = *j != followed;
            if changed {
                *j = followed;
            }
            changed
        });
    }

    /// Feed events and the clock for `d`.
    pub async fn run_for(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.step(end).await;
        }
    }

    async fn step(&mut self, end: Instant) {
        let tick = (Instant::now() + Duration::from_millis(200)).min(end);
        let wait = tick.saturating_duration_since(Instant::now());
        match tokio::time::timeout(wait, self.rx.recv()).await {
            Ok(Some(ev)) => self.apply(ev),
            Ok(None) => panic!("the sources stopped"),
            Err(_) => {
                let _ = update(&mut self.state, Msg::Tick(Timestamp::now()));
            }
        }
    }

    /// Feed events until `pred` holds; how long that took. Fails with the screen after `limit`.
    pub async fn until(
        &mut self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&State) -> bool,
    ) -> Duration {
        let start = Instant::now();
        let end = start + limit;
        loop {
            let _ = update(&mut self.state, Msg::Tick(Timestamp::now()));
            if pred(&self.state) {
                return start.elapsed();
            }
            assert!(
                Instant::now() < end,
                "not within {limit:?}: {what}; screen:\n{}",
                self.screen()
            );
            self.step(end).await;
        }
    }

    /// Feed events for `d`, calling `each` on the state after every step (e.g. to record
    /// whether staleness was ever shown).
    pub async fn watch_for(&mut self, d: Duration, mut each: impl FnMut(&State)) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.step(end).await;
            each(&self.state);
        }
    }

    /// The screen at 160x48, as text.
    pub fn screen(&self) -> String {
        screen_of(&self.state)
    }

    /// The screen's footer line (the staleness banner when there is one).
    pub fn banner(&self) -> String {
        self.screen()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

/// `state` drawn by `ui::render` at 160x48, as text.
pub fn screen_of(state: &State) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| breakglass::ui::render(state, f)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Stale as the user sees it and as the write guards see it: Health and Decision titled
/// `[STALE]`, Retry refused.
pub fn stale(s: &State) -> bool {
    s.pane_stale(Focus::Health) && s.pane_stale(Focus::Decision) && s.retry_target().is_err()
}

/// Fresh: no pane of the cluster stale, Retry offered again (break glass is active).
pub fn fresh(s: &State) -> bool {
    !s.pane_stale(Focus::Health) && !s.pane_stale(Focus::Decision) && s.retry_target().is_ok()
}

/// The simulator (`transient` at 4×) and `n` real consoles on it, each in its own pty
/// (tmux) as the admin context (`XDG_STATE_HOME` = `state_home` when given, else each its
/// own), each waited on until Retry is offered. The directory holding the
/// kubeconfig is returned too: keep it as long as the simulator.
pub async fn sim_and_pty_consoles(
    n: usize,
    state_home: Option<std::path::PathBuf>,
) -> (
    SimHandle,
    Vec<crate::support::tmux::Tmux>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = start("transient", 4.0, &kubeconfig).await.unwrap();
    let (ns, cluster) = (sim.namespace.clone(), sim.cluster.clone());
    let kc = kubeconfig.display().to_string();
    let consoles = tokio::task::spawn_blocking(move || {
        let consoles: Vec<crate::support::tmux::Tmux> = (0..n)
            .map(|_| {
                crate::support::tmux::Tmux::start_with_state(
                    160,
                    48,
                    &["--kubeconfig", &kc, "-n", &ns, &cluster],
                    state_home.as_deref(),
                )
            })
            .collect();
        for t in &consoles {
            t.wait_for(RETRY_AVAILABLE);
        }
        consoles
    })
    .await
    .unwrap();
    (sim, consoles, dir)
}

/// The Decision pane's Retry line when it is offered.
pub const RETRY_AVAILABLE: &str = "Retry (acknowledge the nonce) [available]";

/// The simulator (`scenario` at `speed`) and a connection to it as the console makes one
/// (the admin context `sim` unless `context`), without the console: for rows that drive one source directly.
pub async fn sim_and_connection(
    scenario: &str,
    speed: f64,
    context: Option<&str>,
) -> (SimHandle, Connection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let sim = start(scenario, speed, &kubeconfig).await.unwrap();
    let conn = connect(&Target {
        kubeconfig: Some(kubeconfig),
        context: context.map(str::to_string),
        ..Default::default()
    })
    .await
    .unwrap();
    (sim, conn, dir)
}

/// The app's state for `sim`'s cluster as the headless console starts it (read-only).
pub fn headless_state(sim: &SimHandle) -> State {
    State::new(Options {
        namespace: sim.namespace.clone(),
        cluster: sim.cluster.clone(),
        context_label: "faults".into(),
        color: false,
        now: Timestamp::now(),
        write: breakglass::app::write_mode::WriteStart::new(false),
        os_user: "tester".into(),
        k8s_user: "admin".into(),
        journal_dir: None,
    })
}

/// [`Tmux::wait_for`](crate::support::tmux::Tmux::wait_for) off the runtime's threads: the
/// console back, and the screen that showed `text`.
pub async fn wait_for(
    t: crate::support::tmux::Tmux,
    text: &str,
) -> (crate::support::tmux::Tmux, String) {
    let text = text.to_string();
    tokio::task::spawn_blocking(move || {
        let s = t.wait_for(&text);
        (t, s)
    })
    .await
    .unwrap()
}

/// Quit the console with `q` (off the runtime's threads) and check it exits with 0.
pub async fn quit_normally(t: crate::support::tmux::Tmux) {
    tokio::task::spawn_blocking(move || {
        t.keys(&["q"]);
        assert_eq!(t.wait_dead(), "0", "the console quits normally");
    })
    .await
    .unwrap();
}

/// The last line of `screen` that holds `needle`, trimmed (empty when none does).
pub fn last_line_with(screen: &str, needle: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| l.contains(needle))
        .unwrap_or("")
        .trim()
        .to_string()
}
