//! The keys in effect: the one keymap table (`keymap::KEYMAP`) with the configured
//! write-mode key (config `write_key`) in place of the table's `W`. `update` looks keys up
//! through it and the footer and help are drawn from it, so they always say the key that
//! works; `write_key_problem` says which keys may be configured.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::keymap::{Action, Binding, Context, KEYMAP, Key, k};

/// The keys in effect: the table, with the configured write-mode key (config `write_key`)
/// bound to `ToggleWrite` in place of the table's. Lookup, footer and help all go through
/// it, so they say the key that works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    pub write: char,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            write: super::write_mode::DEFAULT_KEY,
        }
    }
}

impl Keys {
    /// The keys bound to `bnd` in effect.
    pub fn of(&self, bnd: &Binding) -> std::borrow::Cow<'static, [Key]> {
        if bnd.action == Action::ToggleWrite {
            std::borrow::Cow::Owned(vec![k(self.write)])
        } else {
            std::borrow::Cow::Borrowed(bnd.keys)
        }
    }

    /// `↑/k`: the keys of `bnd` in effect, for the help.
    pub fn label(&self, bnd: &Binding) -> String {
        self.of(bnd)
            .iter()
            .map(Key::label)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The action bound to `ev` in the first context of `contexts` that binds it.
    /// Key releases are ignored (Windows terminals report them).
    pub fn lookup(&self, contexts: &[Context], ev: &KeyEvent) -> Option<Action> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        contexts.iter().find_map(|ctx| {
            KEYMAP
                .iter()
                .filter(|bnd| bnd.context == *ctx)
                .find(|bnd| self.of(bnd).iter().any(|key| key.matches(ev)))
                .map(|bnd| bnd.action)
        })
    }

    /// Footer hints for the contexts in effect, most specific first: (first key, hint).
    pub fn hints(&self, contexts: &[Context]) -> Vec<(String, &'static str)> {
        contexts
            .iter()
            .flat_map(|ctx| KEYMAP.iter().filter(move |bnd| bnd.context == *ctx))
            .filter_map(|bnd| Some((self.of(bnd).first()?.label(), bnd.hint?)))
            .collect()
    }
}

/// [`Keys::lookup`] with the table's own keys.
pub fn lookup(contexts: &[Context], ev: &KeyEvent) -> Option<Action> {
    Keys::default().lookup(contexts, ev)
}

/// [`Keys::hints`] with the table's own keys.
pub fn hints(contexts: &[Context]) -> Vec<(String, &'static str)> {
    Keys::default().hints(contexts)
}

/// Why `c` cannot be the write-mode key (None: it can). Not a character typed into the
/// Restore wizard's cluster-name field (DNS labels: lowercase letters, digits, `-`, `.`),
/// not a space or a control character, and not a key that already does something where
/// write mode is toggled (the Decision pane and the wizard).
pub fn write_key_problem(c: char) -> Option<String> {
    if !c.is_ascii_graphic() {
        return Some(format!(
            "{c:?} cannot be typed as one key: use a visible ASCII character such as \"W\""
        ));
    }
    if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' {
        return Some(format!(
            "{c:?} is typed in the Restore wizard's cluster-name field: use an uppercase letter or a symbol"
        ));
    }
    let ev = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let where_toggled = [
        Context::Decision,
        Context::Pane,
        Context::Global,
        Context::Always,
        Context::Wizard,
    ];
    KEYMAP
        .iter()
        .filter(|bnd| bnd.action != Action::ToggleWrite && where_toggled.contains(&bnd.context))
        .find(|bnd| bnd.keys.iter().any(|key| key.matches(&ev)))
        .map(|bnd| {
            format!(
                "{c:?} already means \"{}\" ({}): choose another key",
                bnd.description,
                bnd.context.label()
            )
        })
}
