//! The rendered screen for the ui tests: one way to draw a state into a test terminal and
//! read its rows back as text.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::app::State;

/// `state` drawn once into a `w`x`h` test terminal.
pub(crate) fn draw(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = term.draw(|f| super::render(state, f)) {
        match e {}
    }
    term
}

/// The rows of a drawn buffer, as text (one symbol per cell).
pub(crate) fn buffer_rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// The rows of `state` drawn at `w`x`h`.
pub(crate) fn rows(state: &State, w: u16, h: u16) -> Vec<String> {
    buffer_rows(draw(state, w, h).backend().buffer())
}

/// The screen of `state` drawn at `w`x`h`, rows joined by newlines.
pub(crate) fn text(state: &State, w: u16, h: u16) -> String {
    rows(state, w, h).join("\n")
}

/// The rows drawn inside a box's side borders (`│…│`), trailing blanks trimmed: a dialog's or
/// the wizard's text.
pub(crate) fn inside_borders<'a>(rows: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    rows.into_iter()
        .filter_map(|r| {
            let inner = r.strip_prefix('│')?.strip_suffix('│')?;
            Some(inner.trim_end().to_string())
        })
        .collect()
}
