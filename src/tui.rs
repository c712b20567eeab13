//! The terminal runtime: raw mode, the event loop, effects, and restoring the terminal.
//!
//! Terminal input, source events and a 1 s clock become `Msg`s for the pure `app::update`;
//! effects are run here; the screen is redrawn only after something changed (bursts of
//! source events are coalesced into one frame). The terminal is restored on every way out:
//! normal exit, error (guard drop), panic (ratatui's hook), SIGTERM and SIGHUP.

use std::io::IsTerminal;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, bail};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::app::{Effect, Msg, Options, State, update};
use crate::sources::connect::Connection;
use crate::sources::{SourceEvent, actions, logfollow, raft, watch as watchers};
use crate::ui;

const RAFT_INTERVAL: Duration = raft::FAST_INTERVAL;

/// Restores the terminal when dropped, whatever way the loop ends.
struct TerminalGuard {
    terminal: ratatui::DefaultTerminal,
}

impl TerminalGuard {
    fn enter() -> Result<Self> {
        // ratatui::try_init enters raw mode and the alternate screen and installs a panic
        // hook that restores the terminal before the panic message is printed.
        let terminal = ratatui::try_init().wrap_err("cannot set up the terminal")?;
        let restore_then = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_then(info);
            let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
        }));
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
        // restore() leaves raw mode and the alternate screen; the cursor is ours to show.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
    }
}

/// Waits for SIGINT, SIGTERM or SIGHUP (used by `sim`).
pub async fn wait_for_stop_signal() -> Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {},
        _ = hup.recv() => {},
    }
    Ok(())
}

struct Sources {
    handles: Vec<JoinHandle<()>>,
    jobs: watch::Sender<Vec<crate::domain::JobView>>,
}

impl Drop for Sources {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

fn start_sources(
    conn: &Connection,
    cluster: &str,
    tx: &mpsc::Sender<SourceEvent>,
    follow: logfollow::FollowOptions,
) -> Sources {
    let mut handles = watchers::spawn_all(&conn.client, &conn.namespace, cluster, tx.clone());
    let (jobs, jobs_rx) = watch::channel(Vec::new());
    handles.push(logfollow::spawn_with(
        conn.client.clone(),
        conn.namespace.clone(),
        jobs_rx,
        tx.clone(),
        follow,
    ));
    handles.push(raft::spawn(
        conn.client.clone(),
        conn.namespace.clone(),
        cluster.to_string(),
        RAFT_INTERVAL,
        tx.clone(),
    ));
    Sources { handles, jobs }
}

/// Run the console until the user quits or a stop signal arrives.
pub async fn run_console(conn: Connection, cluster: String, context_label: String) -> Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the console needs a terminal; for scripts use `breakglass status {cluster} --output json`"
        );
    }
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut state = State::new(Options {
        namespace: conn.namespace.clone(),
        cluster: cluster.clone(),
        context_label,
        color,
        now: Timestamp::now(),
    });
    // The log store's bound (default 100 000 lines); what is dropped is counted and shown.
    if let Some(n) = std::env::var("BREAKGLASS_LOG_LINES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        state.logs.store = crate::logs::LineStore::new(n);
    }
    // Evidence is kept on disk, never silently: the Logs pane shows where (or why not).
    let dir = logfollow::incident_dir(&conn.namespace, &cluster, Timestamp::now());
    state.logs.saved_to = Some(match &dir {
        Ok(d) => Ok(d.display().to_string()),
        Err(e) => Err(format!("logs NOT saved: {e}")),
    });
    let follow = logfollow::FollowOptions {
        evidence_dir: dir.ok(),
    };
    let (tx, mut rx) = mpsc::channel::<SourceEvent>(1024);
    let sources = start_sources(&conn, &cluster, &tx, follow);
    let mut guard = TerminalGuard::enter()?;
    if let Ok((width, height)) = crossterm::terminal::size() {
        update(&mut state, Msg::Resize { width, height });
    }
    let mut input = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut dirty = true;
    loop {
        if dirty {
            guard
                .terminal
                .draw(|f| ui::render(&state, f))
                .wrap_err("cannot draw")?;
            dirty = false;
        }
        let msg = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize { width, height },
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("terminal input failed"),
                None => return Ok(()),
            },
            Some(ev) = rx.recv() => source_msg(&sources, ev),
            _ = clock.tick() => Msg::Tick(Timestamp::now()),
            _ = term.recv() => return Ok(()),
            _ = hup.recv() => return Ok(()),
        };
        let mut effects = update(&mut state, msg);
        // Coalesce a burst of source events into one frame.
        while let Ok(ev) = rx.try_recv() {
            effects.extend(update(&mut state, source_msg(&sources, ev)));
        }
        dirty = true;
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Acknowledge { nonce, .. } => {
                    let (client, ns, name, tx) = (
                        conn.client.clone(),
                        conn.namespace.clone(),
                        cluster.clone(),
                        tx.clone(),
                    );
                    tokio::spawn(async move {
                        let outcome = actions::acknowledge(&client, &ns, &name, &nonce).await;
                        let _ = tx.send(SourceEvent::Action(outcome)).await;
                    });
                }
            }
        }
    }
}

fn source_msg(sources: &Sources, ev: SourceEvent) -> Msg {
    if let SourceEvent::Jobs(jobs) = &ev {
        sources.jobs.send_replace(jobs.clone());
    }
    Msg::Source(ev)
}
