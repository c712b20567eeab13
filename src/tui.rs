//! The terminal runtime: raw mode, the event loop, effects, and restoring the terminal.
//!
//! Terminal input, source events and a 1 s clock become `Msg`s for the pure `app::update`;
//! effects are run here; the screen is redrawn only after something changed (bursts of
//! source events are coalesced into one frame), at most every `FRAME_INTERVAL` (≈30 fps, so
//! a log burst cannot saturate a slow SSH link), and each frame is one synchronized update
//! (`BeginSynchronizedUpdate` … `EndSynchronizedUpdate`, DEC mode 2026): terminals that know
//! it never show a half-drawn frame, the others ignore it. The terminal is restored on every
//! way out: normal exit, error (guard drop), panic (ratatui's hook), SIGTERM and SIGHUP.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

use color_eyre::eyre::{Result, WrapErr, bail};
use crossterm::event::{Event, KeyEventKind};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::app::msg::{ActionOutcome, SourceEvent, SourceName};
use crate::app::{Effect, Msg, Options, State, update};
use crate::journal::{self, Entry, Recorder};
use crate::sources::connect::{Connection, explain};
use crate::sources::openbao_http::NodeAccess;
use crate::sources::{
    actions, logfollow, operator, raft, rbac, restore, restore_follow, watch as watchers,
};
use crate::terminal::TerminalGuard;
use crate::ui;

const RAFT_INTERVAL: Duration = raft::FAST_INTERVAL;
/// The shortest time between two frames (≈30 fps).
const FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// When the next frame may be drawn: `None` when nothing changed, else now or, within
/// `FRAME_INTERVAL` of the last frame, when that interval ends.
fn next_frame(dirty: bool, last: Option<Instant>, now: Instant) -> Option<Instant> {
    if !dirty {
        return None;
    }
    Some(last.map_or(now, |l| (l + FRAME_INTERVAL).max(now)))
}

/// One frame as one synchronized update, so a slow link never shows half of it; nothing at
/// all when the frame is the one on screen (`shown`, the last frame written): a tick whose
/// texts did not change (an age still `3m`) costs the terminal no bytes.
fn draw_synced<W: std::io::Write>(
    terminal: &mut ratatui::Terminal<ratatui::backend::CrosstermBackend<W>>,
    state: &State,
    shown: &mut Option<ratatui::buffer::Buffer>,
) -> Result<()> {
    use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    terminal.autoresize().wrap_err("cannot draw")?;
    ui::render(state, &mut terminal.get_frame());
    let frame = terminal.current_buffer_mut();
    if shown.as_ref() == Some(&*frame) {
        // Blank again for the next frame, as drawing would have left it.
        frame.reset();
        return Ok(());
    }
    *shown = Some(frame.clone());
    crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate).wrap_err("cannot draw")?;
    let drawn = terminal.apply_buffer().map(|_| ());
    // End the update even when drawing failed, so the terminal is not left frozen.
    let ended = crossterm::execute!(terminal.backend_mut(), EndSynchronizedUpdate);
    drawn.and(ended).wrap_err("cannot draw")
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
    access: NodeAccess,
    cluster: &str,
    tx: &mpsc::Sender<SourceEvent>,
    follow: logfollow::FollowOptions,
) -> Sources {
    let mut handles = watchers::spawn_live(conn, cluster, tx.clone());
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
        access,
        conn.namespace.clone(),
        cluster.to_string(),
        RAFT_INTERVAL,
        tx.clone(),
    ));
    handles.push(spawn_preflight(conn, tx.clone()));
    handles.push(crate::sources::scope_watch::spawn(
        conn,
        cluster,
        tx.clone(),
    ));
    handles.push(operator::spawn(
        conn.client.clone(),
        conn.namespace.clone(),
        tx.clone(),
    ));
    handles.push(crate::sources::events::spawn(
        &conn.client,
        &conn.namespace,
        cluster,
        tx.clone(),
    ));
    Sources { handles, jobs }
}

/// Run the console until the user quits or a stop signal arrives. `access`: how the Raft
/// poller reaches OpenBao (route, optional token).
/// What the console is opened on; `guard` is a terminal already full screen (the picker's),
/// or None to enter one.
pub struct Console {
    pub conn: Connection,
    pub access: NodeAccess,
    pub cluster: String,
    pub context_label: String,
    pub write: crate::app::write_mode::WriteStart,
    pub log_lines: Option<usize>,
    pub color: bool,
    pub guard: Option<TerminalGuard>,
}

pub async fn run_console(console: Console) -> Result<()> {
    let Console {
        conn,
        access,
        cluster,
        context_label,
        write,
        log_lines,
        color,
        guard,
    } = console;
    if !std::io::stdout().is_terminal() {
        bail!(
            "the console needs a terminal; for scripts use `breakglass status {cluster} --output json`"
        );
    }
    let mut state = State::new(Options {
        namespace: conn.namespace.clone(),
        cluster: cluster.clone(),
        context_label,
        color,
        now: Timestamp::now(),
        write,
        os_user: journal::os_user(),
        k8s_user: conn.user.clone(),
        journal_dir: journal::state_dir(),
    });
    state.log_file = crate::trace_log::status();
    // The log store's bound (`--log-lines`, default 100 000); what is dropped is counted and shown.
    if let Some(n) = log_lines {
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
    let mut sources = start_sources(&conn, access, &cluster, &tx, follow.clone());
    let journal_tx = spawn_journal_writer(tx.clone());
    let mut journal_path: Option<PathBuf> = None;
    let mut guard = match guard {
        Some(g) => g,
        None => TerminalGuard::enter()?,
    };
    if let Ok((width, height)) = crossterm::terminal::size() {
        update(&mut state, Msg::Resize { width, height });
    }
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut dirty = true;
    let mut last_frame: Option<Instant> = None;
    let mut shown = None;
    loop {
        let now = Instant::now();
        let mut frame_at = next_frame(dirty, last_frame, now);
        if frame_at.is_some_and(|at| at <= now) {
            draw_synced(&mut guard.terminal, &state, &mut shown)?;
            last_frame = Some(now);
            dirty = false;
            frame_at = None;
        }
        // Changes within the frame interval wait for its end (then one frame shows them all).
        let pending = frame_at.is_some();
        let frame_wait = tokio::time::sleep_until(frame_at.unwrap_or(now));
        let msg = tokio::select! {
            () = frame_wait, if pending => continue,
            ev = guard.input.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize { width, height },
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("terminal input failed"),
                None => return Ok(()),
            },
            Some(ev) = rx.recv() => Msg::Source(ev),
            _ = clock.tick() => Msg::Tick(Timestamp::now()),
            _ = term.recv() => return Ok(()),
            _ = hup.recv() => return Ok(()),
        };
        let mut effects = update(&mut state, msg);
        // Coalesce a burst of source events into one frame.
        while let Ok(ev) = rx.try_recv() {
            effects.extend(update(&mut state, Msg::Source(ev)));
        }
        // The follower streams the current operation's rollback Jobs, found by meaning
        // (exact run IDs, the Job break glass names), not every executor Job.
        let followed = state.incident.followed_jobs();
        sources.jobs.send_if_modified(|jobs| {
            let changed = *jobs != followed;
            if changed {
                *jobs = followed;
            }
            changed
        });
        dirty = true;
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Patch(patch) => spawn_write(
                    &conn,
                    Write::Patch(patch),
                    (&tx, &journal_tx, journal_path.clone()),
                ),
                Effect::LoadRestoreFacts => {
                    let (client, ns, name, tx) = (
                        conn.client.clone(),
                        conn.namespace.clone(),
                        cluster.clone(),
                        tx.clone(),
                    );
                    tokio::spawn(async move {
                        let ev = match restore::facts(&client, &ns, &name).await {
                            Ok((facts, key)) => SourceEvent::RestoreFacts { facts, key },
                            Err(e) => SourceEvent::Action(ActionOutcome::Failed {
                                status: None,
                                message: format!("cannot read the restore facts: {}", explain(&e)),
                            }),
                        };
                        let _ = tx.send(ev).await;
                    });
                }
                Effect::WizardSend(request) => spawn_write(
                    &conn,
                    Write::Wizard(request),
                    (&tx, &journal_tx, journal_path.clone()),
                ),
                Effect::FollowRestore { namespace, name } => {
                    sources.handles.push(restore_follow::spawn(
                        conn.client.clone(),
                        namespace,
                        name,
                        tx.clone(),
                        follow.clone(),
                    ));
                }
                Effect::Copy(text) => {
                    use std::io::Write;
                    let out = guard.terminal.backend_mut();
                    let _ = out
                        .write_all(crate::terminal::osc52(&text).as_bytes())
                        .and_then(|()| out.flush());
                }
                Effect::Journal { path, entries } => {
                    journal_path = Some(path.clone());
                    // Never block the UI: a full queue drops entries, and says so.
                    if journal_tx.try_send((path, entries)).is_err() {
                        let _ = tx.try_send(SourceEvent::Problem {
                            source: SourceName::Journal,
                            message: "journal queue full: entries dropped".into(),
                        });
                    }
                }
            }
        }
    }
}

type JournalBatch = (PathBuf, Vec<Entry>);

/// A confirmed write for the action executor: the request exactly as confirmed.
enum Write {
    Patch(crate::domain::write::ClusterPatch),
    Wizard(crate::domain::restore::Request),
}

/// Run a confirmed write off the UI path: its requests and responses go to the journal,
/// its outcome back to the app as `SourceEvent::Action`.
fn spawn_write(
    conn: &Connection,
    write: Write,
    (tx, journal_tx, path): (
        &mpsc::Sender<SourceEvent>,
        &mpsc::Sender<JournalBatch>,
        Option<PathBuf>,
    ),
) {
    let client = conn.client.clone();
    let (tx, journal_tx) = (tx.clone(), journal_tx.clone());
    tokio::spawn(async move {
        let mut rec = Recorder::default();
        let outcome = match write {
            Write::Patch(patch) => actions::send(&client, &patch, &mut rec).await,
            Write::Wizard(request) => restore::send(&client, &request, &mut rec).await,
        };
        if let Some(path) = path {
            let _ = journal_tx.try_send((path, rec.entries));
        }
        let _ = tx.send(SourceEvent::Action(outcome)).await;
    });
}

/// The journal writer: appends batches in order on a blocking thread, off the UI path;
/// a write error becomes a `journal` problem the console shows.
fn spawn_journal_writer(tx: mpsc::Sender<SourceEvent>) -> mpsc::Sender<JournalBatch> {
    let (jtx, mut jrx) = mpsc::channel::<JournalBatch>(256);
    tokio::spawn(async move {
        while let Some((path, entries)) = jrx.recv().await {
            let written =
                tokio::task::spawn_blocking(move || journal::append(&path, &entries)).await;
            if let Ok(Err(e)) = written {
                let _ = tx
                    .send(SourceEvent::Problem {
                        source: SourceName::Journal,
                        message: e.to_string(),
                    })
                    .await;
            }
        }
    });
    jtx
}

/// Start the RBAC preflight (and identity) once; its answer arrives as `SourceEvent::Rbac`.
fn spawn_preflight(conn: &Connection, tx: mpsc::Sender<SourceEvent>) -> JoinHandle<()> {
    let (client, ns, user) = (
        conn.client.clone(),
        conn.namespace.clone(),
        conn.user.clone(),
    );
    tokio::spawn(async move {
        let identity = rbac::identity(&client, &user).await;
        let ev = match rbac::preflight(&client, &ns).await {
            Ok(denied) => SourceEvent::Rbac(rbac::Preflight { identity, denied }),
            Err(e) => SourceEvent::Problem {
                source: SourceName::Rbac,
                message: format!("RBAC preflight failed: {}", explain(&e)),
            },
        };
        let _ = tx.send(ev).await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_drawn_only_when_dirty_and_at_most_every_interval() {
        let t0 = Instant::now();
        assert_eq!(next_frame(false, None, t0), None);
        assert_eq!(next_frame(false, Some(t0), t0 + FRAME_INTERVAL), None);
        // The first frame, and one after a quiet spell, are drawn at once.
        assert_eq!(next_frame(true, None, t0), Some(t0));
        let later = t0 + FRAME_INTERVAL * 3;
        assert_eq!(next_frame(true, Some(t0), later), Some(later));
        // Within the interval of the last frame: wait for its end.
        let soon = t0 + Duration::from_millis(5);
        assert_eq!(next_frame(true, Some(t0), soon), Some(t0 + FRAME_INTERVAL));
    }

    #[test]
    fn a_frame_is_one_synchronized_update() {
        use ratatui::backend::CrosstermBackend;
        use ratatui::layout::Rect;
        use ratatui::{Terminal, TerminalOptions, Viewport};
        let options = TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        };
        let mut bytes = Vec::<u8>::new();
        let mut term = Terminal::with_options(CrosstermBackend::new(&mut bytes), options).unwrap();
        let state = crate::app::fixtures::incident_state(false);
        let mut shown = None;
        draw_synced(&mut term, &state, &mut shown).unwrap();
        // The same frame again writes nothing.
        draw_synced(&mut term, &state, &mut shown).unwrap();
        drop(term);
        let out = String::from_utf8_lossy(&bytes);
        // DEC private mode 2026: set before the first cell, reset after the last (what
        // follows is the terminal's drop showing the cursor again).
        assert!(out.starts_with("\x1b[?2026h"), "{out:?}");
        assert!(out.ends_with("\x1b[?2026l\x1b[?25h"), "{out:?}");
        assert!(out.contains("[BREAK GLASS ACTIVE]"), "{out:?}");
        assert_eq!(out.matches("\x1b[?2026").count(), 2, "{out:?}");
    }

    #[test]
    fn a_burst_of_changes_is_capped_at_about_30_frames_a_second() {
        // A change every millisecond for one second, drawn whenever a frame is due.
        let t0 = Instant::now();
        let mut last = None;
        let mut frames = 0;
        for ms in 0..1_000 {
            let now = t0 + Duration::from_millis(ms);
            if next_frame(true, last, now).is_some_and(|d| d <= now) {
                frames += 1;
                last = Some(now);
            }
        }
        assert!((29..=31).contains(&frames), "{frames} frames");
    }
}
