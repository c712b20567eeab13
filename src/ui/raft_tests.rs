//! Rendered-buffer tests of the Raft pane: no row wraps at common terminal sizes (each
//! node's row stays on one screen line, with its committed index), the source is named in
//! the title, and the chart appears once there is a history.

use crate::app::fixtures::{self, feed, incident_state};
use crate::app::msg::SourceEvent;
use crate::app::{Focus, State};

fn screen(state: &State, w: u16, h: u16) -> Vec<String> {
    crate::ui::test_screen::rows(state, w, h)
}

fn state_with_history(endpoints: &str) -> State {
    let mut state = incident_state(false);
    state.focus = Focus::Raft;
    for i in 0..6u64 {
        let mut rs = fixtures::raft();
        for r in &mut rs {
            r.committed = r.committed.map(|c| c + i * 40);
            r.applied = r.committed;
            r.endpoints = Some(endpoints.to_string());
            r.at = fixtures::now();
        }
        feed(&mut state, [SourceEvent::Raft(rs.into())]);
    }
    state
}

#[test]
fn rows_never_wrap_and_the_source_is_named() {
    let state = state_with_history("real");
    for (w, h) in [(80, 24), (100, 30), (120, 40), (160, 48)] {
        let lines = screen(&state, w, h);
        let all = lines.join("\n");
        assert!(all.contains("real OpenBao nodes"), "{w}x{h}:\n{all}");
        // Every Blue/Green row holds its committed index on the same line as its name.
        for r in &state.incident.raft {
            let Some(c) = r.committed else { continue };
            let ordinal = r.pod.rsplit('-').next().unwrap_or("?");
            let short = format!("{}-{ordinal}", r.side.label());
            assert!(
                lines
                    .iter()
                    .any(|l| (l.contains(&short) || l.contains(&r.pod))
                        && l.contains(&c.to_string())),
                "{w}x{h}: no single line for {} with {c}:\n{all}",
                r.pod
            );
        }
    }
}

#[test]
fn the_chart_appears_with_history_and_room() {
    let state = state_with_history("simulated");
    let all = screen(&state, 160, 48).join("\n");
    assert!(all.contains("simulated endpoints"), "{all}");
    // The time axis is labelled with the clock times of its edges (`HH:MM:SSZ`).
    let clock = |w: &str| w.len() == 9 && w.ends_with('Z') && w.matches(':').count() == 2;
    assert!(
        all.lines().any(|l| l
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
            .filter(|w| clock(w))
            .count()
            == 2),
        "chart x axis missing:\n{all}"
    );
}

#[test]
#[ignore = "prints the pane for a look: cargo test --lib print_pane -- --ignored --nocapture"]
fn print_pane() {
    let state = state_with_history("real");
    for (w, h) in [(100, 30), (160, 48)] {
        println!("{}", screen(&state, w, h).join("\n"));
    }
}

/// The fixture's pods with a membership: Green voters (green-0 leading in the Raft
/// configuration), Blue non-voters, blue-1 unhealthy and out of contact for 95 s.
fn membership(tolerance: Option<u32>) -> crate::domain::Membership {
    use crate::domain::raft_members::{Member, PeerHealth, RaftMembers};
    let servers = fixtures::raft()
        .iter()
        .map(|r| {
            let green = r.side == crate::domain::Side::Green;
            let stale = r.pod.ends_with("-1") && !green;
            Member {
                node_id: r.pod.clone(),
                voter: green,
                leader: green && r.pod.ends_with("-0"),
                health: r.reachable.then(|| PeerHealth {
                    status: if green { "voter" } else { "non-voter" }.into(),
                    healthy: !stale,
                    last_index: r.committed.unwrap_or(0),
                    last_term: 3,
                    last_contact_ms: Some(if stale { 95_000 } else { 250 }),
                }),
            }
        })
        .collect();
    crate::domain::Membership::Known(RaftMembers {
        servers,
        failure_tolerance: tolerance,
        healthy: Some(false),
        read_from: "prod-cluster-269c4f7ba494030d-0".into(),
    })
}

fn state_with_members(members: crate::domain::Membership) -> State {
    state_with_route(members, None)
}

fn state_with_route(members: crate::domain::Membership, route: Option<&str>) -> State {
    let mut state = incident_state(false);
    state.focus = Focus::Raft;
    feed(
        &mut state,
        [SourceEvent::Raft(crate::domain::RaftSnapshot {
            readings: fixtures::raft(),
            members,
            route: route.map(str::to_string),
        })],
    );
    state
}

#[test]
fn the_title_names_a_route_other_than_the_pod_proxy() {
    let note = crate::sources::raft::VIA_PORT_FORWARD;
    let state = state_with_route(crate::domain::Membership::NeedsToken, Some(note));
    let all = screen(&state, 160, 48).join("\n");
    assert!(all.contains(note), "{all}");
    let plain = screen(
        &state_with_members(crate::domain::Membership::NeedsToken),
        160,
        48,
    );
    assert!(!plain.join("\n").contains("port-forward"));
}

#[test]
fn with_a_token_roles_contact_and_health_are_shown() {
    let state = state_with_members(membership(Some(1)));
    // Wide enough for the contact and healthy columns.
    for (w, h) in [(160, 48), (220, 50)] {
        let lines = screen(&state, w, h);
        let all = lines.join("\n");
        assert!(
            all.contains("[GREEN VOTERS] green-0 green-1 green-2 · failure tolerance: 1"),
            "{w}x{h}:\n{all}"
        );
        // A row by its short label or, when the pane is wide, the full pod name.
        let row = |name: &str| {
            let (side, ordinal) = name.trim().split_once('-').unwrap_or_default();
            let rev = if side == "blue" {
                "e8983038c519c718"
            } else {
                "269c4f7ba494030d"
            };
            let full = format!("prod-cluster-{rev}-{ordinal} ");
            // The Raft pane is the right-hand one: only its half of each screen line.
            let found = lines
                .iter()
                .filter_map(|l| l.split_once("││").map(|(_, raft)| raft))
                .find(|l| l.starts_with(name) || l.starts_with(&full));
            found
                .map(str::to_string)
                .unwrap_or_else(|| panic!("no row {name}:\n{}", lines.join("\n")))
        };
        // blue-0 answers is_self in the fixture: sys/leader's word wins for "leader".
        assert!(row("blue-1 ").contains("non-voter"), "{all}");
        assert!(
            row("blue-1 ").contains("NO") && row("blue-1 ").contains("1m"),
            "{all}"
        );
        assert!(
            row("green-1 ").contains(" voter") && row("green-1 ").contains("yes"),
            "{w}x{h}:\n{}",
            lines.join("\n")
        );
        assert!(row("green-1 ").contains("0.2s"), "{all}");
        assert!(row("blue-2 ").contains("sealed"), "{all}");
        assert!(!all.contains("needs token"), "{all}");
    }
    // Autopilot not available (404): the voters still show.
    let all = screen(&state_with_members(membership(None)), 160, 48).join("\n");
    assert!(all.contains("failure tolerance: no autopilot"), "{all}");
}

#[test]
fn a_rejected_token_is_said_not_crashed_on() {
    let state = state_with_members(crate::domain::Membership::Rejected);
    for (w, h) in [(80, 24), (160, 48)] {
        let all = screen(&state, w, h).join("\n");
        assert!(all.contains("token rejected (403)"), "{w}x{h}:\n{all}");
        assert!(all.contains("follower"), "{all}");
    }
}

#[test]
#[ignore = "prints the pane with a membership: cargo test --lib print_members -- --ignored --nocapture"]
fn print_members_pane() {
    for state in [
        state_with_members(membership(Some(1))),
        state_with_members(crate::domain::Membership::Rejected),
    ] {
        println!("{}", screen(&state, 160, 48).join("\n"));
    }
}

#[test]
fn the_signal_lines_are_whole_at_every_common_size() {
    let state = state_with_members(membership(Some(1)));
    for (w, h) in [(80, 24), (100, 30), (120, 40), (160, 48), (220, 50)] {
        let lines = screen(&state, w, h);
        let all = lines.join("\n");
        // The voters line ends with the tolerance, the lag line with the threshold: a cut
        // line lost them (at 100x30 `· toleran`, at 80 columns `forward-path Synci`).
        let voters = lines.iter().find(|l| l.contains("[GREEN VOTERS]"));
        if let Some(l) = voters {
            let l = l.trim_end_matches(['│', ' ']);
            assert!(l.ends_with(" 1"), "{w}x{h}: {l:?}\n{all}");
        }
        let lag = lines.iter().find(|l| l.contains("behind"));
        let l = lag.map(|l| l.trim_end_matches(['│', ' ']));
        assert!(
            l.is_some_and(|l| l.ends_with("100)") || l.ends_with("index check)")),
            "{w}x{h}: {l:?}\n{all}"
        );
    }
}
