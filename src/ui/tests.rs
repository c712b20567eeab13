//! Rendered-buffer tests: whole-frame `insta` snapshots at 80x24 and 160x48, explicit cell
//! style asserts where colour carries meaning, and a resize sweep that must never panic.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::app::fixtures::{self, JOB, feed, incident_state};
use crate::app::msg::{SourceEvent, SourceName};
use crate::app::{Focus, Msg, State, update};

fn draw(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    super::test_screen::draw(state, w, h)
}

fn snap(name: &str, state: &State) {
    for (w, h) in [(80, 24), (160, 48)] {
        let term = draw(state, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), term.backend());
    }
}

fn key(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn text_of(buf: &Buffer) -> String {
    super::test_screen::buffer_rows(buf).join("\n")
}

fn dialog_state() -> State {
    let mut s = incident_state(true);
    s.focus = Focus::Decision;
    key(&mut s, KeyCode::Enter);
    s
}

fn unreachable_state() -> State {
    let mut s = incident_state(true);
    feed(
        &mut s,
        [SourceEvent::Problem {
            source: SourceName::Cluster,
            message: "API unreachable".into(),
        }],
    );
    update(&mut s, Msg::Tick(fixtures::ts("2026-11-23T10:07:39Z")));
    s
}

#[test]
fn snapshot_break_glass_incident() {
    snap("incident", &incident_state(true));
}

#[test]
fn snapshot_each_pane_focused_at_80x24() {
    for focus in [Focus::Raft, Focus::Logs, Focus::Decision] {
        let mut s = incident_state(true);
        s.focus = focus;
        let term = draw(&s, 80, 24);
        insta::assert_snapshot!(format!("focus_{}_80x24", focus.title()), term.backend());
    }
}

#[test]
fn snapshot_dialog_open() {
    snap("dialog", &dialog_state());
}

#[test]
fn snapshot_dialog_with_crashlooping_green() {
    let mut s = incident_state(true);
    feed(&mut s, [SourceEvent::Pods(fixtures::crashlooping_green())]);
    s.focus = Focus::Decision;
    key(&mut s, KeyCode::Enter);
    snap("dialog_crashloop", &s);
}

#[test]
fn snapshot_help_overlay() {
    let mut s = incident_state(true);
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)),
    );
    snap("help", &s);
}

#[test]
fn snapshot_cluster_not_found() {
    let mut s = State::new(fixtures::opts(true));
    feed(&mut s, [SourceEvent::Cluster(None)]);
    s.focus = Focus::Decision;
    snap("not_found", &s);
}

#[test]
fn snapshot_api_unreachable_banner() {
    let s = unreachable_state();
    snap("api_unreachable", &s);
    let text = text_of(draw(&s, 80, 24).backend().buffer());
    assert!(
        text.contains("[STALE] cluster: API unreachable — retrying; data 42 s old"),
        "{text}"
    );
}

#[test]
fn a_journal_that_cannot_be_written_is_not_saved_not_stale() {
    let mut s = incident_state(false);
    feed(
        &mut s,
        [SourceEvent::Problem {
            source: SourceName::Journal,
            message: "cannot write /state/journal.jsonl: No space left on device".into(),
        }],
    );
    let b = crate::ui::banner(&s).unwrap();
    assert_eq!(
        b,
        "[NOT SAVED] journal: cannot write /state/journal.jsonl: No space left on device"
    );
}

#[test]
fn the_err_badge_is_red_with_colour_and_text_either_way() {
    for color in [true, false] {
        let mut s = incident_state(color);
        s.focus = Focus::Logs;
        let term = draw(&s, 160, 48);
        let buf = term.backend().buffer();
        let text = text_of(buf);
        let (y, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains("[ERR] 2026-11-23T10:00:01.000Z"))
            .unwrap_or_else(|| panic!("no ERR line:\n{text}"));
        let x = line
            .find("[ERR]")
            .map(|b| line[..b].chars().count())
            .unwrap_or(0);
        let cell = &buf[(x as u16, y as u16)];
        assert_eq!(cell.symbol(), "[");
        if color {
            assert_eq!(cell.fg, Color::Red);
        } else {
            assert_eq!(cell.fg, Color::Reset);
        }
    }
}

#[test]
fn no_color_means_no_colour_anywhere() {
    let mut states = vec![incident_state(false), unreachable_state()];
    states[1].opts.color = false;
    let mut d = incident_state(false);
    feed(&mut d, [SourceEvent::Pods(fixtures::crashlooping_green())]);
    d.focus = Focus::Decision;
    key(&mut d, KeyCode::Enter);
    states.push(d);
    for s in &states {
        for (w, h) in [(80, 24), (160, 48)] {
            let term = draw(s, w, h);
            for cell in term.backend().buffer().content() {
                assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
            }
        }
    }
}

#[test]
fn the_header_badge_is_text_and_alarm_coloured() {
    let term = draw(&incident_state(true), 80, 24);
    let buf = term.backend().buffer();
    let header = text_of(buf).lines().next().unwrap_or_default().to_string();
    assert!(header.ends_with("[BREAK GLASS ACTIVE]"), "{header}");
    assert_eq!(buf[(79, 0)].bg, Color::Red);
}

#[test]
fn stale_panes_say_so_in_their_title() {
    let text = text_of(draw(&unreachable_state(), 160, 48).backend().buffer());
    assert!(text.contains("Health · 40s [STALE]"), "{text}");
    assert!(text.contains("Decision · 40s [STALE]"), "{text}");
    assert!(
        text.contains("[DISABLED] Retry: cluster data is stale (42 s old)"),
        "{text}"
    );
}

#[test]
fn hostile_log_lines_never_reach_the_buffer() {
    let mut s = incident_state(true);
    s.focus = Focus::Logs;
    feed(
        &mut s,
        [SourceEvent::LogLines {
            job: JOB.into(),
            lines: vec!["evil \x1b]52;c;cHduZWQ=\x07 \x1b[2J\x1b[1;1H \r done".into()],
        }],
    );
    let term = draw(&s, 160, 48);
    for cell in term.backend().buffer().content() {
        assert!(
            !cell.symbol().chars().any(char::is_control),
            "{:?}",
            cell.symbol()
        );
    }
    let text = text_of(term.backend().buffer());
    assert!(text.contains("evil ␛ ␛␛ ^M done"), "{text}");
}

#[test]
fn a_full_buffer_draws_its_tail_and_a_paused_view_stays_put() {
    let mut s = State::new(fixtures::opts(true));
    s.focus = Focus::Logs;
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    feed(
        &mut s,
        [SourceEvent::LogLines {
            job: JOB.into(),
            lines: (0..100_050).map(|i| format!("line {i}")).collect(),
        }],
    );
    let text = text_of(draw(&s, 80, 24).backend().buffer());
    assert!(text.contains("line 100049"), "{text}");
    assert!(text.contains("dropped 50"), "{text}");
    key(&mut s, KeyCode::Char('f'));
    feed(
        &mut s,
        [SourceEvent::LogLines {
            job: JOB.into(),
            lines: vec!["brand new".into()],
        }],
    );
    let text = text_of(draw(&s, 80, 24).backend().buffer());
    assert!(
        text.contains("line 100049") && !text.contains("brand new"),
        "{text}"
    );
    assert!(text.contains("[PAUSED]"), "{text}");
}

#[test]
fn no_size_panics() {
    let mut states = vec![incident_state(true), dialog_state(), unreachable_state()];
    let mut help = incident_state(false);
    help.help = true;
    states.push(help);
    let mut empty = State::new(fixtures::opts(true));
    empty.focus = Focus::Logs;
    states.push(empty);
    for s in &mut states {
        for focus in Focus::ALL {
            s.focus = focus;
            for w in (0..=130).step_by(20).chain([1, 2, 79, 80, 99, 100, 161]) {
                for h in (0..=50)
                    .step_by(7)
                    .chain([1, 2, 3, 4, 9, 10, 19, 20, 23, 24])
                {
                    draw(s, w, h);
                }
            }
        }
    }
}

#[test]
fn after_an_accepted_ack_the_new_job_is_shown() {
    let mut s = dialog_state();
    key(&mut s, KeyCode::Tab);
    key(&mut s, KeyCode::Enter);
    feed(
        &mut s,
        [SourceEvent::Action(
            crate::app::msg::ActionOutcome::Acknowledged {
                nonce: fixtures::NONCE.into(),
                resource_version: "184490".into(),
            },
        )],
    );
    let mut c = fixtures::cluster();
    if let (Some(bg), Some(g)) = (c.break_glass.as_mut(), c.blue_green.as_mut()) {
        bg.active = false;
        bg.acknowledged_at = Some(fixtures::ts("2026-11-23T10:07:00Z"));
        g.rollback_attempt = 1;
    }
    let mut jobs = fixtures::jobs();
    jobs.push(crate::domain::JobView {
        name: "upgrade-prod-cluster-bluegreen-repair-consensus-0a1b2c3d4e".into(),
        run_id: Some("rollback-retry-1".into()),
        state: crate::domain::JobState::Running,
        ..jobs[0].clone()
    });
    feed(
        &mut s,
        [SourceEvent::Cluster(Some(c)), SourceEvent::Jobs(jobs)],
    );
    snap("after_ack", &s);
    let text = text_of(draw(&s, 160, 48).backend().buffer());
    assert!(
        text.contains("acknowledged; waiting for the operator's new Job…"),
        "{text}"
    );
    assert!(
        text.contains(
            "operator's new Job upgrade-prod-cluster-bluegreen-repair-consensus-0a1b2c3d4e"
        ) && text.contains("(rollback-retry-1) [running]"),
        "{text}"
    );
    assert!(
        text.contains("[DISABLED] Retry: break glass is not active"),
        "{text}"
    );
}

#[test]
fn the_help_lists_every_binding_of_the_keymap() {
    let mut s = incident_state(true);
    s.help = true;
    // Tall enough for the whole table (smaller terminals scroll it).
    let text = text_of(draw(&s, 160, 60).backend().buffer());
    for b in crate::app::keymap::KEYMAP {
        assert!(
            text.contains(&b.keys_label()) && text.contains(b.description),
            "{} / {} missing from help:\n{text}",
            b.keys_label(),
            b.description
        );
    }
}

#[test]
fn the_dialog_shows_the_exact_patch_and_the_target() {
    let s = dialog_state();
    let body = format!(
        r#"{{"metadata":{{"resourceVersion":"{}"}},"spec":{{"breakGlassAck":"{}"}}}}"#,
        fixtures::RV,
        fixtures::NONCE
    );
    let wide = text_of(draw(&s, 160, 48).backend().buffer());
    assert!(wide.contains(&body), "{wide}");
    assert!(
        wide.contains("OpenBaoCluster security/prod-cluster"),
        "{wide}"
    );
    // At 80 columns it is split between the two objects, never inside a value.
    let narrow = text_of(draw(&s, 80, 24).backend().buffer());
    let (a, b) = body.split_at(body.find(",\"spec\"").unwrap_or(0) + 1);
    assert!(narrow.contains(a) && narrow.contains(b), "{narrow}");
    assert!(narrow.contains("[ Cancel ]  [ Acknowledge ]"), "{narrow}");
}

#[test]
fn an_unparseable_cluster_is_shown_with_the_last_good_view() {
    let mut s = incident_state(true);
    feed(
        &mut s,
        [SourceEvent::ClusterUnparseable(
            "OpenBaoCluster \"prod-cluster\" does not parse: invalid type: string, expected a sequence".into(),
        )],
    );
    let text = text_of(draw(&s, 160, 48).backend().buffer());
    assert!(text.contains("[UNPARSEABLE] OpenBaoCluster"), "{text}");
    assert!(text.contains("(showing the last good view)"), "{text}");
    assert!(
        text.contains("[BREAK GLASS ACTIVE] phase Upgrading"),
        "{text}"
    );
    assert!(
        text.contains("[DISABLED] Retry: the latest cluster object does not parse"),
        "{text}"
    );
}

#[test]
fn snapshot_fix_forward_explanation() {
    let mut s = incident_state(true);
    s.focus = Focus::Decision;
    key(&mut s, KeyCode::Char('j'));
    key(&mut s, KeyCode::Enter);
    let term = draw(&s, 80, 24);
    insta::assert_snapshot!("explain_fix_forward_80x24", term.backend());
}

#[test]
fn hostile_status_strings_are_neutralised_too() {
    let mut s = incident_state(true);
    let mut c = fixtures::cluster();
    if let Some(bg) = c.break_glass.as_mut() {
        bg.message = Some("Job x failed \x1b]52;c;cHduZWQ=\x07\u{202e}evil".into());
        bg.steps[0] = "step \x1b[2J one".into();
    }
    feed(&mut s, [SourceEvent::Cluster(Some(c))]);
    let text = text_of(draw(&s, 160, 48).backend().buffer());
    assert!(text.contains("Job x failed ␛\u{FFFD}evil"), "{text}");
    assert!(text.contains(" 1. step ␛ one"), "{text}");
    assert!(!text.contains("cHduZWQ"), "{text}");
}

#[test]
fn stack_traces_are_folded_until_x_and_every_line_is_kept() {
    let mut s = State::new(fixtures::opts(true));
    s.focus = Focus::Logs;
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    let mut lines = vec!["2026-11-23T19:30:01.123Z\tERROR\tFailed to demote Blue peer\t{}".into()];
    lines.extend(crate::sim::executor_log::stack_frames(
        "bluegreen-repair-consensus",
    ));
    lines.push("2026-11-23T19:30:01.160Z\tINFO\tnewest entry\t{}".into());
    feed(
        &mut s,
        [SourceEvent::LogLines {
            job: JOB.into(),
            lines,
        }],
    );
    let term = draw(&s, 80, 24);
    insta::assert_snapshot!("logs_stack_folded_80x24", term.backend());
    let text = text_of(term.backend().buffer());
    assert!(
        text.contains("▸ 5 stack frames, 10 lines (x unfolds)"),
        "{text}"
    );
    assert!(!text.contains("executor.go:476"), "{text}");
    assert!(text.contains("newest entry"), "{text}");
    // Display only: the store (search, evidence, saved logs) keeps the frames.
    assert_eq!(s.logs.store.len(), 12);
    key(&mut s, KeyCode::Char('x'));
    let text = text_of(draw(&s, 80, 24).backend().buffer());
    assert!(text.contains("executor.go:476"), "{text}");
    assert!(!text.contains("stack frames"), "{text}");
}

#[test]
fn the_header_and_health_name_the_operator_line() {
    use crate::domain::generation::{CrdSignal, ImageSignal, Signals};
    let mut s = incident_state(true);
    feed(
        &mut s,
        [SourceEvent::Operator(Signals {
            crd: std::sync::Arc::new(CrdSignal::Unreadable("RBAC denied (403)".into())),
            image: ImageSignal::Found {
                deployment: "openbao-operator-system/openbao-operator-controller".into(),
                image: "ghcr.io/kubebao/openbao-operator:0.6.0".into(),
            },
        })],
    );
    let text = text_of(draw(&s, 160, 48).backend().buffer());
    let header = text.lines().next().unwrap();
    assert!(header.contains("· operator 0.6 "), "{header}");
    // The Health pane's end (scrolled through): the line and its evidence.
    let mut text = String::new();
    for scroll in (0..=40).step_by(4) {
        s.health_scroll = scroll;
        text.push_str(&text_of(draw(&s, 160, 48).backend().buffer()));
    }
    assert!(text.contains("│operator 0.6"), "{text}");
    assert!(
        text.contains("CRD openbaoclusters.openbao.org unreadable"),
        "{text}"
    );
}

#[test]
fn the_cleanup_reason_shows_stale_green_peers_and_what_a_retry_deletes() {
    let mut s = incident_state(true);
    let mut c = fixtures::cluster();
    if let Some(b) = c.break_glass.as_mut() {
        b.reason = Some("RollbackCleanupPeerRemovalFailed".into());
        b.message =
            Some("Rollback cleanup peer-removal Job x failed; manual intervention required".into());
    }
    if let Some(bg) = c.blue_green.as_mut() {
        bg.phase = Some("RollbackCleanup".into());
    }
    feed(&mut s, [SourceEvent::Cluster(Some(c.clone()))]);
    let text = text_of(draw(&s, 160, 48).backend().buffer());
    assert!(
        text.contains("Green peers still in Raft unknown (needs token)"),
        "{text}"
    );
    let green = c
        .blue_green
        .as_ref()
        .unwrap()
        .green_revision
        .clone()
        .unwrap();
    assert!(
        text.contains(&format!(
            "a successful retry deletes StatefulSet {}-{green}",
            c.name
        )),
        "{text}"
    );
}

#[test]
fn step_three_names_a_blue_pod_and_an_unrevisioned_blue_is_not_flagged() {
    let text_at_end = |s: &State| {
        let mut text = String::new();
        let mut s = s.clone();
        for scroll in (0..=60).step_by(4) {
            s.health_scroll = scroll;
            text.push_str(&text_of(draw(&s, 160, 48).backend().buffer()));
        }
        text
    };
    let s = incident_state(true);
    let text = text_at_end(&s);
    let c = s.incident.cluster.clone().unwrap();
    let blue = c
        .blue_green
        .as_ref()
        .unwrap()
        .blue_revision
        .clone()
        .unwrap();
    assert!(text.contains("use a Blue pod, e.g."), "{text}");
    assert!(
        text.contains(&format!("│{}-{blue}-0 ", c.name)),
        "the wrapped pod name: {text}"
    );
    // Unrevisioned Blue (a RollingUpdate cluster switched to BlueGreen): `<cluster>-0` is Blue.
    let mut s = s.clone();
    let mut c = c;
    if let Some(bg) = c.blue_green.as_mut() {
        bg.blue_revision = None;
    }
    feed(&mut s, [SourceEvent::Cluster(Some(c))]);
    assert!(!text_at_end(&s).contains("does not exist in Blue/Green mode"));
}

#[test]
fn a_followed_cleanup_job_is_named_in_the_logs_title() {
    let mut s = State::new(fixtures::opts(true));
    let job = "upgrade-prod-cluster-bluegreen-remove-green-peers-05ad6a2368";
    feed(
        &mut s,
        [
            SourceEvent::Jobs(vec![crate::domain::JobView {
                name: job.into(),
                action: Some("bluegreen-remove-green-peers".into()),
                run_id: Some("bg-v2-x/rollback-retry-1".into()),
                state: crate::domain::JobState::Running,
                created: None,
            }]),
            SourceEvent::LogAttempt {
                job: job.into(),
                run_id: Some("bg-v2-x/rollback-retry-1".into()),
            },
        ],
    );
    let text = text_of(draw(&s, 200, 48).backend().buffer());
    assert!(
        text.contains("· cleanup attempt 1 · upgrade-prod-cluster-bluegreen-remove-green-peers"),
        "{text}"
    );
}
