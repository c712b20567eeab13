//! The cluster picker's state: which OpenBaoCluster to open when several could be the
//! incident. Pure: keys in, an outcome out; `ui::picker` draws it, `pick` runs it.
//!
//! Keys (also in its footer): ↑/↓ or k/j move, Enter opens, `/` filters by
//! namespace/name/phase/reason (Enter keeps the filter, Esc clears it), q or Esc quits.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::domain::discovery::ClusterRow;

#[derive(Debug, Clone)]
pub struct Picker {
    pub rows: Vec<ClusterRow>,
    /// What was searched, for the title (`all namespaces`, `namespace "security"`).
    pub scope: String,
    pub filter: String,
    /// True while `/` input is being typed.
    pub filtering: bool,
    /// Index into [`Picker::visible`].
    pub selected: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerOutcome {
    Continue,
    Open { namespace: String, name: String },
    Quit,
}

/// The footer, one line; every hint is a key `update` handles.
pub(crate) const FOOTER: &str = "↑/↓ move · Enter open · / filter · q quit";
pub(crate) const FOOTER_FILTERING: &str = "type to filter · Enter keep · Esc clear";

impl Picker {
    pub fn new(rows: Vec<ClusterRow>, scope: String) -> Self {
        Picker {
            rows,
            scope,
            filter: String::new(),
            filtering: false,
            selected: 0,
        }
    }

    /// The rows the filter lets through (case-insensitive substring of any cell).
    pub fn visible(&self) -> Vec<&ClusterRow> {
        let needle = self.filter.to_lowercase();
        self.rows
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || [
                        Some(r.namespace.as_str()),
                        Some(r.name.as_str()),
                        r.phase.as_deref(),
                        r.blue_green_phase.as_deref(),
                        r.break_glass.as_ref().and_then(|b| b.reason.as_deref()),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|c| c.to_lowercase().contains(&needle))
            })
            .collect()
    }

    pub fn update(&mut self, key: KeyEvent) -> PickerOutcome {
        if key.kind == KeyEventKind::Release {
            return PickerOutcome::Continue;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return PickerOutcome::Quit;
        }
        if self.filtering {
            match key.code {
                KeyCode::Enter => self.filtering = false,
                KeyCode::Esc => {
                    self.filtering = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.clamp();
            return PickerOutcome::Continue;
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected += 1,
            KeyCode::Char('/') => self.filtering = true,
            KeyCode::Enter => {
                if let Some(r) = self.visible().get(self.selected) {
                    return PickerOutcome::Open {
                        namespace: r.namespace.clone(),
                        name: r.name.clone(),
                    };
                }
            }
            KeyCode::Char('q') | KeyCode::Esc => return PickerOutcome::Quit,
            _ => {}
        }
        self.clamp();
        PickerOutcome::Continue
    }

    fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn rows() -> Vec<ClusterRow> {
        ["prod", "staging", "dev"]
            .iter()
            .map(|n| ClusterRow {
                namespace: format!("ns-{n}"),
                name: (*n).into(),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn arrows_move_within_the_list_and_enter_opens_the_selected() {
        let mut p = Picker::new(rows(), "all namespaces".into());
        for _ in 0..5 {
            p.update(key(KeyCode::Down));
        }
        assert_eq!(p.selected, 2);
        p.update(key(KeyCode::Up));
        assert_eq!(
            p.update(key(KeyCode::Enter)),
            PickerOutcome::Open {
                namespace: "ns-staging".into(),
                name: "staging".into()
            }
        );
    }

    #[test]
    fn slash_filters_and_esc_clears_and_q_quits() {
        let mut p = Picker::new(rows(), "all namespaces".into());
        p.update(key(KeyCode::Down));
        p.update(key(KeyCode::Down));
        p.update(key(KeyCode::Char('/')));
        for c in "pro".chars() {
            p.update(key(KeyCode::Char(c)));
        }
        // 'q' and 'j' while typing are text, not keys.
        assert_eq!(p.visible().len(), 1);
        assert_eq!(p.selected, 0);
        p.update(key(KeyCode::Enter));
        assert!(!p.filtering);
        assert_eq!(
            p.update(key(KeyCode::Enter)),
            PickerOutcome::Open {
                namespace: "ns-prod".into(),
                name: "prod".into()
            }
        );
        p.update(key(KeyCode::Char('/')));
        p.update(key(KeyCode::Char('q')));
        assert_eq!(p.filter, "proq");
        assert!(p.visible().is_empty());
        assert_eq!(p.update(key(KeyCode::Enter)), PickerOutcome::Continue);
        assert_eq!(p.update(key(KeyCode::Enter)), PickerOutcome::Continue);
        p.update(key(KeyCode::Char('/')));
        p.update(key(KeyCode::Esc));
        assert_eq!(p.visible().len(), 3);
        assert_eq!(p.update(key(KeyCode::Char('q'))), PickerOutcome::Quit);
    }

    #[test]
    fn every_footer_hint_is_a_key_the_picker_handles() {
        let mut p = Picker::new(rows(), "x".into());
        assert!(FOOTER.contains("Enter") && FOOTER.contains("/ filter"));
        assert_eq!(p.update(key(KeyCode::Char('q'))), PickerOutcome::Quit);
        p.update(key(KeyCode::Char('/')));
        assert!(p.filtering);
        p.update(key(KeyCode::Esc));
        assert!(!p.filtering);
    }
}
