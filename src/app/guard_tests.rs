//! Guard tests: read-only by default, write mode entered and dropped, RBAC, 409 asks again,
//! "no" cancels with nothing sent, and journal entries as effects (never I/O in `update`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::SignedDuration;

use super::fixtures::{self, NONCE, feed, incident_state};
use super::*;
use crate::app::msg::Preflight;
use crate::app::msg::{ActionOutcome, SourceEvent};
use crate::domain::diagnosis::Denied;
use crate::domain::paths::PathKind;
use crate::domain::write::ClusterWrite;
use crate::journal::Event;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn run(state: &mut State, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|m| update(state, m)).collect()
}

fn read_only() -> State {
    let mut s = incident_state(true);
    s.write.leave();
    s.focus = Focus::Decision;
    s
}

fn acks(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| {
            matches!(e, Effect::Patch(p) if matches!(p.write, ClusterWrite::Acknowledge { .. }))
        })
        .count()
}

#[test]
fn read_only_refuses_to_open_the_dialog_and_w_enters_write_mode() {
    let mut s = read_only();
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(s.dialog.is_none());
    assert!(s.decision.notice.as_deref().unwrap().contains("read-only"));
    run(&mut s, [key(KeyCode::Char('W')), key(KeyCode::Enter)]);
    assert!(matches!(s.dialog, Some(Dialog::ConfirmRetry { .. })));
}

#[test]
fn no_cancels_and_nothing_is_sent() {
    for cancel in [
        key(KeyCode::Char('n')),
        key(KeyCode::Esc),
        key(KeyCode::Char('q')),
        key(KeyCode::Enter),
    ] {
        let mut s = read_only();
        let effects = run(
            &mut s,
            [key(KeyCode::Char('W')), key(KeyCode::Enter), cancel],
        );
        assert_eq!(acks(&effects), 0);
        assert!(s.dialog.is_none() && s.decision.in_flight.is_none());
    }
}

#[test]
fn write_mode_expires_on_tick_and_closes_an_open_confirmation() {
    let mut s = read_only();
    run(&mut s, [key(KeyCode::Char('W')), key(KeyCode::Enter)]);
    let later = s.now.checked_add(SignedDuration::from_secs(301)).unwrap();
    run(&mut s, [Msg::Tick(later)]);
    assert!(!s.write.is_on(s.now));
    assert!(s.dialog.is_none());
    let effects = run(&mut s, [key(KeyCode::Enter)]);
    assert!(effects.is_empty() && s.dialog.is_none());
}

#[test]
fn write_mode_drops_after_the_action_but_a_409_asks_again() {
    let mut s = read_only();
    let effects = run(
        &mut s,
        [
            key(KeyCode::Char('W')),
            key(KeyCode::Enter),
            key(KeyCode::Right),
            key(KeyCode::Enter),
        ],
    );
    assert_eq!(acks(&effects), 1);
    feed(
        &mut s,
        [SourceEvent::Action(ActionOutcome::Failed {
            status: Some(409),
            message: "409 Conflict".into(),
        })],
    );
    assert!(
        s.write.is_on(s.now),
        "a 409 applied nothing: still in write mode"
    );
    // Not re-opened on the object the refused body was built on: only once the change is seen.
    assert!(s.dialog.is_none());
    let mut moved = fixtures::cluster();
    moved.resource_version = "184499".into();
    feed(&mut s, [SourceEvent::Cluster(Some(moved))]);
    match &s.dialog {
        Some(Dialog::ConfirmRetry { target, focus }) => {
            assert_eq!(*focus, Button::Cancel);
            assert!(
                target
                    .patch_body()
                    .contains(r#""resourceVersion":"184499""#)
            );
        }
        other => panic!("409 must ask again on the fresh object, got {other:?}"),
    }
    let why = s.decision.reopened.clone().unwrap();
    assert!(why.contains("409") && why.contains("184499"), "{why}");
    let effects = run(&mut s, [key(KeyCode::Right), key(KeyCode::Enter)]);
    assert_eq!(acks(&effects), 1);
    feed(
        &mut s,
        [SourceEvent::Action(ActionOutcome::Acknowledged {
            nonce: NONCE.into(),
            resource_version: "2".into(),
        })],
    );
    assert!(!s.write.is_on(s.now), "back to read-only after the action");
}

#[test]
fn the_revert_follow_up_is_guarded_and_confirmed_on_its_own() {
    let mut s = read_only();
    s.write.enter(s.now);
    // While break glass is active the revert is not offered (it would delete Green).
    run(&mut s, [key(KeyCode::Char('v'))]);
    assert!(s.dialog.is_none());
    assert!(
        s.decision
            .notice
            .as_deref()
            .unwrap()
            .contains("break glass is active")
    );
    let mut c = fixtures::cluster();
    if let Some(b) = c.break_glass.as_mut() {
        b.active = false;
    }
    if let Some(g) = c.blue_green.as_mut() {
        g.phase = Some("Idle".into());
    }
    feed(&mut s, [SourceEvent::Cluster(Some(c))]);
    // "n" cancels: nothing sent.
    let effects = run(&mut s, [key(KeyCode::Char('v')), key(KeyCode::Char('n'))]);
    assert!(effects.is_empty() && s.dialog.is_none());
    run(&mut s, [key(KeyCode::Char('v'))]);
    match &s.dialog {
        Some(Dialog::ConfirmRevert { target, focus }) => {
            assert_eq!(*focus, Button::Cancel);
            assert_eq!(
                target.patch.body,
                format!(
                    r#"{{"metadata":{{"resourceVersion":"{}"}},"spec":{{"version":"2.4.3"}}}}"#,
                    fixtures::RV
                )
            );
        }
        other => panic!("expected the revert dialog, got {other:?}"),
    }
    let effects = run(&mut s, [key(KeyCode::Right), key(KeyCode::Enter)]);
    let [Effect::Patch(sent)] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(
        sent.write,
        ClusterWrite::Revert {
            from_version: "2.4.4".into()
        }
    );
    // The body sent is the body the dialog showed.
    assert_eq!(
        sent.body,
        format!(
            r#"{{"metadata":{{"resourceVersion":"{}"}},"spec":{{"version":"2.4.3"}}}}"#,
            fixtures::RV
        )
    );
}

#[test]
fn a_denied_patch_disables_retry_with_who_and_what() {
    let mut s = read_only();
    feed(
        &mut s,
        [SourceEvent::Rbac(Preflight {
            identity: "viewer".into(),
            denied: vec![Denied {
                path: PathKind::Retry,
                permission: "patch openbaoclusters.openbao.org in security".into(),
            }],
        })],
    );
    run(&mut s, [key(KeyCode::Char('W')), key(KeyCode::Enter)]);
    assert!(s.dialog.is_none());
    let notice = s.decision.notice.clone().unwrap();
    assert!(
        notice.contains("viewer may not patch openbaoclusters"),
        "{notice}"
    );
    assert!(!s.diagnosis().verdict(PathKind::Retry).unwrap().available());
}

#[test]
fn the_journal_opens_with_the_cluster_and_records_decision_before_the_request() {
    let mut opts = fixtures::opts(true);
    opts.journal_dir = Some("/state/breakglass".into());
    let mut s = State::new(opts);
    let effects = update(
        &mut s,
        Msg::Source(SourceEvent::Cluster(Some(fixtures::cluster()))),
    );
    let Some(Effect::Journal { path, entries }) = effects.first() else {
        panic!("expected a journal effect, got {effects:?}");
    };
    assert!(path.ends_with("security_prod-cluster_269c4f7ba494030d.jsonl"));
    assert!(
        matches!(&entries[0].event, Event::Session { tool, os_user, .. } if tool == "console" && os_user == "alice")
    );
    assert!(entries.iter().any(
        |e| matches!(&e.event, Event::Observed { what } if what.contains("break glass active"))
    ));
    feed(&mut s, [SourceEvent::Pods(fixtures::pods())]);
    s.focus = Focus::Decision;
    let effects = run(
        &mut s,
        [
            key(KeyCode::Enter),
            key(KeyCode::Right),
            key(KeyCode::Enter),
        ],
    );
    assert!(matches!(
        &effects[..],
        [Effect::Journal { entries, .. }, Effect::Patch(_)]
            if matches!(&entries[0].event, Event::Decision { path, .. } if path == "Retry")
    ));
}

#[test]
fn the_restore_wizard_opens_on_facts_needs_write_mode_and_esc_sends_nothing() {
    use crate::domain::restore::{Facts, Operator};
    let mut s = read_only();
    s.decision.selected = 2;
    assert_eq!(
        run(&mut s, [key(KeyCode::Enter)]),
        [Effect::LoadRestoreFacts]
    );
    let facts = Facts {
        namespace: "security".into(),
        cluster: "prod-cluster".into(),
        backup: None,
        operator: Some(Operator {
            namespace: "openbao-operator-system".into(),
            name: "openbao-operator-controller".into(),
            replicas: 1,
        }),
        pvcs: vec!["data-prod-cluster-x-0".into()],
        line: crate::domain::generation::Line::V01,
        restore_role: None,
        blue_revision: None,
    };
    feed(
        &mut s,
        [SourceEvent::RestoreFacts {
            facts,
            key: Some(("k.snap".into(), "status.backup.lastBackupName".into())),
        }],
    );
    assert!(s.wizard.is_some());
    // Step 1 moves on without writing; step 2 (scale down) needs write mode.
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(s.decision.notice.as_deref().unwrap().contains("read-only"));
    let effects = run(&mut s, [key(KeyCode::Char('W')), key(KeyCode::Enter)]);
    assert!(matches!(
        effects.last(),
        Some(Effect::WizardSend(crate::domain::restore::Request::Scale {
            replicas: 0,
            ..
        }))
    ));
    feed(&mut s, [SourceEvent::Action(ActionOutcome::WizardStepDone)]);
    // Typing into the irreversible step, then Esc: closed, nothing sent.
    let effects = run(
        &mut s,
        [
            key(KeyCode::Char('p')),
            key(KeyCode::Esc),
            key(KeyCode::Enter),
        ],
    );
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::WizardSend(_))),
        "{effects:?}"
    );
    assert!(s.wizard.is_none());
}

#[test]
fn a_stale_cluster_stops_wizard_steps_too() {
    let mut s = read_only();
    s.write.enter(s.now);
    feed(
        &mut s,
        [SourceEvent::Problem {
            source: crate::app::msg::SourceName::Cluster,
            message: "watch failed".into(),
        }],
    );
    assert!(
        super::writes::session_guard(&s, PathKind::Restore)
            .unwrap_err()
            .to_string()
            .contains("stale")
    );
}

#[test]
fn fix_forward_is_explained_first_then_confirmed_as_the_acknowledgement() {
    let mut s = read_only();
    s.write.enter(s.now);
    s.decision.selected = 1;
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert_eq!(
        s.dialog,
        Some(Dialog::Explain {
            path: PathKind::FixForward
        })
    );
    assert!(run(&mut s, [key(KeyCode::Enter)]).is_empty());
    assert!(matches!(
        s.dialog,
        Some(Dialog::ConfirmRetry {
            focus: Button::Cancel,
            ..
        })
    ));
    let effects = run(&mut s, [key(KeyCode::Right), key(KeyCode::Enter)]);
    assert_eq!(acks(&effects), 1);
}
