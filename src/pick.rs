//! Running the cluster picker full screen until the user opens a cluster or quits.

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};

use color_eyre::eyre::{Result, WrapErr};

use crate::app::picker::{Picker, PickerOutcome};
use crate::terminal::TerminalGuard;
use crate::ui;

/// The `(namespace, name)` picked, or None when the user quit.
pub async fn run(mut picker: Picker, color: bool) -> Result<Option<(String, String)>> {
    let mut guard = TerminalGuard::enter()?;
    let mut input = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let theme = ui::theme::Theme { color };
    loop {
        guard
            .terminal
            .draw(|f| ui::picker::render(&picker, theme, Timestamp::now(), f))
            .wrap_err("cannot draw")?;
        let key = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) => k,
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).wrap_err("terminal input failed"),
                None => return Ok(None),
            },
            _ = term.recv() => return Ok(None),
            _ = hup.recv() => return Ok(None),
        };
        match picker.update(key) {
            PickerOutcome::Continue => {}
            PickerOutcome::Quit => return Ok(None),
            PickerOutcome::Open { namespace, name } => return Ok(Some((namespace, name))),
        }
    }
}
