//! `y`: copy the selected thing to the clipboard of the terminal the user sits at (OSC 52,
//! which passes SSH and tmux), for a ticket, a chat or a colleague's shell.
//!
//! Pure like the rest of `update`: it decides *what* is copied and returns
//! `Effect::Copy(text)`; the terminal loop writes the escape. What is copied depends on
//! where the user is: the open dialog's or wizard step's kubectl command (a created object's
//! body as folded YAML, `ui::heredoc`), else the focused pane's thing (Health: the
//! break-glass nonce, Decision: the journal path, Logs: the line the view is on). The footer
//! says what was copied, or that there was nothing to copy.

use jiff::Timestamp;

use super::Effect;
use super::state::{Focus, State};
use crate::ui::{heredoc, layout};

/// How long the footer shows what was copied.
pub const NOTE_SECS: i64 = 4;

/// A copied command's here-document (a created object) is YAML folded to this width, as an
/// 80-column wizard shows it: it pastes into a ticket or a narrow shell unchanged. The
/// command line itself is copied as one line.
const HEREDOC_WIDTH: usize = 78;

/// A short-lived footer note (what `y` copied), shown until `at` + [`NOTE_SECS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FooterNote {
    pub text: String,
    pub at: Timestamp,
}

impl State {
    /// The footer note while it is fresh (ages against the last tick).
    pub fn footer_note(&self) -> Option<&str> {
        let note = self.footer_note.as_ref()?;
        let age = self.now.duration_since(note.at).as_secs();
        (age < NOTE_SECS).then_some(note.text.as_str())
    }
}

/// What `y` copies now: (what it is, the text), or why there is nothing.
pub fn selection(state: &State) -> Result<(&'static str, String), String> {
    if let Some(w) = &state.wizard {
        return match w.request() {
            Ok(Some(r)) => r
                .kubectl()
                .map(|c| ("kubectl command", heredoc::fit(&c.line, HEREDOC_WIDTH)))
                .ok_or_else(|| "this step has no kubectl equivalent".to_string()),
            _ => Err("this step sends nothing".into()),
        };
    }
    if let Some(d) = &state.dialog {
        return d
            .kubectl()
            .map(|c| ("kubectl command", heredoc::fit(&c.line, HEREDOC_WIDTH)))
            .ok_or_else(|| "this dialog sends nothing".to_string());
    }
    match state.focus {
        Focus::Health => state
            .incident
            .cluster
            .as_ref()
            .and_then(|c| c.active_nonce())
            .map(|n| ("nonce", n.to_string()))
            .ok_or_else(|| "no break-glass nonce (break glass is not active)".to_string()),
        Focus::Decision => state
            .journal
            .as_ref()
            .map(|p| ("journal path", p.display().to_string()))
            .ok_or_else(|| "the journal is not open yet".to_string()),
        Focus::Logs => log_line(state)
            .map(|l| ("log line", l))
            .ok_or_else(|| "no log line on screen".to_string()),
        Focus::Raft => Err("the Raft pane has nothing to copy (Tab to another pane)".into()),
    }
}

/// The log line the view is on: the newest while following, else the top line of the paused
/// view (where `e`/`w`/`n` jumps land). The stored text: sanitised and redacted as drawn.
fn log_line(state: &State) -> Option<String> {
    let logs = &state.logs;
    let line = if logs.follow {
        logs.rows_before(logs.store.end_seq()).next()
    } else {
        let rows = layout::visible_log_rows(state.size, state.focus);
        logs.rows_after(logs.first_visible(rows)).next()
    };
    line.map(|(_, l)| l.text.to_string())
}

/// `y` pressed: the copy effect and the footer's confirmation, or the footer's reason.
pub(crate) fn copy(state: &mut State) -> Vec<Effect> {
    let (note, effects) = match selection(state) {
        Ok((what, text)) => (
            format!("copied {what} {}", preview(&text)),
            vec![Effect::Copy(text)],
        ),
        Err(why) => (format!("nothing copied: {why}"), Vec::new()),
    };
    state.footer_note = Some(FooterNote {
        text: note,
        at: state.now,
    });
    effects
}

/// The start of the copied text, one line, for the footer (`a9223f…`).
fn preview(text: &str) -> String {
    const MAX: usize = 16;
    let first = text.lines().next().unwrap_or_default();
    let cut: String = first.chars().take(MAX).collect();
    let chars = text.chars().count();
    if cut.len() < text.len() && chars > 2 * MAX {
        format!("{cut}… ({chars} chars)")
    } else if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
#[path = "copy_tests.rs"]
mod tests;
