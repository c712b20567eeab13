//! Styles by meaning. With `color: false` (NO_COLOR) every style is modifiers only, and
//! meaning is always also carried by a text badge (`[ERR]`, `[STALE]`, `[ACTIVE]`).

use ratatui::style::{Color, Modifier, Style};

use crate::patterns::Severity;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn pick(&self, fg: Color, modifier: Modifier) -> Style {
        let s = Style::new().add_modifier(modifier);
        if self.color { s.fg(fg) } else { s }
    }

    pub fn error(&self) -> Style {
        self.pick(Color::Red, Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.pick(Color::Yellow, Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.pick(Color::Green, Modifier::empty())
    }

    pub fn info(&self) -> Style {
        self.pick(Color::Cyan, Modifier::empty())
    }

    pub(crate) fn dim(&self) -> Style {
        self.pick(Color::DarkGray, Modifier::empty())
    }

    pub fn label(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.error(),
            Severity::Warn => self.warn(),
            Severity::Info => self.info(),
        }
    }

    /// The header/badge for an incident that needs a human now.
    pub(crate) fn alarm(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub(crate) fn border(&self, focused: bool) -> Style {
        if focused {
            self.pick(Color::Cyan, Modifier::BOLD)
        } else {
            self.dim()
        }
    }

    /// The focused dialog button and the selected path.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn marker(&self) -> Style {
        self.pick(Color::Magenta, Modifier::BOLD)
    }
}
