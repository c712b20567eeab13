//! The Decision pane's Evidence list says what the bounded evidence memory dropped.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{dropped_evidence_note, thousands};
use crate::app::fixtures::{self, incident_state};
use crate::app::{Focus, Msg, State, update};
use crate::logs::LineStore;

#[test]
fn the_note_says_how_many_and_where_they_still_are() {
    assert_eq!(dropped_evidence_note(0, None), None);
    let dir = Ok("/state/breakglass/security-prod-cluster-2026-11-23".to_string());
    assert_eq!(
        dropped_evidence_note(1_234, Some(&dir)).as_deref(),
        Some(
            "+1,234 older evidence records dropped from memory (still in the evidence files: /state/breakglass/security-prod-cluster-2026-11-23)"
        )
    );
    assert_eq!(
        dropped_evidence_note(1, None).as_deref(),
        Some("+1 older evidence record dropped from memory (not saved to disk)")
    );
    let failed = Err("logs NOT saved: read-only file system".to_string());
    assert_eq!(
        dropped_evidence_note(12, Some(&failed)).as_deref(),
        Some(
            "+12 older evidence records dropped from memory (the evidence files may not hold them: logs NOT saved: read-only file system)"
        )
    );
}

#[test]
fn thousands_are_grouped() {
    let got: Vec<String> = [0, 7, 999, 1_000, 12_345, 1_234_567]
        .into_iter()
        .map(thousands)
        .collect();
    assert_eq!(got, ["0", "7", "999", "1,000", "12,345", "1,234,567"]);
}

/// The Decision pane focused at 80x24, page by page (PgDn) until the end of its text is on
/// screen: each page's rows, borders and padding removed, joined by single spaces.
fn decision_pages_at_80x24(state: &mut State) -> Vec<String> {
    state.focus = Focus::Decision;
    state.decision.scroll = 0;
    let mut pages = Vec::new();
    for _ in 0..8 {
        let rows: Vec<String> = crate::ui::test_screen::rows(state, 80, 24)
            .into_iter()
            .filter(|r| r.starts_with('│'))
            .map(|r| r.trim_matches('│').trim_end().to_string())
            .collect();
        pages.push(rows.join(" "));
        if pages.iter().any(|p| p.contains("journal:")) {
            break;
        }
        update(
            state,
            Msg::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)),
        );
    }
    pages
}

/// Whether one page shows `want` whole.
fn shown_whole(pages: &[String], want: &str) -> bool {
    pages.iter().any(|p| p.contains(want))
}

#[test]
fn dropped_evidence_is_shown_whole_at_80x24() {
    let mut s = incident_state(true);
    s.logs.store = LineStore::with_evidence_capacity(1_000, 2);
    for line in fixtures::log_lines() {
        s.logs.store.push_line(&line);
        s.logs.store.push_line(&line);
    }
    let dropped = s.logs.store.evidence_dropped();
    assert_eq!(
        dropped, 2,
        "the fixture's two matched lines, twice, kept two"
    );
    s.logs.saved_to = Some(Ok("/state/breakglass/security-prod-cluster".into()));
    let pages = decision_pages_at_80x24(&mut s);
    // Rows joined by one space give the sentence back only if every wrap fell between words.
    assert!(
        shown_whole(
            &pages,
            "  +2 older evidence records dropped from memory (still in the evidence files: /state/breakglass/security-prod-cluster)"
        ),
        "{pages:#?}"
    );

    s.logs.saved_to = None;
    let pages = decision_pages_at_80x24(&mut s);
    assert!(
        shown_whole(
            &pages,
            "+2 older evidence records dropped from memory (not saved to disk)"
        ),
        "{pages:#?}"
    );
}

#[test]
fn nothing_dropped_says_nothing() {
    let mut s = incident_state(true);
    let pages = decision_pages_at_80x24(&mut s);
    assert!(shown_whole(&pages, "journal:"), "{pages:#?}");
    assert!(!shown_whole(&pages, "dropped from memory"), "{pages:#?}");
}
