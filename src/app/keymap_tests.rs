//! The key table: lookup, and every footer hint resolving to its action where it is shown.

use super::*;

fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, mods)
}

#[test]
fn the_most_specific_context_wins() {
    let q = ev(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(lookup(&[C::Dialog, C::Always], &q), Some(A::DialogCancel));
    assert_eq!(lookup(&[C::Pane, C::Global, C::Always], &q), Some(A::Quit));
    let ctrl_c = ev(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(lookup(&[C::Dialog, C::Always], &ctrl_c), Some(A::Quit));
    assert_eq!(
        lookup(
            &[C::Dialog, C::Always],
            &ev(KeyCode::Char('c'), KeyModifiers::NONE)
        ),
        None
    );
}

#[test]
fn shifted_chars_and_backtab_match_regardless_of_the_shift_flag() {
    let ctx = [C::Logs, C::Pane, C::Global];
    assert_eq!(
        lookup(&ctx, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
        Some(A::Bottom)
    );
    assert_eq!(
        lookup(&ctx, &ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
        Some(A::FocusPrev)
    );
    assert_eq!(
        lookup(&ctx, &ev(KeyCode::Char('?'), KeyModifiers::SHIFT)),
        Some(A::ToggleHelp)
    );
}

#[test]
fn no_key_is_bound_twice_in_one_context() {
    for (i, a) in KEYMAP.iter().enumerate() {
        for bnd in &KEYMAP[i + 1..] {
            if a.context == bnd.context {
                assert!(
                    !a.keys.iter().any(|key| bnd.keys.contains(key)),
                    "{} bound twice in {:?}",
                    a.keys_label(),
                    a.context
                );
            }
        }
    }
}

/// Every state the footer is drawn for: help, a dialog, typing a query, each pane, the
/// Restore wizard.
fn footer_states() -> Vec<(&'static str, crate::app::State)> {
    use crate::app::fixtures::incident_state;
    use crate::app::{Dialog, Focus};
    let mut out = Vec::new();
    for focus in Focus::ALL {
        let mut s = incident_state(false);
        s.focus = focus;
        out.push((focus.title(), s));
    }
    let mut s = incident_state(false);
    s.help = true;
    out.push(("help", s));
    let mut s = incident_state(false);
    s.dialog = Some(Dialog::Explain {
        path: crate::domain::paths::PathKind::Restore,
    });
    out.push(("dialog", s));
    let mut s = incident_state(false);
    s.focus = Focus::Logs;
    s.logs.nav.input = Some(crate::app::lognav::Input {
        kind: crate::app::lognav::InputKind::Search,
        text: String::new(),
    });
    out.push(("typing", s));
    let mut s = incident_state(false);
    s.wizard = Some(crate::app::wizard::Wizard::new(
        crate::domain::restore::Facts {
            namespace: "security".into(),
            cluster: "prod-cluster".into(),
            backup: None,
            operator: None,
            pvcs: Vec::new(),
            line: crate::domain::generation::Line::V01,
            restore_role: None,
            blue_revision: None,
        },
        None,
    ));
    out.push(("wizard", s));
    out
}

#[test]
fn every_footer_hint_resolves_to_its_action_where_it_is_shown() {
    for (what, state) in footer_states() {
        let contexts = crate::app::contexts(&state);
        let shown: Vec<&Binding> = contexts
            .iter()
            .flat_map(|ctx| KEYMAP.iter().filter(move |b| b.context == *ctx))
            .filter(|b| b.hint.is_some())
            .collect();
        assert!(!shown.is_empty(), "{what}: no hints");
        assert_eq!(
            shown.len(),
            hints(&contexts).len(),
            "{what}: the footer is these bindings"
        );
        for b in shown {
            let key = b.keys[0];
            let mods = if key.ctrl {
                KeyModifiers::CONTROL
            } else {
                KeyModifiers::NONE
            };
            assert_eq!(
                lookup(&contexts, &ev(key.code, mods)),
                Some(b.action),
                "{what}: the hint {:?} ({}) does something else",
                b.hint,
                key.label()
            );
        }
    }
}

#[test]
fn the_wizard_footer_offers_only_what_works_in_the_wizard() {
    let (_, mut s) = footer_states().pop().unwrap();
    let contexts = crate::app::contexts(&s);
    let footer: Vec<&str> = hints(&contexts).into_iter().map(|(_, h)| h).collect();
    assert_eq!(footer, ["confirm step", "close", "write mode", "copy"]);
    // And they do it: W toggles write mode (not at the snapshot step, where it is typed),
    // Esc closes the wizard.
    s.wizard.as_mut().unwrap().step = crate::app::wizard::Step::ScaleDown;
    let was = s.write.is_on(s.now);
    crate::app::update(
        &mut s,
        crate::app::Msg::Key(ev(KeyCode::Char('W'), KeyModifiers::SHIFT)),
    );
    assert_eq!(s.write.is_on(s.now), !was);
    crate::app::update(
        &mut s,
        crate::app::Msg::Key(ev(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert!(s.wizard.is_none());
}

#[test]
fn the_configured_write_key_replaces_w_in_lookup_footer_help_and_texts() {
    use crate::app::fixtures::incident_state;
    use crate::app::write_mode::WriteStart;
    use crate::app::{Focus, Msg, State, update};
    let keys = Keys { write: 'X' };
    let decision = [C::Decision, C::Pane, C::Global, C::Always];
    let x = ev(KeyCode::Char('X'), KeyModifiers::SHIFT);
    let w = ev(KeyCode::Char('W'), KeyModifiers::SHIFT);
    assert_eq!(keys.lookup(&decision, &x), Some(A::ToggleWrite));
    assert_eq!(keys.lookup(&decision, &w), None);
    assert_eq!(keys.lookup(&[C::Wizard], &x), Some(A::ToggleWrite));
    // W keeps its other meaning (previous warning in the Logs pane).
    assert_eq!(keys.lookup(&[C::Logs], &w), Some(A::PrevWarn));
    assert!(keys.hints(&decision).contains(&("X".into(), "write mode")));
    let toggle = KEYMAP.iter().find(|b| b.action == A::ToggleWrite).unwrap();
    assert_eq!(keys.label(toggle), "X");

    // Through the console: State carries the key from Options to update and the texts.
    let mut opts = crate::app::fixtures::opts(false);
    opts.write = WriteStart {
        on: false,
        key: 'X',
    };
    let mut s = State::new(opts);
    s.focus = Focus::Decision;
    update(&mut s, Msg::Key(w));
    assert!(!s.write.is_on(s.now), "W is not the write key any more");
    update(&mut s, Msg::Key(x));
    assert!(s.write.is_on(s.now));
    update(&mut s, Msg::Key(x));
    assert!(!s.write.is_on(s.now));
    // A refusal names the key that works.
    let mut s = incident_state(false);
    s.write.leave();
    s.write.key = 'X';
    s.focus = Focus::Decision;
    update(&mut s, Msg::Key(ev(KeyCode::Enter, KeyModifiers::NONE)));
    let notice = s.decision.notice.clone().unwrap_or_default();
    assert!(notice.contains("press X in the Decision pane"), "{notice}");
}

#[test]
fn a_write_key_must_be_typeable_never_typed_in_the_wizard_and_free() {
    assert_eq!(write_key_problem('W'), None);
    assert_eq!(write_key_problem('X'), None);
    assert_eq!(write_key_problem('!'), None);
    for typed in ['x', '7', '-', '.'] {
        let why = write_key_problem(typed).unwrap();
        assert!(why.contains("cluster-name field"), "{typed}: {why}");
    }
    assert!(write_key_problem(' ').unwrap().contains("visible ASCII"));
    assert!(write_key_problem('é').unwrap().contains("visible ASCII"));
    // Already a key where write mode is toggled.
    let why = write_key_problem('?').unwrap();
    assert!(why.contains("show this help"), "{why}");
    // Taken only in the Logs pane: free where write mode is toggled.
    assert_eq!(write_key_problem('G'), None);
}

#[test]
fn the_write_key_outside_the_decision_pane_says_where_it_works() {
    use crate::app::fixtures::incident_state;
    use crate::app::{Focus, Msg, update};
    let w = ev(KeyCode::Char('W'), KeyModifiers::SHIFT);
    for focus in [Focus::Health, Focus::Raft] {
        let mut s = incident_state(false);
        s.write.leave();
        s.focus = focus;
        update(&mut s, Msg::Key(w));
        assert!(!s.write.is_on(s.now), "{focus:?}: nothing is toggled there");
        let note = s.footer_note().unwrap_or_default().to_string();
        assert!(note.contains("in the Decision pane"), "{focus:?}: {note:?}");
    }
    // In the Logs pane W keeps its meaning (previous warning) and says nothing else.
    let mut s = incident_state(false);
    s.focus = Focus::Logs;
    update(&mut s, Msg::Key(w));
    assert!(s.footer_note().is_none());
    // Typed into a log search, it is a letter.
    update(&mut s, Msg::Key(ev(KeyCode::Char('/'), KeyModifiers::NONE)));
    assert!(s.logs.nav.input.is_some(), "/ opens the search");
    update(&mut s, Msg::Key(w));
    assert!(s.footer_note().is_none());
    assert_eq!(
        s.logs.nav.input.as_ref().map(|i| i.text.as_str()),
        Some("W")
    );
    // In the Decision pane it toggles.
    let mut s = incident_state(false);
    s.write.leave();
    s.focus = Focus::Decision;
    update(&mut s, Msg::Key(w));
    assert!(s.write.is_on(s.now));
}
