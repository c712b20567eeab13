//! Rendered-buffer tests of the Raft pane: no row wraps at common terminal sizes (each
//! node's row stays on one screen line, with its committed index), the source is named in
//! the title, and the chart appears once there is a history.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::fixtures::{self, feed, incident_state};
use crate::app::{Focus, State};
use crate::sources::SourceEvent;

fn screen(state: &State, w: u16, h: u16) -> Vec<String> {
    let mut term = match Terminal::new(TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    if let Err(e) = term.draw(|f| super::render(state, f)) {
        match e {}
    }
    let buf = term.backend().buffer().clone();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
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
    assert!(all.contains("now"), "chart x axis missing:\n{all}");
}

#[test]
#[ignore = "prints the pane for a look: cargo test --lib print_pane -- --ignored --nocapture"]
fn print_pane() {
    let state = state_with_history("real");
    for (w, h) in [(100, 30), (160, 48)] {
        println!("{}", screen(&state, w, h).join("\n"));
    }
}
