//! The terminal for full-screen use: raw mode and the alternate screen while a
//! [`TerminalGuard`] lives, restored on every way out (drop on return or error, ratatui's
//! panic hook). Used by the console and the cluster picker.

use color_eyre::eyre::{Result, WrapErr};

/// Restores the terminal when dropped, whatever way the loop ends.
pub struct TerminalGuard {
    pub terminal: ratatui::DefaultTerminal,
}

impl TerminalGuard {
    pub fn enter() -> Result<Self> {
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
