//! Pause and repair through `update`: offered on the 0.6 line only, Cancel first, the
//! preview is the body the sender builds, the two patches in order, and every guard Retry
//! has (read-only, a changed nonce, a changed pause state).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::fixtures::{self, NONCE, RV, feed, incident_state};
use super::super::*;
use crate::app::msg::SourceEvent;
use crate::domain::ClusterView;
use crate::domain::write::patch as actions;
use crate::domain::write::{ClusterWrite, PauseStep};
use crate::journal::Event;

const OP: &str = "bg-v2-3f1c2a9e-8d4b-4c6e-9a1f-0b2c3d4e5f60";

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn run(state: &mut State, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|m| update(state, m)).collect()
}

fn cluster_06(paused: bool) -> ClusterView {
    let mut c = fixtures::cluster();
    c.paused = paused;
    if let Some(g) = c.blue_green.as_mut() {
        g.operation_id = Some(OP.into());
    }
    c
}

/// The incident on the 0.6 line, Pause and repair selected, write mode on.
fn at_pause(paused: bool) -> State {
    let mut s = incident_state(true);
    feed(&mut s, [SourceEvent::Cluster(Some(cluster_06(paused)))]);
    s.focus = Focus::Decision;
    s.decision.selected = 3;
    assert_eq!(
        s.selected_path(),
        crate::domain::paths::PathKind::PauseRepair
    );
    s
}

fn confirm() -> [Msg; 2] {
    [key(KeyCode::Tab), key(KeyCode::Enter)]
}

#[test]
fn the_dialog_opens_with_cancel_and_previews_both_patches() {
    let mut s = at_pause(false);
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    let Some(Dialog::ConfirmPause { target, focus }) = s.dialog.clone() else {
        panic!("no pause dialog: {:?} {:?}", s.dialog, s.decision.notice);
    };
    assert_eq!(focus, Button::Cancel);
    assert_eq!(target.step, PauseStep::Pause);
    // The preview is what the sender builds from an object with the same resourceVersion.
    let mut fresh = cluster_06(false);
    fresh.resource_version = RV.into();
    assert_eq!(
        target.body(),
        actions::PauseStep::Pause
            .patch(NONCE, &fresh.resource_version)
            .to_string()
    );
    assert_eq!(
        target.body(),
        format!(r#"{{"metadata":{{"resourceVersion":"{RV}"}},"spec":{{"paused":true}}}}"#)
    );
    let [(first, a), (second, b)] = target.both();
    assert_eq!((first, second), (PauseStep::Pause, PauseStep::ResumeAck));
    assert_eq!(a, target.body());
    assert!(
        b.contains(r#""breakGlassAck":"9f2c4e1a7b3d5f60812a4c6e8b0d2f47","paused":false"#),
        "{b}"
    );
    // Enter on Cancel: closed, nothing sent.
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(s.dialog.is_none());
}

#[test]
fn confirming_journals_the_decision_then_sends_the_pause() {
    let mut s = at_pause(false);
    s.journal = Some("/tmp/never-written.jsonl".into());
    let effects = run(&mut s, [key(KeyCode::Enter)].into_iter().chain(confirm()));
    match &effects[..] {
        [Effect::Journal { entries, .. }, Effect::Patch(sent)] => {
            assert_eq!(
                sent.write,
                ClusterWrite::PauseRepair {
                    step: PauseStep::Pause,
                    nonce: NONCE.into()
                }
            );
            assert!(matches!(
                &entries[0].event,
                Event::Decision { path, .. } if path == "Pause and repair: pause"
            ));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.decision.in_flight.as_deref(), Some(NONCE));
}

#[test]
fn once_paused_the_next_confirmation_is_resume_and_ack_in_one_patch() {
    let mut s = at_pause(true);
    run(&mut s, [key(KeyCode::Enter)]);
    let Some(Dialog::ConfirmPause { target, .. }) = s.dialog.clone() else {
        panic!("{:?}", s.decision.notice);
    };
    assert_eq!(target.step, PauseStep::ResumeAck);
    assert_eq!(
        target.body(),
        actions::resume_ack_patch(NONCE, RV).to_string()
    );
    let effects = run(&mut s, confirm());
    assert!(matches!(
        effects.last(),
        Some(Effect::Patch(p)) if p.write == ClusterWrite::PauseRepair { step: PauseStep::ResumeAck, nonce: NONCE.into() }
            && p.body == target.body()
    ));
}

#[test]
fn not_offered_off_the_06_line_nor_read_only_nor_when_things_moved() {
    // The 0.1 fixture (no bg-v2- operation): a notice, no dialog.
    let mut s = incident_state(true);
    s.focus = Focus::Decision;
    s.decision.selected = 3;
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(s.dialog.is_none());
    assert!(
        s.decision.notice.as_deref().unwrap().contains("0.6 line"),
        "{:?}",
        s.decision.notice
    );
    // Read-only.
    let mut s = at_pause(false);
    s.write.leave();
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(s.dialog.is_none());
    // A new nonce while the dialog is open: nothing is sent.
    let mut s = at_pause(false);
    run(&mut s, [key(KeyCode::Enter)]);
    let mut moved = cluster_06(false);
    if let Some(b) = moved.break_glass.as_mut() {
        b.nonce = Some("0123".into());
    }
    feed(&mut s, [SourceEvent::Cluster(Some(moved))]);
    assert!(run(&mut s, confirm()).is_empty());
    assert!(s.decision.notice.as_deref().unwrap().contains("nonce"));
    // Someone paused the cluster while the pause dialog was open: nothing is sent.
    let mut s = at_pause(false);
    run(&mut s, [key(KeyCode::Enter)]);
    feed(&mut s, [SourceEvent::Cluster(Some(cluster_06(true)))]);
    assert!(run(&mut s, confirm()).is_empty());
    assert!(
        s.decision
            .notice
            .as_deref()
            .unwrap()
            .contains("already paused"),
        "{:?}",
        s.decision.notice
    );
}

#[test]
fn the_target_says_what_pausing_stops() {
    let t = at_pause(false).pause_target().unwrap();
    assert_eq!(t.step, PauseStep::Pause);
    assert!(t.consequences().iter().any(|c| c.contains("no backups")));
}

#[test]
fn a_409_asks_the_same_pause_again_not_the_retry() {
    let mut s = at_pause(false);
    run(&mut s, [key(KeyCode::Enter)].into_iter().chain(confirm()));
    feed(
        &mut s,
        [SourceEvent::Action(
            crate::app::msg::ActionOutcome::Failed {
                status: Some(409),
                message: "conflict".into(),
            },
        )],
    );
    let mut moved = cluster_06(false);
    moved.resource_version = "184500".into();
    feed(&mut s, [SourceEvent::Cluster(Some(moved))]);
    assert!(
        matches!(
            s.dialog,
            Some(Dialog::ConfirmPause {
                focus: Button::Cancel,
                ..
            })
        ),
        "{:?}",
        s.dialog
    );
}
