//! Pure `update` tests: message sequences in, state and effects out.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::fixtures::{self, JOB, NONCE, RV, feed, incident_state};
use super::*;
use crate::app::msg::{ActionOutcome, SourceName};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn run(state: &mut State, msgs: impl IntoIterator<Item = Msg>) -> Vec<Effect> {
    msgs.into_iter().flat_map(|m| update(state, m)).collect()
}

fn at_decision(color: bool) -> State {
    let mut s = incident_state(color);
    s.focus = Focus::Decision;
    s
}

fn ack() -> Effect {
    let patch = incident_state(true).retry_target().unwrap().patch;
    assert_eq!(
        patch.write,
        crate::domain::write::ClusterWrite::Acknowledge {
            nonce: NONCE.into()
        }
    );
    Effect::Patch(patch)
}

#[test]
fn enter_on_retry_opens_the_dialog_with_cancel_focused_and_no_effect() {
    let mut s = at_decision(true);
    assert_eq!(run(&mut s, [key(KeyCode::Enter)]), []);
    match &s.dialog {
        Some(Dialog::ConfirmRetry { target, focus }) => {
            assert_eq!(*focus, Button::Cancel);
            assert_eq!(target.nonce, NONCE);
            assert_eq!(target.resource_version, RV);
            assert_eq!(
                target.patch_body(),
                format!(
                    r#"{{"metadata":{{"resourceVersion":"{RV}"}},"spec":{{"breakGlassAck":"{NONCE}"}}}}"#
                )
            );
        }
        other => panic!("expected the confirm dialog, got {other:?}"),
    }
}

#[test]
fn no_really_cancels() {
    let cancels: [Vec<Msg>; 6] = [
        vec![key(KeyCode::Esc)],
        vec![ch('n')],
        vec![ch('q')],
        vec![key(KeyCode::Enter)],
        // Moving to Acknowledge and back, then Enter, still cancels.
        vec![key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Enter)],
        vec![key(KeyCode::Right), key(KeyCode::Esc)],
    ];
    for seq in cancels {
        let mut s = at_decision(true);
        run(&mut s, [key(KeyCode::Enter)]);
        assert!(s.dialog.is_some());
        let effects = run(&mut s, seq.clone());
        assert_eq!(effects, [], "{seq:?}");
        assert!(s.dialog.is_none(), "{seq:?} left the dialog open");
        assert_eq!(s.decision.in_flight, None);
    }
}

#[test]
fn acknowledge_gives_exactly_one_effect_with_the_body_shown() {
    for mv in [
        KeyCode::Tab,
        KeyCode::Right,
        KeyCode::Left,
        KeyCode::BackTab,
    ] {
        let mut s = at_decision(true);
        run(&mut s, [key(KeyCode::Enter)]);
        let effects = run(&mut s, [key(mv), key(KeyCode::Enter)]);
        assert_eq!(effects, [ack()], "{mv:?}");
        assert!(s.dialog.is_none());
        assert_eq!(s.decision.in_flight.as_deref(), Some(NONCE));
        // A second Enter cannot send it again while it is in flight.
        assert_eq!(
            run(
                &mut s,
                [key(KeyCode::Enter), key(KeyCode::Tab), key(KeyCode::Enter)]
            ),
            []
        );
    }
}

#[test]
fn a_changed_object_under_the_dialog_reopens_it_on_the_fresh_body_and_sends_nothing() {
    let mut s = at_decision(true);
    run(&mut s, [key(KeyCode::Enter)]);
    // A status update bumps the resourceVersion while the dialog is open: the body shown
    // is no longer the one the server would accept. Nothing is sent (never a re-read body
    // the user did not see); the dialog re-opens on the fresh object and says why.
    let mut c = fixtures::cluster();
    c.resource_version = "184470".into();
    feed(&mut s, [crate::app::msg::SourceEvent::Cluster(Some(c))]);
    let effects = run(&mut s, [key(KeyCode::Tab), key(KeyCode::Enter)]);
    assert_eq!(effects, []);
    assert_eq!(s.decision.in_flight, None);
    let Some(Dialog::ConfirmRetry { target, focus }) = s.dialog.clone() else {
        panic!("expected the dialog again, got {:?}", s.dialog);
    };
    assert_eq!(focus, Button::Cancel);
    assert_eq!(target.resource_version, "184470");
    let why = s.decision.reopened.clone().unwrap();
    assert!(why.contains("184467 → 184470"), "{why}");
    // Confirmed again: exactly the new body shown.
    let effects = run(&mut s, [key(KeyCode::Tab), key(KeyCode::Enter)]);
    assert_eq!(effects, [Effect::Patch(target.patch)]);
    assert_eq!(s.decision.reopened, None);
}

#[test]
fn the_outcome_is_shown_and_releases_the_in_flight_guard() {
    let mut s = at_decision(true);
    run(
        &mut s,
        [key(KeyCode::Enter), key(KeyCode::Tab), key(KeyCode::Enter)],
    );
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Action(
            ActionOutcome::Acknowledged {
                nonce: NONCE.into(),
                resource_version: "184480".into(),
            },
        )],
    );
    assert_eq!(
        s.decision.status_line().as_deref(),
        Some("acknowledged; waiting for the operator's new Job…")
    );
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Action(
            ActionOutcome::Failed {
                status: Some(409),
                message: "Conflict".into(),
            },
        )],
    );
    assert_eq!(
        s.decision.status_line().as_deref(),
        Some("failed (409): Conflict")
    );
    assert_eq!(s.decision.in_flight, None);
}

#[test]
fn a_new_nonce_under_the_dialog_sends_nothing() {
    let mut s = at_decision(true);
    run(&mut s, [key(KeyCode::Enter), key(KeyCode::Tab)]);
    let mut c = fixtures::cluster();
    if let Some(bg) = c.break_glass.as_mut() {
        bg.nonce = Some("00000000000000000000000000000000".into());
    }
    feed(&mut s, [crate::app::msg::SourceEvent::Cluster(Some(c))]);
    assert_eq!(run(&mut s, [key(KeyCode::Enter)]), []);
    assert!(
        s.decision
            .notice
            .as_deref()
            .unwrap_or("")
            .contains("nonce changed")
    );
}

fn retry_reason(s: &State) -> String {
    s.retry_target()
        .map_or_else(|e| e.to_string(), |_| String::new())
}

#[test]
fn retry_is_disabled_when_inactive_stale_or_without_nonce() {
    let mut s = at_decision(true);
    assert!(s.retry_target().is_ok());

    let mut inactive = fixtures::cluster();
    if let Some(bg) = inactive.break_glass.as_mut() {
        bg.active = false;
    }
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Cluster(Some(inactive))],
    );
    assert_eq!(retry_reason(&s), "break glass is not active");

    let mut no_nonce = fixtures::cluster();
    if let Some(bg) = no_nonce.break_glass.as_mut() {
        bg.nonce = None;
    }
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Cluster(Some(no_nonce))],
    );
    assert_eq!(retry_reason(&s), "break glass has no nonce");

    feed(
        &mut s,
        [
            crate::app::msg::SourceEvent::Cluster(Some(fixtures::cluster())),
            crate::app::msg::SourceEvent::Problem {
                source: SourceName::Cluster,
                message: "API unreachable".into(),
            },
        ],
    );
    run(&mut s, [Msg::Tick(fixtures::ts("2026-11-23T10:07:42Z"))]);
    assert_eq!(retry_reason(&s), "cluster data is stale (42 s old)");
    // Enter on a disabled Retry opens nothing and sends nothing; it says why.
    assert_eq!(
        run(
            &mut s,
            [key(KeyCode::Enter), key(KeyCode::Tab), key(KeyCode::Enter)]
        ),
        []
    );
    assert!(s.dialog.is_none());
    assert!(s.decision.notice.as_deref().unwrap_or("").contains("stale"));

    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Recovered {
            source: SourceName::Cluster,
        }],
    );
    assert!(s.retry_target().is_ok());

    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Problem {
            source: SourceName::Pods,
            message: "pods is forbidden".into(),
        }],
    );
    assert_eq!(retry_reason(&s), "pods data is stale (45 s old)");
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Pods(fixtures::pods())],
    );
    assert!(s.retry_target().is_ok());

    feed(
        &mut s,
        [crate::app::msg::SourceEvent::ClusterUnparseable(
            "bad steps".into(),
        )],
    );
    assert_eq!(retry_reason(&s), "the latest cluster object does not parse");

    feed(&mut s, [crate::app::msg::SourceEvent::Cluster(None)]);
    assert_eq!(s.presence, Presence::Missing);
    assert_eq!(retry_reason(&s), "the cluster was not found");
}

#[test]
fn stale_data_during_the_dialog_sends_nothing() {
    let mut s = at_decision(true);
    run(&mut s, [key(KeyCode::Enter), key(KeyCode::Tab)]);
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Problem {
            source: SourceName::Cluster,
            message: "connection refused".into(),
        }],
    );
    assert_eq!(run(&mut s, [key(KeyCode::Enter)]), []);
}

#[test]
fn fix_forward_only_explains_and_restore_only_reads() {
    let mut s = at_decision(true);
    let msgs = vec![
        ch('j'),
        key(KeyCode::Enter),
        key(KeyCode::Tab),
        key(KeyCode::Enter),
    ];
    assert_eq!(run(&mut s, msgs), []);
    let mut s = at_decision(true);
    run(&mut s, [key(KeyCode::Down)]);
    run(&mut s, [key(KeyCode::Enter)]);
    assert!(matches!(s.dialog, Some(Dialog::Explain { .. })));
    // Restore opens the wizard, which first only reads (the facts).
    let mut s = at_decision(true);
    run(&mut s, [ch('j'), ch('j')]);
    assert_eq!(
        run(&mut s, [key(KeyCode::Enter)]),
        [Effect::LoadRestoreFacts]
    );
}

#[test]
fn quitting_and_q_in_a_dialog() {
    let mut s = at_decision(true);
    assert_eq!(run(&mut s, [ch('q')]), [Effect::Quit]);
    run(&mut s, [key(KeyCode::Enter)]);
    assert_eq!(run(&mut s, [ch('q')]), []);
    assert!(s.dialog.is_none());
    run(&mut s, [key(KeyCode::Enter)]);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(run(&mut s, [ctrl_c]), [Effect::Quit]);
}

#[test]
fn help_toggles_and_swallows_pane_keys() {
    let mut s = incident_state(true);
    run(&mut s, [ch('?')]);
    assert!(s.help);
    assert_eq!(run(&mut s, [key(KeyCode::Tab)]), []);
    assert_eq!(s.focus, Focus::Health);
    run(&mut s, [key(KeyCode::Esc)]);
    assert!(!s.help);
}

#[test]
fn focus_cycles_both_ways() {
    let mut s = incident_state(true);
    run(&mut s, [key(KeyCode::Tab)]);
    assert_eq!(s.focus, Focus::Raft);
    run(&mut s, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    assert_eq!(s.focus, Focus::Decision);
}

fn logs_state(lines: usize) -> State {
    let mut s = State::new(fixtures::opts(true));
    s.focus = Focus::Logs;
    run(
        &mut s,
        [Msg::Resize {
            width: 160,
            height: 48,
        }],
    );
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::LogLines {
            job: JOB.into(),
            lines: (0..lines).map(|i| format!("line {i}")).collect(),
        }],
    );
    s
}

#[test]
fn pausing_keeps_the_position_and_resuming_jumps_to_the_tail() {
    let mut s = logs_state(100);
    let rows = crate::ui::layout::visible_log_rows(s.size, s.focus) as u64;
    assert!(s.logs.follow);
    run(&mut s, [ch('f')]);
    assert!(!s.logs.follow);
    assert_eq!(s.logs.top, 100 - rows, "paused where the tail was drawn");
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::LogLines {
            job: JOB.into(),
            lines: vec!["new".into(); 50],
        }],
    );
    assert_eq!(
        s.logs.top,
        100 - rows,
        "new lines do not move a paused view"
    );
    run(&mut s, [ch('k'), ch('k'), ch('j')]);
    assert_eq!(s.logs.top, 100 - rows - 1);
    run(&mut s, [ch('g')]);
    assert_eq!(s.logs.top, 0);
    run(&mut s, [key(KeyCode::PageDown)]);
    assert_eq!(s.logs.top, rows);
    run(&mut s, [ch('f')]);
    assert!(s.logs.follow);
    // Scrolling up while following pauses at the tail first.
    run(&mut s, [ch('k')]);
    assert!(!s.logs.follow);
    assert_eq!(s.logs.top, 150 - rows - 1);
    run(&mut s, [ch('G')]);
    assert!(s.logs.follow);
}

#[test]
fn a_paused_view_clamps_when_its_lines_are_dropped() {
    let mut s = State::new(fixtures::opts(true));
    s.logs.store = crate::logs::LineStore::new(10);
    s.focus = Focus::Logs;
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::LogLines {
            job: JOB.into(),
            lines: (0..25).map(|i| format!("l{i}")).collect(),
        }],
    );
    assert_eq!(s.logs.store.dropped(), 15);
    run(&mut s, [ch('g')]);
    assert_eq!(s.logs.top, 15);
}

#[test]
fn attempts_are_marked_in_the_log() {
    let mut s = State::new(fixtures::opts(true));
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::LogAttempt {
            job: "upgrade-prod-cluster-bluegreen-repair-consensus-0a1b2c3d4e".into(),
            run_id: Some("rollback-retry-1".into()),
        }],
    );
    let first = s.logs.store.range(0, 1).next().map(|(_, l)| l.text.clone());
    assert_eq!(
        first.as_deref(),
        Some(
            "── attempt 1: rollback-retry-1 (job upgrade-prod-cluster-bluegreen-repair-consensus-0a1b2c3d4e) ──"
        )
    );
    assert!(matches!(
        s.logs.store.range(0, 1).next().map(|(_, l)| l.kind),
        Some(crate::logs::LineKind::Marker)
    ));
}

#[test]
fn cleanup_attempts_get_their_own_marker() {
    let mut s = State::new(fixtures::opts(true));
    let job = "upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368";
    feed(
        &mut s,
        [
            crate::app::msg::SourceEvent::Jobs(vec![crate::domain::JobView {
                name: job.into(),
                action: Some("bluegreen-remove-green-peers".into()),
                run_id: Some("bg-v2-x/rollback-retry-1".into()),
                state: crate::domain::JobState::Failed,
                created: None,
            }]),
            crate::app::msg::SourceEvent::LogAttempt {
                job: job.into(),
                run_id: Some("bg-v2-x/rollback-retry-1".into()),
            },
        ],
    );
    let first = s.logs.store.range(0, 1).next().map(|(_, l)| l.text.clone());
    assert_eq!(
        first.as_deref(),
        Some(format!("── cleanup attempt 1: bg-v2-x/rollback-retry-1 (job {job}) ──").as_str())
    );
}

#[test]
fn hostile_log_lines_are_sanitised_through_update() {
    let mut s = State::new(fixtures::opts(true));
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::LogLines {
            job: JOB.into(),
            lines: vec![
                "a\x1b]52;c;cHduZWQ=\x07b".into(),
                "c\x1b[2Jd".into(),
                "e\rf".into(),
            ],
        }],
    );
    let texts: Vec<_> = s
        .logs
        .store
        .range(0, 3)
        .map(|(_, l)| l.text.to_string())
        .collect();
    assert_eq!(texts, ["a␛b", "c␛d", "e^Mf"]);
}

#[test]
fn ages_and_problems_follow_the_sources() {
    let mut s = incident_state(true);
    assert_eq!(s.pane_age(Focus::Health), Some(3));
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Problem {
            source: SourceName::Pods,
            message: "API unreachable".into(),
        }],
    );
    assert!(s.pane_stale(Focus::Health));
    assert!(!s.pane_stale(Focus::Raft));
    // New data clears the problem.
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::Pods(fixtures::pods())],
    );
    assert!(!s.pane_stale(Focus::Health));
    assert_eq!(s.age_secs(SourceName::Pods), Some(0));
    assert_eq!(State::new(fixtures::opts(true)).pane_age(Focus::Raft), None);
}

#[test]
fn jobs_keep_only_repair_jobs() {
    let mut s = State::new(fixtures::opts(true));
    let mut other = fixtures::jobs();
    other[0].action = Some("bluegreen-remove-blue-peers".into());
    let mut all = fixtures::jobs();
    all.extend(other);
    feed(&mut s, [crate::app::msg::SourceEvent::Jobs(all)]);
    assert_eq!(s.incident().jobs.len(), 1);
}

#[test]
fn page_keys_scroll_text_panes_and_decision_details() {
    let mut s = at_decision(true);
    run(&mut s, [key(KeyCode::PageDown), key(KeyCode::PageDown)]);
    assert_eq!(s.decision.scroll, 16);
    assert_eq!(
        s.decision.selected, 0,
        "pages do not change the selected path"
    );
    run(&mut s, [ch('j')]);
    assert_eq!((s.decision.selected, s.decision.scroll), (1, 0));
    s.focus = Focus::Health;
    run(&mut s, [key(KeyCode::PageDown), ch('j'), ch('k'), ch('k')]);
    assert_eq!(s.health_scroll, 7);
    run(&mut s, [key(KeyCode::PageUp), key(KeyCode::PageUp)]);
    assert_eq!(s.health_scroll, 0);
}

#[test]
fn e_and_shift_e_jump_between_error_lines() {
    let mut s = logs_state(0);
    let lines: Vec<String> = (0..200)
        .map(|i| {
            if i == 20 || i == 120 {
                format!("upgrade-executor error: {i}")
            } else {
                format!("line {i}")
            }
        })
        .collect();
    feed(
        &mut s,
        [crate::app::msg::SourceEvent::LogLines {
            job: JOB.into(),
            lines,
        }],
    );
    run(&mut s, [ch('E')]);
    assert!(!s.logs.follow);
    assert_eq!(s.logs.top, 120);
    run(&mut s, [ch('E')]);
    assert_eq!(s.logs.top, 20);
    run(&mut s, [ch('E')]);
    assert_eq!(s.logs.top, 20, "no earlier error: stays");
    run(&mut s, [ch('e')]);
    assert_eq!(s.logs.top, 120);
}

#[test]
fn state_can_move_to_a_render_task() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<State>();
    send_sync::<Msg>();
    send_sync::<Effect>();
}
