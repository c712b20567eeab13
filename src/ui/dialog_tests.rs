//! The kubectl command in every confirmation, wrapped so no row is cut and reachable at
//! 80x24 by scrolling the dialog.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::fixtures::{self, NONCE, RV, feed, incident_state};
use crate::app::msg::SourceEvent;
use crate::app::{Dialog, Focus, Msg, State, update};
use crate::domain::kubectl_cmd::wrap;

fn screen(state: &State, w: u16, h: u16) -> Vec<String> {
    crate::ui::test_screen::rows(state, w, h)
}

/// The dialog's rows between its side borders, trailing blanks trimmed.
fn dialog_rows(screen: &[String]) -> Vec<String> {
    crate::ui::test_screen::inside_borders(screen.iter().map(String::as_str))
}

#[test]
fn at_80x24_a_long_confirmation_scrolls_to_its_whole_kubectl_command() {
    let mut s = incident_state(false);
    feed(&mut s, [SourceEvent::Pods(fixtures::crashlooping_green())]);
    s.focus = Focus::Decision;
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let line = s.dialog.as_ref().and_then(Dialog::kubectl).unwrap().line;
    let rows = wrap(&line, 78);
    assert!(rows.len() >= 3, "{rows:#?}");
    let first = screen(&s, 80, 24);
    assert!(first.iter().any(|r| r.contains("↓ more: j")), "{first:#?}");
    assert!(!dialog_rows(&first).contains(rows.last().unwrap()));
    for _ in 0..8 {
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
        );
    }
    let end = dialog_rows(&screen(&s, 80, 24));
    let at = end
        .iter()
        .position(|r| *r == rows[0])
        .unwrap_or_else(|| panic!("{end:#?}"));
    assert_eq!(end[at..at + rows.len()], rows[..], "{end:#?}");
    // Scrolling is the dialog's: the buttons and the pane behind did not move; Esc resets it.
    assert!(end.iter().any(|r| r.contains("[ Acknowledge ]")));
    assert!(s.overlay_scroll > 0);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    assert_eq!((s.dialog.is_none(), s.overlay_scroll), (true, 0));
}

#[test]
fn the_pause_and_restore_acknowledgement_dialogs_show_their_kubectl_commands() {
    use crate::app::pause_repair::PauseTarget;
    use crate::app::restore_ack::RestoreAckTarget;
    use crate::domain::restore::Disposition;
    use crate::domain::write::{ClusterPatch, ClusterWrite, PauseStep};
    let mut s = incident_state(false);
    let mut c = s.incident.cluster.clone().unwrap();
    c.resource_version = RV.into();
    let write = ClusterWrite::PauseRepair {
        step: PauseStep::Pause,
        nonce: NONCE.into(),
    };
    let patch = ClusterPatch::build(write, "security", "prod-cluster", &c).unwrap();
    s.dialog = Some(Dialog::confirm_pause(PauseTarget::from(patch)));
    let text = screen(&s, 160, 48).join("\n");
    assert!(
        text.contains(
            "kubectl --namespace=security patch openbaoclusters.openbao.org prod-cluster --type=merge"
        ) && text.contains(r#""paused":true"#),
        "{text}"
    );
    s.dialog = Some(Dialog::confirm_restore_ack(RestoreAckTarget {
        namespace: "security".into(),
        name: "restore-1".into(),
        uid: "0b9e7c1d".into(),
        resource_version: "77".into(),
        choice: Disposition::Resume,
    }));
    let text = screen(&s, 160, 48).join("\n");
    assert!(
        text.contains(
            "kubectl --namespace=security patch openbaorestores.openbao.org restore-1 --type=merge"
        ) && text.contains("0b9e7c1d/Resume"),
        "{text}"
    );
}

#[test]
fn at_80x24_the_wizard_scrolls_to_its_step_kubectl_command_with_the_arrow_keys() {
    use crate::app::wizard::tests::{KEY, facts};
    use crate::app::wizard::{Step, Wizard};
    let mut s = incident_state(false);
    let mut w = Wizard::new(facts(), Some(KEY.into()));
    w.step = Step::ScaleDown;
    let line = w.request().unwrap().unwrap().kubectl().unwrap().line;
    s.wizard = Some(w);
    let rows = wrap(&line, 78);
    let first = screen(&s, 80, 24);
    assert!(first.iter().any(|r| r.contains("↓ more: ↓")), "{first:#?}");
    for _ in 0..20 {
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
        );
    }
    let end = dialog_rows(&screen(&s, 80, 24));
    let at = end
        .iter()
        .position(|r| *r == rows[0])
        .unwrap_or_else(|| panic!("{rows:#?} not in {end:#?}"));
    assert_eq!(end[at..at + rows.len()], rows[..], "{end:#?}");
    // Arrows scroll; letters are still typed where a name is typed (nothing else moved).
    assert_eq!(s.wizard.as_ref().map(|w| w.step), Some(Step::ScaleDown));
}
