//! The terminal for full-screen use: raw mode and the alternate screen while a
//! [`TerminalGuard`] lives, restored on every way out (drop on return or error, ratatui's
//! panic hook). Used by the console and the cluster picker.

use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::{Result, WrapErr};

/// Restores the terminal when dropped, whatever way the loop ends. It also owns the one
/// keyboard stream of the process: the picker hands its guard to the console, so no key
/// typed after the switch can fall between two input readers (crossterm's reader is global,
/// and a dropped `EventStream` wakes it once more) and the screen does not flicker.
pub struct TerminalGuard {
    pub terminal: ratatui::DefaultTerminal,
    pub input: crossterm::event::EventStream,
}

impl TerminalGuard {
    pub fn enter() -> Result<Self> {
        // ratatui::try_init enters raw mode and the alternate screen and installs a panic
        // hook that restores the terminal before the panic message is printed.
        let terminal = ratatui::try_init().wrap_err("cannot set up the terminal")?;
        FULL_SCREEN.store(true, Ordering::SeqCst);
        let restore_then = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Restored (and the message printed) by ratatui's hook; the guard's drop, as
            // the panic unwinds past it, must not leave the alternate screen a second time.
            FULL_SCREEN.store(false, Ordering::SeqCst);
            restore_then(info);
            let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
            // A panic on another thread (a source's task, a write) leaves the loop running
            // in the restored terminal, drawing over the report: tell it to stop.
            PANICKED.store(true, Ordering::SeqCst);
            PANIC_NOTICE.notify_one();
        }));
        Ok(TerminalGuard {
            terminal,
            input: crossterm::event::EventStream::new(),
        })
    }
}

/// Whether the terminal is in full-screen mode (raw, alternate screen) and not yet restored.
/// Leaving the alternate screen twice moves the cursor back to where it was when it was
/// entered (tmux, xterm): after a panic, whatever is printed next (the shell's prompt)
/// would overwrite the panic's message.
static FULL_SCREEN: AtomicBool = AtomicBool::new(false);

/// Set by the panic hook [`TerminalGuard::enter`] installs: some thread panicked while the
/// terminal was full screen, and it has been restored with the report printed.
static PANICKED: AtomicBool = AtomicBool::new(false);
static PANIC_NOTICE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Whether a thread panicked while the terminal was full screen (see [`panicked`]).
pub fn has_panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Returns once a thread has panicked while the terminal was full screen (at once when one
/// already has): the console's loop must then stop drawing and end, since the terminal was
/// restored under it and the report printed, and the task that panicked is gone.
pub async fn panicked() {
    while !has_panicked() {
        PANIC_NOTICE.notified().await;
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if !FULL_SCREEN.swap(false, Ordering::SeqCst) {
            return;
        }
        ratatui::restore();
        // restore() leaves raw mode and the alternate screen; the cursor is ours to show.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show);
    }
}

/// The stop signals, SIGINT, SIGTERM and SIGHUP (the SSH session died), registered once: from
/// then on none of them ends the process by its default action, which would leave the
/// terminal full screen with the cursor hidden (raw mode makes Ctrl-C a key, but `kill -INT`
/// and job control still send the signal).
pub(crate) struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub(crate) fn new() -> Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| signal(kind).wrap_err("cannot listen for stop signals");
        Ok(StopSignals {
            int: listen(SignalKind::interrupt())?,
            term: listen(SignalKind::terminate())?,
            hup: listen(SignalKind::hangup())?,
        })
    }

    /// Returns when one of them arrives.
    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {},
            _ = self.term.recv() => {},
            _ = self.hup.recv() => {},
        }
    }
}

/// The OSC 52 sequence that puts `text` on the clipboard of the terminal the user sits at,
/// through SSH and tmux (`set -g set-clipboard on`, tmux's default `external` passes it
/// from programs that write it). Control characters in `text` are base64-encoded like the
/// rest, so nothing in it can reach the terminal as an escape.
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{encoded}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_the_clipboard_escape_with_the_text_base64_encoded() {
        assert_eq!(osc52("nonce-1"), "\x1b]52;c;bm9uY2UtMQ==\x07");
        let evil = osc52("a\x1b]52;c;x\x07b");
        assert!(evil.starts_with("\x1b]52;c;") && evil.ends_with('\x07'));
        let inner = &evil[7..evil.len() - 1];
        assert!(
            inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        );
        assert_eq!(osc52(""), "\x1b]52;c;\x07");
    }
}
