//! The Events section of the Health pane: the cluster's Kubernetes Events, newest first,
//! with type, reason, object, count, age and message (at most [`SHOWN`] of them; the
//! journal has every one).

use ratatui::text::{Line, Span};

use super::theme::Theme;
use super::{clean, fmt_age};
use crate::app::State;
use crate::app::msg::SourceName;

/// Rows the section may take in the Health pane.
const SHOWN: usize = 8;

pub(crate) fn lines(state: &State, t: Theme) -> Vec<Line<'static>> {
    let items = &state.events.items;
    let problem = state
        .sources
        .get(&SourceName::Events)
        .and_then(|s| s.problem.as_deref());
    let mut out = vec![Line::from(vec![
        Span::styled(format!("events ({})", items.len()), t.label()),
        match problem {
            Some(p) => Span::styled(format!(" · {}", clean(p)), t.warn()),
            None if items.is_empty() => Span::styled(" none for this cluster's objects", t.dim()),
            None => Span::raw(""),
        },
    ])];
    for e in items.iter().take(SHOWN) {
        let age = e.last.map_or("?".to_string(), |at| {
            fmt_age(state.now.duration_since(at).as_secs().max(0))
        });
        out.push(Line::from(vec![
            Span::raw(format!("  {age:>4} ")),
            Span::styled(
                format!("{:<7} ", clean(&e.type_)),
                if e.warning() { t.warn() } else { t.dim() },
            ),
            Span::styled(clean(&e.reason), t.label()),
            Span::raw(format!(
                " {}/{}{} {}",
                clean(&e.kind),
                clean(&e.name),
                if e.count > 1 {
                    format!(" ×{}", e.count)
                } else {
                    String::new()
                },
                clean(&e.message)
            )),
        ]));
    }
    if items.len() > SHOWN {
        out.push(Line::styled(
            format!("  … {} older (in the journal)", items.len() - SHOWN),
            t.dim(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{incident_state, ts};
    use crate::domain::events::EventView;

    #[test]
    fn newest_first_with_count_age_and_a_bound() {
        let mut s = incident_state(false);
        let ev = |i: usize, reason: &str| EventView {
            uid: format!("u{i}"),
            type_: "Warning".into(),
            reason: reason.into(),
            kind: "Pod".into(),
            name: format!("prod-cluster-a-{i}"),
            message: "m\u{1b}[2J".into(),
            count: if i == 0 { 3 } else { 1 },
            last: Some(ts("2026-11-23T10:05:00Z")),
        };
        let list: Vec<EventView> = (0..10)
            .map(|i| {
                ev(
                    i,
                    if i == 0 {
                        "FailedScheduling"
                    } else {
                        "BackOff"
                    },
                )
            })
            .collect();
        s.events.replace(list);
        let text: Vec<String> = lines(&s, Theme { color: false })
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.to_string()).collect())
            .collect();
        assert_eq!(text[0], "events (10)");
        assert!(
            text[1].contains("2m") && text[1].contains("FailedScheduling"),
            "{text:?}"
        );
        assert!(text[1].contains("Pod/prod-cluster-a-0 ×3"), "{text:?}");
        assert!(!text.iter().any(|l| l.contains('\u{1b}')), "sanitised");
        assert_eq!(text.len(), 1 + SHOWN + 1);
        assert!(text.last().unwrap().contains("2 older"));
    }
}
