//! The terminal loop: raw mode, keyboard input, drawing, and restoring the terminal.
//!
//! Everything else is the [`Runtime`]'s (sources, the clock, `app::update`, the effects that
//! reach the cluster or the disk); this loop feeds it key presses and resizes and carries
//! out the effects it hands back (`Quit`). The screen is redrawn only after something
//! changed (bursts of source events are coalesced into one frame), at most every
//! `FRAME_INTERVAL` (≈30 fps, so a log burst cannot saturate a slow SSH link), and each
//! frame is one synchronized update (`BeginSynchronizedUpdate` … `EndSynchronizedUpdate`,
//! DEC mode 2026): terminals that know it never show a half-drawn frame, the others ignore
//! it. The terminal is restored on every way out: normal exit, error (guard drop), panic
//! (ratatui's hook), SIGTERM and SIGHUP.

use std::io::IsTerminal;
use std::time::Duration;
use tokio::time::Instant;

use color_eyre::eyre::{Result, WrapErr, bail};
use crossterm::event::{Event, KeyEventKind};
use futures::StreamExt;
use jiff::Timestamp;

use crate::app::{Effect, Msg, Options, State};
use crate::journal;
use crate::runtime::Runtime;
use crate::sources::connect::Connection;
use crate::sources::logfollow;
use crate::sources::openbao_http::NodeAccess;
use crate::terminal::{StopSignals, TerminalGuard};
use crate::ui;

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

/// Waits for SIGINT, SIGTERM or SIGHUP (used by `sim`, and by the console while it lets
/// writes in flight finish).
pub(crate) async fn wait_for_stop_signal() -> Result<()> {
    StopSignals::new()?.recv().await;
    Ok(())
}

/// What the console is opened on (`access`: how the Raft poller reaches OpenBao: route,
/// optional token); `guard` is a terminal already full screen (the picker's),
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

/// Run the console until the user quits or a stop signal arrives.
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
    let mut runtime = Runtime::start(conn, access, &cluster, follow);
    let guard = match guard {
        Some(g) => g,
        None => TerminalGuard::enter()?,
    };
    let result = console_loop(&mut runtime, &mut state, guard).await;
    // The terminal is restored (the guard is gone); writes in flight finish and the
    // journal is written before the process ends, unless the user stops it again.
    tokio::select! {
        finished = runtime.shutdown() => if !finished {
            eprintln!(
                "breakglass: a write or the journal did not finish within {} s; check the journal",
                crate::runtime::SHUTDOWN_GRACE.as_secs()
            );
        },
        _ = wait_for_stop_signal() => eprintln!(
            "breakglass: stopped again before a write or the journal finished; check the journal"
        ),
    }
    result
}

/// The terminal's part: keyboard input and signals in, frames out; everything else is the
/// runtime's. Returns when the user quits, input ends or a stop signal arrives.
async fn console_loop(
    runtime: &mut Runtime,
    state: &mut State,
    mut guard: TerminalGuard,
) -> Result<()> {
    if let Ok((width, height)) = crossterm::terminal::size() {
        runtime.step(state, Msg::Resize { width, height });
    }
    let mut stop = StopSignals::new()?;
    let mut dirty = true;
    let mut last_frame: Option<Instant> = None;
    let mut shown = None;
    loop {
        // Never draw over a panic's report (the terminal was restored under this loop).
        if crate::terminal::has_panicked() {
            return Err(panic_error());
        }
        let now = Instant::now();
        let mut frame_at = next_frame(dirty, last_frame, now);
        if frame_at.is_some_and(|at| at <= now) {
            draw_synced(&mut guard.terminal, state, &mut shown)?;
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
            msg = runtime.next_msg() => msg,
            () = stop.recv() => return Ok(()),
            () = crate::terminal::panicked() => return Err(panic_error()),
        };
        let mut step = runtime.step(state, msg);
        // Coalesce a burst of source events into one frame.
        while let Some(msg) = runtime.try_msg() {
            step.terminal.extend(runtime.step(state, msg).terminal);
        }
        dirty = true;
        for effect in step.terminal {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Copy(text) => {
                    use std::io::Write;
                    let out = guard.terminal.backend_mut();
                    let _ = out
                        .write_all(crate::terminal::osc52(&text).as_bytes())
                        .and_then(|()| out.flush());
                }
                // The runtime runs these and never hands them back.
                Effect::Patch(_)
                | Effect::WizardSend(_)
                | Effect::LoadRestoreFacts
                | Effect::FollowRestore { .. }
                | Effect::Journal { .. } => {}
            }
        }
    }
}

/// What the console says when a thread other than its loop panicked (the report is above).
fn panic_error() -> color_eyre::eyre::Report {
    color_eyre::eyre::eyre!(
        "the console stopped: one of its tasks panicked (the report is above). It does not go \
         on without it; writes already sent finish below. Check the journal, then restart \
         breakglass"
    )
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
