//! The one keymap table: `update` dispatches through it and the help overlay is generated
//! from it, so the help can never drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. Lookup order is the most specific context first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere, even in a dialog or the help overlay.
    Always,
    /// When no dialog or help overlay is open.
    Global,
    /// Any focused pane.
    Pane,
    Logs,
    /// Typing a log search or filter query.
    LogInput,
    Decision,
    Dialog,
    Help,
    /// The Restore wizard is open (other keys type into its input).
    Wizard,
}

impl Context {
    pub fn label(self) -> &'static str {
        match self {
            Context::Always => "always",
            Context::Global => "global",
            Context::Pane => "pane",
            Context::Logs => "logs",
            Context::LogInput => "typing",
            Context::Decision => "decision",
            Context::Dialog => "dialog",
            Context::Help => "help",
            Context::Wizard => "wizard",
        }
    }
}

/// User intent, decoupled from the key that expressed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    ToggleHelp,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    ToggleFollow,
    NextError,
    PrevError,
    Left,
    Right,
    Activate,
    DialogNext,
    DialogPrev,
    DialogPress,
    DialogCancel,
    CloseHelp,
    HelpUp,
    HelpDown,
    SearchStart,
    FilterStart,
    NextHit,
    PrevHit,
    NextWarn,
    PrevWarn,
    ClearQueries,
    ToggleTimestamps,
    ToggleWrap,
    ToggleFold,
    InputCommit,
    InputCancel,
    InputBackspace,
    ToggleWrite,
    Revert,
    /// A followed restore in phase `Unknown`: Resume or Abandon.
    RestoreAck,
    /// Restore wizard: confirm the step (sends its request after a dry run).
    WizardConfirm,
    /// Restore wizard: close it; nothing more is sent.
    WizardClose,
    /// Restore wizard: delete the last typed character.
    WizardBackspace,
    /// Copy the selected thing to the clipboard (OSC 52): the dialog's or wizard step's
    /// kubectl command, the nonce, the journal path, a log line (`app::copy`).
    Copy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

pub(crate) const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

impl Key {
    /// Shift is ignored (it is already in the char, and terminals disagree on BackTab);
    /// Ctrl must match; Alt never matches.
    pub(crate) fn matches(&self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            c => c,
        };
        !alt && ctrl == self.ctrl && code == self.code
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Backspace => "Backspace".into(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

pub struct Binding {
    pub context: Context,
    pub keys: &'static [Key],
    pub action: Action,
    pub description: &'static str,
    /// A one-word footer hint; None keeps the binding out of the footer (help only).
    pub hint: Option<&'static str>,
}

impl Binding {
    #[cfg(test)]
    pub(crate) fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join("/")
    }
}

const fn b(
    context: Context,
    keys: &'static [Key],
    action: Action,
    description: &'static str,
) -> Binding {
    Binding {
        context,
        keys,
        action,
        description,
        hint: None,
    }
}

/// A binding that also shows in the footer.
const fn bh(
    context: Context,
    keys: &'static [Key],
    action: Action,
    hint: &'static str,
    description: &'static str,
) -> Binding {
    Binding {
        context,
        keys,
        action,
        description,
        hint: Some(hint),
    }
}

use Action as A;
use Context as C;

pub const KEYMAP: &[Binding] = &[
    b(
        C::Always,
        &[Key {
            code: KeyCode::Char('c'),
            ctrl: true,
        }],
        A::Quit,
        "quit now (even in a dialog)",
    ),
    bh(C::Global, &[k('q')], A::Quit, "quit", "quit"),
    bh(
        C::Global,
        &[k('?')],
        A::ToggleHelp,
        "help",
        "show this help",
    ),
    bh(
        C::Global,
        &[code(KeyCode::Tab)],
        A::FocusNext,
        "focus",
        "focus next pane",
    ),
    b(
        C::Global,
        &[code(KeyCode::BackTab)],
        A::FocusPrev,
        "focus previous pane",
    ),
    // Help only: the Decision footer is full at 80 columns (the dialogs' footers offer it).
    b(
        C::Pane,
        &[k('y')],
        A::Copy,
        "copy (OSC 52): nonce, journal path, log line",
    ),
    b(
        C::Pane,
        &[code(KeyCode::Up), k('k')],
        A::Up,
        "scroll up / previous path",
    ),
    b(
        C::Pane,
        &[code(KeyCode::Down), k('j')],
        A::Down,
        "scroll down / next path",
    ),
    b(
        C::Pane,
        &[code(KeyCode::PageUp)],
        A::PageUp,
        "page up (logs: pauses follow)",
    ),
    b(
        C::Pane,
        &[code(KeyCode::PageDown)],
        A::PageDown,
        "page down (decision: path details)",
    ),
    b(
        C::Logs,
        &[k('g'), code(KeyCode::Home)],
        A::Top,
        "oldest line (pauses follow)",
    ),
    bh(
        C::Logs,
        &[k('G'), code(KeyCode::End)],
        A::Bottom,
        "tail",
        "newest line, follow again",
    ),
    bh(
        C::Logs,
        &[k('f')],
        A::ToggleFollow,
        "follow/pause",
        "follow / pause (keeps position)",
    ),
    b(
        C::Logs,
        &[k('e')],
        A::NextError,
        "next [ERR] line (pauses follow)",
    ),
    b(
        C::Logs,
        &[k('E')],
        A::PrevError,
        "previous [ERR] line (pauses follow)",
    ),
    b(
        C::Logs,
        &[code(KeyCode::Left), k('h')],
        A::Left,
        "scroll left",
    ),
    b(
        C::Logs,
        &[code(KeyCode::Right), k('l')],
        A::Right,
        "scroll right",
    ),
    bh(
        C::Logs,
        &[k('/')],
        A::SearchStart,
        "search",
        "search text (n/N jump, k of m in title)",
    ),
    b(
        C::Logs,
        &[k('&')],
        A::FilterStart,
        "filter: only lines with the text",
    ),
    b(
        C::Logs,
        &[k('n')],
        A::NextHit,
        "next search hit (pauses follow)",
    ),
    b(
        C::Logs,
        &[k('N')],
        A::PrevHit,
        "previous search hit (pauses follow)",
    ),
    b(
        C::Logs,
        &[k('w')],
        A::NextWarn,
        "next [WRN] line (pauses follow)",
    ),
    b(
        C::Logs,
        &[k('W')],
        A::PrevWarn,
        "previous [WRN] line (pauses follow)",
    ),
    b(
        C::Logs,
        &[code(KeyCode::Esc)],
        A::ClearQueries,
        "clear the search and the filter",
    ),
    b(
        C::Logs,
        &[k('t')],
        A::ToggleTimestamps,
        "show / hide timestamps",
    ),
    b(C::Logs, &[k('z')], A::ToggleWrap, "wrap / cut long lines"),
    b(
        C::Logs,
        &[k('x')],
        A::ToggleFold,
        "fold / unfold Go stack traces (display only)",
    ),
    bh(
        C::LogInput,
        &[code(KeyCode::Enter)],
        A::InputCommit,
        "apply",
        "apply (other keys type the query)",
    ),
    bh(
        C::LogInput,
        &[code(KeyCode::Esc)],
        A::InputCancel,
        "cancel",
        "cancel typing, keep the old query",
    ),
    b(
        C::LogInput,
        &[code(KeyCode::Backspace)],
        A::InputBackspace,
        "delete the last character",
    ),
    bh(
        C::Decision,
        &[code(KeyCode::Enter)],
        A::Activate,
        "review",
        "review the selected path",
    ),
    bh(
        C::Decision,
        &[k('W')],
        A::ToggleWrite,
        "write mode",
        "write mode on/off (back to read-only after 5 min)",
    ),
    bh(
        C::Decision,
        &[k('v')],
        A::Revert,
        "revert",
        "follow-up: revert spec.version to Blue's",
    ),
    bh(
        C::Decision,
        &[k('u')],
        A::RestoreAck,
        "restore unknown",
        "a restore in phase Unknown: Resume or Abandon",
    ),
    bh(
        C::Dialog,
        &[code(KeyCode::Tab), code(KeyCode::Right), k('l')],
        A::DialogNext,
        "move",
        "next button",
    ),
    b(
        C::Dialog,
        &[code(KeyCode::BackTab), code(KeyCode::Left), k('h')],
        A::DialogPrev,
        "previous button",
    ),
    bh(
        C::Dialog,
        &[code(KeyCode::Enter)],
        A::DialogPress,
        "press",
        "press the focused button (Cancel first)",
    ),
    b(
        C::Dialog,
        &[code(KeyCode::Up), k('k')],
        A::Up,
        "scroll a long confirmation up",
    ),
    b(
        C::Dialog,
        &[code(KeyCode::Down), k('j')],
        A::Down,
        "scroll a long confirmation down",
    ),
    bh(
        C::Dialog,
        &[k('y')],
        A::Copy,
        "copy",
        "copy the kubectl command (OSC 52)",
    ),
    bh(
        C::Dialog,
        &[code(KeyCode::Esc), k('n'), k('q')],
        A::DialogCancel,
        "cancel",
        "cancel, nothing is sent",
    ),
    bh(
        C::Wizard,
        &[code(KeyCode::Enter)],
        A::WizardConfirm,
        "confirm step",
        "confirm the step (sent as shown, dry run first)",
    ),
    bh(
        C::Wizard,
        &[code(KeyCode::Esc)],
        A::WizardClose,
        "close",
        "close the wizard, nothing more is sent",
    ),
    bh(
        C::Wizard,
        &[k('W')],
        A::ToggleWrite,
        "write mode",
        "write mode on/off (typed at the snapshot step)",
    ),
    bh(
        C::Wizard,
        &[
            Key {
                code: KeyCode::Char('y'),
                ctrl: true,
            },
            k('y'),
        ],
        A::Copy,
        "copy",
        "copy the step's kubectl command (typing: Ctrl-Y)",
    ),
    b(
        C::Wizard,
        &[code(KeyCode::Up)],
        A::Up,
        "scroll the wizard up",
    ),
    b(
        C::Wizard,
        &[code(KeyCode::Down)],
        A::Down,
        "scroll the wizard down",
    ),
    b(
        C::Wizard,
        &[code(KeyCode::Backspace)],
        A::WizardBackspace,
        "delete the last typed character (other keys type)",
    ),
    bh(
        C::Help,
        &[code(KeyCode::Esc), k('?'), k('q')],
        A::CloseHelp,
        "close",
        "close help",
    ),
    b(
        C::Help,
        &[code(KeyCode::Up), k('k')],
        A::HelpUp,
        "scroll help up",
    ),
    b(
        C::Help,
        &[code(KeyCode::Down), k('j')],
        A::HelpDown,
        "scroll help down",
    ),
];

pub use super::keys::{Keys, hints, lookup, write_key_problem};

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
