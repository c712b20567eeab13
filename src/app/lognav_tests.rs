use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::fixtures::{self, JOB, feed};
use super::super::{Focus, Msg, State, update};
use super::*;
use crate::app::msg::SourceEvent;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        update(s, key(KeyCode::Char(c)));
    }
}

fn lines(s: &mut State, lines: Vec<String>) {
    feed(
        s,
        [SourceEvent::LogLines {
            job: JOB.into(),
            lines,
        }],
    );
}

/// 200 lines; every 10th says "leader", every 50th is a WARN entry.
fn state() -> State {
    let mut s = State::new(fixtures::opts(true));
    s.focus = Focus::Logs;
    update(
        &mut s,
        Msg::Resize {
            width: 160,
            height: 48,
        },
    );
    lines(
        &mut s,
        (0..200)
            .map(|i| match i {
                i if i % 50 == 25 => format!("2026-11-23T10:00:00.000Z\tWARN\twarn {i}\t{{}}"),
                i if i % 10 == 0 => format!("line {i} no Leader found"),
                i => format!("line {i}"),
            })
            .collect(),
    );
    s
}

#[test]
fn search_counts_k_of_m_and_n_and_shift_n_walk_the_hits() {
    let mut s = state();
    update(&mut s, key(KeyCode::Char('/')));
    assert_eq!(
        super::super::contexts(&s),
        [
            super::super::keymap::Context::LogInput,
            super::super::keymap::Context::Always
        ]
    );
    typed(&mut s, "leader");
    // While typing, `n` and `q` are text, not commands.
    assert!(s.logs.nav.search.is_none());
    update(&mut s, key(KeyCode::Enter));
    // Following: the newest hit first.
    assert_eq!(s.logs.nav.hit_count(), Some((20, 20)));
    assert!(!s.logs.follow, "a jump pauses");
    assert_eq!(s.logs.top, 190);
    update(&mut s, key(KeyCode::Char('N')));
    assert_eq!((s.logs.top, s.logs.nav.hit_count()), (180, Some((19, 20))));
    update(&mut s, key(KeyCode::Char('n')));
    update(&mut s, key(KeyCode::Char('n')));
    assert_eq!(s.logs.top, 190, "no hit after the last: stays");
    // Paused at the top, a new search goes forward from there.
    update(&mut s, key(KeyCode::Char('g')));
    update(&mut s, key(KeyCode::Char('/')));
    typed(&mut s, "Leader");
    update(&mut s, key(KeyCode::Enter));
    assert_eq!((s.logs.top, s.logs.nav.hit_count()), (0, Some((1, 20))));
    // New lines are counted as they arrive; the search keeps every line visible.
    lines(&mut s, vec!["late Leader".into()]);
    assert_eq!(s.logs.nav.hit_count(), Some((1, 21)));
    assert_eq!(s.logs.rows_from(0, 3).len(), 3);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.logs.nav.hit_count(), None);
}

#[test]
fn the_filter_hides_lines_and_scrolls_over_what_is_shown() {
    let mut s = state();
    update(&mut s, key(KeyCode::Char('&')));
    typed(&mut s, "leader");
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.logs.nav.shown_count(), Some(20));
    let drawn: Vec<u64> = s.logs.rows_from(0, 100).iter().map(|(q, _)| *q).collect();
    assert_eq!(drawn, (0..200).step_by(10).collect::<Vec<u64>>());
    // Following shows the filtered tail; one step up moves one shown line.
    let rows = crate::ui::layout::visible_log_rows(s.size, s.focus);
    let tail = s.logs.tail_top(rows);
    assert!(drawn.contains(&tail));
    assert_eq!(s.logs.step(100, -1), 90);
    assert_eq!(s.logs.step(100, 1), 110);
    assert_eq!(s.logs.step(190, 5), 190);
    // Backspace and Esc while typing; an empty filter clears.
    update(&mut s, key(KeyCode::Char('&')));
    typed(&mut s, "x");
    update(&mut s, key(KeyCode::Backspace));
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.logs.nav.shown_count(), None);
}

#[test]
fn w_and_shift_w_jump_between_warnings() {
    let mut s = state();
    update(&mut s, key(KeyCode::Char('W')));
    assert_eq!((s.logs.follow, s.logs.top), (false, 175));
    update(&mut s, key(KeyCode::Char('W')));
    assert_eq!(s.logs.top, 125);
    update(&mut s, key(KeyCode::Char('w')));
    assert_eq!(s.logs.top, 175);
}

#[test]
fn toggles_and_the_hidden_timestamp() {
    let mut s = state();
    update(&mut s, key(KeyCode::Char('t')));
    update(&mut s, key(KeyCode::Char('z')));
    assert!(s.logs.nav.hide_timestamps && s.logs.nav.wrap);
    let text = "2026-11-23T10:00:00.000Z    WARN    warn 25";
    assert_eq!(&text[hidden_prefix(&s.logs.nav, text)..], "WARN    warn 25");
    assert_eq!(hidden_prefix(&s.logs.nav, "line 1"), 0);
}

#[test]
fn each_attempt_says_where_its_log_is_saved() {
    let mut s = State::new(fixtures::opts(true));
    s.logs.saved_to = Some(Ok(
        "/state/breakglass/security-prod-cluster-2026-11-23".into()
    ));
    feed(
        &mut s,
        [SourceEvent::LogAttempt {
            job: JOB.into(),
            run_id: Some("rollback".into()),
        }],
    );
    let texts: Vec<String> = s
        .logs
        .store
        .range(0, 5)
        .map(|(_, l)| l.text.to_string())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains(&format!(
            "/state/breakglass/security-prod-cluster-2026-11-23/{JOB}.log"
        ))),
        "{texts:?}"
    );
    s.logs.saved_to = Some(Err("logs NOT saved: read-only file system".into()));
    feed(
        &mut s,
        [SourceEvent::LogAttempt {
            job: JOB.into(),
            run_id: Some("rollback-retry-1".into()),
        }],
    );
    let last = s
        .logs
        .store
        .range(0, 10)
        .last()
        .map(|(_, l)| l.text.to_string());
    assert!(last.unwrap().contains("NOT saved"));
}

#[test]
fn evidence_not_saved_stays_said_while_lines_keep_coming() {
    let mut s = state();
    s.logs.saved_to = Some(Ok("/state/breakglass/x".into()));
    let why = "log evidence NOT saved to /x/j.log: No space left on device (os error 28)";
    feed(&mut s, [SourceEvent::EvidenceNotSaved(why.into())]);
    lines(&mut s, (0..50).map(|i| format!("after {i}")).collect());
    assert_eq!(s.logs.saved_to, Some(Err(why.into())));
    assert!(s.source(crate::sources::SourceName::Logs).problem.is_none());
    let texts: Vec<String> = s
        .logs
        .store
        .range(0, 300)
        .map(|(_, l)| l.text.to_string())
        .collect();
    let at = texts.iter().position(|t| t.contains("NOT saved")).unwrap();
    assert_eq!(
        texts[at + 1],
        "after 0",
        "the marker is where saving stopped"
    );
}

#[test]
fn a_gap_reported_by_the_follower_is_a_visible_marker() {
    let mut s = State::new(fixtures::opts(true));
    feed(
        &mut s,
        [SourceEvent::LogGap {
            job: JOB.into(),
            last_seen: "2026-11-23T10:00:01.1Z".parse().unwrap(),
            first_after: "2026-11-23T10:00:03Z".parse().unwrap(),
        }],
    );
    let (_, l) = s.logs.store.range(0, 1).next().unwrap();
    assert!(matches!(l.kind, crate::logs::LineKind::Marker));
    assert!(
        l.text.contains("GAP") && l.text.contains("10:00:01.1Z") && l.text.contains("10:00:03Z"),
        "{}",
        l.text
    );
}

#[test]
fn a_folded_stack_trace_is_one_row_to_scroll_and_to_pause_on() {
    let mut s = State::new(fixtures::opts(true));
    s.focus = Focus::Logs;
    update(
        &mut s,
        Msg::Resize {
            width: 160,
            height: 48,
        },
    );
    // 0: an entry, 1..=10: its frames, 11..: plain lines filling more than the pane.
    let mut all = vec!["2026-11-23T19:30:01.123Z\tERROR\tFailed\t{}".to_string()];
    all.extend(crate::sim::executor_log::stack_frames(
        "bluegreen-repair-consensus",
    ));
    all.extend((0..100).map(|i| format!("line {i}")));
    lines(&mut s, all);
    assert_eq!(s.logs.step(0, 1), 1, "onto the fold");
    assert_eq!(s.logs.step(1, 1), 11, "past the whole fold in one step");
    assert_eq!(s.logs.step(11, -1), 1, "back onto the fold");
    assert_eq!(s.logs.step(11, -2), 0);
    // Following, the tail counts the fold as one row; pausing keeps exactly that view.
    let rows = crate::ui::layout::visible_log_rows(s.size, s.focus);
    let end = s.logs.store.end_seq();
    assert_eq!(s.logs.tail_top(rows), end - u64::from(rows));
    s.logs.store = crate::logs::LineStore::new(1_000);
    let mut short = vec!["2026-11-23T19:30:01.123Z\tERROR\tFailed\t{}".to_string()];
    short.extend(crate::sim::executor_log::stack_frames(
        "bluegreen-repair-consensus",
    ));
    short.extend((0..usize::from(rows) - 2).map(|i| format!("line {i}")));
    lines(&mut s, short);
    assert_eq!(
        s.logs.tail_top(rows),
        0,
        "entry, fold and the rest fill the pane"
    );
    update(&mut s, key(KeyCode::Char('f')));
    assert!(!s.logs.follow);
    assert_eq!(s.logs.first_visible(rows), 0);
    // Unfolded (`x`), every frame is a row again.
    update(&mut s, key(KeyCode::Char('x')));
    assert_eq!(s.logs.tail_top(rows), 9);
    assert_eq!(s.logs.step(0, 1), 1);
    assert_eq!(s.logs.step(1, 1), 2);
}
