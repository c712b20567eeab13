//! `y`: the exact text copied per pane, dialog and wizard step, and the footer's note.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::fixtures::{NONCE, RV, incident_state};
use crate::app::msg::SourceEvent;
use crate::app::{Msg, update};

fn y() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE))
}

fn copied(s: &mut State) -> Option<String> {
    match update(s, y()).as_slice() {
        [Effect::Copy(text)] => Some(text.clone()),
        [] => None,
        other => panic!("unexpected effects {other:?}"),
    }
}

#[test]
fn health_copies_the_nonce_and_the_footer_says_so() {
    let mut s = incident_state(false);
    s.focus = Focus::Health;
    assert_eq!(copied(&mut s).as_deref(), Some(NONCE));
    assert_eq!(s.footer_note(), Some("copied nonce 9f2c4e1a7b3d5f60…"));
    // The note goes after a few seconds.
    let later = s
        .now
        .checked_add(jiff::SignedDuration::from_secs(NOTE_SECS))
        .unwrap();
    update(&mut s, Msg::Tick(later));
    assert_eq!(s.footer_note(), None);
}

#[test]
fn without_break_glass_there_is_no_nonce_to_copy() {
    let mut s = incident_state(false);
    let mut c = crate::app::fixtures::cluster();
    c.break_glass = None;
    update(&mut s, Msg::Source(SourceEvent::Cluster(Some(c))));
    s.focus = Focus::Health;
    assert_eq!(copied(&mut s), None);
    assert_eq!(
        s.footer_note(),
        Some("nothing copied: no break-glass nonce (break glass is not active)")
    );
}

#[test]
fn decision_copies_the_journal_path() {
    let mut s = incident_state(false);
    s.focus = Focus::Decision;
    s.journal = None;
    assert_eq!(copied(&mut s), None);
    assert_eq!(
        s.footer_note(),
        Some("nothing copied: the journal is not open yet")
    );
    s.journal = Some("/var/state/breakglass/security-prod-cluster.jsonl".into());
    assert_eq!(
        copied(&mut s).as_deref(),
        Some("/var/state/breakglass/security-prod-cluster.jsonl")
    );
}

#[test]
fn logs_copy_the_newest_line_while_following_and_the_top_line_when_paused() {
    let mut s = incident_state(false);
    s.focus = Focus::Logs;
    let newest = s
        .logs
        .store
        .get(s.logs.store.end_seq() - 1)
        .unwrap()
        .text
        .to_string();
    assert_eq!(copied(&mut s).as_deref(), Some(newest.as_str()));
    // Paused on a line (g: the oldest): that line.
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('g'), KeyModifiers::NONE)),
    );
    let first = s.logs.store.first_seq();
    let oldest = s.logs.store.get(first).unwrap().text.to_string();
    assert_ne!(oldest, newest);
    assert_eq!(copied(&mut s).as_deref(), Some(oldest.as_str()));
    // An empty pane has nothing.
    s.logs = Default::default();
    assert_eq!(copied(&mut s), None);
    assert_eq!(
        s.footer_note(),
        Some("nothing copied: no log line on screen")
    );
}

#[test]
fn raft_has_nothing_to_copy() {
    let mut s = incident_state(false);
    s.focus = Focus::Raft;
    assert_eq!(copied(&mut s), None);
    assert!(s.footer_note().unwrap().starts_with("nothing copied"));
}

#[test]
fn a_dialog_copies_its_kubectl_command_exactly_and_keeps_the_dialog_open() {
    let mut s = incident_state(false);
    s.focus = Focus::Decision;
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(s.dialog.is_some());
    let line = copied(&mut s).unwrap();
    assert_eq!(
        line,
        format!(
            r#"kubectl --namespace=security patch openbaoclusters.openbao.org prod-cluster --type=merge --patch='{{"metadata":{{"resourceVersion":"{RV}"}},"spec":{{"breakGlassAck":"{NONCE}"}}}}'"#
        )
    );
    assert!(s.dialog.is_some(), "y is not a yes: the dialog stays");
    let note = format!(
        "copied kubectl command kubectl --namesp… ({} chars)",
        line.len()
    );
    assert_eq!(s.footer_note(), Some(note.as_str()));
    // The explanation sends nothing, so it has nothing to copy.
    s.dialog = Some(crate::app::Dialog::Explain {
        path: crate::domain::paths::PathKind::Restore,
    });
    assert_eq!(copied(&mut s), None);
}

#[test]
fn the_wizard_copies_the_step_kubectl_and_y_types_where_a_name_is_typed() {
    use crate::app::wizard::tests::{KEY, facts};
    use crate::app::wizard::{Step, Wizard};
    let mut s = incident_state(false);
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    w.step = Step::ScaleDown;
    s.wizard = Some(w);
    assert_eq!(
        copied(&mut s).as_deref(),
        Some(
            r#"kubectl --namespace=openbao-operator-system patch deployments.apps openbao-operator-controller --subresource=scale --type=merge --patch='{"spec":{"replicas":0}}'"#
        )
    );
    // Deleting a PVC needs the name typed: y is a letter there, Ctrl-Y copies.
    s.wizard.as_mut().unwrap().step = Step::DeletePvcs;
    assert_eq!(copied(&mut s), None);
    assert_eq!(s.wizard.as_ref().unwrap().typed, "y");
    let ctrl_y = Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL));
    assert_eq!(
        update(&mut s, ctrl_y),
        [Effect::Copy(
            "kubectl --namespace=security delete persistentvolumeclaims data-a-0".into()
        )]
    );
    // The snapshot step sends nothing.
    s.wizard.as_mut().unwrap().step = Step::Snapshot;
    let ctrl_y = Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL));
    assert_eq!(update(&mut s, ctrl_y), []);
    assert_eq!(
        s.footer_note(),
        Some("nothing copied: this step sends nothing")
    );
}

#[test]
fn the_preview_is_one_short_line() {
    assert_eq!(preview("abc"), "abc");
    assert_eq!(preview("0123456789abcdefXYZ"), "0123456789abcdef…");
    assert_eq!(preview("line one\nline two"), "line one…");
    assert_eq!(
        preview(&"x".repeat(40)),
        format!("{}… (40 chars)", "x".repeat(16))
    );
}
